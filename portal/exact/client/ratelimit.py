"""Exact Online rate limits and error budget, shared through Redis by all workers.

Exact allows 60 calls per minute and 5,000 per UTC day per app per division, and blocks an app
for an hour after more than 10 errors (400, 401, 403, 404) per endpoint per hour. State is kept
per (scope, division); the scope names the app or connection whose calls share a budget.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from portal.exact.client.errors import (
    ExactDailyLimitReached,
    ExactErrorBudgetExhausted,
    ExactRateLimited,
)

COUNTED_ERRORS = frozenset({400, 401, 403, 404})

_HEADER_GROUPS = (
    ("daily", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
    (
        "minutely",
        "X-RateLimit-Minutely-Limit",
        "X-RateLimit-Minutely-Remaining",
        "X-RateLimit-Minutely-Reset",
    ),
)

# Store the headers. Within one reset window keep the lower of stored and reported remaining:
# the stored value may already count calls other workers have started (see _BEFORE_CALL).
_RECORD = """
local key = KEYS[1]
for i = 5, #ARGV, 4 do
  local p, limit, rem, reset = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if rem ~= '' then
    local cur = redis.call('HMGET', key, p .. '_remaining', p .. '_reset')
    local value = tonumber(rem)
    if reset ~= '' and cur[2] == reset and cur[1] and tonumber(cur[1]) < value then
      value = tonumber(cur[1])
    end
    redis.call('HSET', key, p .. '_remaining', value)
  end
  if reset ~= '' then redis.call('HSET', key, p .. '_reset', reset) end
  if limit ~= '' then redis.call('HSET', key, p .. '_limit', limit) end
end
redis.call('HSET', key, 'updated_at', ARGV[1])
redis.call('EXPIRE', key, ARGV[2])
local low = KEYS[2]
if low then
  local d = redis.call('HMGET', key, 'daily_remaining', 'daily_limit', 'daily_reset')
  local rem, lim, reset = tonumber(d[1]), tonumber(d[2]), tonumber(d[3])
  if rem and lim and lim > 0 and reset and rem <= lim * tonumber(ARGV[3]) then
    redis.call('ZADD', low, reset, ARGV[4])
  else
    redis.call('ZREM', low, ARGV[4])
  end
  redis.call('ZREMRANGEBYSCORE', low, '-inf', '(' .. ARGV[1])
  redis.call('EXPIRE', low, ARGV[2])
end
return 1
"""

# The index "daily budget nearly spent" (``_RECORD``'s KEYS[2]): division -> its daily reset
# (ms), for the divisions with at most this share of their daily limit left. The portal's
# overview reads it with one command instead of one look-up per linked division.
LOW_DAILY_SHARE = 0.10

# Decide whether a call may start, and count it against the stored remaining atomically, so
# several workers sharing a division do not overshoot between two responses.
_BEFORE_CALL = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', key, 'daily_remaining', 'daily_reset',
                     'minutely_remaining', 'minutely_reset')
local dr, dreset = tonumber(v[1]), tonumber(v[2])
local mr, mreset = tonumber(v[3]), tonumber(v[4])
local daily_open = dr and dreset and dreset > now
local minute_open = mr and mreset and mreset > now
if daily_open and dr <= 0 then return {'daily', v[2]} end
if minute_open then
  if mr <= 0 then return {'wait', v[4]} end
  redis.call('HINCRBY', key, 'minutely_remaining', -1)
end
if daily_open then redis.call('HINCRBY', key, 'daily_remaining', -1) end
return {'ok', '0'}
"""


@dataclass(frozen=True)
class Budget:
    """What is left of Exact's limits for one division, as last seen."""

    minutely_remaining: int | None
    minutely_reset_at: datetime | None
    daily_remaining: int | None
    daily_reset_at: datetime | None
    updated_at: datetime | None
    minutely_limit: int | None = None
    daily_limit: int | None = None


def _int(value: bytes | str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def _ms_to_datetime(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if value is not None else None


def _budget(stored: Mapping[bytes, bytes]) -> Budget:
    """A division's budget from its stored hash (``HGETALL``)."""
    raw = {k.decode(): v for k, v in stored.items()}
    return Budget(
        minutely_remaining=_int(raw.get("minutely_remaining")),
        minutely_reset_at=_ms_to_datetime(_int(raw.get("minutely_reset"))),
        daily_remaining=_int(raw.get("daily_remaining")),
        daily_reset_at=_ms_to_datetime(_int(raw.get("daily_reset"))),
        updated_at=_ms_to_datetime(_int(raw.get("updated_at"))),
        minutely_limit=_int(raw.get("minutely_limit")),
        daily_limit=_int(raw.get("daily_limit")),
    )


class RateLimits:
    """Per-division rate-limit state and error budget in Redis."""

    def __init__(
        self,
        redis_conn: redis.Redis,
        scope: str = "default",
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 65.0,
        wait_margin: float = 1.0,
        error_limit: int = 8,
        error_window: int = 3600,
        key_prefix: str = "exact",
    ) -> None:
        self.redis = redis_conn
        self.scope = scope
        self.clock = clock
        self.sleep = sleep
        self.waited_seconds = 0.0  # time spent waiting for Exact's minute, for run reports
        self.max_wait = max_wait
        self.wait_margin = wait_margin
        self.error_limit = error_limit
        self.error_window = error_window
        self.key_prefix = key_prefix
        self._record = redis_conn.register_script(_RECORD)
        self._before_call = redis_conn.register_script(_BEFORE_CALL)

    def _key(self, division: int | None) -> str:
        return (
            f"{self.key_prefix}:ratelimit:{self.scope}:{division if division is not None else '-'}"
        )

    def _error_key(self, division: int | None, endpoint: str) -> str:
        div = division if division is not None else "-"
        return f"{self.key_prefix}:errors:{self.scope}:{div}:{endpoint.lower()}"

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def record(self, division: int | None, headers: Mapping[str, str]) -> None:
        """Store the rate-limit headers of a response (any subset of the six)."""
        args: list[str | int] = []
        for prefix, limit, remaining, reset in _HEADER_GROUPS:
            values = [headers.get(limit), headers.get(remaining), headers.get(reset)]
            if any(v is not None for v in values):
                args += [prefix, *[str(v).strip() if v is not None else "" for v in values]]
        if args:
            member = "-" if division is None else division
            args = [self._now_ms(), 2 * 86400, LOW_DAILY_SHARE, member, *args]
            self._record(keys=[self._key(division), self._low_key()], args=args)

    def _low_key(self) -> str:
        return f"{self.key_prefix}:ratelimit-low:{self.scope}"

    def low_daily_divisions(self) -> dict[int, datetime]:
        """The divisions whose daily budget is nearly spent (``LOW_DAILY_SHARE`` or less left)
        until their daily reset, with that reset: one command, whatever the number of
        divisions (kept up to date by ``record``)."""
        found = self.redis.zrangebyscore(self._low_key(), self._now_ms(), "+inf", withscores=True)
        return {
            int(member): _ms_to_datetime(int(score))
            for member, score in found
            if member.lstrip(b"-").isdigit()
        }

    def budgets(self, divisions: Iterable[int | None]) -> dict[int | None, Budget]:
        """The budgets of several divisions in one Redis round trip (a pipeline)."""
        divisions = list(dict.fromkeys(divisions))
        pipe = self.redis.pipeline(transaction=False)
        for division in divisions:
            pipe.hgetall(self._key(division))
        return {d: _budget(raw) for d, raw in zip(divisions, pipe.execute(), strict=True)}

    def budget(self, division: int | None) -> Budget:
        return _budget(self.redis.hgetall(self._key(division)))

    def before_call(self, division: int | None, endpoint: str | None = None) -> None:
        """Wait for, or refuse, a call that would break a limit; else count it.

        Raises ExactErrorBudgetExhausted, ExactDailyLimitReached, or ExactRateLimited when the
        minutely reset is more than `max_wait` seconds away (so a job can re-enqueue itself).
        """
        if endpoint:
            self.check_error_budget(division, endpoint)
        while True:
            status, reset = self._before_call(keys=[self._key(division)], args=[self._now_ms()])
            if status == b"ok":
                return
            reset_ms = int(float(reset))
            reset_at = _ms_to_datetime(reset_ms)
            if status == b"daily":
                raise ExactDailyLimitReached(
                    reset_at=reset_at, division=division, endpoint=endpoint
                )
            wait = reset_ms / 1000 - self.clock() + self.wait_margin
            if wait > self.max_wait:
                raise ExactRateLimited(reset_at=reset_at, division=division, endpoint=endpoint)
            self.waited_seconds += max(wait, 0.0)
            self.sleep(max(wait, 0.0))

    def on_too_many_requests(self, division: int | None, headers: Mapping[str, str]) -> None:
        """After a 429: raise for the daily limit, else mark the minute as used up.

        A 429 may come without headers; then the minute is assumed to end at the next calendar
        minute. The next `before_call` waits for it (or raises ExactRateLimited).
        """
        self.record(division, headers)
        now_ms = self._now_ms()
        current = self.budget(division)
        daily_reset_ms = _int(headers.get("X-RateLimit-Reset"))
        if daily_reset_ms is None and current.daily_reset_at:
            daily_reset_ms = int(current.daily_reset_at.timestamp() * 1000)
        if current.daily_remaining == 0 and (daily_reset_ms or 0) > now_ms:
            raise ExactDailyLimitReached(
                reset_at=_ms_to_datetime(daily_reset_ms), division=division
            )
        reset_ms = _int(headers.get("X-RateLimit-Minutely-Reset"))
        if reset_ms is None or reset_ms <= now_ms:
            reset_ms = math.ceil((now_ms + 1) / 60000) * 60000
        self.redis.hset(
            self._key(division), mapping={"minutely_remaining": 0, "minutely_reset": reset_ms}
        )

    def record_error(self, division: int | None, endpoint: str, status: int) -> None:
        """Count a 400/401/403/404 against the endpoint's hourly error budget."""
        if status not in COUNTED_ERRORS:
            return
        now = self.clock()
        key = self._error_key(division, endpoint)
        pipe = self.redis.pipeline()
        pipe.zadd(key, {f"{now}:{uuid.uuid4().hex}": now})
        pipe.zremrangebyscore(key, "-inf", now - self.error_window)
        pipe.expire(key, self.error_window + 60)
        pipe.execute()

    def errors_in_window(self, division: int | None, endpoint: str) -> int:
        key = self._error_key(division, endpoint)
        return self.redis.zcount(key, self.clock() - self.error_window, "+inf")

    def check_error_budget(self, division: int | None, endpoint: str) -> None:
        """Raise ExactErrorBudgetExhausted while the endpoint had `error_limit` errors this hour.

        The window is rolling, so calls resume when enough errors are an hour old.
        """
        now = self.clock()
        key = self._error_key(division, endpoint)
        scores = [
            s
            for _, s in self.redis.zrangebyscore(
                key, now - self.error_window, "+inf", withscores=True
            )
        ]
        if len(scores) < self.error_limit:
            return
        oldest_to_expire = scores[len(scores) - self.error_limit]
        until = datetime.fromtimestamp(oldest_to_expire + self.error_window, UTC)
        raise ExactErrorBudgetExhausted(
            f"{len(scores)} errors in the last hour",
            until=until,
            division=division,
            endpoint=endpoint,
        )
