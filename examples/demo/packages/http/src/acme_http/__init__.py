"""HTTP helpers."""

from acme_core import Money

__all__ = ["price_header"]


def price_header(amount: Money) -> tuple[str, str]:
    return ("X-Price", str(amount))
