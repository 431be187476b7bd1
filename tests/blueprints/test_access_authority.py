"""Authority inside a relationship: nobody grants above their own role, only owners make or
unmake owners, and an office never takes over a client account (issue: authority)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Invitation, Membership, PortalLink, Role
from tests.factories import add_member, link_client, make_portal, make_user, make_user_with_account


@pytest.fixture
def granted(app, db):
    """A client that gave its office portal the role admin, the client's owner, and the
    portal's owner (who reaches the client only through the portal)."""
    office_owner, _ = make_user_with_account(email="olga@kantoor.example")
    portal = make_portal(office_owner)
    client_owner, account = make_user_with_account(email="kees@bakkerij.example")
    link_client(portal, account, role=Role.ADMIN)
    owner_membership = db.session.scalar(
        select(Membership).where(Membership.account_id == account.id)
    )
    return {
        "portal": portal,
        "client": account,
        "office_owner": office_owner,
        "client_owner": client_owner,
        "owner_membership_id": owner_membership.id,
    }


def _role_of(db, membership_id: int) -> Role | None:
    db.session.expire_all()
    membership = db.session.get(Membership, membership_id)
    return membership.role if membership else None


def test_an_office_admin_cannot_invite_an_owner_into_the_client(granted, client, db, login):
    login(granted["office_owner"])
    answer = client.post(
        f"/a/{granted['client'].id}/access/",
        data={"email": "evil@kantoor.example", "role": "owner"},
    )
    assert answer.status_code == 200  # the form again, with the reason
    page = answer.get_data(as_text=True)
    assert 'class="error"' in page and '<option value="owner"' not in page
    assert db.session.scalar(select(Invitation).where(Invitation.role == Role.OWNER)) is None


def test_an_office_admin_cannot_demote_or_remove_the_clients_owner(granted, client, db, login):
    add_member(granted["client"], make_user(), Role.OWNER)  # not the last owner: no excuse
    db.session.commit()
    login(granted["office_owner"])
    base = f"/a/{granted['client'].id}/access/members/{granted['owner_membership_id']}"
    client.post(f"{base}/role", data={"role": "member"})
    assert _role_of(db, granted["owner_membership_id"]) == Role.OWNER
    client.post(f"{base}/revoke")
    assert _role_of(db, granted["owner_membership_id"]) == Role.OWNER


def test_an_office_never_changes_the_clients_access_to_the_portal(granted, client, db, login):
    login(granted["office_owner"])
    base = f"/a/{granted['client'].id}/access/portal"
    assert client.post(f"{base}/role", data={"role": "member"}).status_code == 403
    assert client.post(f"{base}/revoke").status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(PortalLink.role)) == Role.ADMIN


def test_the_takeover_path_of_the_attack_walk_is_closed(granted, client, db, login):
    """The walk's steps in order: invite an owner, accept, demote the real owner. Every step
    is refused, and the client's owner can still revoke the portal afterwards."""
    from portal.clients.access import grant_access
    from portal.clients.errors import AccessError

    with pytest.raises(AccessError):
        grant_access(granted["client"], "evil@kantoor.example", Role.OWNER, granted["office_owner"])
    db.session.rollback()
    login(granted["client_owner"])
    assert client.post(f"/a/{granted['client'].id}/access/portal/revoke").status_code == 302
    assert db.session.scalar(select(PortalLink)) is None


def test_an_admin_cannot_promote_themself_or_touch_owners(app, client, db, login):
    owner, account = make_user_with_account()
    admin = make_user()
    admin_membership = add_member(account, admin, Role.ADMIN)
    owner_membership = db.session.scalar(
        select(Membership).where(Membership.account_id == account.id, Membership.user == owner)
    )
    db.session.commit()
    login(admin)
    base = f"/a/{account.id}/access/members"
    client.post(f"{base}/{admin_membership.id}/role", data={"role": "owner"})
    assert _role_of(db, admin_membership.id) == Role.ADMIN
    client.post(f"{base}/{owner_membership.id}/role", data={"role": "admin"})
    assert _role_of(db, owner_membership.id) == Role.OWNER
    client.post(f"{base}/{owner_membership.id}/revoke")
    assert _role_of(db, owner_membership.id) == Role.OWNER
    answer = client.post(
        f"/a/{account.id}/access/", data={"email": "x@example.com", "role": "owner"}
    )
    assert answer.status_code == 200
    assert db.session.scalar(select(Invitation)) is None


def test_a_bookkeeper_grants_nothing_and_an_admin_grants_up_to_admin(app, client, db, login):
    owner, account = make_user_with_account()
    bookkeeper, admin = make_user(), make_user()
    add_member(account, bookkeeper, Role.BOOKKEEPER)
    add_member(account, admin, Role.ADMIN)
    db.session.commit()
    login(bookkeeper)
    grant = {"email": "new@example.com", "role": "read_only"}
    assert client.post(f"/a/{account.id}/access/", data=grant).status_code == 403
    client.post("/logout")
    login(admin)
    assert (
        client.post(f"/a/{account.id}/access/", data={**grant, "role": "admin"}).status_code == 302
    )
    assert db.session.scalar(select(Invitation.role)) == Role.ADMIN


def test_owners_make_owners_and_the_last_owner_stays(app, client, db, login):
    owner, account = make_user_with_account()
    admin = make_user()
    admin_membership = add_member(account, admin, Role.ADMIN)
    db.session.commit()
    login(owner)
    base = f"/a/{account.id}/access/members"
    client.post(f"{base}/{admin_membership.id}/role", data={"role": "owner"})
    assert _role_of(db, admin_membership.id) == Role.OWNER
    client.post(f"{base}/{admin_membership.id}/role", data={"role": "bookkeeper"})
    assert _role_of(db, admin_membership.id) == Role.BOOKKEEPER
    own = db.session.scalar(
        select(Membership).where(Membership.account_id == account.id, Membership.user == owner)
    )
    page = client.post(f"{base}/{own.id}/revoke", follow_redirects=True).get_data(as_text=True)
    assert "last owner" in page
    assert _role_of(db, own.id) == Role.OWNER


def test_the_client_changes_the_portals_role_without_revoking(granted, client, db, login):
    login(granted["client_owner"])
    page = client.get(f"/a/{granted['client'].id}/access/").get_data(as_text=True)
    assert 'data-testid="portal-role-form"' in page
    answer = client.post(
        f"/a/{granted['client'].id}/access/portal/role", data={"role": "read_only"}
    )
    assert answer.status_code == 302
    link = db.session.scalar(select(PortalLink))
    assert link.role == Role.READ_ONLY and link.status.value == "active"
    # the client cannot make its office an owner
    client.post(f"/a/{granted['client'].id}/access/portal/role", data={"role": "owner"})
    db.session.expire_all()
    assert db.session.scalar(select(PortalLink.role)) == Role.READ_ONLY


def test_a_delegated_read_only_role_limits_even_the_portals_owner(granted, client, db, login):
    from portal import modules

    modules.set_enabled(granted["client"], "exact_online", False)
    db.session.commit()
    login(granted["client_owner"])
    client.post(f"/a/{granted['client'].id}/access/portal/role", data={"role": "read_only"})
    client.post("/logout")
    login(granted["office_owner"])
    account_id = granted["client"].id
    assert client.get(f"/a/{account_id}/").status_code == 200  # may look
    assert (
        client.post(f"/a/{account_id}/modules/exact_online", data={"enabled": "1"}).status_code
        == 403
    )
    assert client.get(f"/a/{account_id}/audit/").status_code == 403
    answer = client.post(
        f"/a/{account_id}/access/", data={"email": "a@b.example", "role": "member"}
    )
    assert answer.status_code == 403
    assert "weaker of your role in the office" in answer.get_data(as_text=True)


def test_the_office_invites_the_first_owner_of_a_client_it_created(app, client, db, login):
    """A client account in eigen beheer has no owner: the office may invite its first one,
    and that invitation stops working once the account has an owner by another way."""
    from portal.clients.access import accept_invitation, grant_access
    from portal.clients.errors import AccessError
    from portal.clients.portals import create_managed_client

    office_owner, _ = make_user_with_account()
    portal = make_portal(office_owner)
    account = create_managed_client(portal, "Garage", "", "", False, office_owner)
    db.session.commit()
    first = grant_access(account, "eigenaar@garage.example", Role.OWNER, office_owner)
    second = grant_access(account, "ander@garage.example", Role.OWNER, office_owner)
    db.session.commit()
    accept_invitation(first, make_user(email="eigenaar@garage.example"))
    db.session.commit()
    with pytest.raises(AccessError):
        accept_invitation(second, make_user(email="ander@garage.example"))
