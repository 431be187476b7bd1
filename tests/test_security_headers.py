"""Security headers on every answer; HTTPS-only settings in production only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import make_user_with_account
from tests.helpers import make_test_app

ROOT = Path(__file__).resolve().parent.parent


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


def _assert_secure_headers(response) -> None:
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_every_kind_of_answer_carries_the_security_headers(client, db, login):
    user, account = make_user_with_account()
    answers = [
        client.get("/login"),  # a page
        client.get("/static/css/portal.css"),  # a static file
        client.get("/no/such/page"),  # a 404
        client.post("/logout", csrf=False),  # a CSRF error
        client.post("/login", data={"email": user.email, "password": "wrong"}),  # a form error
    ]
    login(user)
    answers += [client.get(f"/a/{account.id}/"), client.post("/logout")]  # a redirect
    for response in answers:
        _assert_secure_headers(response)


def test_no_hsts_and_no_secure_cookie_outside_production(client, db):
    response = client.get("/login", base_url="https://portal.test")
    assert "Strict-Transport-Security" not in response.headers
    assert client.application.config["SESSION_COOKIE_SECURE"] is False
    assert client.get("/login").status_code == 200  # no redirect to https


@pytest.fixture
def production_app(migrated_database, redis_url, redis_conn):
    app = make_test_app(migrated_database, redis_url, PRODUCTION=True)
    with app.app_context():
        yield app


def test_production_sends_hsts_secure_cookies_and_redirects_to_https(production_app):
    client = production_app.test_client()
    plain = client.get("/login")
    assert plain.status_code == 302 and plain.headers["Location"].startswith("https://")
    secure = client.get("/login", base_url="https://portal.test")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    _assert_secure_headers(secure)
    cookie = secure.headers["Set-Cookie"]  # the CSRF token is kept in the session
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert production_app.config["REMEMBER_COOKIE_SECURE"] is True


def test_force_https_can_be_left_to_the_proxy_in_production(migrated_database, redis_url):
    app = make_test_app(migrated_database, redis_url, PRODUCTION=True, FORCE_HTTPS=False)
    with app.app_context():
        assert app.test_client().get("/login").status_code == 200


# --- no inline script or style: the CSP forbids both --------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def _templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_have_no_inline_script_or_style(path):
    if path.parent.name == "emails":
        return  # mail, not a page of the site: mail clients need inline styles
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js"
    assert not EVENT_HANDLER.search(text), "an on...= handler: use static/js"
    assert not STYLE.search(text), "inline style: use a class in static/css/portal.css"
