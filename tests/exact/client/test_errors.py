import json
from datetime import UTC, datetime

import pytest
import requests
from flask import Flask

from portal.exact.client.errors import (
    FORBIDDEN_REASONS,
    ExactDailyLimitReached,
    ExactError,
    ExactErrorBudgetExhausted,
    ExactForbidden,
    ExactNotFound,
    ExactRateLimited,
    ExactReauthorizationNeeded,
    ExactRefreshTokenExpired,
    ExactServerError,
    ExactTooEarlyToRefresh,
    ExactUnauthorized,
    ExactUnavailable,
    ExactValidationError,
    error_from_response,
)

API = "https://start.exactonline.nl/api/v1/123/"


def make_response(status, body=None, headers=None, method="GET", url=API + "financial/GLAccounts"):
    response = requests.Response()
    response.status_code = status
    if isinstance(body, dict):
        response._content = json.dumps(body).encode()
    else:
        response._content = (body or "").encode()
    response.headers.update(headers or {})
    response.url = url
    response.request = requests.Request(method, url).prepare()
    return response


def exact_body(text):
    return {"error": {"code": "", "message": {"lang": "", "value": text}}}


def oauth_body(error, description):
    return {"error": error, "error_description": description}


def test_old_refresh_token_used_needs_reauthorization():
    response = make_response(401, oauth_body("unauthorized_client", "Old refresh token used."))
    error = error_from_response(response, endpoint="oauth2/token")
    assert type(error) is ExactReauthorizationNeeded
    assert error.raw_message == "Old refresh token used."
    assert error.code == "unauthorized_client"
    assert error.status == 401
    assert "connect it again" in error.user_message


def test_invalid_grant_needs_reauthorization():
    description = "Token is not allowed, because of invalid or empty chainId"
    error = error_from_response(make_response(400, oauth_body("invalid_grant", description)))
    assert isinstance(error, ExactReauthorizationNeeded)
    assert error.raw_message == description


def test_expired_refresh_token_says_30_days():
    body = oauth_body("invalid_request", "The refresh token expired at 2026-01-01 10:00:00")
    error = error_from_response(make_response(400, body))
    assert isinstance(error, ExactRefreshTokenExpired)
    assert isinstance(error, ExactReauthorizationNeeded)
    assert "30 days" in error.user_message


def test_too_early_to_refresh():
    body = oauth_body("access_denied", "Rate limit exceeded: access_token not expired")
    headers = {"Reason": "TooEarlyToRefreshTokens: wait 570 seconds"}
    error = error_from_response(make_response(400, body, headers))
    assert isinstance(error, ExactTooEarlyToRefresh)
    assert error.reason.startswith("TooEarlyToRefreshTokens")


def test_invalid_client_is_a_settings_problem_not_reauthorization():
    error = error_from_response(make_response(400, oauth_body("invalid_client", "bad secret")))
    assert not isinstance(error, ExactReauthorizationNeeded)
    assert "client ID or secret" in error.user_message


def test_token_endpoint_server_error():
    error = error_from_response(make_response(503, oauth_body("server_error", "down")))
    assert isinstance(error, ExactServerError)


@pytest.mark.parametrize("reason", sorted(FORBIDDEN_REASONS))
def test_forbidden_reason_header_in_plain_words(reason):
    error = error_from_response(make_response(403, exact_body("Forbidden"), {"Reason": reason}))
    assert isinstance(error, ExactForbidden)
    assert error.reason == reason
    assert error.user_message == FORBIDDEN_REASONS[reason]
    assert error.status == 403


def test_forbidden_reason_found_in_the_message_body():
    body = exact_body("User division is not within division scope")
    error = error_from_response(make_response(403, body))
    assert "Manage companies" in error.user_message


def test_forbidden_names_the_missing_right_for_gl_accounts():
    error = error_from_response(make_response(403, exact_body("Forbidden")), division=123)
    assert error.endpoint == "financial/GLAccounts"
    assert error.division == 123
    assert "View financial master data" in error.user_message
    assert "GL accounts" in error.user_message


def test_forbidden_right_depends_on_reading_or_writing_accounts():
    url = API + "crm/Accounts"
    read = error_from_response(make_response(403, None, url=url), endpoint="crm/Accounts")
    write = error_from_response(
        make_response(403, None, method="POST", url=url), endpoint="crm/Accounts"
    )
    assert "View accounts" in read.user_message
    assert "Manage accounts" in write.user_message


def test_forbidden_on_unknown_endpoint_is_generic():
    error = error_from_response(make_response(403, None, url=API + "project/Projects"))
    assert error.user_message == "Exact Online refused access to this data."


def test_rate_limited_minutely_and_daily():
    minutely = error_from_response(
        make_response(
            429,
            None,
            {"X-RateLimit-Minutely-Remaining": "0", "X-RateLimit-Minutely-Reset": "1767225660000"},
        )
    )
    assert isinstance(minutely, ExactRateLimited)
    assert minutely.reset_at == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    assert "2026-01-01 00:01 UTC" in minutely.user_message

    daily = error_from_response(
        make_response(
            429, None, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1767312000000"}
        )
    )
    assert isinstance(daily, ExactDailyLimitReached)
    assert daily.reset_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert "daily limit" in daily.user_message


def test_validation_error_shows_exacts_own_text():
    error = error_from_response(make_response(500, exact_body("Ongeldig: Dagboek"), method="POST"))
    assert isinstance(error, ExactValidationError)
    assert not isinstance(error, ExactUnavailable)
    assert error.raw_message == "Ongeldig: Dagboek"
    assert error.user_message == "Exact Online did not accept this: Ongeldig: Dagboek"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_without_message(status):
    error = error_from_response(make_response(status, "<html>oops</html>"))
    assert isinstance(error, ExactServerError)
    assert isinstance(error, ExactUnavailable)
    assert "internal error" in error.user_message


def test_not_found_and_unauthorized_and_other():
    assert isinstance(error_from_response(make_response(404, exact_body("x"))), ExactNotFound)
    assert isinstance(error_from_response(make_response(401, None)), ExactUnauthorized)
    body = exact_body("Please add a $select or a $top=1 statement to the query string.")
    error = error_from_response(make_response(400, body))
    assert type(error) is ExactError
    assert error.raw_message.startswith("Please add a $select")


def test_technical_text_for_logs():
    error = error_from_response(make_response(404, exact_body("gone")), division=7)
    text = str(error)
    assert "HTTP 404" in text and "financial/GLAccounts" in text and "division=7" in text


def test_unavailable_maybe_booked_warns_about_double_booking():
    assert "could not be reached" in ExactUnavailable("timeout").user_message
    error = ExactUnavailable("read timeout", maybe_booked=True)
    assert error.maybe_booked
    assert "may have been booked" in error.user_message


def test_error_budget_message_names_the_time():
    until = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    error = ExactErrorBudgetExhausted("8 errors", until=until, endpoint="financial/Journals")
    assert "2026-03-01 14:30 UTC" in error.user_message


def test_user_message_works_in_an_app_without_babel():
    app = Flask(__name__)
    with app.test_request_context():
        assert "connect it again" in ExactReauthorizationNeeded().user_message


def test_user_message_goes_through_the_translator_the_application_gives():
    from portal.exact.client import errors

    seen = []

    def fake_gettext(text, **params):
        seen.append(text)
        return "NL: " + (text % params if params else text)

    errors.use_translations(fake_gettext, None)
    try:
        message = error_from_response(make_response(403, None)).user_message
    finally:
        errors.use_translations(None, None)
    assert message.startswith("NL: ")
    assert "GL accounts" in seen and "View financial master data" in seen
    assert not error_from_response(make_response(403, None)).user_message.startswith("NL: ")


def test_the_portal_gives_the_client_flask_babel(app, monkeypatch):
    """The app factory wires the client's messages to Flask-Babel (Dutch for Dutch users)."""
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        message = error_from_response(make_response(403, None)).user_message
    assert "GL accounts" not in message and "grootboekrekeningen" in message.lower(), message


def test_errors_survive_pickling():
    import pickle

    until = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    error = ExactErrorBudgetExhausted("8 errors", until=until, division=5, endpoint="x")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ExactErrorBudgetExhausted
    assert (copy.until, copy.division, copy.endpoint) == (until, 5, "x")
    assert copy.user_message == error.user_message
    assert str(copy) == str(error)
