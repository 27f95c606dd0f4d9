from acme_app import checkout


def test_checkout() -> None:
    assert checkout([1999, 501]) == ("X-Price", "25.00 EUR")
