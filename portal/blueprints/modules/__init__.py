"""Modules: admins switch features on or off per account."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal import audit, modules
from portal.blueprints.scoped import account_blueprint
from portal.extensions import db
from portal.permissions import Action, require

bp = account_blueprint("modules", __name__, "/modules")


@bp.route("/")
def index():
    return render_template(
        "modules/index.html",
        modules=modules.modules_for(g.account),
        enabled=modules.enabled_keys(g.account),
    )


@bp.route("/<key>", methods=["POST"])
def toggle(key: str):
    require(Action.MANAGE_MODULES)
    if key not in {m.key for m in modules.modules_for(g.account)}:
        abort(404)
    enable = request.form.get("enabled") == "1"
    if modules.set_enabled(g.account, key, enable):
        audit.record(g.account, "module.enabled" if enable else "module.disabled", target=key)
        db.session.commit()
    name = modules.MODULES[key].name
    flash(
        _("%(name)s is on.", name=name) if enable else _("%(name)s is off.", name=name), "success"
    )
    return redirect(url_for("modules.index"))
