"""Roles never block work silently: a missing button says why and who can change it, and
"Sync all" names the clients it left out (issue: trust, problem 4)."""

from __future__ import annotations

import html
import re

import pytest

from portal import modules
from portal.models import Role
from tests.factories import (
    add_member,
    link_client,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user,
    make_user_with_account,
)


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def office(db):
    """A connected portal with two linked clients: one granted the office admin, one only
    member; the portal's owner."""
    owner, _ = make_user_with_account()
    portal = make_portal(owner, name="Kantoor Noord")
    modules.set_enabled(portal, "exact_online", True)
    connection = make_exact_connection(portal)
    clients = {}
    for name, role, code in (("Bakkerij", Role.ADMIN, 3001101), ("Garage", Role.MEMBER, 3001102)):
        _user, client = make_user_with_account()
        client.name = name
        link_client(portal, client, role=role)
        make_division_link(client, connection, code)
        clients[name] = client
    db.session.commit()
    return {"owner": owner, "portal": portal, "clients": clients}


def test_a_low_grant_says_who_can_raise_it(office, client, login):
    login(office["owner"])
    garage = office["clients"]["Garage"]
    page = _text(client.get(f"/a/{garage.id}/sync/"))
    assert 'data-testid="why-not"' in page
    assert "Garage gave your office the role Member" in page
    assert "needs the role Bookkeeper" in page and "owners and admins of Garage" in page
    link_page = _text(client.get(f"/a/{office['portal'].id}/exact/clients/{garage.id}"))
    assert "needs the role Admin" in link_page and "Garage gave your office" in link_page
    bakery = office["clients"]["Bakkerij"]
    assert 'data-testid="why-not"' not in _text(client.get(f"/a/{bakery.id}/sync/"))


def test_a_low_portal_role_names_the_portal(office, client, login, db):
    reader = make_user()
    add_member(office["portal"], reader, Role.READ_ONLY)
    db.session.commit()
    login(reader)
    bakery = office["clients"]["Bakkerij"]
    page = _text(client.get(f"/a/{bakery.id}/sync/"))
    assert "Your role in Kantoor Noord is Read-only" in page
    assert "Ask an owner or admin of Kantoor Noord" in page


def test_sync_all_names_the_clients_it_left_out(office, client, login):
    login(office["owner"])
    page = _text(client.post(f"/a/{office['portal'].id}/sync/all", follow_redirects=True))
    assert "Sync queued for 1 client." in page
    assert "Not synced: Garage." in page and "gave your office the role Member" in page
    assert "Not synced: Bakkerij" not in page


def test_own_people_hear_their_role_too(office, client, login, db):
    member = make_user()
    bakery = office["clients"]["Bakkerij"]
    add_member(bakery, member, Role.MEMBER)
    db.session.commit()
    login(member)
    page = _text(client.get(f"/a/{bakery.id}/modules/"))
    assert "Your role in Bakkerij is Member" in page and "needs the role Admin" in page
