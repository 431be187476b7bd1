"""Rate limits per app and division, and the error throttle."""

from __future__ import annotations

import time

from exact_sandbox.clock import parse_time
from exact_sandbox.testing import TEST_START, advance_clock

from .helpers import api_for

SELECT = {"$select": "ID"}
MINUTELY = (
    "X-RateLimit-Minutely-Limit",
    "X-RateLimit-Minutely-Remaining",
    "X-RateLimit-Minutely-Reset",
)
DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
START_MS = int(parse_time(TEST_START) * 1000)


def test_normal_responses_carry_all_six_headers(api):
    response = api.get("3001101/financial/GLAccounts", SELECT)
    headers = response.headers
    assert headers["X-RateLimit-Limit"] == "5000"
    assert headers["X-RateLimit-Remaining"] == "4999"
    assert headers["X-RateLimit-Minutely-Limit"] == "60"
    assert headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert int(headers["X-RateLimit-Minutely-Reset"]) == START_MS + 60_000
    assert int(headers["X-RateLimit-Reset"]) == START_MS + 15 * 3_600_000  # next UTC midnight


def test_minutely_limit_gives_empty_429_with_only_minutely_headers(make_sandbox):
    server = make_sandbox({"limits": {"minutely": 3}})
    api = api_for(server)
    statuses = [api.get("3001101/financial/GLAccounts", SELECT).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = api.get("3001101/financial/GLAccounts", SELECT)
    assert refused.status_code == 429
    assert refused.content == b""
    assert all(name in refused.headers for name in MINUTELY)
    assert not any(name in refused.headers for name in DAILY)
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert api.get("3001102/financial/GLAccounts", SELECT).status_code == 200  # per division
    advance_clock(server.url, 60)
    assert api.get("3001101/financial/GLAccounts", SELECT).status_code == 200


def test_daily_limit_per_utc_day_ignores_calls_without_division(make_sandbox):
    server = make_sandbox({"limits": {"daily": 2}, "oauth": {"access_token_seconds": 86_400}})
    api = api_for(server)
    for _ in range(3):
        assert api.get("current/Me").status_code == 200
    assert api.get("3001101/crm/Accounts", SELECT).status_code == 200
    last = api.get("3001101/crm/Accounts", SELECT)
    assert last.headers["X-RateLimit-Remaining"] == "0"
    refused = api.get("3001101/crm/Accounts", SELECT)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "X-RateLimit-Minutely-Limit" not in refused.headers
    advance_clock(server.url, 15 * 3600)  # past midnight UTC
    assert api.get("3001101/crm/Accounts", SELECT).status_code == 200


def test_limits_are_shared_by_users_of_one_app(make_sandbox):
    server = make_sandbox({"limits": {"minutely": 2}})
    accountant, client = api_for(server), api_for(server, "client")
    assert accountant.get("3001101/crm/Accounts", SELECT).status_code == 200
    assert client.get("3001101/crm/Accounts", SELECT).status_code == 200
    assert accountant.get("3001101/crm/Accounts", SELECT).status_code == 429


def test_error_throttle_blocks_the_endpoint_for_an_hour(make_sandbox):
    server = make_sandbox(
        {"limits": {"error_threshold": 3}, "oauth": {"access_token_seconds": 86_400}}
    )
    api = api_for(server)
    for _ in range(4):  # four errors: more than three
        assert api.get("3001101/crm/Accounts", {"$select": "Nonsense"}).status_code == 400
    blocked = api.get("3001101/crm/Accounts", SELECT)
    assert blocked.status_code == 429
    assert blocked.headers["Reason"] == "ErrorThrottle"
    assert api.get("3001101/financial/GLAccounts", SELECT).status_code == 200
    assert api.get("3001102/crm/Accounts", SELECT).status_code == 200
    advance_clock(server.url, 3600)
    assert api.get("3001101/crm/Accounts", SELECT).status_code == 200


def test_errors_spread_over_more_than_an_hour_do_not_block(make_sandbox):
    server = make_sandbox(
        {"limits": {"error_threshold": 3}, "oauth": {"access_token_seconds": 86_400}}
    )
    api = api_for(server)
    for _ in range(6):
        assert api.get("3001101/crm/Accounts", {"$select": "Nonsense"}).status_code == 400
        advance_clock(server.url, 1500)
    assert api.get("3001101/crm/Accounts", SELECT).status_code == 200


def test_fast_clock_lives_through_minutes_in_real_seconds(make_sandbox):
    server = make_sandbox({"limits": {"minutely": 2}})
    api = api_for(server)
    for _ in range(2):
        api.get("3001101/crm/Accounts", SELECT)
    assert api.get("3001101/crm/Accounts", SELECT).status_code == 429
    server.state.clock.set_speed(100_000)  # a minute passes in under a millisecond
    time.sleep(0.002)
    server.state.clock.set_speed(0)
    assert api.get("3001101/crm/Accounts", SELECT).status_code == 200
