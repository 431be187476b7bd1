"""Money as the bookkeeping counts it: Decimal with two places, VAT from Exact's fractions.

Never float: amounts are read from forms and files as text and stay Decimal throughout.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("999999999999.99")  # what Numeric(14, 2) holds


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, halves away from zero (as invoices round)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_on(amount_excl: Decimal, fraction: Decimal | None) -> Decimal:
    """The VAT on an amount excluding VAT at Exact's fraction (0.21 is 21 %)."""
    return cents(amount_excl * (fraction or 0))


def split_incl(amount_incl: Decimal, fraction: Decimal | None) -> tuple[Decimal, Decimal]:
    """(amount excl. VAT, VAT) of an amount including VAT; the two add up to it exactly."""
    excl = cents(amount_incl / (1 + (fraction or 0)))
    return excl, amount_incl - excl


def parse_amount(text: str | None) -> Decimal:
    """An amount typed or read as text ("1234.56", "1.234,56", "-12,5") as Decimal.

    Raises ValueError for anything that is not a number, has more than two decimals or is too
    big for the books. The caller says in words which field it was.
    """
    raw = (text or "").strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if not raw:
        raise ValueError("empty")
    if "," in raw and "." in raw:
        # the last separator is the decimal one: 1.234,56 or 1,234.56
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif "," in raw:
        raw = raw.replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise ValueError("not a number") from error
    if not value.is_finite():
        raise ValueError("not a number")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValueError("more than two decimals")
    if abs(value) > MAX_AMOUNT:
        raise ValueError("too large")
    return value.quantize(CENT)
