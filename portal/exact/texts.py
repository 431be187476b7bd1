"""The Exact client's messages in the user's language: the portal's translations
(``portal.messages``: Flask-Babel where an app has it), handed to the client, which knows no
Flask."""

from __future__ import annotations

from flask import Flask

from portal import messages
from portal.exact.client import errors


def init_app(app: Flask) -> None:
    """Give the Exact client the portal's translations (once per process is enough)."""
    errors.use_translations(messages.gettext, messages.format_utc)
