"""VAT numbers of the Netherlands and Belgium: normalise and check."""

from __future__ import annotations

import re

NL_RE = re.compile(r"^NL\d{9}B\d{2}$")
BE_RE = re.compile(r"^BE[01]\d{9}$")


def normalize_vat(value: str | None) -> str:
    """Upper case, without spaces, dots or dashes: ``be 0123.456.749`` -> ``BE0123456749``."""
    return re.sub(r"[\s.\-]", "", value or "").upper()


def is_valid_vat(value: str | None) -> bool:
    """NL: NL + 9 digits + B + 2 digits. BE: BE + 10 digits with the mod-97 check."""
    vat = normalize_vat(value)
    if NL_RE.match(vat):
        return True
    if BE_RE.match(vat):
        digits = vat[2:]
        return 97 - int(digits[:8]) % 97 == int(digits[8:])
    return False
