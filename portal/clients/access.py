"""Access management (Toegangsbeheer): grant to an e-mail address, accept, revoke.

Granting to a portal's e-mail address links the client account to that portal (pending
until a portal admin adds it); granting to anyone else invites that person.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from portal import audit
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
from portal.models.base import utcnow
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


def grant_access(account: Account, email: str, role: Role, actor: User):
    """Give an e-mail address access to the account; returns the Invitation or PortalLink."""
    email = normalize_email(email)
    portal = portal_with_email(email)
    if portal is not None and account.kind == AccountKind.CLIENT:
        return _grant_to_portal(account, portal, role, actor)
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
        role=Role.ADMIN if role.is_admin else Role.MEMBER,
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
    membership = db.session.scalar(
        select(Membership).where(
            Membership.account_id == invitation.account_id, Membership.user_id == user.id
        )
    )
    if membership is None:
        membership = Membership(account_id=invitation.account_id, user=user, role=invitation.role)
        db.session.add(membership)
    invitation.accepted_at, invitation.accepted_by_id = utcnow(), user.id
    audit.record(
        invitation.account,
        "access.accepted",
        target=user.email,
        actor=user,
        role=membership.role.value,
    )
    return membership


def revoke_invitation(invitation: Invitation) -> None:
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise AccessError(_("This invitation was already used or revoked."))
    invitation.revoked_at = utcnow()
    audit.record(invitation.account, "access.invitation_revoked", target=invitation.email)


def owner_count(account: Account) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.account_id == account.id, Membership.role == Role.OWNER)
    )


def revoke_membership(account: Account, membership: Membership) -> None:
    """Remove someone's access; the last owner cannot be removed."""
    if membership.role == Role.OWNER and owner_count(account) <= 1:
        raise AccessError(_("The last owner cannot be removed. Make someone else owner first."))
    email = membership.user.email
    db.session.delete(membership)
    audit.record(account, "access.revoked", target=email)


def change_role(account: Account, membership: Membership, role: Role) -> None:
    if membership.role == Role.OWNER and role != Role.OWNER and owner_count(account) <= 1:
        raise AccessError(_("The last owner cannot be removed. Make someone else owner first."))
    old, membership.role = membership.role, role
    audit.record(
        account, "access.role_changed", target=membership.user.email, old=old.value, new=role.value
    )


def revoke_portal_access(client: Account) -> None:
    """The client account leaves its portal at once; every portal member loses access."""
    link = portal_link_of(client)
    if link is None:
        raise AccessError(_("No portal has access to this account."))
    portal = link.portal
    db.session.delete(link)
    audit.record(client, "access.portal_revoked", target=portal.name)
    audit.record(portal, "portal.client_left", target=client.name)
    from portal.jobs.sync import cancel_sync

    cancel_sync(client.id)  # a running sync stops at its next check
