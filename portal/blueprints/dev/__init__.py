"""Dev-only pages: the mail outbox, when no SMTP server is configured.

Only with OUTBOX_PAGE on, never in production (the config refuses both at once), and only for
a signed-in user: it shows every stored mail, reset links included.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db, login_manager
from portal.models import OutboxMessage

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.before_request
def _only_when_enabled():
    if not current_app.config.get("OUTBOX_PAGE") or current_app.config.get("PRODUCTION"):
        abort(404)
    if not current_user.is_authenticated:
        return login_manager.unauthorized()


@bp.route("/outbox")
def outbox():
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(50)
    ).all()
    return render_template("dev/outbox.html", messages=messages)


@bp.route("/outbox/<int:message_id>")
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("dev/outbox_message.html", message=message)
