"""The trust issue's pages in a real browser (Dutch user): one administration per client in the
pick list, readable master data, an honest connection status, and roles that say why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from portal import modules
from portal.models import ConnectionStatus, ExactRecord, Role
from tests.e2e.helpers import log_in, screenshot
from tests.factories import (
    link_client,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user_with_account,
)

DIVISIONS = [
    {"code": code, "name": name, "customer": "", "vat": "", "kvk": "", "country": "NL", "status": 1}
    for code, name in ((3001101, "Bakkerij Jansen"), (3001102, "Garage Smit"))
]


@pytest.fixture
def office(db):
    owner, _own = make_user_with_account(email="olga@kantoor.example", language="nl")
    portal = make_portal(owner, name="Kantoor Noord")
    modules.set_enabled(portal, "exact_online", True)
    connection = make_exact_connection(portal, divisions=DIVISIONS)
    bakery_owner, bakery = make_user_with_account(email="kees@bakkerij.example", language="nl")
    bakery.name = "Bakkerij De Klant"
    link_client(portal, bakery, role=Role.ADMIN)
    make_division_link(bakery, connection, 3001101, division_name="Bakkerij Jansen")
    _user, garage = make_user_with_account()
    garage.name = "Garage Peeters"
    link_client(portal, garage, role=Role.MEMBER)
    make_division_link(garage, connection, 3001102, division_name="Garage Smit")
    when = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)
    db.session.add_all(
        [
            ExactRecord(
                account_id=bakery.id,
                entity="gl_accounts",
                exact_id="gl-4000",
                code="4000",
                description="Kantoorkosten",
                data={"Code": "4000", "Description": "Kantoorkosten", "BalanceType": "W"},
                division_code=3001101,
            ),
            ExactRecord(
                account_id=bakery.id,
                entity="transaction_lines",
                exact_id="tl-1",
                code="26000001",
                description="Inkoop papier",
                data={
                    "ID": "tl-1",
                    "EntryNumber": 26000001,
                    "JournalCode": "60",
                    "Date": f"/Date({when})/",
                    "FinancialYear": 2026,
                    "FinancialPeriod": 3,
                    "GLAccountCode": "4000",
                    "AmountDC": -3961.85,
                    "Description": "Inkoop papier",
                },
                division_code=3001101,
            ),
        ]
    )
    db.session.commit()
    return {
        "portal": portal,
        "bakery": bakery,
        "garage": garage,
        "connection": connection,
        "owner": owner,
        "bakery_owner": bakery_owner,
    }


def test_the_office_sees_who_has_an_administration_and_why_it_may_not_link(office, page):
    log_in(page, "olga@kantoor.example")
    page.goto(f"/a/{office['portal'].id}/exact/clients/{office['garage'].id}")
    # the garage granted the office only "member": no Overwrite, but the reason and who can help
    hint = page.get_by_test_id("why-not")
    expect(hint).to_contain_text("Garage Peeters gaf je kantoor de rol Lid")
    expect(hint).to_contain_text("Beheerder")
    page.goto(f"/a/{office['portal'].id}/portal/clients")
    page.get_by_role("button", name="Alle klanten synchroniseren").click()
    expect(page.get_by_text("Niet gesynchroniseerd: Garage Peeters.")).to_be_visible()
    screenshot(page, "trust-client-list")


def test_master_data_reads_like_bookkeeping(office, page):
    log_in(page, "olga@kantoor.example")
    page.goto(f"/a/{office['bakery'].id}/sync/data/transaction_lines")
    table = page.locator("table")
    expect(table).to_contain_text("Grootboekrekening")
    expect(table).to_contain_text("Kantoorkosten")
    expect(table).to_contain_text("€\u00a0-3.961,85")
    expect(table).to_contain_text("1 mrt 2026")
    screenshot(page, "trust-master-data")


def test_the_client_hears_that_the_offices_connection_needs_attention(office, page, db):
    office["connection"].status = ConnectionStatus.NEEDS_REAUTHORIZATION
    db.session.commit()
    log_in(page, "kees@bakkerij.example")
    page.goto(f"/a/{office['bakery'].id}/sync/")
    expect(page.locator("main")).to_contain_text("Kantoor Noord")
    screenshot(page, "trust-connection-attention")
