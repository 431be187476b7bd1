"""Exact's rate limits (per app and division) and its error throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Response

from .state import SandboxState

ERROR_STATUSES = (400, 401, 403, 404)


def take_call(st: SandboxState, client_id: str, division: int | None) -> tuple[bool, dict]:
    """Count one call. Returns (allowed, headers); a refused call is not counted.

    Calls without a division (current/Me) have only the minutely limit; a call refused for
    the minute carries only the minutely headers, a call refused for the day only the daily ones.
    """
    now = st.now()
    minute = int(now // 60)
    minute_limit = int(st.setting("limits", "minutely"))
    key = (client_id, division)
    seen_minute, minute_count = st.limits.minute.get(key, (minute, 0))
    if seen_minute != minute:
        minute_count = 0
    minute_reset = (minute + 1) * 60_000
    if division is not None:
        day, day_reset = _utc_day(now)
        day_limit = int(st.setting("limits", "daily"))
        seen_day, day_count = st.limits.day.get(key, (day, 0))
        if seen_day != day:
            day_count = 0
        if day_count >= day_limit:
            return False, _daily_headers(day_limit, 0, day_reset)
    if minute_count >= minute_limit:
        return False, _minutely_headers(minute_limit, 0, minute_reset)
    st.limits.minute[key] = (minute, minute_count + 1)
    headers = _minutely_headers(minute_limit, minute_limit - minute_count - 1, minute_reset)
    if division is not None:
        st.limits.day[key] = (day, day_count + 1)
        headers.update(_daily_headers(day_limit, day_limit - day_count - 1, day_reset))
    return True, headers


def _utc_day(now: float) -> tuple[str, int]:
    moment = datetime.fromtimestamp(now, UTC)
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC) + timedelta(days=1)
    return moment.strftime("%Y-%m-%d"), int(midnight.timestamp() * 1000)


def _daily_headers(limit: int, remaining: int, reset_ms: int) -> dict:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(reset_ms),
    }


def _minutely_headers(limit: int, remaining: int, reset_ms: int) -> dict:
    return {
        "X-RateLimit-Minutely-Limit": str(limit),
        "X-RateLimit-Minutely-Remaining": str(max(0, remaining)),
        "X-RateLimit-Minutely-Reset": str(reset_ms),
    }


def too_many() -> Response:
    """Exact's 429: an empty body."""
    return Response(b"", 429)


def is_blocked(st: SandboxState, key: tuple) -> bool:
    until = st.limits.blocked_until.get(key)
    return until is not None and st.now() < until


def record_status(st: SandboxState, key: tuple, status: int) -> None:
    """More than N errors (400/401/403/404) per app, user, division, endpoint and hour block
    that combination for an hour."""
    if status not in ERROR_STATUSES:
        return
    now = st.now()
    seen = st.limits.errors[key]
    seen.append(now)
    while seen and seen[0] <= now - 3600:
        seen.popleft()
    if len(seen) > int(st.setting("limits", "error_threshold")):
        st.limits.blocked_until[key] = now + float(st.setting("limits", "error_block_seconds"))
        seen.clear()
