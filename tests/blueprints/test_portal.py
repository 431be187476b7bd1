"""Portals: create, clients granting access (pending -> added), eigen beheer, revocation, list."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import Account, AuditEvent, Invitation, PortalLink, PortalLinkStatus, Role
from tests.factories import (
    BILLING,
    add_member,
    link_client,
    make_account,
    make_portal,
    make_user,
    make_user_with_account,
)
from tests.helpers import sql_statements

PORTAL_FORM = {"name": "Kantoor Jansen", "portal_email": "portaal@jansen.example", **BILLING}


def test_create_portal(login, client, db):
    user, _own = make_user_with_account()
    login(user)
    response = client.post("/portals/new", data=PORTAL_FORM)
    assert response.status_code == 302
    portal = db.session.scalar(select(Account).where(Account.kind == "portal"))
    assert portal.portal_email == "portaal@jansen.example"
    assert portal.billing_vat_number == "NL123456782B01" and portal.has_complete_billing
    assert f"/a/{portal.id}/portal/clients" in response.headers["Location"]
    # the creator is the owner and the portal is in the switcher
    html = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert "Kantoor Jansen" in html and "portaal@jansen.example" in html


def test_portal_with_invalid_vat_or_taken_email_is_refused(login, client, db):
    user, _own = make_user_with_account()
    make_portal(make_user(), email="taken@kantoor.example")
    login(user)
    bad_vat = client.post("/portals/new", data={**PORTAL_FORM, "billing_vat_number": "NL123"})
    assert b"not a valid VAT number for the Netherlands" in bad_vat.data
    unknown = client.post("/portals/new", data={**PORTAL_FORM, "billing_vat_number": "IT123"})
    assert b"Start the VAT number with its country code: NL, BE, DE, FR, ES, GB" in unknown.data
    taken = client.post(
        "/portals/new", data={**PORTAL_FORM, "portal_email": "TAKEN@kantoor.example"}
    )
    assert b"Another portal already uses this e-mail address" in taken.data
    assert (
        db.session.scalar(select(func.count()).select_from(Account).where(Account.kind == "portal"))
        == 1
    )


def test_seed_002_flow_client_grants_portal_email_then_office_adds_it(app, login, client, db):
    office_user, _ = make_user_with_account(email="olga@kantoor.example")
    staff = make_user(email="staff@kantoor.example")
    portal = make_portal(office_user, email="portaal@kantoor.example")
    add_member(portal, staff, Role.MEMBER)
    client_user, client_account = make_user_with_account(email="kees@bakkerij.example")
    db.session.commit()

    login(client_user)
    granted = client.post(
        f"/a/{client_account.id}/access/",
        data={"email": "Portaal@Kantoor.example", "role": "admin"},
        follow_redirects=True,
    )
    assert b"now has access" in granted.data
    link = db.session.scalar(select(PortalLink))
    assert link.status == PortalLinkStatus.PENDING and link.portal_id == portal.id
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
    client.post("/logout")

    # pending: listed for the office, but nobody from the office can enter the client yet
    login(staff)
    assert client.get(f"/a/{client_account.id}/").status_code == 404
    client.post("/logout")
    login(office_user)
    page = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert "Waiting to be added" in page and client_account.name in page
    assert client.post(f"/a/{portal.id}/portal/clients/{link.id}/add").status_code == 302
    client.post("/logout")

    # every portal member now enters the client account, from the portal
    login(staff)
    entered = client.get(f"/a/{client_account.id}/").get_data(as_text=True)
    assert client_account.name in entered and "← " + portal.name in entered
    switcher = client.get(f"/a/{portal.id}/").get_data(as_text=True)
    assert f'href="/a/{client_account.id}/"' in switcher
    # ...and nothing was copied into memberships
    assert client_account.id not in {m.account_id for m in staff.memberships}


def test_client_revoking_access_removes_it_from_the_portal_at_once(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    client_user, client_account = make_user_with_account()
    link_client(portal, client_account)
    login(office_user)
    assert client.get(f"/a/{client_account.id}/").status_code == 200
    client.post("/logout")
    login(client_user)
    client.post(f"/a/{client_account.id}/access/portal/revoke")
    client.post("/logout")
    login(office_user)
    assert client.get(f"/a/{client_account.id}/").status_code == 404
    assert db.session.scalar(select(PortalLink)) is None
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"access.portal_revoked", "portal.client_left"} <= actions


def test_adding_a_client_that_revoked_in_between_gives_a_message(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    _client_user, client_account = make_user_with_account()
    link = link_client(portal, client_account, status="pending")
    link_id = link.id
    db.session.delete(link)
    db.session.commit()
    login(office_user)
    response = client.post(f"/a/{portal.id}/portal/clients/{link_id}/add", follow_redirects=True)
    assert b"revoked the access in the meantime" in response.data
    assert db.session.scalar(select(PortalLink)) is None


def test_portal_members_cannot_change_the_clients_access_unless_made_admin(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    _client_user, client_account = make_user_with_account()
    link = link_client(portal, client_account, role=Role.MEMBER)
    login(office_user)
    url = f"/a/{client_account.id}/access/"
    assert client.get(url).status_code == 200
    assert client.post(url, data={"email": "x@example.com", "role": "admin"}).status_code == 403
    link.role = Role.ADMIN
    db.session.commit()
    assert client.post(url, data={"email": "x@example.com", "role": "admin"}).status_code == 302


def test_client_users_never_see_the_portal_or_other_clients(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    client_user, client_account = make_user_with_account()
    _other_user, other_client = make_user_with_account()
    link_client(portal, client_account)
    link_client(portal, other_client)
    login(client_user)
    assert client.get(f"/a/{portal.id}/").status_code == 404
    assert client.get(f"/a/{portal.id}/portal/clients").status_code == 404
    assert client.get(f"/a/{other_client.id}/").status_code == 404
    html = client.get(f"/a/{client_account.id}/").get_data(as_text=True)
    assert portal.name not in html.split("<main>")[0]  # not in the switcher


def test_portal_pages_of_a_client_account_are_404(login, client, db):
    user, account = make_user_with_account()
    login(user)
    assert client.get(f"/a/{account.id}/portal/clients").status_code == 404


def test_create_client_in_eigen_beheer_billed_to_portal_with_owner_invitation(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    login(office_user)
    response = client.post(
        f"/a/{portal.id}/portal/clients/new",
        data={
            "name": "Garage Peeters",
            "vat_number": "BE 0403.170.701",
            "contact_email": "an@peeters.example",
            "invite_owner": "y",
        },
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Account).where(Account.name == "Garage Peeters"))
    assert created.billed_to_id == portal.id and created.vat_number == "BE0403170701"
    link = db.session.scalar(select(PortalLink).where(PortalLink.client_id == created.id))
    assert link.status == PortalLinkStatus.ACTIVE and link.origin.value == "created"
    invitation = db.session.scalar(select(Invitation))
    assert invitation.email == "an@peeters.example" and invitation.role == Role.OWNER
    listing = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert "Garage Peeters" in listing


def test_eigen_beheer_needs_complete_billing_and_valid_vat(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user, billing=False)
    login(office_user)
    url = f"/a/{portal.id}/portal/clients/new"
    response = client.post(url, data={"name": "X", "vat_number": ""}, follow_redirects=True)
    assert b"Complete the portal" in response.data
    bad = client.post(url, data={"name": "X", "vat_number": "BE0123456748"})
    assert b"The check digits of this VAT number do not match" in bad.data
    short = client.post(url, data={"name": "X", "vat_number": "BE 0123.456"})
    assert b"This is not a valid VAT number for Belgium." in short.data
    assert (
        db.session.scalar(select(func.count()).select_from(Account).where(Account.name == "X")) == 0
    )


def test_vat_numbers_of_every_country_offered_are_accepted_and_stored_compact(login, client, db):
    from portal.blueprints.portal.forms import COUNTRY_NAMES
    from portal.vat import COUNTRIES

    assert set(COUNTRY_NAMES) == set(COUNTRIES)  # every refusal can name its country
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    login(office_user)
    typed = {"Duits": "de 136 695 976", "Brits": "GB 980 7806 84", "Spaans": "es b-58378431"}
    for name, vat in typed.items():
        response = client.post(
            f"/a/{portal.id}/portal/clients/new", data={"name": name, "vat_number": vat}
        )
        assert response.status_code == 302, name
    stored = db.session.execute(
        select(Account.name, Account.vat_number).where(Account.name.in_(typed))
    ).all()
    assert dict(stored) == {"Duits": "DE136695976", "Brits": "GB980780684", "Spaans": "ESB58378431"}


def test_members_of_the_portal_cannot_create_clients(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    member = make_user()
    add_member(portal, member, Role.MEMBER)
    db.session.commit()
    login(member)
    assert client.post(f"/a/{portal.id}/portal/clients/new", data={"name": "X"}).status_code == 403


def _main(response) -> str:
    """The page's main content, without the navigation's account switcher."""
    return response.get_data(as_text=True).split("<main>", 1)[1]


def test_client_list_search_and_paging(login, client, db):
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    for i in range(60):
        link_client(portal, make_account(name=f"Klant {i:03d}"))
    link_client(portal, make_account(name="Bakkerij Zoet"))
    login(office_user)
    page1 = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert "61 clients" in page1 and "Page 1 of 2" in page1
    page2 = _main(client.get(f"/a/{portal.id}/portal/clients?page=2"))
    assert "Klant 059" in page2 and "Klant 000" not in page2
    found = _main(client.get(f"/a/{portal.id}/portal/clients?q=zoet"))
    assert "Bakkerij Zoet" in found and "Klant 001" not in found
    assert "1 client" in found
    beyond = _main(client.get(f"/a/{portal.id}/portal/clients?page=9"))  # the last page
    assert "Page 2 of 2" in beyond and "Klant 059" in beyond and "Klant 000" not in beyond
    searched = _main(client.get(f"/a/{portal.id}/portal/clients?q=klant"))
    assert "60 clients" in searched and "Page 1 of 2" in searched
    assert "page=2" in searched and "q=klant" in searched  # the next page keeps the search


def test_client_list_query_count_does_not_grow_with_clients(app, login, client, db):
    """2,000 clients: the page costs the same few queries as 5 clients."""
    office_user, _ = make_user_with_account()
    portal = make_portal(office_user)
    login(office_user)

    def queries_for_list() -> int:
        with sql_statements(_db.engine) as statements:
            assert client.get(f"/a/{portal.id}/portal/clients").status_code == 200
        return len(statements)

    for i in range(5):
        link_client(portal, make_account(name=f"Klant {i}"))
    small = queries_for_list()
    _bulk_clients(db, portal, 2000)
    large = queries_for_list()
    print(f"client list queries: 5 clients={small}, 2005 clients={large}")
    assert large == small
    assert large <= 15


def _bulk_clients(db, portal, n: int) -> None:
    from portal import clock
    from portal.models import AccountKind, PortalLinkOrigin

    accounts = [Account(kind=AccountKind.CLIENT, name=f"Bulk {i:04d}") for i in range(n)]
    db.session.add_all(accounts)
    db.session.flush()
    db.session.add_all(
        [
            PortalLink(
                portal_id=portal.id,
                client_id=a.id,
                status=PortalLinkStatus.ACTIVE,
                origin=PortalLinkOrigin.GRANTED,
                role=Role.ADMIN,
                activated_at=clock.now(),
            )
            for a in accounts
        ]
    )
    db.session.commit()
