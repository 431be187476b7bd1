"""Access management (Toegangsbeheer): grant to an e-mail address, accept, revoke.

Granting to a portal's e-mail address links the client account to that portal (pending
until a portal admin adds it); granting to anyone else invites that person.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from portal import audit, clock
from portal.clients.errors import AccessError
from portal.extensions import db
from portal.mail import send_mail
from portal.models import (
    Account,
    AccountKind,
    Invitation,
    Membership,
    PortalLink,
    PortalLinkOrigin,
    PortalLinkStatus,
    Role,
    User,
    normalize_email,
)
from portal.models.access import INVITATION_LIFETIME
from portal.permissions import (
    ROLE_LABELS,
    Action,
    Authority,
    PermissionDenied,
    authority,
    grantable_roles,
    has_owner,
    may_manage,
    owner_count,
    portal_roles,
)
from portal.urls import external_url

INVITATION_SALT = "invitation"


def portal_with_email(email: str) -> Account | None:
    return db.session.scalar(
        select(Account).where(
            Account.kind == AccountKind.PORTAL, Account.portal_email == normalize_email(email)
        )
    )


def portal_link_of(client: Account) -> PortalLink | None:
    return db.session.scalar(select(PortalLink).where(PortalLink.client_id == client.id))


def _refuse_role(role: Role, allowed: list[Role]) -> None:
    if role not in allowed:
        raise AccessError(
            _l(
                "You cannot give the role %(role)s here: nobody grants a role above their own, "
                "and only owners make owners.",
                role=ROLE_LABELS[role],
            )
        )


def grant_access(account: Account, email: str, role: Role, actor: User):
    """Give an e-mail address access to the account; returns the Invitation or PortalLink.

    The actor may grant roles up to their own (``permissions.grantable_roles``); granting to
    an office portal's address takes the account's own owners or admins.
    """
    email = normalize_email(email)
    found = authority(actor, account)
    portal = portal_with_email(email)
    if portal is not None and account.kind == AccountKind.CLIENT:
        if not found.can(Action.MANAGE_PORTAL_ACCESS):
            raise PermissionDenied(Action.MANAGE_PORTAL_ACCESS)
        _refuse_role(role, portal_roles(found))
        return _grant_to_portal(account, portal, role, actor)
    if not found.can(Action.MANAGE_ACCESS):
        raise PermissionDenied(Action.MANAGE_ACCESS)
    _refuse_role(role, grantable_roles(found, account))
    _refuse_duplicate_grant(account, email)
    invitation = Invitation(account_id=account.id, email=email, role=role, invited_by_id=actor.id)
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(invitation, actor)
    audit.record(account, "access.invited", target=email, role=role.value)
    return invitation


def _refuse_duplicate_grant(account: Account, email: str) -> None:
    member = db.session.scalar(
        select(Membership)
        .join(User)
        .where(Membership.account_id == account.id, User.email == email)
    )
    if member is not None:
        raise AccessError(_l("%(email)s already has access to this account.", email=email))
    for invitation in open_invitations(account):
        if invitation.email == email:
            raise AccessError(_l("%(email)s has already been invited.", email=email))


def _grant_to_portal(client: Account, portal: Account, role: Role, actor: User) -> PortalLink:
    link = portal_link_of(client)
    if link is not None and link.portal_id == portal.id:
        raise AccessError(_l("The portal %(name)s already has access.", name=portal.name))
    if link is not None:
        raise AccessError(
            _l(
                "This account is already linked to the portal %(name)s. Revoke that access first.",
                name=link.portal.name,
            )
        )
    link = PortalLink(
        portal_id=portal.id,
        client_id=client.id,
        status=PortalLinkStatus.PENDING,
        origin=PortalLinkOrigin.GRANTED,
        role=role,
    )
    db.session.add(link)
    audit.record(client, "access.portal_granted", target=portal.name, role=link.role.value)
    audit.record(portal, "portal.client_granted_access", target=client.name)
    send_mail(
        portal.portal_email,
        _l("%(client)s gave your portal access", client=client.name),
        "portal_access_granted",
        client=client,
        portal=portal,
        actor=actor,
        link=external_url("portal.clients", account_id=portal.id),
    )
    return link


def open_invitations(account: Account) -> list[Invitation]:
    rows = db.session.scalars(
        select(Invitation)
        .where(
            Invitation.account_id == account.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .order_by(Invitation.created_at)
    )
    return [i for i in rows if not i.is_expired]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def invitation_token(invitation: Invitation) -> str:
    return _serializer().dumps({"id": invitation.id, "nonce": invitation.nonce})


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation the signed link names; None when tampered with or too old."""
    try:
        data = _serializer().loads(token, max_age=int(INVITATION_LIFETIME.total_seconds()))
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    invitation = db.session.get(Invitation, data.get("id"))
    if invitation is None or invitation.nonce != data.get("nonce"):
        return None
    return invitation


def _send_invitation(invitation: Invitation, actor: User) -> None:
    link = external_url("invitations.show", token=invitation_token(invitation))
    send_mail(
        invitation.email,
        _l("%(name)s invites you to %(account)s", name=actor.name, account=invitation.account.name),
        "invitation",
        invitation=invitation,
        actor=actor,
        link=link,
    )


def accept_invitation(invitation: Invitation, user: User) -> Membership:
    """The invited person becomes a member; the invitation is used up."""
    if not invitation.is_open:
        raise AccessError(_("This invitation has expired, was revoked or was already used."))
    if normalize_email(user.email) != invitation.email:
        raise AccessError(
            _(
                "This invitation is for %(email)s. Log in with that address to accept it.",
                email=invitation.email,
            )
        )
    if invitation.role == Role.OWNER and not _owner_invitation_stands(invitation):
        raise AccessError(
            _(
                "This invitation to become an owner is no longer valid: the account has owners "
                "now. Ask one of them to invite you again."
            )
        )
    membership = db.session.scalar(
        select(Membership).where(
            Membership.account_id == invitation.account_id, Membership.user_id == user.id
        )
    )
    if membership is None:
        membership = Membership(account_id=invitation.account_id, user=user, role=invitation.role)
        db.session.add(membership)
    invitation.accepted_at, invitation.accepted_by_id = clock.now(), user.id
    audit.record(
        invitation.account,
        "access.accepted",
        target=user.email,
        actor=user,
        role=membership.role.value,
    )
    return membership


def _owner_invitation_stands(invitation: Invitation) -> bool:
    """An owner invitation works while the account has no owner (its first owner, invited by
    the office that created it), or while the person who sent it is still an owner of it."""
    if not has_owner(invitation.account):
        return True
    inviter_role = db.session.scalar(
        select(Membership.role).where(
            Membership.account_id == invitation.account_id,
            Membership.user_id == invitation.invited_by_id,
        )
    )
    return inviter_role == Role.OWNER


def _refuse_unmanageable(account: Account, role: Role, actor: User) -> Authority:
    found = authority(actor, account)
    if not found.can(Action.MANAGE_ACCESS):
        raise PermissionDenied(Action.MANAGE_ACCESS)
    if not may_manage(found, role):
        raise AccessError(
            _l(
                "You cannot change people with the role %(role)s: only owners change owners, "
                "and nobody changes someone above their own role.",
                role=ROLE_LABELS[role],
            )
        )
    return found


def revoke_invitation(invitation: Invitation, actor: User) -> None:
    _refuse_unmanageable(invitation.account, invitation.role, actor)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise AccessError(_("This invitation was already used or revoked."))
    invitation.revoked_at = clock.now()
    audit.record(invitation.account, "access.invitation_revoked", target=invitation.email)


def revoke_membership(account: Account, membership: Membership, actor: User) -> None:
    """Remove someone's access; the last owner cannot be removed."""
    _refuse_unmanageable(account, membership.role, actor)
    if membership.role == Role.OWNER and owner_count(account) <= 1:
        raise AccessError(_("The last owner cannot be removed. Make someone else owner first."))
    email = membership.user.email
    db.session.delete(membership)
    audit.record(account, "access.revoked", target=email)


def change_role(account: Account, membership: Membership, role: Role, actor: User) -> None:
    """Give someone another role: only roles up to the actor's own, owners only by owners."""
    found = _refuse_unmanageable(account, membership.role, actor)
    _refuse_role(role, grantable_roles(found, account))
    if membership.role == Role.OWNER and role != Role.OWNER and owner_count(account) <= 1:
        raise AccessError(_("The last owner cannot be removed. Make someone else owner first."))
    old, membership.role = membership.role, role
    audit.record(
        account, "access.role_changed", target=membership.user.email, old=old.value, new=role.value
    )


def _require_portal_access_right(client: Account, actor: User) -> Authority:
    found = authority(actor, client)
    if not found.can(Action.MANAGE_PORTAL_ACCESS):
        raise PermissionDenied(Action.MANAGE_PORTAL_ACCESS)
    return found


def change_portal_role(client: Account, role: Role, actor: User) -> PortalLink:
    """The client changes the role it granted its portal, without revoking the access."""
    found = _require_portal_access_right(client, actor)
    link = portal_link_of(client)
    if link is None:
        raise AccessError(_("No portal has access to this account."))
    _refuse_role(role, portal_roles(found))
    old, link.role = link.role, role
    if old != role:
        audit.record(
            client,
            "access.portal_role_changed",
            target=link.portal.name,
            old=old.value,
            new=role.value,
        )
        audit.record(
            link.portal,
            "portal.client_role_changed",
            target=client.name,
            old=old.value,
            new=role.value,
        )
    return link


def revoke_portal_access(client: Account, actor: User) -> None:
    """The client account leaves its portal at once; every portal member loses access."""
    _require_portal_access_right(client, actor)
    link = portal_link_of(client)
    if link is None:
        raise AccessError(_("No portal has access to this account."))
    portal = link.portal
    db.session.delete(link)
    audit.record(client, "access.portal_revoked", target=portal.name)
    audit.record(portal, "portal.client_left", target=client.name)
    send_mail(
        portal.portal_email,
        _l("%(client)s revoked your portal's access", client=client.name),
        "portal_access_revoked",
        client=client,
        portal=portal,
        actor=actor,
    )
    from portal.exact.scheduling import cancel_sync

    cancel_sync(client.id)  # a running sync stops at its next check
