"""Links: absolute links for mails, redirects that stay on this site, and URL ids."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from werkzeug.routing import IntegerConverter, ValidationError

MAX_ID = 2**31 - 1  # the largest id an INTEGER primary key holds (PostgreSQL: 32 bits)


def external_url(endpoint: str, **values) -> str:
    """``url_for(..., _external=True)``; outside a request, against the BASE_URL setting."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: no open redirect.

    Browsers drop tabs and line breaks from a URL and read ``\\`` as ``/``, so ``/\\t/evil``
    and ``/\\evil`` lead to another site; anything with a control character or a backslash is
    refused, as is anything with a scheme or a host.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(unicodedata.category(char).startswith("C") for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


class IdConverter(IntegerConverter):
    """The app's ``<int:...>``: a number the database can hold, else the URL matches nothing
    (a 404), rather than an OverflowError from the database driver (a 500)."""

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # also spares int() a 5000-digit string
            raise ValidationError()
        number = super().to_python(value)
        if number > MAX_ID:
            raise ValidationError()
        return number
