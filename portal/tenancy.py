"""Tenancy in one place: which accounts a user may enter, and scoped fetching.

The current account comes from the URL (``/a/<account_id>/...``). Views fetch every
account-owned row through ``get_for_account`` or ``scoped``; another account's row, or an
account the user may not enter, is a 404, never a 403, so nothing leaks that it exists.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, g, has_request_context
from flask_login import current_user
from sqlalchemy import Select, func, select, union_all

from portal.extensions import db
from portal.models import Account, Membership, PortalLink, PortalLinkStatus, Role, User
from portal.permissions import (
    NO_AUTHORITY,
    ROLE_DESCRIPTIONS,
    ROLE_LABELS,
    Action,
    Authority,
    authority,
    why_not,
)

M = TypeVar("M")

SWITCHER_CLIENTS_PER_PORTAL = 50


def accessible_accounts(user: User) -> list[tuple[Account, Role]]:
    """Every account the user is a member of, with their role (portals first)."""
    rows = db.session.execute(
        select(Account, Membership.role)
        .join(Membership, Membership.account_id == Account.id)
        .where(Membership.user_id == user.id)
        .order_by(Account.kind.desc(), Account.name)
    ).all()
    return [(account, role) for account, role in rows]


def portal_clients_for_switcher(
    user: User, limit: int = SWITCHER_CLIENTS_PER_PORTAL
) -> dict[int, tuple[list[Account], int]]:
    """Per portal of the user: (its first clients by name, its number of clients).

    Two queries whatever the number of clients: a count per portal (its links only, no join),
    and the first ``limit`` clients of each portal (one ``LIMIT`` per portal, united), so
    neither ranks nor loads a portal's other clients.
    """
    portal_ids = select(Membership.account_id).where(Membership.user_id == user.id)
    active = (PortalLink.portal_id.in_(portal_ids), PortalLink.status == PortalLinkStatus.ACTIVE)
    totals = dict(
        db.session.execute(
            select(PortalLink.portal_id, func.count()).where(*active).group_by(PortalLink.portal_id)
        ).all()
    )
    if not totals:
        return {}
    firsts = [
        select(PortalLink.portal_id.label("portal_id"), Account.id.label("client_id"))
        .join(Account, Account.id == PortalLink.client_id)
        .where(PortalLink.portal_id == portal_id, PortalLink.status == PortalLinkStatus.ACTIVE)
        .order_by(Account.name, Account.id)
        .limit(limit)
        .subquery()
        for portal_id in sorted(totals)
    ]
    chosen = union_all(*(select(first) for first in firsts)).subquery()
    rows = db.session.execute(
        select(chosen.c.portal_id, Account)
        .join(Account, Account.id == chosen.c.client_id)
        .order_by(chosen.c.portal_id, Account.name, Account.id)
    ).all()
    grouped: dict[int, list[Account]] = {pid: [] for pid in totals}
    for portal_id, client in rows:
        grouped[portal_id].append(client)
    return {pid: (clients, totals[pid]) for pid, clients in grouped.items()}


def enter_account(account_id: int) -> Account:
    """Load the account in the URL for the current user, or 404.

    Sets ``g.account``, ``g.authority`` (what the user may do here), ``g.role`` (the role to
    show) and ``g.via_portal`` (the portal the access comes through, if any).
    """
    if not current_user.is_authenticated:
        abort(404)
    found = authority(current_user, account_id)
    account = db.session.get(Account, account_id) if found.can(Action.VIEW) else None
    if account is None:
        abort(404)
    g.account, g.authority, g.role = account, found, found.role
    g.via_portal = db.session.get(Account, found.portal_id) if found.portal_id else None
    return account


def current_account() -> Account:
    account = g.get("account")
    if account is None:
        abort(404)
    return account


def require_portal() -> Account:
    """The current account must be a portal; a client account has no portal pages (404)."""
    account = current_account()
    if not account.is_portal:
        abort(404)
    return account


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
        "switcher_clients": portal_clients_for_switcher(user) if signed_in else {},
        "via_portal": g.get("via_portal"),
        "enabled_modules": _enabled_modules(),
        "has_exact_link": _has_exact_link(),
        "account": g.get("account"),
        "role": g.get("role"),
        "can": _can,
        "why_not": _why_not,
        "role_labels": ROLE_LABELS,
        "role_descriptions": {role.value: text for role, text in ROLE_DESCRIPTIONS.items()},
    }


def _authority_in(account: Account) -> Authority:
    """The current user's authority in the account, for the page being rendered: the current
    account's from ``g``, another's (a client on a portal's page) computed once per request."""
    if account is g.get("account"):
        return g.get("authority", NO_AUTHORITY)
    found = g.setdefault("other_authorities", {})
    if account.id not in found:
        found[account.id] = authority(current_user, account)
    return found[account.id]


def _can(action: str, account: Account | None = None) -> bool:
    """Templates: ``can('sync')`` in the current account, or in another one (a client row)."""
    account = account or g.get("account")
    return account is not None and _authority_in(account).can(Action(action))


def _why_not(action: str, account: Account | None = None) -> str | None:
    """Templates: the sentence that says why an action is not offered here, and who can
    change that (``why_not('sync')``, or for another account ``why_not('sync', client)``)."""
    account = account or g.get("account")
    if account is None:
        return None
    return why_not(_authority_in(account), Action(action), account)


def _has_exact_link() -> bool:
    """Whether the current client account has an Exact link (its "Sync" page): one small
    lookup per request, none when a view has already loaded ``g.exact_link``."""
    account = g.get("account")
    if account is None or account.is_portal:
        return False
    if "exact_link" not in g:
        from portal.models import ExactDivisionLink

        g.exact_link = db.session.scalar(
            select(ExactDivisionLink).where(ExactDivisionLink.account_id == account.id)
        )
    return g.exact_link is not None


def _enabled_modules() -> set[str]:
    from portal.modules import enabled_keys

    account = g.get("account")
    return enabled_keys(account) if account is not None else set()
