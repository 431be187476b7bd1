import pytest

from portal.vat import (
    COUNTRIES,
    InvalidVat,
    VatProblem,
    is_valid_vat,
    normalize_vat,
    validate_vat,
)

# A valid number per country offered, and the same number with one check digit changed.
VALID_AND_MISTYPED = {
    "NL": ("NL123456782B01", "NL123456789B01"),
    "BE": ("BE0403170701", "BE0403170702"),
    "DE": ("DE136695976", "DE136695978"),
    "FR": ("FR40303265045", "FR41303265045"),
    "ES": ("ESB58378431", "ESB58378432"),
    "GB": ("GB980780684", "GB980780685"),
}


def test_every_country_offered_is_covered():
    assert set(VALID_AND_MISTYPED) == set(COUNTRIES)


@pytest.mark.parametrize("country", COUNTRIES)
def test_a_valid_number_of_each_country_passes(country):
    valid, _ = VALID_AND_MISTYPED[country]
    assert is_valid_vat(valid)
    assert validate_vat(valid) == valid


@pytest.mark.parametrize("country", COUNTRIES)
def test_a_wrong_check_digit_fails_in_each_country(country):
    _, mistyped = VALID_AND_MISTYPED[country]
    assert not is_valid_vat(mistyped)
    with pytest.raises(InvalidVat) as error:
        validate_vat(mistyped)
    assert (error.value.problem, error.value.country) == (VatProblem.CHECKSUM, country)


@pytest.mark.parametrize(
    "vat",
    [
        "NL987654329B01",  # the 11-test
        "NL004495445B01",
        "NL000099998B57",  # the mod-97 test of the numbers for sole traders (since 2020)
        "BE0123456749",
        "BE0412345614",
    ],
)
def test_more_valid_numbers(vat):
    assert is_valid_vat(vat)


@pytest.mark.parametrize(
    ("vat", "country"),
    [
        ("NL123", "NL"),
        ("NL1234567822B01", "NL"),
        ("NL123456782X01", "NL"),
        ("BE2123456749", "BE"),
        ("BE01234567", "BE"),
        ("DE12345678", "DE"),
        ("FR4030326504", "FR"),
        ("ES123", "ES"),
        ("GB12345", "GB"),
    ],
)
def test_wrong_length_or_characters_fail(vat, country):
    with pytest.raises(InvalidVat) as error:
        validate_vat(vat)
    assert (error.value.problem, error.value.country) == (VatProblem.FORMAT, country)


@pytest.mark.parametrize(
    ("vat", "country"),
    [
        ("IT00743110157", "IT"),  # a valid Italian number: Italy is not offered
        ("XI980780684", "XI"),
        ("US123456789", "US"),
        ("123456782B01", ""),  # no country code
        ("", ""),
        (None, ""),
    ],
)
def test_a_country_not_offered_or_missing_is_refused(vat, country):
    assert not is_valid_vat(vat)
    with pytest.raises(InvalidVat) as error:
        validate_vat(vat)
    assert (error.value.problem, error.value.country) == (VatProblem.COUNTRY, country)


@pytest.mark.parametrize(
    ("typed", "compact"),
    [
        ("nl 1234.56782.b01", "NL123456782B01"),
        (" be 0403.170-701 ", "BE0403170701"),
        ("BE 403.170.701", "BE0403170701"),  # the old 9-digit Belgian form gets its 0
        ("NL4495445B01", "NL004495445B01"),
        ("de 136 695 976", "DE136695976"),
        ("fr 40 303-265-045", "FR40303265045"),
        ("es b-58378431", "ESB58378431"),
        ("gb 980 7806 84", "GB980780684"),
    ],
)
def test_validate_and_normalise_compact_spaces_dots_dashes_and_case(typed, compact):
    assert validate_vat(typed) == compact
    assert normalize_vat(typed) == compact


def test_normalise_never_raises_and_only_cleans_what_is_not_valid():
    assert normalize_vat("nl 123.456.789 b01") == "NL123456789B01"
    assert normalize_vat("it 007-431-10157") == "IT00743110157"
    assert normalize_vat("NL123") == "NL123"
    assert normalize_vat(None) == normalize_vat("") == ""
