"""The audit log of an account, for its admins."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from portal.blueprints.params import page_number
from portal.blueprints.scoped import account_blueprint
from portal.extensions import db
from portal.models import AuditEvent, User
from portal.permissions import Action, require
from portal.tenancy import scoped

bp = account_blueprint("audit", __name__, "/audit")
PER_PAGE = 50


@bp.route("/")
def index():
    require(Action.VIEW_AUDIT)
    page = max(1, page_number())
    query = scoped(AuditEvent)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    events = db.session.execute(
        query.add_columns(User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    pages = max(1, -(-total // PER_PAGE))
    return render_template("audit/index.html", events=events, page=page, pages=pages)
