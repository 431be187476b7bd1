"""Error pages: every failure answers with a page in the user's language, never a stack trace."""

from __future__ import annotations

from flask import Flask, current_app, g, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from portal.permissions import (
    MINIMUM_ROLE,
    NEVER_DELEGATED,
    ROLE_LABELS,
    Action,
    PermissionDenied,
)

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


def denied_message(action: Action) -> str:
    """Why the action is refused, naming the role it takes and, through a portal, the role
    the client granted the office."""
    needed = ROLE_LABELS[MINIMUM_ROLE[action]]
    found = g.get("authority")
    delegated_only = found is not None and found.delegated is not None and found.own is None
    if delegated_only and action in NEVER_DELEGATED:
        return _(
            "Only the account's own people can do this; an office never can, whatever role "
            "the client granted it."
        )
    if delegated_only:
        return _(
            "This needs the role %(needed)s. Through your office you have the role %(role)s "
            "in this account: the weaker of your role in the office and the role the client "
            "granted the office.",
            needed=needed,
            role=ROLE_LABELS[found.delegated],
        )
    return _(
        "You do not have the rights for this action in this account. It needs the role %(needed)s.",
        needed=needed,
    )


def too_large_message() -> str:
    """Why an upload was refused whole (the request is above ``MAX_CONTENT_LENGTH``)."""
    from portal.bookkeeping.files import max_file_size, size_text

    return _(
        "The upload is too large: at most %(per_file)s per file, and %(per_upload)s in one "
        "upload. Nothing was stored; send fewer or smaller files at a time.",
        per_file=size_text(max_file_size()),
        per_upload=size_text(int(current_app.config.get("MAX_CONTENT_LENGTH") or 0)),
    )


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, lambda error, code=code: _render(code))

    @app.errorhandler(413)
    def request_too_large(error):
        return _render(413, too_large_message())

    @app.errorhandler(PermissionDenied)
    def permission_denied(error: PermissionDenied):
        return _render(403, denied_message(error.action))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(
            400,
            _(
                "The form had expired or was not sent from this site. "
                "Please go back, reload the page and try again."
            ),
        )
