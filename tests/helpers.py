"""Test helpers: a client that sends the CSRF token as a browser would."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

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
