"""Test helpers: the app as tests make it, and a client that sends the CSRF token as a browser
would. Test modules and helpers import from here, never from conftest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask.testing import FlaskClient
from sqlalchemy import event

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class PortalClient(FlaskClient):
    """Posts carry a valid CSRF token (taken from a page), unless ``csrf=False``."""

    def open(self, *args, **kwargs):
        """Each request gets its own app context (fresh ``g`` and DB session), as in production,
        even though the test itself runs inside one."""
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and (data is None or isinstance(data, dict)) and "csrf_token" not in (data or {}):
            kwargs["data"] = {**(data or {}), "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)

    def csrf_token(self) -> str:
        page = self.get("/reset")
        return csrf_token_from(page.get_data(as_text=True))


EXACT_REDIRECT_URI = "http://127.0.0.1:5000/exact/callback"

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SERVER_NAME": "portal.test",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; scrypt in real use
    "MAIL_SERVER": None,
    "OUTBOX_PAGE": False,
}


def make_test_app(database_url: str, redis_url: str, **overrides):
    """The app as tests use it; an override of None removes a setting."""
    from portal import create_app

    config = {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "TOKEN_ENCRYPTION_KEY": FERNET_KEY,
        **overrides,
    }
    return create_app({k: v for k, v in config.items() if v is not None or k == "MAIL_SERVER"})


FERNET_KEY = "kV3W7C1S0p2k9m8gq0xH0b3n3rQ2vY6uJ3t9rG4H5aE="


@contextmanager
def sql_statements(engine) -> Iterator[list[str]]:
    """The SQL statements the engine sends inside the block (to prove counts stay constant)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def count_rows(model) -> int:
    """How many rows the model's table holds now (read fresh, not from the session)."""
    from sqlalchemy import func, select

    from portal.extensions import db

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def stored_paths(app) -> list:
    """The files in the app's file storage folder (to prove a refusal left none behind)."""
    from pathlib import Path

    root = Path(app.config["FILE_STORAGE"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
