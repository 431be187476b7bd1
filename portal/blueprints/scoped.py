"""Blueprints whose routes live under ``/a/<account_id>/`` and check access first."""

from __future__ import annotations

from flask import Blueprint, g
from flask_login import current_user

from portal.extensions import login_manager
from portal.tenancy import enter_account


def account_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint whose every route requires login and access to the account in the URL.

    The check runs before any view, so a new route cannot forget it. A user who may not
    enter the account gets a 404; an anonymous visitor is sent to the login page.
    """
    bp = Blueprint(name, import_name, url_prefix=f"/a/<int:account_id>{url_prefix}")

    @bp.url_value_preprocessor
    def _pop_account_id(endpoint, values):
        g.account_id = values.pop("account_id", None) if values else None

    @bp.url_defaults
    def _add_account_id(endpoint, values):
        if "account_id" not in values and g.get("account") is not None:
            values["account_id"] = g.account.id

    @bp.before_request
    def _enter():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        enter_account(g.account_id)

    return bp
