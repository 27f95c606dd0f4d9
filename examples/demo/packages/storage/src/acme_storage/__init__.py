"""An in-memory ledger."""

from acme_core import Money

__all__ = ["Ledger"]


class Ledger:
    def __init__(self) -> None:
        self._entries: list[Money] = []

    def record(self, amount: Money) -> None:
        self._entries.append(amount)

    def balance(self) -> Money:
        total = Money(0)
        for entry in self._entries:
            total = total + entry
        return total
