"""The Exact Online module's pages (unreachable while the module is off)."""

from __future__ import annotations

from flask import g, render_template

from portal.blueprints.scoped import account_blueprint
from portal.modules import require_module

bp = account_blueprint("exact", __name__, "/exact")


@bp.before_request
def _module_on():
    require_module(g.account, "exact_online")


@bp.route("/")
def overview():
    return render_template("exact/overview.html")
