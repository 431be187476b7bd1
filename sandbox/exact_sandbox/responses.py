"""Response builders shared by the sandbox's blueprints."""

from __future__ import annotations

import json
from html import escape

from flask import Response, current_app

from .state import SandboxState


def state() -> SandboxState:
    return current_app.extensions["exact_sandbox"]


def json_response(data: object, status: int = 200, headers: dict | None = None) -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status, headers, content_type="application/json; charset=utf-8")


def error_body(message: str) -> dict:
    """Exact's error envelope."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def exact_error(status: int, message: str, reason: str | None = None) -> Response:
    headers = {"Reason": reason} if reason else None
    return json_response(error_body(message), status, headers)


def oauth_error(
    status: int, error: str, description: str | None = None, headers: dict | None = None
) -> Response:
    body = {"error": error}
    if description is not None:
        body["error_description"] = description
    return json_response(body, status, {"Cache-Control": "no-store", **(headers or {})})


def atom_feed(title: str, uris: list[str]) -> Response:
    """What Exact answers when the caller did not ask for JSON: Atom XML (a stub here)."""
    entries = "".join(
        f"<entry><id>{escape(uri, quote=False)}</id>"
        '<title type="text" /><content type="application/xml" /></entry>'
        for uri in uris
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<title type="text">{escape(title)}</title>{entries}</feed>'
    )
    return Response(body, 200, content_type="application/atom+xml;type=feed;charset=utf-8")


def atom_error(status: int, message: str, reason: str | None = None) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<code /><message xml:lang="">{escape(message)}</message></error>'
    )
    headers = {"Reason": reason} if reason else None
    return Response(body, status, headers, content_type="application/xml;charset=utf-8")
