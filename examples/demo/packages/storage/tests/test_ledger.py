from acme_core import Money
from acme_storage import Ledger


def test_balance() -> None:
    ledger = Ledger()
    ledger.record(Money(100))
    ledger.record(Money(250))
    assert ledger.balance() == Money(350)


def test_empty_balance() -> None:
    assert Ledger().balance() == Money(0)
