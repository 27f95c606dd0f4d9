from acme_core import Money
from acme_http import price_header


def test_price_header() -> None:
    assert price_header(Money(999)) == ("X-Price", "9.99 EUR")
