"""VAT numbers of the countries the portal offers: normalise and check them with python-stdnum.

Low level: no Flask and no database, so services, forms and the Exact services can all use it.
A VAT number is always written with its country code (``NL``, ``BE``, ...), the way it is
printed on invoices and the way Exact reports a division's; the check digits are verified.
"""

from __future__ import annotations

import enum
import re
from types import ModuleType

from stdnum import exceptions
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

# The Exact Online countries that have VAT numbers (exactonline.com, the US, has none).
COUNTRIES = ("NL", "BE", "DE", "FR", "ES", "GB")

# python-stdnum's module per country: stdnum.eu.vat picks the EU member's own module
# (stdnum.nl.btw, stdnum.be.vat, ...); the United Kingdom left the EU.
_MODULES: dict[str, ModuleType] = {
    "NL": eu_vat,
    "BE": eu_vat,
    "DE": eu_vat,
    "FR": eu_vat,
    "ES": eu_vat,
    "GB": gb_vat,
}

_SEPARATORS = re.compile(r"[\s.\-/]")


class VatProblem(enum.StrEnum):
    """Why a VAT number was refused."""

    COUNTRY = "country"  # no country code, or one of a country the portal does not offer
    FORMAT = "format"  # wrong length or characters for its country
    CHECKSUM = "checksum"  # the check digits do not match: a typing error


class InvalidVat(ValueError):
    def __init__(self, problem: VatProblem, country: str) -> None:
        super().__init__(f"invalid VAT number ({problem.value}, country {country or '?'})")
        self.problem = problem
        self.country = country


def _clean(value: str | None) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def _prefixed(country: str, number: str) -> str:
    return number if number.startswith(country) else country + number


def normalize_vat(value: str | None) -> str:
    """The form to store and compare: ``be 403.170.701`` -> ``BE0403170701``.

    Never raises: a valid number gets python-stdnum's compact form, any other text is only
    cleaned (upper case, without spaces, dots, dashes or slashes)."""
    try:
        return validate_vat(value)
    except InvalidVat:
        return _clean(value)


def validate_vat(value: str | None) -> str:
    """The compact form of a valid VAT number of one of ``COUNTRIES``; ``InvalidVat`` otherwise."""
    vat = _clean(value)
    country = vat[:2]
    module = _MODULES.get(country)
    if module is None:
        raise InvalidVat(VatProblem.COUNTRY, country if country.isalpha() else "")
    try:
        return _prefixed(country, module.validate(vat))
    except exceptions.InvalidChecksum:
        raise InvalidVat(VatProblem.CHECKSUM, country) from None
    except exceptions.ValidationError:
        raise InvalidVat(VatProblem.FORMAT, country) from None


def is_valid_vat(value: str | None) -> bool:
    try:
        validate_vat(value)
    except InvalidVat:
        return False
    return True
