"""Tenancy in one place: which accounts a user may enter, and scoped fetching.

The current account comes from the URL (``/a/<account_id>/...``). Views fetch every
account-owned row through ``get_for_account`` or ``scoped``; another account's row, or an
account the user may not enter, is a 404, never a 403, so nothing leaks that it exists.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import Select, select

from portal.extensions import db
from portal.models import Account, Membership, Role, User

M = TypeVar("M")


def accessible_accounts(user: User) -> list[tuple[Account, Role]]:
    """Every account the user may enter, with the role they have there."""
    rows = db.session.execute(
        select(Account, Membership.role)
        .join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user.id)
        .order_by(Account.kind.desc(), Account.name)
    ).all()
    return [(account, role) for account, role in rows]


def role_for(user: User, account_id: int) -> Role | None:
    """The user's role in the account, or None when they may not enter it."""
    return db.session.scalar(
        select(Membership.role).where(
            Membership.user_id == user.id, Membership.account_id == account_id
        )
    )


def enter_account(account_id: int) -> Account:
    """Load the account in the URL for the current user, or 404. Sets ``g.account``/``g.role``."""
    if not current_user.is_authenticated:
        abort(404)
    role = role_for(current_user, account_id)
    account = db.session.get(Account, account_id) if role else None
    if account is None:
        abort(404)
    g.account, g.role = account, role
    return account


def current_account() -> Account:
    account = g.get("account")
    if account is None:
        abort(404)
    return account


def require_admin() -> None:
    """Only owners and admins of the current account pass; others get a 403."""
    current_account()
    if not g.role.is_admin:
        abort(403)


def scoped(model: type[M], account: Account | None = None) -> Select:
    """A select of the model's rows that belong to the (current) account."""
    account = account or current_account()
    return select(model).where(model.account_id == account.id)


def get_for_account(model: type[M], object_id: Any, account: Account | None = None) -> M:
    """One account-owned row by id, or 404 when it is missing or another account's."""
    account = account or current_account()
    row = db.session.scalar(
        select(model).where(model.id == object_id, model.account_id == account.id)
    )
    if row is None:
        abort(404)
    return row


def navigation_context() -> dict[str, Any]:
    """Template globals: the switcher's accounts and the current account."""
    user = current_user if has_request_context() else None
    signed_in = getattr(user, "is_authenticated", False)
    return {
        "switcher_accounts": accessible_accounts(user) if signed_in else [],
        "account": g.get("account"),
        "role": g.get("role"),
    }
