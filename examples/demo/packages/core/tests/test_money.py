import pytest
from acme_core import Money


def test_add() -> None:
    assert Money(150) + Money(275) == Money(425)


def test_str() -> None:
    assert str(Money(1205)) == "12.05 EUR"


def test_currency_mismatch() -> None:
    with pytest.raises(ValueError, match="currencies"):
        Money(1) + Money(1, "USD")
