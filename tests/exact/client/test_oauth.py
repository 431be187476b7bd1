from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from portal.exact.client import oauth
from portal.exact.client.errors import (
    ExactReauthorizationNeeded,
    ExactRefreshTokenExpired,
    ExactServerError,
    ExactTooEarlyToRefresh,
    ExactUnavailable,
)

BASE = "https://start.exactonline.be"
TOKEN_URL = BASE + "/api/oauth2/token"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TOKEN_ANSWER = {
    "access_token": "AT-1",
    "token_type": "bearer",
    "expires_in": "600",
    "refresh_token": "RT-1",
}


def clock():
    return NOW


def form(call):
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@pytest.mark.parametrize(("force_login", "flag"), [(False, "0"), (True, "1")])
def test_authorization_url(force_login, flag):
    url = oauth.authorization_url(BASE, "cid", "https://portal.test/cb", "st4te", force_login)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE + "/api/oauth2/auth"
    assert query == {
        "client_id": "cid",
        "redirect_uri": "https://portal.test/cb",
        "response_type": "code",
        "state": "st4te",
        "force_login": flag,
    }


@responses.activate
def test_exchange_code_decodes_the_code_and_posts_a_form():
    responses.post(TOKEN_URL, json=TOKEN_ANSWER)
    tokens = oauth.exchange_code(
        BASE, "cid", "secret", "https://portal.test/cb", "stampBE001.abc%21def", clock=clock
    )
    call = responses.calls[0]
    assert call.request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert form(call) == {
        "grant_type": "authorization_code",
        "code": "stampBE001.abc!def",
        "redirect_uri": "https://portal.test/cb",
        "client_id": "cid",
        "client_secret": "secret",
    }
    assert (tokens.access_token, tokens.refresh_token) == ("AT-1", "RT-1")
    assert tokens.access_expires_at == NOW + timedelta(seconds=600)
    assert tokens.issued_at == NOW
    assert tokens.refreshed_at is None
    assert tokens.refresh_token_expires_at == NOW + timedelta(days=30)


@responses.activate
def test_reused_code_is_an_error():
    responses.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Code already used"},
    )
    with pytest.raises(ExactReauthorizationNeeded):
        oauth.exchange_code(BASE, "cid", "secret", "https://portal.test/cb", "x", clock=clock)


@responses.activate
def test_refresh_tokens_rotates():
    responses.post(TOKEN_URL, json={**TOKEN_ANSWER, "expires_in": "599"})
    tokens = oauth.refresh_tokens(BASE, "cid", "secret", "RT-0", clock=clock)
    assert form(responses.calls[0]) == {
        "grant_type": "refresh_token",
        "refresh_token": "RT-0",
        "client_id": "cid",
        "client_secret": "secret",
    }
    assert tokens.refresh_token == "RT-1"
    assert tokens.refreshed_at == NOW
    assert tokens.access_expires_at == NOW + timedelta(seconds=599)


@responses.activate
def test_refresh_with_a_given_session():
    responses.post(TOKEN_URL, json=TOKEN_ANSWER)
    session = oauth.make_session("cid", "secret")
    assert (
        oauth.refresh_tokens(BASE, "cid", "secret", "RT-0", session=session).access_token == "AT-1"
    )
    responses.post(TOKEN_URL, status=401, json={"error": "unauthorized_client"})
    with pytest.raises(ExactReauthorizationNeeded):
        oauth.refresh_tokens(BASE, "cid", "secret", "RT-0", session=session)


@pytest.mark.parametrize(
    ("status", "body", "headers", "error_class"),
    [
        (
            401,
            {"error": "unauthorized_client", "error_description": "Old refresh token used."},
            {},
            ExactReauthorizationNeeded,
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "The refresh token expired at x"},
            {},
            ExactRefreshTokenExpired,
        ),
        (
            400,
            {
                "error": "access_denied",
                "error_description": "Rate limit exceeded: access_token not expired",
            },
            {"Reason": "TooEarlyToRefreshTokens: 570"},
            ExactTooEarlyToRefresh,
        ),
        (503, None, {}, ExactServerError),
    ],
)
@responses.activate
def test_refresh_errors_are_typed(status, body, headers, error_class):
    responses.post(TOKEN_URL, status=status, json=body, headers=headers)
    with pytest.raises(error_class) as info:
        oauth.refresh_tokens(BASE, "cid", "secret", "RT-0")
    assert info.value.status == status
    assert info.value.endpoint == "oauth2/token"


@pytest.mark.parametrize("failure", [requests.ReadTimeout("slow"), requests.ConnectionError("dns")])
@responses.activate
def test_refresh_network_failures_are_unavailable(failure):
    responses.post(TOKEN_URL, body=failure)
    with pytest.raises(ExactUnavailable) as info:
        oauth.refresh_tokens(BASE, "cid", "secret", "RT-0")
    assert not info.value.maybe_booked
