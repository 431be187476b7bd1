"""The Exact client's messages in the user's language: Flask-Babel where an app has it."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context

from portal.exact.client import errors


def _babel_active() -> bool:
    return has_app_context() and "babel" in current_app.extensions


def _gettext(template: str, **values) -> str:
    if _babel_active():
        from flask_babel import gettext

        return gettext(template, **values)
    return template % values if values else str(template)


def _format_time(value: datetime) -> str:
    if _babel_active():
        from flask_babel import format_datetime

        # Exact's limits reset at midnight UTC: say UTC (not the user's time zone).
        return format_datetime(value.astimezone(UTC), "short", rebase=False) + " UTC"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def init_app(app: Flask) -> None:
    """Give the Exact client the portal's translations (once per process is enough)."""
    errors.use_translations(_gettext, _format_time)
