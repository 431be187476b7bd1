"""Helpers for tests (and scripts) that drive a running sandbox over HTTP.

Standard library only, so they also work in a bare virtualenv. The OAuth helper walks the
sandbox's HTML login-and-consent pages as a browser would and returns the authorization code.
"""

from __future__ import annotations

import json
import re
from email.message import Message
from html import unescape
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

from .clock import SandboxClock, parse_time

TEST_START = "2026-03-02T09:00:00Z"  # where frozen_clock() stands: a Monday morning, UTC
DEMO_CLIENT_ID = "sandbox-demo-client"
DEMO_CLIENT_SECRET = "sandbox-demo-secret"
DEMO_REDIRECT_URI = "http://127.0.0.1:5000/exact/callback"
ACCOUNTANT = ("accountant", "accountant")
CLIENT_USER = ("client", "client")
OFFICE_DIVISION = 3001000
CLIENT_DIVISIONS = (3001101, 3001102, 3001103, 3001104, 3001105, 3001106)

_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
_CHECKBOX = re.compile(r'<input type="checkbox" name="division" value="(\d+)"( checked)?>')
_ERROR = re.compile(r'<p class="error">(.*?)</p>')


def frozen_clock(start: str = TEST_START) -> SandboxClock:
    """A clock that only moves when told to (control endpoint or ``.advance``)."""
    return SandboxClock(parse_time(start), speed=0)


class AuthorizationError(Exception):
    """The OAuth dance did not end with a code (wrong password, denied, bad request)."""


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[override]
        return None


class Browser:
    """Just enough of a browser: keeps cookies, never follows redirects."""

    def __init__(self) -> None:
        self.cookies = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(
        self, url: str, fields: list[tuple[str, str]] | None = None
    ) -> tuple[int, Message, str]:
        """(status, headers, text) of a GET, or of a form POST when ``fields`` is given."""
        data = urlencode(fields).encode() if fields is not None else None
        try:
            with self._opener.open(Request(url, data=data), timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except HTTPError as error:
            return error.code, error.headers, error.read().decode()


def authorize(
    sandbox_url: str,
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str = DEMO_REDIRECT_URI,
    username: str = ACCOUNTANT[0],
    password: str = ACCOUNTANT[1],
    divisions: list[int] | None = None,
    state: str = "sandbox-test-state",
    *,
    force_login: bool = False,
    deny: bool = False,
    browser: Browser | None = None,
) -> str:
    """Log in and consent through the HTML form; returns the authorization code.

    ``divisions`` picks the checkboxes (None keeps what the page pre-checks: every division of
    the user, or the current grant). Pass one ``browser`` to several calls to keep the sandbox
    session cookie between them (then the login page is skipped unless ``force_login``).
    """
    browser = browser or Browser()
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "state": state,
        "force_login": "1" if force_login else "0",
    }
    url = f"{sandbox_url.rstrip('/')}/api/oauth2/auth?{urlencode(query)}"
    return follow_authorize_url(url, username, password, divisions, deny=deny, browser=browser)


def follow_authorize_url(
    url: str,
    username: str = ACCOUNTANT[0],
    password: str = ACCOUNTANT[1],
    divisions: list[int] | None = None,
    *,
    deny: bool = False,
    browser: Browser | None = None,
) -> str:
    """Like authorize(), for an authorize URL some other client built; returns the code."""
    browser = browser or Browser()
    state = parse_qs(urlsplit(url).query).get("state", [None])[0]
    sandbox_url = url.split("/api/oauth2/auth")[0]
    status, _headers, page = browser.request(url)
    if status >= 400 and "password" not in page:
        raise AuthorizationError(f"authorize page answered {status}: {_text(page)}")
    if 'name="password"' in page:
        login = [
            ("step", "login"),
            ("username", username),
            ("password", password),
            ("action", "login"),
        ]
        status, _headers, page = browser.request(_action(sandbox_url, page), login)
        if 'name="password"' in page or status >= 400:
            raise AuthorizationError(f"login failed: {_error(page)}")
    return _consent(browser, sandbox_url, page, divisions, deny, state)


def _consent(
    browser: Browser,
    sandbox_url: str,
    page: str,
    divisions: list[int] | None,
    deny: bool,
    state: str | None,
) -> str:
    fields = [(name, unescape(value)) for name, value in _HIDDEN.findall(page)]
    if divisions is None:
        divisions = [int(code) for code, checked in _CHECKBOX.findall(page) if checked]
    fields += [("division", str(code)) for code in divisions]
    fields.append(("action", "deny" if deny else "allow"))
    status, headers, page = browser.request(_action(sandbox_url, page), fields)
    if status != 302:
        raise AuthorizationError(f"consent failed ({status}): {_error(page)}")
    params = parse_qs(urlsplit(headers["Location"]).query)
    if "error" in params:
        raise AuthorizationError(params["error"][0])
    if params.get("state", [None])[0] != state:
        raise AuthorizationError("the state did not come back unchanged")
    return params["code"][0]


def _action(sandbox_url: str, page: str) -> str:
    match = _FORM_ACTION.search(page)
    if match is None:
        raise AuthorizationError(f"no form on the page: {_text(page)}")
    return urljoin(sandbox_url, unescape(match.group(1)))


def _error(page: str) -> str:
    match = _ERROR.search(page)
    return unescape(match.group(1)) if match else _text(page)


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page).split("</h2>")[-1].strip()[:200]


# ---------------------------------------------------------------- token endpoint
def token_request(sandbox_url: str, fields: dict) -> tuple[int, dict, dict]:
    """POST form fields to the token endpoint: (status, headers, JSON body)."""
    url = f"{sandbox_url.rstrip('/')}/api/oauth2/token"
    request = Request(url, data=urlencode(fields).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    return _json_call(request)


def exchange_code(
    sandbox_url: str,
    code: str,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    redirect_uri: str = DEMO_REDIRECT_URI,
) -> dict:
    """Trade a code for tokens; raises AuthorizationError unless the answer is 200."""
    status, _headers, body = token_request(
        sandbox_url,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    if status != 200:
        raise AuthorizationError(f"code exchange failed ({status}): {body}")
    return body


def refresh_tokens(
    sandbox_url: str,
    refresh_token: str,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
) -> tuple[int, dict, dict]:
    """One refresh call: (status, headers, JSON body)."""
    return token_request(
        sandbox_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )


def connect(
    sandbox_url: str,
    username: str = ACCOUNTANT[0],
    password: str = ACCOUNTANT[1],
    divisions: list[int] | None = None,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    redirect_uri: str = DEMO_REDIRECT_URI,
) -> dict:
    """authorize() then exchange_code(): the token answer of a fresh connection."""
    code = authorize(sandbox_url, client_id, redirect_uri, username, password, divisions)
    return exchange_code(sandbox_url, code, client_id, client_secret, redirect_uri)


# ---------------------------------------------------------------- API and control
def api_get(
    sandbox_url: str, access_token: str, path: str, params: dict | None = None
) -> tuple[int, dict, dict]:
    """GET /api/v1/{path} as JSON: (status, headers, body or {})."""
    url = f"{sandbox_url.rstrip('/')}/api/v1/{path.lstrip('/')}"
    if params:
        url = f"{url}?{urlencode(params)}"
    request = Request(url)
    request.add_header("Accept", "application/json")
    request.add_header("Authorization", f"Bearer {access_token}")
    return _json_call(request)


def control(
    sandbox_url: str, path: str, payload: dict | None = None, method: str | None = None
) -> dict:
    """Call a /_sandbox/ control endpoint (POST when a payload is given, else GET)."""
    method = method or ("GET" if payload is None else "POST")
    url = f"{sandbox_url.rstrip('/')}/_sandbox/{path.lstrip('/')}"
    data = json.dumps(payload or {}).encode() if method != "GET" else None
    request = Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    status, _headers, body = _json_call(request)
    if status >= 400:
        raise RuntimeError(f"control {method} {path} failed ({status}): {body}")
    return body


def advance_clock(sandbox_url: str, seconds: float) -> dict:
    return control(sandbox_url, "clock", {"advance": seconds})


def set_clock(sandbox_url: str, now: float | str | None = None, speed: float | None = None) -> dict:
    payload = {key: value for key, value in (("now", now), ("speed", speed)) if value is not None}
    return control(sandbox_url, "clock", payload)


def counters(sandbox_url: str) -> dict:
    return control(sandbox_url, "counters")


def inject_fault(sandbox_url: str, **spec: object) -> dict:
    """e.g. inject_fault(url, kind="status", path="sync/", status=503, count=2)."""
    return control(sandbox_url, "faults", dict(spec))


def _json_call(request: Request) -> tuple[int, dict, dict]:
    try:
        with build_opener(_NoRedirect()).open(request, timeout=30) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {"_text": raw.decode(errors="replace")}
    return status, headers, body
