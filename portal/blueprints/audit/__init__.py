"""The audit log of an account, for its admins."""

from __future__ import annotations

from flask import render_template

from portal.blueprints.audit.sentences import describe
from portal.blueprints.params import page_number
from portal.blueprints.scoped import account_blueprint
from portal.models import AuditEvent, User
from portal.pagination import paginate
from portal.permissions import Action, require
from portal.tenancy import scoped

bp = account_blueprint("audit", __name__, "/audit")
PER_PAGE = 50


@bp.route("/")
def index():
    require(Action.VIEW_AUDIT)
    events = paginate(  # rows: (event, actor's name)
        scoped(AuditEvent)
        .add_columns(User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()),
        page_number(),
        PER_PAGE,
    )
    return render_template("audit/index.html", events=events, describe=describe)
