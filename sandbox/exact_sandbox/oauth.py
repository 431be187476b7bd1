"""OAuth2 as Exact does it: login-and-consent page, codes, rotating refresh tokens."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from html import escape
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, redirect, request

from .responses import json_response, oauth_error, state
from .state import AccessToken, AuthCode, Consent, RefreshToken, SandboxState

bp = Blueprint("sandbox_oauth", __name__)

SESSION_COOKIE = "EOL_SANDBOX_SESSION"
TICKET_SECONDS = 600
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


# ---------------------------------------------------------------- authorize
@bp.get("/api/oauth2/auth")
def authorize_page() -> Response:
    problem = _check_authorize_request()
    if problem is not None:
        return problem
    st = state()
    with st.lock:
        username = st.oauth.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if username and request.args.get("force_login") != "1" and username in st.users:
            return _consent_page(st, username, _new_ticket(st, username))
    return _login_page()


@bp.post("/api/oauth2/auth")
def authorize_submit() -> Response:
    problem = _check_authorize_request()
    if problem is not None:
        return problem
    if request.form.get("action") == "deny":
        return _redirect_back({"error": "access_denied"})
    st = state()
    with st.lock:
        if request.form.get("step") == "consent":
            return _submit_consent(st)
        return _submit_login(st)


def _check_authorize_request() -> Response | None:
    """Wrong client or redirect URI: an error page, never a redirect (as Exact does)."""
    st = state()
    app = st.apps.get(request.args.get("client_id", ""))
    if app is None:
        return _page("Error", "<p>Unknown client_id.</p>", 400)
    if not redirect_allowed(app, request.args.get("redirect_uri", "")):
        return _page("Error", "<p>The redirect_uri is not registered for this app.</p>", 400)
    if request.args.get("response_type", "code") != "code":
        return _redirect_back({"error": "unsupported_response_type"})
    return None


def redirect_allowed(app: dict, uri: str) -> bool:
    if uri in app.get("redirect_uris", []):
        return True
    if not app.get("allow_loopback_redirects"):
        return False
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.netloc.rsplit(":", 1)[0] in LOOPBACK_HOSTS


def _submit_login(st: SandboxState) -> Response:
    username = request.form.get("username", "")
    user = st.users.get(username)
    if user is None or not secrets.compare_digest(
        user["password"], request.form.get("password", "")
    ):
        return _login_page("The username or password is incorrect.")
    session = secrets.token_urlsafe(24)
    st.oauth.sessions[session] = username
    response = _consent_page(st, username, _new_ticket(st, username))
    response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax")
    return response


def _submit_consent(st: SandboxState) -> Response:
    username = _ticket_user(st, request.form.get("ticket", ""))
    if username is None:
        return _login_page("Your sign-in expired. Please sign in again.")
    user = st.users[username]
    chosen = {int(code) for code in request.form.getlist("division") if code.isdigit()}
    chosen &= set(user["divisions"])
    if not chosen:
        return _consent_page(
            st, username, _new_ticket(st, username), "Select at least one administration."
        )
    client_id = request.args["client_id"]
    consent = grant(st, client_id, username, chosen)
    code = f"{secrets.token_urlsafe(12)}!{secrets.token_urlsafe(48)}"
    st.oauth.codes[code] = AuthCode(
        code, client_id, username, request.args["redirect_uri"], consent.id, st.now()
    )
    return _redirect_back({"code": code})


def grant(st: SandboxState, client_id: str, username: str, divisions: set[int]) -> Consent:
    """Create or replace the user's consent for the app (a new consent after a revoke)."""
    consent = st.oauth.consent_for(client_id, username)
    if consent is None:
        consent = Consent(st.oauth.next_consent, client_id, username, set(divisions), st.now())
        st.oauth.consents[consent.id] = consent
        st.oauth.next_consent += 1
    consent.divisions = set(divisions)
    return consent


def _redirect_back(params: dict) -> Response:
    uri = request.args.get("redirect_uri", "")
    if request.args.get("state") is not None:
        params = {**params, "state": request.args["state"]}
    separator = "&" if "?" in uri else "?"
    return redirect(f"{uri}{separator}{urlencode(params)}", 302)


def _new_ticket(st: SandboxState, username: str) -> str:
    ticket = secrets.token_urlsafe(16)
    st.oauth.tickets[ticket] = (username, st.now())
    return ticket


def _ticket_user(st: SandboxState, ticket: str) -> str | None:
    found = st.oauth.tickets.pop(ticket, None)
    if found is None or st.now() - found[1] > TICKET_SECONDS:
        return None
    return found[0]


# ---------------------------------------------------------------- pages
def _page(title: str, body: str, status: int = 200) -> Response:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} - Exact Online sandbox</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto;color:#222}}
label{{display:block;margin:.5rem 0}} .error{{color:#b00}} button{{margin-right:.5rem}}</style>
</head><body><h1>Exact Online <small>(sandbox)</small></h1><h2>{escape(title)}</h2>
{body}</body></html>"""
    return Response(html, status, content_type="text/html; charset=utf-8")


def _form_action() -> str:
    return escape(f"{request.script_root}{request.path}?{request.query_string.decode()}")


def _app_name() -> str:
    app = state().apps[request.args["client_id"]]
    return escape(app.get("name", app["client_id"]))


def _login_page(error: str | None = None) -> Response:
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    body = f"""<p>Sign in to give <b>{_app_name()}</b> access to Exact Online.</p>{message}
<form method="post" action="{_form_action()}">
<input type="hidden" name="step" value="login">
<label>Username <input name="username" autocomplete="username" autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit" name="action" value="login">Sign in</button>
<button type="submit" name="action" value="deny">Cancel</button>
</form>"""
    return _page("Sign in", body, 401 if error else 200)


def _consent_page(
    st: SandboxState, username: str, ticket: str, error: str | None = None
) -> Response:
    user = st.users[username]
    current = st.oauth.consent_for(request.args["client_id"], username)
    checked = current.divisions if current else set(user["divisions"])
    boxes = []
    for code in user["divisions"]:
        name = escape(st.division_configs[code].get("name", str(code)))
        mark = " checked" if code in checked else ""
        boxes.append(
            f'<label><input type="checkbox" name="division" value="{code}"{mark}> '
            f"{code} {name}</label>"
        )
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    body = f"""<p>Signed in as <b>{escape(user["full_name"])}</b> ({escape(username)}).</p>
<p><b>{_app_name()}</b> asks for access to these administrations:</p>{message}
<form method="post" action="{_form_action()}">
<input type="hidden" name="step" value="consent">
<input type="hidden" name="ticket" value="{escape(ticket)}">
{"".join(boxes)}
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>"""
    return _page("Give access", body)


# ---------------------------------------------------------------- token
@bp.post("/api/oauth2/token")
def token() -> Response:
    st = state()
    with st.lock:
        app = _client_app(st)
        if app is None:
            return oauth_error(400, "invalid_client", "Invalid client credentials")
        grant_type = request.form.get("grant_type", "")
        if grant_type == "authorization_code":
            return _exchange_code(st, app)
        if grant_type == "refresh_token":
            return _refresh(st, app)
        return oauth_error(400, "unsupported_grant_type")


def _client_app(st: SandboxState) -> dict | None:
    client_id = request.form.get("client_id")
    secret = request.form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        client_id = client_id or request.authorization.username
        secret = secret or request.authorization.password
    app = st.apps.get(client_id or "")
    if app is None or not secrets.compare_digest(app["client_secret"], secret or ""):
        return None
    return app


def _count_token_call(st: SandboxState, client_id: str, username: str) -> Response | None:
    """200 token calls per app, user and UTC day; the 201st is refused."""
    day = st.utc_day()
    key = (client_id, username)
    seen_day, count = st.oauth.token_calls.get(key, (day, 0))
    count = count + 1 if seen_day == day else 1
    st.oauth.token_calls[key] = (day, count)
    st.counters.add("token_calls", client_id, username)
    if count > st.setting("oauth", "token_calls_per_day"):
        return oauth_error(
            400,
            "access_denied",
            "Rate limit exceeded: token requests per day",
            {"Reason": "TooManyTokenRequests: daily limit of token calls reached"},
        )
    return None


def _exchange_code(st: SandboxState, app: dict) -> Response:
    found = st.oauth.codes.get(request.form.get("code", ""))
    if found is None or found.client_id != app["client_id"]:
        return oauth_error(400, "invalid_grant", "Invalid authorization code")
    refused = _count_token_call(st, app["client_id"], found.username)
    if refused is not None:
        return refused
    if found.used:
        return oauth_error(
            400, "invalid_grant", "Token is not allowed, because of invalid or empty chainId"
        )
    if st.now() - found.issued > st.setting("oauth", "code_seconds"):
        return oauth_error(400, "invalid_grant", "The authorization code has expired")
    if request.form.get("redirect_uri", found.redirect_uri) != found.redirect_uri:
        return oauth_error(400, "invalid_grant", "The redirect_uri does not match")
    found.used = True
    consent = st.oauth.consents[found.consent_id]
    if consent.revoked:
        return oauth_error(400, "invalid_grant", "The consent was revoked")
    st.counters.add("code_exchanges", app["client_id"], found.username)
    return _issue_tokens(st, consent)


def _refresh(st: SandboxState, app: dict) -> Response:
    found = st.oauth.refresh.get(request.form.get("refresh_token", ""))
    consent = st.oauth.consents.get(found.consent_id) if found else None
    if found is None or consent is None or consent.client_id != app["client_id"]:
        return oauth_error(400, "invalid_grant", "Invalid refresh token")
    refused = _count_token_call(st, app["client_id"], consent.username)
    if refused is not None:
        return refused
    if found.used:
        return oauth_error(401, "unauthorized_client", "Old refresh token used.")
    if consent.revoked:
        return oauth_error(400, "invalid_grant", "The consent for this app was revoked")
    now = st.now()
    expires = found.issued + st.setting("oauth", "refresh_token_days") * 86_400
    if now >= expires:
        return oauth_error(400, "invalid_request", f"The refresh token expired at {_when(expires)}")
    allowed = found.access_issued + st.setting("oauth", "refresh_after_seconds")
    if now < allowed:
        reason = (
            f"TooEarlyToRefreshTokens: a new access token can be requested after {_when(allowed)}"
        )
        return oauth_error(
            400,
            "access_denied",
            "Rate limit exceeded: access_token not expired",
            {"Reason": reason},
        )
    found.used = True
    st.counters.add("refreshes", app["client_id"], consent.username)
    return _issue_tokens(st, consent)


def _issue_tokens(st: SandboxState, consent: Consent) -> Response:
    now = st.now()
    lifetime = int(st.setting("oauth", "access_token_seconds"))
    access = f"sbx.{secrets.token_urlsafe(48)}"
    refresh = f"{secrets.token_urlsafe(6)}!{secrets.token_urlsafe(40)}"
    st.oauth.access[access] = AccessToken(access, consent.id, now, now + lifetime)
    st.oauth.refresh[refresh] = RefreshToken(refresh, consent.id, now, now)
    body = {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": str(lifetime),
        "refresh_token": refresh,
    }
    return json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def revoke(st: SandboxState, client_id: str, username: str) -> bool:
    """Security centre: withdraw an app's access. Tokens of that consent stop working."""
    consent = st.oauth.consent_for(client_id, username)
    if consent is None:
        return False
    consent.revoked = True
    return True
