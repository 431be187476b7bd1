"""Refresh list: says which administrations appeared and vanished, and returns to the page it
was pressed on (the client's page, the Exact page)."""

from __future__ import annotations

import pytest
from exact_sandbox.testing import DEMO_CLIENT_ID

from portal import modules
from portal.exact import wiring
from portal.models import ExactConnection
from tests.exact.portal_helpers import connect, control
from tests.factories import link_client, make_portal, make_user_with_account


@pytest.fixture
def office(exact_app, db, login):
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    _client_user, client_account = make_user_with_account()
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    return {"portal": portal, "client": client_account, "owner": owner}


def _grant(sandbox, divisions):
    control(
        sandbox,
        "POST",
        "consents/divisions",
        client_id=DEMO_CLIENT_ID,
        username="accountant",
        divisions=divisions,
    )


def _name(db, portal, code):
    connection = db.session.query(ExactConnection).filter_by(account_id=portal.id).one()
    return wiring.division_by_code(connection, code)["name"]


def test_refresh_list_names_new_and_vanished_administrations(office, client, db, exact_sandbox):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id, divisions=[3001000, 3001102])
    vanishing = _name(db, portal, 3001102)
    _grant(exact_sandbox, [3001000, 3001101])
    page = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert f"New administration: 3001101 {_name(db, portal, 3001101)}." in text
    assert f"No longer reachable: 3001102 {vanishing}." in text
    assert "Nothing changed" not in text

    again = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "Nothing changed" in text
    assert "New administration" not in text and "No longer reachable" not in text


def test_refresh_list_on_a_clients_page_returns_there(office, client, db, exact_sandbox):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id)
    page_url = f"/a/{portal.id}/exact/clients/{client_account.id}"
    page = client.get(page_url).get_data(as_text=True)
    assert f'name="next" value="{page_url}"' in page
    response = client.post(f"/a/{portal.id}/exact/divisions/refresh", data={"next": page_url})
    assert response.status_code == 302 and response.headers["Location"] == page_url


def test_refresh_list_speaks_dutch(office, client, db, exact_sandbox):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id, divisions=[3001000])
    _grant(exact_sandbox, [3001000, 3001101])
    office["owner"].language = "nl"
    db.session.commit()
    page = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    assert "Nieuwe administratie: 3001101" in page.get_data(as_text=True)
