"""Dates as the sandbox keeps them: milliseconds since the epoch, shown as ``/Date(ms)/``."""

from __future__ import annotations

from datetime import date

DAY_MS = 86_400_000


def odata_date(ms: int | None) -> str | None:
    return None if ms is None else f"/Date({ms})/"


def day_ms(day: date) -> int:
    return (day.toordinal() - 719_163) * DAY_MS


def iso_day_ms(text: str | None) -> int | None:
    return None if text is None else day_ms(date.fromisoformat(text))


def day_of(ms: int) -> date:
    """The UTC calendar day of a moment in ms."""
    return date.fromordinal(ms // DAY_MS + 719_163)
