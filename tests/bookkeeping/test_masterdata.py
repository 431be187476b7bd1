"""The bookkeeping reads Exact's master data of the client's current division only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.bookkeeping.masterdata import GENERAL_JOURNAL, PURCHASE_JOURNAL, MasterData
from portal.extensions import db
from portal.models import ExactRecord
from tests.factories import make_bookkeeping_client


def test_lists_leave_out_blocked_rows_and_find_says_blocked(app):
    client = make_bookkeeping_client()
    master = MasterData.of(client["account"])
    assert [o.code for o in master.gl_accounts()] == ["0200", "1600", "4000", "4100", "4500"]
    assert master.find("gl_accounts", "4999").blocked
    assert [o.code for o in master.vat_codes()] == ["0", "1", "2"]
    assert master.vat_percentage("2") == Decimal("0.21")
    assert [o.code for o in master.journals(PURCHASE_JOURNAL)] == ["70"]
    assert [o.code for o in master.journals(GENERAL_JOURNAL)] == ["90"]
    assert [o.code for o in master.cost_centers()] == ["100", "200"]
    assert master.find("cost_centers", "900").blocked


def test_suppliers_are_searched_by_name_and_code_without_customers_or_blocked(app):
    client = make_bookkeeping_client()
    master = MasterData.of(client["account"])
    assert [o.name for o in master.suppliers()] == [
        "Kantoor Plus B.V.",
        "Tankstation De Snelweg",
    ]
    assert [o.code for o in master.suppliers("tank")] == ["2"]
    assert master.suppliers("%") == [] and master.suppliers("_") == []  # literal, not wildcards
    assert master.payment_days("1") == 30
    assert master.payment_days("2") is None


def test_periods_and_another_divisions_rows(app):
    client = make_bookkeeping_client()
    master = MasterData.of(client["account"])
    assert master.period_of(date(2026, 2, 28)) == (2026, 2)
    assert master.period_of(date(2026, 12, 31)) == (2026, 12)
    assert master.period_of(date(2024, 12, 31)) is None
    # a row of another division of the same client is never the current one
    db.session.add(
        ExactRecord(
            account_id=client["account"].id,
            division_code=999,
            entity="gl_accounts",
            exact_id="x",
            code="8000",
            description="Elders",
            data={"Code": "8000"},
        )
    )
    db.session.flush()
    assert MasterData.of(client["account"]).find("gl_accounts", "8000") is None


def test_a_document_finds_its_supplier_by_vat_number_then_by_name(app):
    client = make_bookkeeping_client()
    master = MasterData.of(client["account"])
    assert master.supplier_for("NL 0012.34567.B01", "Someone else").code == "1"
    assert master.supplier_for(None, "tankstation de snelweg").code == "2"
    assert master.supplier_for("NL999999999B01", "Unknown B.V.") is None
    assert master.supplier_for(None, "Klant Jansen") is None  # a customer, not a supplier
    assert master.supplier_for(None, "Oude Leverancier") is None  # blocked
