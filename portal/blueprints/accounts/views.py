"""Home, the account switcher, and an account's dashboard."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal import clock
from portal.blueprints.scoped import account_blueprint
from portal.clients import attention as needs_attention
from portal.extensions import db
from portal.models import Membership
from portal.tenancy import accessible_accounts

bp = Blueprint("accounts", __name__)
account_bp = account_blueprint("account", __name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    accounts = accessible_accounts(current_user)
    if len(accounts) == 1:
        return redirect(url_for("account.dashboard", account_id=accounts[0][0].id))
    return redirect(url_for("accounts.switch"))


@bp.route("/accounts")
@login_required
def switch():
    return render_template("accounts/switch.html", accounts=accessible_accounts(current_user))


@account_bp.route("/")
def dashboard():
    member_count = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.account_id == g.account.id)
    )
    if g.account.is_portal:
        attention = needs_attention.for_portal(g.account)
        exact_connection, client_overview = attention.connection, None
    else:
        attention = None
        client_overview = needs_attention.for_client(g.account)
        from portal.exact.wiring import connection_of

        exact_connection = connection_of(g.account)
    return render_template(
        "accounts/dashboard.html",
        member_count=member_count,
        exact_connection=exact_connection,
        attention=attention,
        client_overview=client_overview,
        now=clock.now(),
    )
