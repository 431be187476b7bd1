"""Error pages: every failure answers with a page in the user's language, never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have the rights for this action in this account."),
    404: lambda: _("This page does not exist, or you have no access to it."),
    405: lambda: _("This action is not allowed here."),
    429: lambda: _("Too many attempts. Please wait a few minutes and try again."),
    500: lambda: _("Something went wrong on our side. Nothing was saved; please try again."),
}


def _render(code: int, message: str | None = None):
    return render_template(
        "errors/error.html", code=code, message=message or MESSAGES[code]()
    ), code


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, lambda error, code=code: _render(code))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(
            400,
            _(
                "The form had expired or was not sent from this site. "
                "Please go back, reload the page and try again."
            ),
        )
