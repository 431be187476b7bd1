import pytest

from portal.clients.vat import is_valid_vat, normalize_vat


@pytest.mark.parametrize(
    "vat",
    ["NL123456789B01", "nl 1234.56789.B01", "BE0123456749", "BE 0403.170.701", "be0403170701"],
)
def test_valid_numbers(vat):
    assert is_valid_vat(vat)


@pytest.mark.parametrize(
    "vat",
    [
        "",
        "NL12345678B01",
        "NL123456789X01",
        "BE0123456748",
        "BE2123456749",
        "DE123456789",
        "123456789",
    ],
)
def test_invalid_numbers(vat):
    assert not is_valid_vat(vat)


def test_normalize():
    assert normalize_vat(" be 0403.170-701 ") == "BE0403170701"
