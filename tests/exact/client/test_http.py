import json

import pytest
import requests
import responses

from portal.exact.client.errors import (
    ExactDailyLimitReached,
    ExactError,
    ExactErrorBudgetExhausted,
    ExactForbidden,
    ExactNotFound,
    ExactRateLimited,
    ExactReauthorizationNeeded,
    ExactServerError,
    ExactUnauthorized,
    ExactUnavailable,
    ExactValidationError,
)
from portal.exact.client.http import ExactClient
from portal.exact.client.ratelimit import RateLimits

BASE = "https://start.exactonline.nl"
API = BASE + "/api/v1"
NOW = 1_767_225_630.0  # 2026-01-01 00:00:30 UTC
MINUTE_END_MS = 1_767_225_660_000
DAY_END_MS = 1_767_312_000_000
GL = API + "/123/financial/GLAccounts"


class FakeClock:
    def __init__(self):
        self.now = NOW
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limits(redis_conn, clock):
    return RateLimits(redis_conn, "conn-1", clock=clock, sleep=clock.sleep)


@pytest.fixture
def client(limits, clock):
    return ExactClient(BASE, lambda: "AT-1", limits, sleep=clock.sleep, clock=clock)


@pytest.fixture(autouse=True)
def mocked():
    with responses.RequestsMock() as mock:
        yield mock


def page(rows, next_url=None):
    body = {"results": rows}
    if next_url:
        body["__next"] = next_url
    return {"d": body}


def exact_error(text):
    return {"error": {"code": "", "message": {"lang": "", "value": text}}}


def test_get_all_follows_next_exactly_as_given(mocked, client):
    next_url = GL + "?$select=ID,Code&$skiptoken=guid'b6b5c3e8-0000-0000-0000-000000000001'"
    mocked.get(GL, json=page([{"ID": 1, "__metadata": {}}, {"ID": 2}], next_url))
    mocked.get(GL, json=page([{"ID": 3}]))
    rows = list(client.get_all(123, "financial/GLAccounts", {"$select": "ID,Code"}))
    assert rows == [{"ID": 1}, {"ID": 2}, {"ID": 3}]
    assert mocked.calls[0].request.url == GL + "?%24select=ID%2CCode"
    assert mocked.calls[1].request.url == next_url
    assert client.calls_made == 2
    assert client.last_call_at == NOW


def test_iter_pages_yields_the_cursor_per_page(mocked, client):
    next_url = GL + "?$skiptoken=2"
    mocked.get(GL, json=page([{"ID": 1}], next_url))
    mocked.get(GL, json={"d": [{"ID": 2}]})  # bare list envelope
    pages = list(client.iter_pages(123, "financial/GLAccounts", {"$top": 1}))
    assert pages == [([{"ID": 1}], next_url), ([{"ID": 2}], None)]


def test_reads_send_accept_json_and_bearer(mocked, client):
    mocked.get(GL, json={"d": {"ID": "x", "__metadata": {}}})
    assert client.get_one(123, "/financial/GLAccounts") == {"ID": "x"}
    headers = mocked.calls[0].request.headers
    assert headers["Accept"] == "application/json"
    assert headers["Authorization"] == "Bearer AT-1"
    assert "Prefer" not in headers


def test_post_sends_json_and_prefer_representation(mocked, client):
    url = API + "/123/purchaseentry/PurchaseEntries"
    mocked.post(url, status=201, json={"d": {"EntryID": "e1", "EntryNumber": 25000001}})
    entry = {"Journal": "60", "Supplier": "guid", "PurchaseEntryLines": [{"AmountFC": 10}]}
    created = client.post(123, "purchaseentry/PurchaseEntries", entry)
    assert created == {"EntryID": "e1", "EntryNumber": 25000001}
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Prefer"] == "return=representation"
    assert request.headers["Accept"] == "application/json"
    assert json.loads(request.body) == entry


def test_current_me_has_no_division_and_divisions_use_current(mocked, client):
    mocked.get(
        API + "/current/Me", json={"d": {"results": [{"UserID": "u", "CurrentDivision": 7}]}}
    )
    mocked.get(API + "/7/system/Divisions", json=page([{"Code": 7}, {"Code": 8}]))
    me = client.current_me()
    assert me["CurrentDivision"] == 7
    assert [d["Code"] for d in client.divisions(me["CurrentDivision"])] == [7, 8]
    assert "%24select=Code%2CDescription" in mocked.calls[1].request.url


def test_rate_limit_headers_are_recorded(mocked, client, limits):
    mocked.get(
        GL,
        json=page([]),
        headers={
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4990",
            "X-RateLimit-Reset": str(DAY_END_MS),
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": "55",
            "X-RateLimit-Minutely-Reset": str(MINUTE_END_MS),
        },
    )
    client.get(123, "financial/GLAccounts")
    budget = limits.budget(123)
    assert (budget.minutely_remaining, budget.daily_remaining) == (55, 4990)
    assert budget.minutely_reset_at.timestamp() * 1000 == MINUTE_END_MS


def test_429_minutely_waits_for_the_reset_and_retries(mocked, client, clock):
    minutely = {
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": str(MINUTE_END_MS),
    }
    mocked.get(GL, status=429, headers=minutely)
    mocked.get(GL, json=page([{"ID": 1}]))
    assert list(client.get_all(123, "financial/GLAccounts")) == [{"ID": 1}]
    assert clock.sleeps == [31.0]  # until the minute ends, plus a 1 s margin
    assert client.calls_made == 2


def test_429_minutely_raises_when_the_wait_is_too_long(mocked, redis_conn, clock):
    limits = RateLimits(redis_conn, "c", clock=clock, sleep=clock.sleep, max_wait=5)
    client = ExactClient(BASE, lambda: "AT-1", limits, sleep=clock.sleep, clock=clock)
    headers = {
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": str(MINUTE_END_MS),
    }
    mocked.get(GL, status=429, headers=headers)
    with pytest.raises(ExactRateLimited) as info:
        client.get(123, "financial/GLAccounts")
    assert info.value.reset_at.timestamp() * 1000 == MINUTE_END_MS
    assert clock.sleeps == []


def test_429_daily_stops_without_retrying(mocked, client, clock):
    daily = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(DAY_END_MS)}
    mocked.get(GL, status=429, headers=daily)
    with pytest.raises(ExactDailyLimitReached) as info:
        client.get(123, "financial/GLAccounts")
    assert info.value.reset_at.timestamp() * 1000 == DAY_END_MS
    assert len(mocked.calls) == 1
    with pytest.raises(ExactDailyLimitReached):  # and no further calls today
        client.get(123, "financial/GLAccounts")
    assert len(mocked.calls) == 1


def test_5xx_is_retried_with_backoff_then_succeeds(mocked, client, clock):
    mocked.get(GL, status=503)
    mocked.get(GL, status=502, body="<html>Bad gateway</html>")
    mocked.get(GL, json=page([{"ID": 1}]))
    assert client.get(123, "financial/GLAccounts") == page([{"ID": 1}])
    assert clock.sleeps == [1.0, 2.0]
    assert client.calls_made == 3


def test_5xx_gives_up_after_max_retries(mocked, client, clock):
    mocked.get(GL, status=503)
    with pytest.raises(ExactServerError) as info:
        client.get(123, "financial/GLAccounts")
    assert len(mocked.calls) == 4  # first try + 3 retries
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert info.value.status == 503 and not info.value.maybe_booked


def test_500_with_a_message_is_a_validation_error_never_retried(mocked, client):
    url = API + "/123/purchaseentry/PurchaseEntries"
    mocked.post(url, status=500, json=exact_error("Ongeldig: Dagboek"))
    with pytest.raises(ExactValidationError) as info:
        client.post(123, "purchaseentry/PurchaseEntries", {"Journal": "99"})
    assert info.value.user_message == "Exact Online did not accept this: Ongeldig: Dagboek"
    assert info.value.division == 123
    assert len(mocked.calls) == 1


def test_timeout_is_retried(mocked, client, clock):
    mocked.get(GL, body=requests.ReadTimeout("read timed out"))
    mocked.get(GL, body=requests.ConnectionError("reset"))
    mocked.get(GL, json=page([]))
    assert client.get(123, "financial/GLAccounts") == page([])
    assert clock.sleeps == [1.0, 2.0]
    assert client.calls_made == 3


def test_timeouts_give_up_as_unavailable(mocked, client):
    mocked.get(GL, body=requests.ConnectionError("Name or service not known"))
    with pytest.raises(ExactUnavailable) as info:
        client.get(123, "financial/GLAccounts")
    assert len(mocked.calls) == 4
    assert not info.value.maybe_booked


def test_post_timeout_is_not_retried_and_may_be_booked(mocked, client, clock):
    url = API + "/123/purchaseentry/PurchaseEntries"
    mocked.post(url, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(ExactUnavailable) as info:
        client.post(123, "purchaseentry/PurchaseEntries", {"Journal": "60"})
    assert info.value.maybe_booked
    assert "may have been booked" in info.value.user_message
    assert len(mocked.calls) == 1
    assert clock.sleeps == []


def test_post_server_error_is_not_retried(mocked, client):
    url = API + "/123/purchaseentry/PurchaseEntries"
    mocked.post(url, status=504)
    with pytest.raises(ExactServerError) as info:
        client.post(123, "purchaseentry/PurchaseEntries", {"Journal": "60"})
    assert info.value.maybe_booked
    assert len(mocked.calls) == 1


def test_post_connect_timeout_is_retried(mocked, client):
    url = API + "/123/purchaseentry/PurchaseEntries"
    mocked.post(url, body=requests.ConnectTimeout("never connected"))
    mocked.post(url, status=201, json={"d": {"EntryID": "e1"}})
    assert client.post(123, "purchaseentry/PurchaseEntries", {})["EntryID"] == "e1"


def test_401_gets_a_fresh_token_and_retries_once(mocked, limits, clock):
    rejected = []

    def on_unauthorized(token):
        rejected.append(token)
        return "AT-2"

    client = ExactClient(
        BASE,
        lambda: "AT-1",
        limits,
        sleep=clock.sleep,
        clock=clock,
        on_unauthorized=on_unauthorized,
    )
    mocked.get(GL, status=401)
    mocked.get(GL, json=page([{"ID": 1}]))
    assert client.get_one(123, "financial/GLAccounts") == {"ID": 1}
    assert rejected == ["AT-1"]
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer AT-2"
    assert limits.errors_in_window(123, "financial/GLAccounts") == 1


def test_a_refused_retry_token_is_reported_to_the_hook_which_may_raise(mocked, limits, clock):
    """The token the hook gave was refused too: the hook hears it (the token manager then marks
    the connection and raises), so a revoked consent is not just another 401."""
    rejected = []

    def on_unauthorized(token):
        rejected.append(token)
        if token == "AT-2":
            raise ExactReauthorizationNeeded("fresh token refused", status=401)
        return "AT-2"

    client = ExactClient(
        BASE,
        lambda: "AT-1",
        limits,
        sleep=clock.sleep,
        clock=clock,
        on_unauthorized=on_unauthorized,
    )
    mocked.get(GL, status=401)
    with pytest.raises(ExactReauthorizationNeeded):
        client.get(123, "financial/GLAccounts")
    assert rejected == ["AT-1", "AT-2"] and len(mocked.calls) == 2


def test_401_twice_is_unauthorized(mocked, limits, clock):
    tokens = iter(["AT-1", "AT-2", "AT-3"])
    client = ExactClient(BASE, lambda: next(tokens), limits, sleep=clock.sleep, clock=clock)
    mocked.get(GL, status=401)
    with pytest.raises(ExactUnauthorized):
        client.get(123, "financial/GLAccounts")
    assert len(mocked.calls) == 2
    assert next(tokens) == "AT-3"  # the provider was asked exactly twice


def test_401_with_the_same_token_is_not_retried(mocked, client):
    mocked.get(GL, status=401)
    with pytest.raises(ExactUnauthorized):
        client.get(123, "financial/GLAccounts")
    assert len(mocked.calls) == 1


def test_403_names_the_missing_right(mocked, client):
    mocked.get(GL, status=403, json=exact_error("Forbidden"))
    with pytest.raises(ExactForbidden) as info:
        client.get(123, "financial/GLAccounts", {"$select": "ID"})
    assert "View financial master data" in info.value.user_message
    assert info.value.endpoint == "financial/GLAccounts"


def test_error_budget_stops_calls_at_eight_errors(mocked, client):
    mocked.get(GL, status=404, json=exact_error("Not found"))
    for _ in range(8):
        with pytest.raises(ExactNotFound):
            client.get(123, "financial/GLAccounts")
    with pytest.raises(ExactErrorBudgetExhausted):
        client.get(123, "financial/GLAccounts")
    assert len(mocked.calls) == 8  # the ninth never reached Exact
    mocked.get(API + "/123/financial/Journals", json=page([]))
    client.get(123, "financial/Journals")  # other endpoints still work


def test_next_link_to_another_host_is_refused(mocked, client):
    mocked.get(GL, json=page([{"ID": 1}], "https://evil.example/api/v1/123/x"))
    with pytest.raises(ExactError, match="another host"):
        list(client.get_all(123, "financial/GLAccounts"))
