"""OAuth2 as Exact does it, over real HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from exact_sandbox.testing import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    AuthorizationError,
    Browser,
    advance_clock,
    authorize,
    connect,
    control,
    counters,
    exchange_code,
    refresh_tokens,
    token_request,
)

from .helpers import Api


def auth_url(url: str, **extra: str) -> str:
    query = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": DEMO_REDIRECT_URI,
        "response_type": "code",
        "state": "s1",
        **extra,
    }
    return f"{url}/api/oauth2/auth?{urlencode(query)}"


def me_status(url: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    return requests.get(f"{url}/api/v1/current/Me", headers=headers, timeout=10).status_code


def test_login_page_asks_for_user_and_password(sandbox):
    response = requests.get(auth_url(sandbox.url), timeout=10)
    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'type="password"' in response.text


def test_wrong_password_shows_the_form_again(sandbox):
    with pytest.raises(AuthorizationError, match="incorrect"):
        authorize(sandbox.url, password="wrong")


def test_code_contains_bang_and_arrives_url_encoded_with_state(sandbox):
    browser = Browser()
    authorize(sandbox.url, browser=browser)  # sets the session cookie
    status, headers, _page = browser.request(auth_url(sandbox.url))
    assert status == 200
    ticket = _hidden(_page, "ticket")
    status, headers, _page = browser.request(
        auth_url(sandbox.url),
        [("step", "consent"), ("ticket", ticket), ("division", "3001101"), ("action", "allow")],
    )
    assert status == 302
    location = headers["Location"]
    assert location.startswith(DEMO_REDIRECT_URI + "?")
    assert "%21" in location and "!" not in location
    params = parse_qs(urlsplit(location).query)
    assert params["state"] == ["s1"]
    assert "!" in params["code"][0]


def _hidden(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_deny_redirects_with_access_denied(sandbox):
    with pytest.raises(AuthorizationError, match="access_denied"):
        authorize(sandbox.url, deny=True)


def test_unknown_client_and_unregistered_redirect_get_an_error_page(sandbox):
    unknown = requests.get(
        auth_url(sandbox.url, client_id="nope"), timeout=10, allow_redirects=False
    )
    assert unknown.status_code == 400
    evil = requests.get(
        auth_url(sandbox.url, redirect_uri="https://evil.example/cb"),
        timeout=10,
        allow_redirects=False,
    )
    assert evil.status_code == 400
    assert "Location" not in evil.headers


def test_any_loopback_port_is_allowed_only_with_the_flag(make_sandbox):
    open_server = make_sandbox()
    code = authorize(open_server.url, redirect_uri="http://localhost:8123/exact/callback")
    assert "!" in code
    app = {
        "client_id": "strict",
        "client_secret": "s",
        "name": "Strict",
        "redirect_uris": ["http://127.0.0.1:5000/exact/callback"],
        "allow_loopback_redirects": False,
    }
    strict = make_sandbox({"apps": [app]})
    with pytest.raises(AuthorizationError, match="400"):
        authorize(strict.url, "strict", "http://127.0.0.1:8123/exact/callback")


def test_session_cookie_skips_login_unless_force_login(sandbox):
    browser = Browser()
    authorize(sandbox.url, browser=browser)
    _status, _headers, page = browser.request(auth_url(sandbox.url))
    assert 'name="password"' not in page
    assert "Signed in as" in page
    _status, _headers, page = browser.request(auth_url(sandbox.url, force_login="1"))
    assert 'name="password"' in page


def test_force_login_lets_another_user_sign_in(sandbox):
    browser = Browser()
    authorize(sandbox.url, browser=browser)
    code = authorize(
        sandbox.url, username="client", password="client", force_login=True, browser=browser
    )
    tokens = exchange_code(sandbox.url, code)
    me = Api(sandbox.url, tokens["access_token"]).get("current/Me").json()
    assert me["d"]["results"][0]["UserName"] == "client"


def test_token_answer_has_exact_shape_with_string_expires_in(sandbox):
    code = authorize(sandbox.url)
    status, headers, body = token_request(
        sandbox.url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO_REDIRECT_URI,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert status == 200
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == "600"
    assert headers["Content-Type"].startswith("application/json")


def test_code_works_once(sandbox):
    code = authorize(sandbox.url)
    exchange_code(sandbox.url, code)
    status, _headers, body = token_request(
        sandbox.url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEMO_REDIRECT_URI,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert status == 400
    assert body["error"] == "invalid_grant"


def test_code_lives_three_minutes(sandbox):
    young = authorize(sandbox.url)
    old = authorize(sandbox.url)
    advance_clock(sandbox.url, 179)
    assert exchange_code(sandbox.url, young)["access_token"]
    advance_clock(sandbox.url, 2)
    with pytest.raises(AuthorizationError, match="400"):
        exchange_code(sandbox.url, old)


def test_wrong_client_secret_is_refused(sandbox):
    code = authorize(sandbox.url)
    with pytest.raises(AuthorizationError, match="invalid_client"):
        exchange_code(sandbox.url, code, client_secret="wrong")


def test_access_token_lives_600_seconds(sandbox):
    tokens = connect(sandbox.url)
    advance_clock(sandbox.url, 599)
    assert me_status(sandbox.url, tokens["access_token"]) == 200
    advance_clock(sandbox.url, 1)
    assert me_status(sandbox.url, tokens["access_token"]) == 401


def test_refresh_before_570_seconds_is_refused_exactly_as_exact_does(sandbox):
    tokens = connect(sandbox.url)
    advance_clock(sandbox.url, 569)
    status, headers, body = refresh_tokens(sandbox.url, tokens["refresh_token"])
    assert status == 400
    assert body == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    assert headers["Reason"].startswith("TooEarlyToRefreshTokens: ")
    advance_clock(sandbox.url, 1)
    status, _headers, fresh = refresh_tokens(sandbox.url, tokens["refresh_token"])
    assert status == 200
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert me_status(sandbox.url, fresh["access_token"]) == 200


def test_refresh_tokens_rotate_and_the_old_one_is_dead(sandbox):
    tokens = connect(sandbox.url)
    advance_clock(sandbox.url, 570)
    _status, _headers, second = refresh_tokens(sandbox.url, tokens["refresh_token"])
    advance_clock(sandbox.url, 570)
    status, _headers, body = refresh_tokens(sandbox.url, tokens["refresh_token"])
    assert status == 401
    assert body == {"error": "unauthorized_client", "error_description": "Old refresh token used."}
    status, _headers, third = refresh_tokens(sandbox.url, second["refresh_token"])
    assert status == 200
    assert len({tokens["refresh_token"], second["refresh_token"], third["refresh_token"]}) == 3


def test_counters_show_exactly_one_refresh(sandbox):
    tokens = connect(sandbox.url)
    advance_clock(sandbox.url, 600)
    refresh_tokens(sandbox.url, tokens["refresh_token"])
    refresh_tokens(sandbox.url, tokens["refresh_token"])  # reuse: refused, not a refresh
    seen = counters(sandbox.url)
    assert seen["refreshes"] == {DEMO_CLIENT_ID: {"accountant": 1}}
    assert seen["token_calls"][DEMO_CLIENT_ID]["accountant"] == 3


def test_refresh_token_expires_after_30_days_unused(sandbox):
    tokens = connect(sandbox.url)
    advance_clock(sandbox.url, 30 * 86_400)
    status, _headers, body = refresh_tokens(sandbox.url, tokens["refresh_token"])
    assert status == 400
    assert body["error"] == "invalid_request"
    assert body["error_description"].startswith("The refresh token expired at ")


def test_token_calls_are_limited_per_app_user_and_day(make_sandbox):
    server = make_sandbox({"oauth": {"token_calls_per_day": 3}})
    tokens = connect(server.url)  # call 1
    for _ in range(2):  # calls 2 and 3
        advance_clock(server.url, 600)
        _status, _headers, tokens = refresh_tokens(server.url, tokens["refresh_token"])
    advance_clock(server.url, 600)
    status, _headers, body = refresh_tokens(server.url, tokens["refresh_token"])
    assert status == 400
    assert body["error"] == "access_denied"
    advance_clock(server.url, 86_400)
    status, _headers, _body = refresh_tokens(server.url, tokens["refresh_token"])
    assert status == 200


def test_revoked_consent_stops_refresh_and_access(sandbox):
    tokens = connect(sandbox.url)
    control(sandbox.url, "consents/revoke", {"client_id": DEMO_CLIENT_ID, "username": "accountant"})
    assert me_status(sandbox.url, tokens["access_token"]) == 401
    advance_clock(sandbox.url, 600)
    status, _headers, body = refresh_tokens(sandbox.url, tokens["refresh_token"])
    assert status == 400
    assert body["error"] == "invalid_grant"
    assert connect(sandbox.url)["access_token"]  # a person can consent again


def test_consent_divisions_can_be_changed_in_the_security_centre(sandbox):
    tokens = connect(sandbox.url)
    api = Api(sandbox.url, tokens["access_token"])
    params = {"$select": "Code"}
    before = [
        row["Code"] for row in api.get("3001000/system/Divisions", params).json()["d"]["results"]
    ]
    assert len(before) == 7
    control(
        sandbox.url,
        "consents/divisions",
        {"client_id": DEMO_CLIENT_ID, "username": "accountant", "divisions": [3001000, 3001102]},
    )
    after = [
        row["Code"] for row in api.get("3001000/system/Divisions", params).json()["d"]["results"]
    ]
    assert after == [3001000, 3001102]
    assert api.get("3001101/financial/GLAccounts", {"$select": "ID"}).status_code == 403


def test_consent_page_only_offers_the_users_divisions(sandbox):
    browser = Browser()
    authorize(sandbox.url, username="client", password="client", browser=browser)
    _status, _headers, page = browser.request(auth_url(sandbox.url))
    assert 'value="3001101"' in page
    assert 'value="3001102"' not in page


def test_code_exchange_needs_the_same_redirect_uri(sandbox):
    code = authorize(sandbox.url)
    with pytest.raises(AuthorizationError, match="invalid_grant"):
        exchange_code(sandbox.url, code, redirect_uri="http://127.0.0.1:5000/other")


def test_client_credentials_may_come_as_basic_auth(sandbox):
    code = authorize(sandbox.url)
    response = requests.post(
        f"{sandbox.url}/api/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_REDIRECT_URI},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == "600"


def test_parallel_refreshes_with_one_token_one_wins(sandbox):
    from concurrent.futures import ThreadPoolExecutor

    tokens = connect(sandbox.url)
    advance_clock(sandbox.url, 600)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda _: refresh_tokens(sandbox.url, tokens["refresh_token"]), range(4))
        )
    statuses = sorted(status for status, _headers, _body in answers)
    assert statuses == [200, 401, 401, 401]
    assert counters(sandbox.url)["refreshes_total"] == 1
