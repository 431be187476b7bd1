import threading
from datetime import UTC, datetime

import pytest

from portal.exact.client.errors import (
    ExactDailyLimitReached,
    ExactErrorBudgetExhausted,
    ExactRateLimited,
)
from portal.exact.client.ratelimit import RateLimits

NOW = 1_767_225_630.0  # 2026-01-01 00:00:30 UTC
MINUTE_END_MS = 1_767_225_660_000  # 00:01:00
DAY_END_MS = 1_767_312_000_000  # 2026-01-02 00:00:00


class FakeClock:
    def __init__(self, now=NOW):
        self.now = now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def headers(minutely_remaining=59, daily_remaining=4999, minute_reset=MINUTE_END_MS):
    return {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": str(daily_remaining),
        "X-RateLimit-Reset": str(DAY_END_MS),
        "X-RateLimit-Minutely-Limit": "60",
        "X-RateLimit-Minutely-Remaining": str(minutely_remaining),
        "X-RateLimit-Minutely-Reset": str(minute_reset),
    }


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limits(redis_conn, clock):
    return RateLimits(redis_conn, "conn-1", clock=clock, sleep=clock.sleep)


def test_records_the_six_headers(limits):
    limits.record(123, headers(minutely_remaining=42, daily_remaining=4321))
    budget = limits.budget(123)
    assert budget.minutely_remaining == 42
    assert budget.minutely_limit == 60
    assert budget.minutely_reset_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert budget.daily_remaining == 4321
    assert budget.daily_limit == 5000
    assert budget.daily_reset_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert budget.updated_at == datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)


def test_budget_is_per_division_and_scope(redis_conn, limits, clock):
    limits.record(123, headers(minutely_remaining=5))
    other_scope = RateLimits(redis_conn, "conn-2", clock=clock)
    assert limits.budget(456).minutely_remaining is None
    assert other_scope.budget(123).minutely_remaining is None


def test_before_call_counts_the_call(limits):
    limits.record(123, headers(minutely_remaining=10, daily_remaining=100))
    limits.before_call(123, "financial/GLAccounts")
    budget = limits.budget(123)
    assert (budget.minutely_remaining, budget.daily_remaining) == (9, 99)


def test_response_within_same_window_keeps_the_lower_count(limits):
    limits.record(123, headers(minutely_remaining=10))
    limits.before_call(123)
    limits.before_call(123)  # two calls started; stored 8
    limits.record(123, headers(minutely_remaining=9))  # the first one's answer
    assert limits.budget(123).minutely_remaining == 8
    limits.record(123, headers(minutely_remaining=59, minute_reset=MINUTE_END_MS + 60_000))
    assert limits.budget(123).minutely_remaining == 59


def test_waits_for_the_minutely_reset_then_calls(limits, clock):
    limits.record(123, headers(minutely_remaining=0))
    limits.before_call(123)
    assert clock.sleeps == [pytest.approx(31.0)]  # 30 s to the minute, plus 1 s margin
    assert clock.now >= MINUTE_END_MS / 1000


def test_raises_rate_limited_when_the_wait_is_too_long(redis_conn, clock):
    limits = RateLimits(redis_conn, "c", clock=clock, sleep=clock.sleep, max_wait=10)
    limits.record(123, headers(minutely_remaining=0))
    with pytest.raises(ExactRateLimited) as info:
        limits.before_call(123, "financial/Journals")
    assert info.value.reset_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert info.value.division == 123
    assert clock.sleeps == []


def test_daily_limit_stops_until_utc_midnight(limits, clock):
    limits.record(123, headers(daily_remaining=0))
    with pytest.raises(ExactDailyLimitReached) as info:
        limits.before_call(123)
    assert info.value.reset_at == datetime(2026, 1, 2, tzinfo=UTC)
    clock.now = DAY_END_MS / 1000 + 1
    limits.before_call(123)  # a new day: allowed again


def test_stale_state_does_not_block_or_count(limits, clock):
    limits.record(123, headers(minutely_remaining=0))
    clock.now = MINUTE_END_MS / 1000 + 5
    limits.before_call(123)
    assert clock.sleeps == []
    assert limits.budget(123).minutely_remaining == 0


def test_decrement_is_atomic_across_workers(redis_conn, clock):
    RateLimits(redis_conn, "c", clock=clock).record(123, headers(minutely_remaining=10))
    allowed = []
    refused = []

    def worker():
        limits = RateLimits(
            redis_conn.__class__(connection_pool=redis_conn.connection_pool),
            "c",
            clock=clock,
            max_wait=0,
        )
        for _ in range(5):
            try:
                limits.before_call(123)
                allowed.append(1)
            except ExactRateLimited:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 10
    assert len(refused) == 30


def test_429_without_headers_waits_for_the_next_calendar_minute(limits, clock):
    limits.on_too_many_requests(123, {})
    budget = limits.budget(123)
    assert budget.minutely_remaining == 0
    assert budget.minutely_reset_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    limits.before_call(123)
    assert clock.sleeps == [pytest.approx(31.0)]


def test_429_with_daily_remaining_zero_raises_daily(limits):
    with pytest.raises(ExactDailyLimitReached):
        limits.on_too_many_requests(123, headers(daily_remaining=0))


def test_error_budget_stops_at_eight_errors_per_endpoint(limits, clock):
    endpoint = "financial/GLAccounts"
    first_error_at = clock.now
    for status in (400, 401, 403, 404, 400, 401, 403):
        limits.record_error(123, endpoint, status)
        clock.now += 60
    limits.record_error(123, endpoint, 500)  # not counted by Exact
    limits.record_error(123, endpoint, 429)
    limits.before_call(123, endpoint)  # 7 errors: still allowed
    limits.record_error(123, endpoint, 404)
    assert limits.errors_in_window(123, endpoint) == 8
    with pytest.raises(ExactErrorBudgetExhausted) as info:
        limits.before_call(123, endpoint)
    assert info.value.until == datetime.fromtimestamp(first_error_at + 3600, UTC)
    assert "Exact Online gave too many errors" in info.value.user_message
    limits.before_call(123, "financial/Journals")  # other endpoint
    limits.before_call(456, endpoint)  # other division
    clock.now = first_error_at + 3601  # the oldest error left the rolling hour
    limits.before_call(123, endpoint)
