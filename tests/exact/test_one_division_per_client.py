"""One Exact administration is linked to one client of a portal at a time (issue 11, problem 1):
refused in the service and in the database, the pick list names the client that has it, moving
it is a confirmed step, clients are matched to divisions by VAT number (one by one and in bulk),
and duplicate client accounts are flagged."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import modules
from portal.exact import links
from portal.exact.wiring import ConnectError
from portal.models import AuditEvent, ExactConnection, ExactDivisionLink, Role
from portal.queue import get_queue
from tests.exact.portal_helpers import connect
from tests.factories import (
    link_client,
    make_account,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user,
    make_user_with_account,
)

DIVISION = 3001101  # Bakkerij Jansen B.V. in the sandbox
DIVISION_VAT = "NL001234560B01"
OTHER = 3001102  # Fietsenmaker Pietersen
OTHER_VAT = "NL002345675B01"

DIVISIONS = [
    {"code": code, "name": name, "customer": "", "vat": vat, "kvk": "", "country": "NL"}
    for code, name, vat in (
        (DIVISION, "Bakkerij Jansen B.V.", DIVISION_VAT),
        (OTHER, "Fietsenmaker Pietersen", OTHER_VAT),
    )
]


def _client(db, portal, name: str, vat: str | None = None):
    account = make_account(name=name)
    account.vat_number = vat
    db.session.commit()
    link_client(portal, account)
    return account


@pytest.fixture
def office(app, db, login):
    """A portal (Exact module on, a connection row, no Exact calls) with two clients;
    "Bakkerij De Klant" has 3001101. The portal's owner is logged in."""
    owner = make_user(email="olga@kantoor.example")
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    connection = make_exact_connection(portal, divisions=DIVISIONS)
    bakkerij = _client(db, portal, "Bakkerij De Klant")
    cafe = _client(db, portal, "Café De Hoek")
    make_division_link(bakkerij, connection, DIVISION, division_name="Bakkerij Jansen B.V.")
    db.session.commit()
    login(owner)
    return {
        "portal": portal,
        "owner": owner,
        "connection": connection,
        "bakkerij": bakkerij,
        "cafe": cafe,
    }


def _link(db, account) -> ExactDivisionLink | None:
    db.session.expire_all()
    return db.session.scalar(
        select(ExactDivisionLink).where(ExactDivisionLink.account_id == account.id)
    )


def _audit(db, account) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.account_id == account.id)
            .order_by(AuditEvent.id)
        )
    )


# --- the service and the database -----------------------------------------------------------


def test_a_second_activation_of_a_division_is_refused_naming_the_client(office, db):
    with pytest.raises(ConnectError) as refused:
        links.activate(office["cafe"], office["connection"], DIVISION, office["owner"])
    assert "already linked to Bakkerij De Klant" in refused.value.message
    db.session.rollback()
    assert _link(db, office["cafe"]) is None
    assert _link(db, office["bakkerij"]).division_code == DIVISION


def test_the_database_refuses_a_second_link_to_the_same_division(office, db):
    with pytest.raises(IntegrityError):
        make_division_link(office["cafe"], office["connection"], DIVISION)
    db.session.rollback()
    # another connection (a client's own) may link the same division
    own = make_exact_connection(office["cafe"], divisions=DIVISIONS)
    make_division_link(office["cafe"], own, DIVISION)
    db.session.commit()


def test_a_move_in_one_transaction_removes_the_old_link_first(office, db):
    links.activate(office["cafe"], office["connection"], DIVISION, office["owner"], move=True)
    db.session.commit()
    assert _link(db, office["bakkerij"]) is None
    assert _link(db, office["cafe"]).division_code == DIVISION
    assert "exact.moved_away" in _audit(db, office["bakkerij"])
    assert "exact.activated" in _audit(db, office["cafe"])


def test_a_move_needs_the_right_to_link_in_the_client_losing_the_division(office, db):
    from portal.models import PortalLink

    db.session.scalar(
        select(PortalLink).where(PortalLink.client_id == office["bakkerij"].id)
    ).role = Role.BOOKKEEPER
    db.session.commit()
    with pytest.raises(ConnectError, match="may not change that client's link"):
        links.activate(office["cafe"], office["connection"], DIVISION, office["owner"], move=True)
    db.session.rollback()
    assert _link(db, office["bakkerij"]).division_code == DIVISION
    assert _link(db, office["cafe"]) is None


# --- the pick list and the confirmed move ---------------------------------------------------


def test_the_pick_list_names_the_client_that_has_each_division(office, client):
    page = client.get(f"/a/{office['portal'].id}/exact/clients/{office['cafe'].id}").get_data(
        as_text=True
    )
    assert "· linked to Bakkerij De Klant" in page
    assert page.count("· linked to ") == 1  # 3001102 is free


@pytest.fixture
def connected(exact_app, db, client, login, exact_sandbox):
    """The same office against the sandbox: connected, Bakkerij De Klant activated."""
    owner, _own = make_user_with_account(email="olga@kantoor.example")
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    bakkerij = _client(db, portal, "Bakkerij De Klant")
    cafe = _client(db, portal, "Café De Hoek")
    db.session.commit()
    login(owner)
    connect(client, exact_sandbox, portal.id)
    client.post(f"/a/{portal.id}/exact/clients/{bakkerij.id}/activate", data={"division": DIVISION})
    assert _link(db, bakkerij).division_code == DIVISION
    return {"portal": portal, "owner": owner, "bakkerij": bakkerij, "cafe": cafe}


def test_activating_a_linked_division_asks_to_move_it_and_moves_only_when_confirmed(
    connected, client, db
):
    base = f"/a/{connected['portal'].id}/exact/clients/{connected['cafe'].id}"
    asked = client.post(f"{base}/activate", data={"division": DIVISION})
    assert asked.status_code == 302 and f"division={DIVISION}" in asked.headers["Location"]
    assert _link(db, connected["cafe"]) is None
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Move the administration?" in page
    assert "is now linked to Bakkerij De Klant" in page and "keeps its data" in page
    # confirming an activation without the move is refused with the message
    refused = client.post(
        f"{base}/activate", data={"division": DIVISION, "confirm": "1"}, follow_redirects=True
    )
    assert "already linked to Bakkerij De Klant" in refused.get_data(as_text=True)
    assert _link(db, connected["cafe"]) is None
    moved = client.post(
        f"{base}/activate",
        data={"division": DIVISION, "move": "1", "confirm": "1"},
        follow_redirects=True,
    )
    assert "moved from Bakkerij De Klant" in moved.get_data(as_text=True)
    assert _link(db, connected["cafe"]).division_code == DIVISION
    assert _link(db, connected["bakkerij"]) is None
    assert "exact.moved_away" in _audit(db, connected["bakkerij"])
    assert "exact.activated" in _audit(db, connected["cafe"])
    from portal.exact.sync import SyncStopped, eligible_link

    with pytest.raises(SyncStopped, match="no linked administration"):
        eligible_link(connected["bakkerij"].id)


def test_overwriting_with_a_division_another_client_has_also_moves_it(connected, client, db):
    base = f"/a/{connected['portal'].id}/exact/clients/{connected['cafe'].id}"
    client.post(f"{base}/activate", data={"division": OTHER})
    assert _link(db, connected["cafe"]).division_code == OTHER
    client.post(
        f"{base}/activate",
        data={"division": DIVISION, "overwrite": "1", "move": "1", "confirm": "1"},
    )
    assert _link(db, connected["cafe"]).division_code == DIVISION
    assert _link(db, connected["bakkerij"]) is None


# --- matching by VAT number -----------------------------------------------------------------


def test_the_bulk_link_links_exact_vat_matches_and_skips_ambiguous_ones(
    exact_app, db, client, login, exact_sandbox
):
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    bakker = _client(db, portal, "Bakker", "nl 0012.34560 b01")
    fietsen = _client(db, portal, "Fietsen", OTHER_VAT)
    twin = _client(db, portal, "Fietsen (dubbel)", OTHER_VAT)
    nothing = _client(db, portal, "Zonder match", "NL999999999B99")
    no_right = _client(db, portal, "Alleen lezen", "NL003456791B01")
    from portal.models import PortalLink

    db.session.scalar(
        select(PortalLink).where(PortalLink.client_id == no_right.id)
    ).role = Role.READ_ONLY
    db.session.commit()
    login(owner)
    connect(client, exact_sandbox, portal.id)
    url = f"/a/{portal.id}/exact/match"
    preview = client.get(url).get_data(as_text=True)
    assert "Bakker" in preview and str(DIVISION) in preview
    assert _link(db, bakker) is None  # the preview links nothing
    result = client.post(url).get_data(as_text=True)
    assert _link(db, bakker).division_code == DIVISION
    for account in (fietsen, twin, nothing, no_right):
        assert _link(db, account) is None
    assert "several clients have this VAT number" in result
    assert "no administration has this VAT number" in result
    assert "you may not link" in result
    assert f"sync-{bakker.id}" in get_queue("sync-now").job_ids  # Activate: interactive
    assert "exact.activated" in _audit(db, bakker)
    # run again: nothing new, the linked client is not touched
    again = client.post(url).get_data(as_text=True)
    assert "No client was linked" in again


def test_the_pick_list_of_a_division_suggests_the_client_with_its_vat_number(office, db):
    office["cafe"].vat_number = OTHER_VAT
    db.session.commit()
    connection = db.session.get(ExactConnection, office["connection"].id)
    assert links.suggest_client(connection, OTHER).id == office["cafe"].id
    assert links.suggest_client(connection, DIVISION) is None


def test_the_exact_page_names_each_divisions_client_or_suggests_one(office, client, db):
    office["cafe"].vat_number = OTHER_VAT
    db.session.commit()
    page = client.get(f"/a/{office['portal'].id}/exact/").get_data(as_text=True)
    cells = page.split('data-testid="division-client">')[1:]
    assert cells[0].startswith("Bakkerij De Klant<")  # 3001101 is linked to it
    assert "link to Café De Hoek (same VAT number)" in cells[1]
    assert f"clients/{office['cafe'].id}?division={OTHER}" in cells[1]
    pick = client.get(
        f"/a/{office['portal'].id}/exact/clients/{office['cafe'].id}?division={OTHER}"
    )
    assert f'<option value="{OTHER}" selected>' in pick.get_data(as_text=True)


# --- duplicate client accounts --------------------------------------------------------------


def test_client_accounts_with_the_same_vat_number_are_flagged(office, client, db):
    office["bakkerij"].vat_number = DIVISION_VAT
    office["cafe"].vat_number = DIVISION_VAT
    _client(db, office["portal"], "Apart", OTHER_VAT)
    db.session.commit()
    page = client.get(f"/a/{office['portal'].id}/portal/clients").get_data(as_text=True)
    assert page.count('data-testid="duplicate-vat"') == 2
    assert "same VAT number as Café De Hoek" in page
    assert "same VAT number as Bakkerij De Klant" in page
