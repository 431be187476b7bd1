"""Who may do what in which account: roles, capabilities and delegation, in one place.

A user holds authority in an account in up to two ways:

- **own**: a membership of the account (owner, admin, bookkeeper, member, read-only);
- **delegated**: a membership of the office portal the client account is actively linked to.
  What a portal's staff may do in a client account is the *intersection* of their role in the
  portal and the role the client granted the portal: the weaker of the two. Delegated
  authority never reaches the client's owners or the client's access to the portal.

Every view asks ``require(action, account)``; services that change access ask the rules
below (``grantable_roles``, ``may_manage``). Capabilities only grow with a role's strength,
so "the weaker of two roles" is the intersection of what each allows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Account, Membership, PortalLink, PortalLinkStatus, Role, User


class Action(enum.StrEnum):
    VIEW = "view"  # open the account's pages, master data, sync history
    UPLOAD = "upload"  # bring in receipts, e-invoices, statements, expense claims
    PREPARE = "prepare"  # prepare bookkeeping items and mark them ready
    EXPORT = "export"  # export ready items to Exact Online
    APPROVE_CLAIMS = "approve_claims"  # approve or reject employees' expense claims
    SYNC = "sync"  # Sync now, check an Exact link's rights
    LINK_DOSSIER = "link_dossier"  # activate, overwrite, confirm an administration's identity
    CONNECT_EXACT = "connect_exact"  # connect, reconnect, disconnect Exact; refresh its list
    MANAGE_MODULES = "manage_modules"
    MANAGE_ACCESS = "manage_access"  # invite, change and revoke people up to one's own role
    MANAGE_OWNERS = "manage_owners"  # make or unmake owners
    MANAGE_PORTAL_ACCESS = "manage_portal_access"  # grant, change or revoke the office's access
    MANAGE_CLIENTS = "manage_clients"  # a portal: add and create client accounts, Sync all
    MANAGE_BILLING = "manage_billing"
    VIEW_AUDIT = "view_audit"


# Weakest first: a role may everything the roles before it may.
ROLES = (Role.READ_ONLY, Role.MEMBER, Role.BOOKKEEPER, Role.ADMIN, Role.OWNER)
STRENGTH = {role: index for index, role in enumerate(ROLES)}

MINIMUM_ROLE: dict[Action, Role] = {
    Action.VIEW: Role.READ_ONLY,
    Action.UPLOAD: Role.MEMBER,
    Action.PREPARE: Role.BOOKKEEPER,
    Action.EXPORT: Role.BOOKKEEPER,
    Action.APPROVE_CLAIMS: Role.ADMIN,
    Action.SYNC: Role.BOOKKEEPER,
    Action.LINK_DOSSIER: Role.ADMIN,
    Action.CONNECT_EXACT: Role.ADMIN,
    Action.MANAGE_MODULES: Role.ADMIN,
    Action.MANAGE_ACCESS: Role.ADMIN,
    Action.MANAGE_OWNERS: Role.OWNER,
    Action.MANAGE_PORTAL_ACCESS: Role.ADMIN,
    Action.MANAGE_CLIENTS: Role.ADMIN,
    Action.MANAGE_BILLING: Role.ADMIN,
    Action.VIEW_AUDIT: Role.ADMIN,
}
# What a portal's staff never do in a client account, whatever role the client granted.
NEVER_DELEGATED = frozenset({Action.MANAGE_OWNERS, Action.MANAGE_PORTAL_ACCESS})
# The strongest role a client can grant its portal.
PORTAL_ROLE_CEILING = Role.ADMIN

ROLE_LABELS = {
    Role.OWNER: _l("Owner"),
    Role.ADMIN: _l("Admin"),
    Role.BOOKKEEPER: _l("Bookkeeper"),
    Role.MEMBER: _l("Member"),
    Role.READ_ONLY: _l("Read-only"),
}
ROLE_DESCRIPTIONS = {
    Role.OWNER: _l("Everything, including owners and the office's access."),
    Role.ADMIN: _l("Manages people, modules and the Exact Online connection."),
    Role.BOOKKEEPER: _l("Prepares, exports and syncs the bookkeeping."),
    Role.MEMBER: _l("Uploads documents and sees the account."),
    Role.READ_ONLY: _l("Sees the account; changes nothing."),
}


# What each action is, in words, for the sentence that says why a button is missing.
ACTION_LABELS = {
    Action.VIEW: _l("seeing this account"),
    Action.UPLOAD: _l("uploading documents"),
    Action.PREPARE: _l("preparing the bookkeeping"),
    Action.EXPORT: _l("exporting to Exact Online"),
    Action.APPROVE_CLAIMS: _l("approving expense claims"),
    Action.SYNC: _l("syncing with Exact Online and checking its rights"),
    Action.LINK_DOSSIER: _l("linking an administration (Activate, Overwrite)"),
    Action.CONNECT_EXACT: _l("connecting Exact Online"),
    Action.MANAGE_MODULES: _l("switching modules on or off"),
    Action.MANAGE_ACCESS: _l("managing who has access"),
    Action.MANAGE_OWNERS: _l("making or unmaking owners"),
    Action.MANAGE_PORTAL_ACCESS: _l("changing the office's access"),
    Action.MANAGE_CLIENTS: _l("adding and creating client accounts"),
    Action.MANAGE_BILLING: _l("changing the billing details"),
    Action.VIEW_AUDIT: _l("reading the audit log"),
}


class PermissionDenied(Exception):
    """The user lacks the capability; answered as a 403 with the action named."""

    def __init__(self, action: Action) -> None:
        super().__init__(action.value)
        self.action = action


def weaker(a: Role, b: Role) -> Role:
    return a if STRENGTH[a] <= STRENGTH[b] else b


def stronger(a: Role | None, b: Role | None) -> Role | None:
    if a is None or b is None:
        return a or b
    return a if STRENGTH[a] >= STRENGTH[b] else b


def allows(role: Role | None, action: Action) -> bool:
    return role is not None and STRENGTH[role] >= STRENGTH[MINIMUM_ROLE[action]]


def roles_allowing(action: Action) -> list[Role]:
    """The roles that may do the action (for SQL filters such as "Sync all")."""
    return [role for role in ROLES if allows(role, action)]


@dataclass(frozen=True)
class Authority:
    """What one user may do in one account."""

    own: Role | None = None  # the user's membership of the account
    delegated: Role | None = None  # through the portal the account is linked to
    portal_id: int | None = None  # that portal
    portal_role: Role | None = None  # the user's role in that portal
    granted: Role | None = None  # the role the client granted that portal

    @property
    def role(self) -> Role | None:
        """The role to show: the stronger of the two."""
        return stronger(self.own, self.delegated)

    def can(self, action: Action) -> bool:
        if allows(self.own, action):
            return True
        return action not in NEVER_DELEGATED and allows(self.delegated, action)

    def ceiling(self, action: Action = Action.MANAGE_ACCESS) -> Role | None:
        """The strongest role among the user's sources that allow the action."""
        sources = [self.own]
        if action not in NEVER_DELEGATED:
            sources.append(self.delegated)
        best = None
        for role in sources:
            if allows(role, action):
                best = stronger(best, role)
        return best


NO_AUTHORITY = Authority()


def authority(user: User | None, account: Account | int) -> Authority:
    """The user's authority in the account: own membership, and delegation through a portal."""
    account_id = account if isinstance(account, int) else account.id
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_AUTHORITY
    own = db.session.scalar(
        select(Membership.role).where(
            Membership.user_id == user.id, Membership.account_id == account_id
        )
    )
    row = db.session.execute(
        select(PortalLink.role, Membership.role, PortalLink.portal_id)
        .join(Membership, Membership.account_id == PortalLink.portal_id)
        .where(
            PortalLink.client_id == account_id,
            PortalLink.status == PortalLinkStatus.ACTIVE,
            Membership.user_id == user.id,
        )
    ).first()
    if row is None:
        return Authority(own=own)
    link_role, portal_role, portal_id = row
    return Authority(
        own=own,
        delegated=weaker(link_role, portal_role),
        portal_id=portal_id,
        portal_role=portal_role,
        granted=link_role,
    )


def can(user: User | None, action: Action, account: Account | int) -> bool:
    return authority(user, account).can(action)


def require(action: Action, account: Account | None = None, user: User | None = None) -> None:
    """Raise ``PermissionDenied`` (a 403) unless the user may do the action in the account.

    Without arguments: the current user in the current account (``g.authority``). An account
    the user cannot even see is a 404, so nothing leaks that it exists.
    """
    from flask import g
    from flask_login import current_user

    if account is None or (account is g.get("account") and user is None):
        found = g.get("authority", NO_AUTHORITY)
    else:
        found = authority(user or current_user, account)
    if not found.can(Action.VIEW):
        abort(404)
    if not found.can(action):
        raise PermissionDenied(action)


# --- who may give whom which role ------------------------------------------------------------


def has_owner(account: Account) -> bool:
    return owner_count(account) > 0


def owner_count(account: Account) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.account_id == account.id, Membership.role == Role.OWNER)
    )


def grantable_roles(found: Authority, account: Account) -> list[Role]:
    """The roles this user may give people in the account, weakest first.

    Nobody grants a role above their own; only owners make owners, except that the first
    owner of an account without one (a client account the office created) may be invited
    by whoever manages its access.
    """
    ceiling = found.ceiling(Action.MANAGE_ACCESS)
    if ceiling is None:
        return []
    roles = [role for role in ROLES if role != Role.OWNER and STRENGTH[role] <= STRENGTH[ceiling]]
    if found.can(Action.MANAGE_OWNERS) or not has_owner(account):
        roles.append(Role.OWNER)
    return roles


def may_manage(found: Authority, current: Role) -> bool:
    """Whether the user may change or remove someone who now has the role ``current``."""
    if current == Role.OWNER:
        return found.can(Action.MANAGE_OWNERS)
    ceiling = found.ceiling(Action.MANAGE_ACCESS)
    return ceiling is not None and STRENGTH[current] <= STRENGTH[ceiling]


def portal_roles(found: Authority) -> list[Role]:
    """The roles this user may give the office portal in a client account."""
    ceiling = found.ceiling(Action.MANAGE_PORTAL_ACCESS)
    if ceiling is None:
        return []
    top = weaker(ceiling, PORTAL_ROLE_CEILING)
    return [role for role in ROLES if STRENGTH[role] <= STRENGTH[top]]


# --- why a button is missing -------------------------------------------------------------------


def why_not(found: Authority, action: Action, account: Account) -> str | None:
    """Why the user may not do the action in the account, and who can change that; None when
    they may. Names the weaker of the two roles when the access comes through the office."""
    if found.can(action):
        return None
    what, needed = ACTION_LABELS[action], ROLE_LABELS[MINIMUM_ROLE[action]]
    if found.own is None and found.delegated is not None:
        if action in NEVER_DELEGATED:
            return _(
                "Only the people of %(account)s can do this (%(what)s); an office never can.",
                account=account.name,
                what=what,
            )
        if not allows(found.granted, action):
            return _(
                "%(account)s gave your office the role %(granted)s; %(what)s needs the role "
                "%(needed)s. The owners and admins of %(account)s can raise it in their access "
                "management.",
                account=account.name,
                granted=ROLE_LABELS[found.granted],
                what=what,
                needed=needed,
            )
        portal = db.session.get(Account, found.portal_id)
        return _(
            "Your role in %(portal)s is %(role)s; %(what)s needs the role %(needed)s. Ask an "
            "owner or admin of %(portal)s.",
            portal=portal.name,
            role=ROLE_LABELS[found.portal_role],
            what=what,
            needed=needed,
        )
    return _(
        "Your role in %(account)s is %(role)s; %(what)s needs the role %(needed)s. Ask an owner "
        "or admin of %(account)s.",
        account=account.name,
        role=ROLE_LABELS[found.own] if found.own else "—",
        what=what,
        needed=needed,
    )


def people_who_may(action: Action, account: Account | int) -> list[User]:
    """The account's own people whose role allows the action (who to tell about it)."""
    account_id = account if isinstance(account, int) else account.id
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.account_id == account_id,
                Membership.role.in_(roles_allowing(action)),
            )
            .order_by(User.id)
        )
    )
