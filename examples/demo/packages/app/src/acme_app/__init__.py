"""The demo application."""

from acme_core import Money
from acme_http import price_header
from acme_storage import Ledger

__all__ = ["checkout", "main"]


def checkout(prices: list[int]) -> tuple[str, str]:
    ledger = Ledger()
    for cents in prices:
        ledger.record(Money(cents))
    return price_header(ledger.balance())


def main() -> None:
    name, value = checkout([1999, 501])
    print(f"{name}: {value}")
