"""Access management: grant, invitations (accept, register, expired/used/foreign), revoke."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.models import AuditEvent, Invitation, Membership, OutboxMessage, Role, User
from tests.factories import PASSWORD, add_member, make_user, make_user_with_account


def _invite_link(db, email: str) -> str:
    message = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.id.desc())
    )
    return re.search(r"http://portal\.test(/invitations/\S+)", message.body_text).group(1)


def _actions(db, account_id) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.account_id == account_id)
            .order_by(AuditEvent.id)
        )
    )


def test_admin_grants_access_and_existing_user_accepts_after_login(app, login, client, db):
    owner, account = make_user_with_account(email="owner@example.com")
    make_user(email="colleague@example.com")
    db.session.commit()
    login(owner)
    response = client.post(
        f"/a/{account.id}/access/", data={"email": "Colleague@Example.com", "role": "admin"}
    )
    assert response.status_code == 302
    page = client.get(f"/a/{account.id}/access/").get_data(as_text=True)
    assert "colleague@example.com" in page  # pending invitation listed
    link = _invite_link(db, "colleague@example.com")
    client.post("/logout")
    shown = client.get(link).get_data(as_text=True)
    assert "Log in to accept" in shown
    client.post("/login", data={"email": "colleague@example.com", "password": PASSWORD})
    accepted = client.post(link)
    assert accepted.status_code == 302
    membership = db.session.scalar(
        select(Membership).join(User).where(User.email == "colleague@example.com")
    )
    assert membership.account_id == account.id and membership.role == Role.ADMIN
    assert _actions(db, account.id)[-2:] == ["access.invited", "access.accepted"]
    # single use: the same link no longer works
    assert client.get(link).status_code == 410


def test_new_person_registers_from_the_link_with_the_email_fixed(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    client.post(f"/a/{account.id}/access/", data={"email": "new@example.com", "role": "member"})
    link = _invite_link(db, "new@example.com")
    client.post("/logout")
    response = client.post(
        link + "/register",
        data={
            "name": "Nieuw",
            "email": "attacker@example.com",
            "company": "Eigen zaak",
            "password": "long enough pw",
            "confirm": "long enough pw",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.name == "Nieuw"))
    assert user.email == "new@example.com"
    assert db.session.scalar(select(User).where(User.email == "attacker@example.com")) is None
    assert (
        db.session.scalar(
            select(Membership.role).where(
                Membership.user_id == user.id, Membership.account_id == account.id
            )
        )
        == Role.MEMBER
    )


def test_duplicate_grants_are_refused(login, client, db):
    owner, account = make_user_with_account(email="owner@example.com")
    login(owner)
    url = f"/a/{account.id}/access/"
    client.post(url, data={"email": "x@example.com", "role": "member"})
    again = client.post(url, data={"email": "X@example.com", "role": "member"})
    assert b"already been invited" in again.data
    member = client.post(url, data={"email": "owner@example.com", "role": "member"})
    assert b"already has access" in member.data
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1


def test_invalid_email_rerenders_with_a_message(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    response = client.post(f"/a/{account.id}/access/", data={"email": "nope", "role": "member"})
    assert response.status_code == 200 and b"Invalid email address" in response.data
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_expired_invitation_cannot_be_accepted(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    client.post(f"/a/{account.id}/access/", data={"email": "late@example.com", "role": "member"})
    link = _invite_link(db, "late@example.com")
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    client.post("/logout")
    assert client.get(link).status_code == 410
    assert client.get(link + "/register").status_code == 410


def test_foreign_invitation_is_refused(login, client, db):
    owner, account = make_user_with_account()
    other, _ = make_user_with_account(email="other@example.com")
    login(owner)
    client.post(f"/a/{account.id}/access/", data={"email": "meant@example.com", "role": "admin"})
    link = _invite_link(db, "meant@example.com")
    client.post("/logout")
    login(other)
    response = client.post(link, follow_redirects=True)
    assert b"This invitation is for meant@example.com" in response.data
    assert (
        db.session.scalar(
            select(Membership).where(
                Membership.user_id == other.id, Membership.account_id == account.id
            )
        )
        is None
    )


def test_tampered_invitation_link_is_refused(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    client.post(f"/a/{account.id}/access/", data={"email": "t@example.com", "role": "admin"})
    link = _invite_link(db, "t@example.com")
    assert client.get(link[:-4] + "AAAA").status_code == 410


def test_revoked_invitation_stops_working(login, client, db):
    owner, account = make_user_with_account()
    login(owner)
    client.post(f"/a/{account.id}/access/", data={"email": "r@example.com", "role": "admin"})
    link = _invite_link(db, "r@example.com")
    invitation = db.session.scalar(select(Invitation))
    client.post(f"/a/{account.id}/access/invitations/{invitation.id}/revoke")
    assert client.get(link).status_code == 410
    assert "access.invitation_revoked" in _actions(db, account.id)


def test_revoke_member_and_the_last_owner_stays(login, client, db):
    owner, account = make_user_with_account()
    member = make_user()
    membership = add_member(account, member, Role.MEMBER)
    db.session.commit()
    owner_membership = db.session.scalar(select(Membership).where(Membership.user_id == owner.id))
    login(owner)
    client.post(f"/a/{account.id}/access/members/{membership.id}/revoke")
    db.session.expunge_all()
    assert db.session.get(Membership, membership.id) is None
    response = client.post(
        f"/a/{account.id}/access/members/{owner_membership.id}/revoke", follow_redirects=True
    )
    assert b"last owner cannot be removed" in response.data
    db.session.expire_all()
    assert db.session.get(Membership, owner_membership.id) is not None
    demote = client.post(
        f"/a/{account.id}/access/members/{owner_membership.id}/role",
        data={"role": "member"},
        follow_redirects=True,
    )
    assert b"last owner cannot be removed" in demote.data
    assert "access.revoked" in _actions(db, account.id)


def test_members_cannot_grant_or_revoke(login, client, db):
    owner, account = make_user_with_account()
    member = make_user()
    add_member(account, member, Role.MEMBER)
    db.session.commit()
    login(member)
    assert client.get(f"/a/{account.id}/access/").status_code == 200
    response = client.post(
        f"/a/{account.id}/access/", data={"email": "x@example.com", "role": "owner"}
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_another_accounts_membership_is_a_404(login, client, db):
    owner, account = make_user_with_account()
    other_owner, other = make_user_with_account()
    foreign = db.session.scalar(select(Membership).where(Membership.account_id == other.id))
    login(owner)
    response = client.post(f"/a/{account.id}/access/members/{foreign.id}/revoke")
    assert response.status_code == 404
    assert db.session.get(Membership, foreign.id) is not None


def test_an_invited_colleague_joins_without_a_company_or_a_stray_account(login, client, db):
    from portal.models import Account

    owner, account = make_user_with_account()
    login(owner)
    client.post(f"/a/{account.id}/access/", data={"email": "collega@example.com", "role": "admin"})
    link = _invite_link(db, "collega@example.com")
    client.post("/logout")
    page = client.get(link + "/register").get_data(as_text=True)
    assert 'name="company"' not in page
    accounts_before = db.session.scalar(select(func.count()).select_from(Account))
    response = client.post(
        link + "/register",
        data={"name": "Collega", "password": "long enough pw", "confirm": "long enough pw"},
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "collega@example.com"))
    memberships = db.session.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    assert [(m.account_id, m.role) for m in memberships] == [(account.id, Role.ADMIN)]
    assert db.session.scalar(select(func.count()).select_from(Account)) == accounts_before
