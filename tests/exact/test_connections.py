"""Connecting Exact once and activating/overwriting per client, against the sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from exact_sandbox.testing import DEMO_CLIENT_ID
from sqlalchemy import select

from portal import modules
from portal.crypto import decrypt
from portal.exact import wiring
from portal.models import (
    AuditEvent,
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    LinkStatus,
)
from tests.exact.portal_helpers import connect, control, start_connect
from tests.factories import link_client, make_portal, make_user_with_account

CLIENT_DIVISION = 3001101


@pytest.fixture
def office(exact_app, db, login):
    """A portal (Exact module on) with one client, its owner logged in."""
    owner, _own = make_user_with_account(email="olga@kantoor.example")
    portal = make_portal(owner)
    client_user, client_account = make_user_with_account(email="kees@bakkerij.example")
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    return {"portal": portal, "client": client_account, "owner": owner, "client_user": client_user}


def _connection(db, account) -> ExactConnection:
    db.session.expire_all()
    return db.session.scalar(
        select(ExactConnection).where(ExactConnection.account_id == account.id)
    )


def _actions(db) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_connect_stores_the_exact_user_and_encrypted_tokens(office, client, db, exact_sandbox):
    response = connect(client, exact_sandbox, office["portal"].id)
    assert response.status_code == 302
    connection = _connection(db, office["portal"])
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.exact_user_name == "Anna de Boer"
    assert connection.exact_user_email == "anna@deboer-accountants.example"
    assert len(connection.divisions) == 7
    tokens = json.loads(decrypt(connection.tokens_encrypted))
    assert tokens["access_token"] not in connection.tokens_encrypted
    assert connection.refresh_token_expires_at - connection.connected_at >= timedelta(days=29)
    assert "exact.connected" in _actions(db)
    page = client.get(f"/a/{office['portal'].id}/exact/").get_data(as_text=True)
    assert "Anna de Boer" in page and "connected" in page and "3001101" in page


def test_a_tampered_state_is_refused_and_stores_nothing(office, client, db, exact_sandbox):
    start_connect(client, office["portal"].id)
    response = client.get("/exact/callback", query_string={"code": "x!y", "state": "forged"})
    assert response.status_code == 403
    assert b"does not belong to a connection started here" in response.data
    assert _connection(db, office["portal"]) is None


def test_a_callback_without_starting_is_refused(office, client, db):
    response = client.get("/exact/callback", query_string={"code": "x", "state": "y"})
    assert response.status_code == 403
    assert _connection(db, office["portal"]) is None


def test_denied_consent_changes_nothing(office, client, db, exact_sandbox):
    state = start_connect(client, office["portal"].id)
    response = client.get(
        "/exact/callback",
        query_string={"error": "access_denied", "state": state},
        follow_redirects=True,
    )
    assert b"did not give access (access_denied)" in response.data
    assert _connection(db, office["portal"]) is None


def test_a_reused_code_fails_clearly_and_keeps_the_tokens(office, client, db, exact_sandbox):
    from exact_sandbox.testing import authorize

    from tests.helpers import EXACT_REDIRECT_URI

    state = start_connect(client, office["portal"].id)
    code = authorize(exact_sandbox.url, redirect_uri=EXACT_REDIRECT_URI, state=state)
    client.get("/exact/callback", query_string={"code": code, "state": state})
    before = _connection(db, office["portal"]).tokens_encrypted
    state2 = start_connect(client, office["portal"].id)
    response = client.get(
        "/exact/callback", query_string={"code": code, "state": state2}, follow_redirects=True
    )
    assert b"Connecting failed" in response.data
    after = _connection(db, office["portal"])
    assert after.tokens_encrypted == before and after.status == ConnectionStatus.CONNECTED


def test_an_unreachable_exact_gives_a_clear_message(office, client, db, exact_app):
    exact_app.config["EXACT_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
    state = start_connect(client, office["portal"].id)
    response = client.get(
        "/exact/callback", query_string={"code": "abc", "state": state}, follow_redirects=True
    )
    assert b"could not be reached" in response.data
    assert _connection(db, office["portal"]) is None


def test_activate_a_client_with_identity_and_rights(office, client, db, exact_sandbox):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id)
    page = client.get(f"/a/{portal.id}/exact/clients/{client_account.id}").get_data(as_text=True)
    assert "Pick the client" in page and "Activate" in page and "Security centre" in page
    response = client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate",
        data={"division": CLIENT_DIVISION, "overwrite": "0"},
    )
    assert response.status_code == 302
    link = db.session.scalar(select(ExactDivisionLink))
    assert link.account_id == client_account.id and link.division_code == CLIENT_DIVISION
    division = wiring.division_by_code(_connection(db, portal), CLIENT_DIVISION)
    assert (link.division_name, link.vat_number, link.kvk_number) == (
        division["name"],
        division["vat"],
        division["kvk"],
    )
    assert all(result["ok"] for result in link.rights.values())
    assert "exact.activated" in _actions(db)
    listing = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert f"{CLIENT_DIVISION} {link.division_name}" in listing


def test_a_division_not_in_the_list_explains_what_to_do(office, client, db, exact_sandbox):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id, divisions=[3001000, 3001102])
    response = client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate",
        data={"division": CLIENT_DIVISION},
        follow_redirects=True,
    )
    assert b"not in the connection" in response.data and b"Refresh list" in response.data
    assert db.session.scalar(select(ExactDivisionLink)) is None
    # granting it in Exact's Security centre, then Refresh list, makes it appear
    control(
        exact_sandbox,
        "POST",
        "consents/divisions",
        client_id=DEMO_CLIENT_ID,
        username="accountant",
        divisions=[3001000, 3001102, CLIENT_DIVISION],
    )
    client.post(f"/a/{portal.id}/exact/divisions/refresh")
    assert wiring.division_by_code(_connection(db, portal), CLIENT_DIVISION) is not None


def test_overwrite_replaces_a_clients_own_link_and_keeps_the_link_row(
    office, client, db, exact_sandbox, login
):
    portal, client_account = office["portal"], office["client"]
    # the client connected its own Exact login and linked its administration itself
    client.post("/logout")
    login(office["client_user"])
    modules.set_enabled(client_account, "exact_online", True)
    db.session.commit()
    connect(client, exact_sandbox, client_account.id, username="client")
    client.post(
        f"/a/{client_account.id}/exact/clients/{client_account.id}/activate",
        data={"division": CLIENT_DIVISION},
    )
    own = db.session.scalar(select(ExactDivisionLink))
    own_id, own_connection = own.id, own.connection_id
    client.post("/logout")
    # the office overwrites it with the portal's connection, after confirming
    login(office["owner"])
    connect(client, exact_sandbox, portal.id)
    base = f"/a/{portal.id}/exact/clients/{client_account.id}"
    unconfirmed = client.post(
        f"{base}/activate", data={"division": CLIENT_DIVISION, "overwrite": "1"}
    )
    assert "division=" in unconfirmed.headers["Location"]
    confirm_page = client.get(unconfirmed.headers["Location"]).get_data(as_text=True)
    assert "Overwrite the link?" in confirm_page and "kept" in confirm_page
    db.session.expire_all()
    assert db.session.get(ExactDivisionLink, own_id).connection_id == own_connection
    client.post(
        f"{base}/activate", data={"division": CLIENT_DIVISION, "overwrite": "1", "confirm": "1"}
    )
    db.session.expire_all()
    link = db.session.get(ExactDivisionLink, own_id)
    assert link.connection_id == _connection(db, portal).id != own_connection
    assert "exact.overwritten" in _actions(db)


def test_reconnecting_as_another_user_keeps_links_and_names_unreachable_clients(
    office, client, db, exact_sandbox
):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id)
    client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate", data={"division": 3001102}
    )
    # reconnect as the client's Exact user, who reaches only 3001101
    response = connect(client, exact_sandbox, portal.id, username="client", force_login=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "connected again as Jan Jansen" in page
    assert "cannot reach the administrations of: " + client_account.name in page
    connection = _connection(db, portal)
    assert connection.exact_user_name == "Jan Jansen"
    assert db.session.scalar(select(ExactDivisionLink)).division_code == 3001102
    assert "exact.reconnected" in _actions(db)


def test_identity_guard_blocks_a_changed_division_until_confirmed(
    office, client, db, exact_sandbox
):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id)
    client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate",
        data={"division": CLIENT_DIVISION},
    )
    control(
        exact_sandbox,
        "PATCH",
        f"divisions/{CLIENT_DIVISION}",
        name="Iets Heel Anders BV",
        vat_number="NL111222333B01",
    )
    client.post(f"/a/{portal.id}/exact/divisions/refresh")
    link = db.session.scalar(select(ExactDivisionLink))
    db.session.refresh(link)
    assert link.status == LinkStatus.BLOCKED
    assert "Iets Heel Anders BV" in link.blocked_reason
    page = client.get(f"/a/{portal.id}/exact/clients/{client_account.id}").get_data(as_text=True)
    assert "blocked" in page and "confirm" in page
    client.post(f"/a/{portal.id}/exact/clients/{client_account.id}/confirm")
    db.session.refresh(link)
    assert link.status == LinkStatus.ACTIVE and link.division_name == "Iets Heel Anders BV"


def test_rights_check_names_the_missing_exact_right(office, client, db, exact_sandbox):
    portal, client_account = office["portal"], office["client"]
    control(
        exact_sandbox,
        "POST",
        "users/accountant/rights",
        division=str(CLIENT_DIVISION),
        deny=["view_accounts"],
    )
    connect(client, exact_sandbox, portal.id)
    client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate",
        data={"division": CLIENT_DIVISION},
    )
    rights = db.session.scalar(select(ExactDivisionLink)).rights
    assert rights["suppliers"]["ok"] is False and rights["suppliers"]["right"] == "View accounts"
    assert rights["gl_accounts"]["ok"] is True
    page = client.get(f"/a/{portal.id}/exact/clients/{client_account.id}").get_data(as_text=True)
    assert "missing" in page and "View accounts" in page


def test_a_revoked_consent_marks_the_connection_and_keeps_the_tokens(
    office, client, db, exact_sandbox, portal_clock
):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id)
    tokens_before = _connection(db, portal).tokens_encrypted
    control(
        exact_sandbox, "POST", "consents/revoke", client_id=DEMO_CLIENT_ID, username="accountant"
    )
    # right away the (fresh) access token is refused: that alone says the consent is gone
    response = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    assert b"connect it again" in response.data
    connection = _connection(db, portal)
    assert connection.status == ConnectionStatus.NEEDS_REAUTHORIZATION
    assert connection.tokens_encrypted == tokens_before
    page = client.get(f"/a/{portal.id}/exact/").get_data(as_text=True)
    assert "needs re-authorisation" in page


def test_an_expired_access_token_is_refreshed_once(office, client, db, exact_sandbox, portal_clock):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id)
    control(exact_sandbox, "POST", "counters/reset")
    portal_clock.advance(601)
    control(exact_sandbox, "POST", "clock", advance=601)
    for _ in range(3):
        client.post(f"/a/{portal.id}/exact/divisions/refresh")
    counters = control(exact_sandbox, "GET", "counters")
    assert counters["refreshes_total"] == 1, counters
    assert _connection(db, portal).status == ConnectionStatus.CONNECTED


def test_disconnect_forgets_tokens_and_keeps_links(office, client, db, exact_sandbox):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id)
    client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate",
        data={"division": CLIENT_DIVISION},
    )
    client.post(f"/a/{portal.id}/exact/disconnect")
    connection = _connection(db, portal)
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert connection.tokens_encrypted is None
    assert db.session.scalar(select(ExactDivisionLink)) is not None
    assert "exact.disconnected" in _actions(db)


def test_members_of_the_portal_cannot_connect(office, client, db, login):
    from portal.models import Role
    from tests.factories import add_member, make_user

    member = make_user()
    add_member(office["portal"], member, Role.MEMBER)
    db.session.commit()
    client.post("/logout")
    login(member)
    assert (
        client.post(f"/a/{office['portal'].id}/exact/connect", data={"country": "nl"}).status_code
        == 403
    )


def test_the_pick_list_suggests_the_matching_division_and_never_defaults_to_another(
    office, client, db, exact_sandbox
):
    portal, client_account = office["portal"], office["client"]
    connect(client, exact_sandbox, portal.id)
    url = f"/a/{portal.id}/exact/clients/{client_account.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'option value="" >' not in page and "choose the administration" in page
    assert " selected>" not in page  # nothing matches this client: nothing is preselected
    division = wiring.division_by_code(_connection(db, portal), CLIENT_DIVISION)
    client_account.vat_number = division["vat"].replace("NL", "nl ")
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert f'<option value="{CLIENT_DIVISION}" selected>' in page
    assert "Suggested because" in page
    empty = client.post(f"{url}/activate", data={"division": ""}, follow_redirects=True)
    assert b"Choose an administration." in empty.data
    assert db.session.scalar(select(ExactDivisionLink)) is None


def test_a_passing_5xx_is_retried_and_a_lasting_one_explained(office, client, db, exact_sandbox):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id)
    control(
        exact_sandbox, "POST", "faults", kind="status", status=503, path="system/Divisions", count=1
    )
    once = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    assert b"The list of administrations is up to date." in once.data
    control(
        exact_sandbox,
        "POST",
        "faults",
        kind="status",
        status=503,
        path="system/Divisions",
        count=20,
    )
    lasting = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    assert b"internal error" in lasting.data or b"could not be reached" in lasting.data
    assert _connection(db, portal).status == ConnectionStatus.CONNECTED


def test_a_429_is_explained_and_changes_nothing(office, client, db, exact_sandbox):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id)
    refreshed_at = _connection(db, portal).divisions_refreshed_at
    control(exact_sandbox, "POST", "faults", kind="rate_limit", path="system/Divisions", count=20)
    response = client.post(f"/a/{portal.id}/exact/divisions/refresh", follow_redirects=True)
    assert b"limit" in response.data
    connection = _connection(db, portal)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.divisions_refreshed_at == refreshed_at


@pytest.mark.parametrize(
    "args",
    [
        {"state": "x"},
        {"code": "abc", "state": "forged"},
        {"error": "access_denied", "state": "x"},
        {"code": "abc", "state": "é"},  # not ASCII: compare_digest must not raise
    ],
)
def test_a_foreign_callback_leaves_the_connect_in_progress_alone(
    office, client, db, exact_sandbox, args
):
    """A cross-site ``GET /exact/callback?state=x`` is refused and does not cancel the admin's
    connecting: only the answer with the pending state uses it up."""
    from exact_sandbox.testing import authorize

    from tests.helpers import EXACT_REDIRECT_URI

    state = start_connect(client, office["portal"].id)
    refused = client.get("/exact/callback", query_string=args)
    assert refused.status_code == 403
    code = authorize(exact_sandbox.url, redirect_uri=EXACT_REDIRECT_URI, state=state)
    response = client.get("/exact/callback", query_string={"code": code, "state": state})
    assert response.status_code == 302
    assert _connection(db, office["portal"]).status == ConnectionStatus.CONNECTED
    again = client.get("/exact/callback", query_string={"code": code, "state": state})
    assert again.status_code == 403  # the matching answer used the state up


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\t/evil.example/", "/\r\nX: y"]
)
def test_refresh_list_never_redirects_off_site(office, client, db, exact_sandbox, target):
    portal = office["portal"]
    connect(client, exact_sandbox, portal.id)
    response = client.post(f"/a/{portal.id}/exact/divisions/refresh", data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/a/{portal.id}/exact/"
    back = f"/a/{portal.id}/exact/clients/{office['client'].id}"
    response = client.post(f"/a/{portal.id}/exact/divisions/refresh", data={"next": back})
    assert response.headers["Location"] == back


def test_every_exact_country_is_offered_with_a_label_and_no_other():
    from portal.blueprints.exact.forms import COUNTRY_NAMES
    from portal.exact.client.hosts import HOSTS

    assert set(COUNTRY_NAMES) == set(HOSTS) == set(wiring.COUNTRIES)
