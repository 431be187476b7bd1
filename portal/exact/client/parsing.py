"""Turning Exact Online's OData JSON into plain Python values, and back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

ACCOUNT_CODE_WIDTH = 18

_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEY_RE = re.compile(r"\(.*\)$")


def parse_date(value: str | None) -> datetime | None:
    """Parse `/Date(1382667872203)/` into an aware UTC datetime.

    The milliseconds count from the epoch in UTC; an offset such as `+0100` only says which zone
    the value was written in, so it does not move the instant.
    """
    if value is None or value == "":
        return None
    match = _DATE_RE.match(value.strip())
    if not match:
        raise ValueError(f"Not an Exact /Date()/ value: {value!r}")
    return _EPOCH + timedelta(milliseconds=int(match.group(1)))


def is_exact_date(value: Any) -> bool:
    return isinstance(value, str) and bool(_DATE_RE.match(value))


def to_decimal(value) -> Decimal | None:
    """An Exact number as Decimal, never through float arithmetic: JSON stores ``-3961.85``,
    which ``repr`` gives back exactly."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        return None


def exact_day(value) -> date | None:
    """A calendar date of Exact (``/Date(ms)/`` at midnight UTC): the day itself, not moved."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    if is_exact_date(value):
        return parse_date(value).date()
    return None


def format_date(value: date | datetime) -> str:
    """ISO 8601 without a zone, as Exact expects in request bodies and filters.

    Aware datetimes are converted to UTC first; dates become midnight.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat()
    return f"{value.isoformat()}T00:00:00"


def filter_datetime(value: date | datetime) -> str:
    """A datetime literal for `$filter`: `datetime'2026-01-01T00:00:00'`."""
    return f"datetime'{format_date(value)}'"


def normalize_code(code: str | None) -> str | None:
    """Strip the leading spaces Exact pads account codes with (`'     1001'` -> `'1001'`)."""
    if code is None:
        return None
    return str(code).strip()


def pad_account_code(code: str | int) -> str:
    """Pad an account code to Exact's 18 characters, for filtering on `Code`."""
    return str(code).strip().rjust(ACCOUNT_CODE_WIDTH)


def clean_record(record: dict[str, Any]) -> dict[str, Any]:
    """Drop `__metadata` and unexpanded (`__deferred`) navigation properties.

    Expanded navigation properties (`{"results": [...]}`) become plain lists of cleaned records.
    """
    cleaned: dict[str, Any] = {}
    for key, value in record.items():
        if key == "__metadata":
            continue
        if isinstance(value, dict):
            if "__deferred" in value:
                continue
            if "results" in value and isinstance(value["results"], list):
                value = [clean_record(r) if isinstance(r, dict) else r for r in value["results"]]
            else:
                value = clean_record(value)
        cleaned[key] = value
    return cleaned


def parse_dates(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a record with every `/Date()/` string turned into a datetime."""
    return {k: parse_date(v) if is_exact_date(v) else v for k, v in record.items()}


def unwrap(payload: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Rows and the `__next` URL of one page.

    Handles `{"d": {"results": [...], "__next": ...}}`, the bare `{"d": [...]}` and a single
    record `{"d": {...}}` (returned as one row).
    """
    if not isinstance(payload, dict) or "d" not in payload:
        raise ValueError("Exact answer without a 'd' envelope")
    body = payload["d"]
    if isinstance(body, list):
        return [clean_record(r) for r in body], None
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        rows = [clean_record(r) for r in body["results"]]
        return rows, body.get("__next") or None
    if isinstance(body, dict):
        return [clean_record(body)], None
    raise ValueError("Exact answer with an unexpected 'd' content")


def unwrap_one(payload: Any) -> dict[str, Any] | None:
    """The first record of an answer, or None when it holds none."""
    rows, _ = unwrap(payload)
    return rows[0] if rows else None


def endpoint_of(path_or_url: str) -> str:
    """The resource an URL or path addresses, without host, `/api/v1/{division}/`, query and key.

    `https://.../api/v1/123/financial/GLAccounts(guid'..')?$select=ID` -> `financial/GLAccounts`.
    Used to key the error budget and to name missing Exact rights.
    """
    path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url.split("?")[0]
    parts = [p for p in path.strip("/").split("/") if p]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    if parts and parts[0].isdigit():
        parts = parts[1:]
    if parts:
        parts[-1] = _KEY_RE.sub("", parts[-1])
    return "/".join(parts)
