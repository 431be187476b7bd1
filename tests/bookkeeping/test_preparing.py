"""Preparing an item: VAT computed exactly, what keeps an item from being ready, the states,
optimistic locking and the bulk action."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update

from portal.bookkeeping import preparing
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.models import BookItem, ItemKind, ItemStatus
from tests.factories import make_bookkeeping_client, make_item, make_user

D = Decimal


@pytest.fixture
def books(app):
    client = make_bookkeeping_client()
    client["master_data"] = MasterData.of(client["account"])
    client["settings"] = book_settings.of(client["account"].id)
    return client


def _valid_item(account, **fields):
    """A receipt of Kantoor Plus that is complete: 100.00 + 21.00 VAT on GL 4000."""
    values = {
        "supplier_code": "1",
        "supplier_name": "Kantoor Plus B.V.",
        "journal_code": "70",
        "entry_date": date(2026, 3, 14),
        "amount": D("121.00"),
        "lines": [
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "vat_percentage": D("0.21"),
                "amount_excl": D("100.00"),
                "vat_amount": D("21.00"),
            }
        ],
    }
    values.update(fields)
    return make_item(account, **values)


def _problems(books, item):
    return [str(p) for p in preparing.problems(item, books["master_data"], books["settings"])]


# --- VAT ---------------------------------------------------------------------------------------


def test_vat_is_split_exactly_from_the_amount_incl_vat():
    assert preparing.compute_line(D("121.00"), True, D("0.21"), None) == (D("100.00"), D("21.00"))
    assert preparing.compute_line(D("10.00"), True, D("0.09"), None) == (D("9.17"), D("0.83"))
    assert preparing.compute_line(D("100.00"), False, D("0.21"), None) == (
        D("100.00"),
        D("21.00"),
    )
    excl, vat = preparing.compute_line(D("10.00"), True, D("0.09"), None)
    assert isinstance(excl, Decimal) and excl + vat == D("10.00")


def test_a_one_cent_correction_is_accepted_and_two_cents_refused():
    # the receipt says 21.01: the amount incl. VAT stays 121.00
    assert preparing.compute_line(D("121.00"), True, D("0.21"), D("21.01")) == (
        D("99.99"),
        D("21.01"),
    )
    assert preparing.compute_line(D("10.00"), True, D("0.09"), D("0.82")) == (
        D("9.18"),
        D("0.82"),
    )
    with pytest.raises(preparing.VatTooFar) as refused:
        preparing.compute_line(D("121.00"), True, D("0.21"), D("21.02"))
    assert refused.value.computed == D("21.00")
    with pytest.raises(preparing.VatTooFar):
        preparing.compute_line(D("100.00"), False, D("0.21"), D("20.98"))


# --- problems ----------------------------------------------------------------------------------


def test_a_complete_item_has_no_problems(books):
    assert _problems(books, _valid_item(books["account"])) == []


def test_required_fields_are_named(books):
    item = make_item(books["account"], amount=D("121.00"), lines=[{}])
    found = _problems(books, item)
    assert "Choose the supplier" in found
    assert "Choose the journal" in found
    assert "Fill in the entry date" in found
    assert "Line 1: choose a GL account" in found
    assert "Line 1: choose a VAT code" in found
    assert "Line 1: fill in the amount" in found
    no_lines = make_item(books["account"], supplier_code="1", journal_code="70")
    assert "Add at least one line" in _problems(books, no_lines)


def test_blocked_and_vanished_codes_are_named(books):
    item = _valid_item(
        books["account"],
        supplier_code="4",
        lines=[
            {
                "gl_account_code": "4999",
                "vat_code": "7",
                "vat_percentage": D("0"),
                "amount_excl": D("121.00"),
                "vat_amount": D("0.00"),
                "cost_center": "900",
                "cost_unit": "P9",
            }
        ],
    )
    found = _problems(books, item)
    assert "Supplier 4 is blocked in Exact Online" in found
    assert "Line 1: GL account 4999 is blocked in Exact Online" in found
    assert "Line 1: VAT code 7 is blocked in Exact Online" in found
    assert "Line 1: Cost center 900 is not active in Exact Online" in found
    assert "Line 1: Cost unit P9 no longer exists in Exact Online" in found
    # a code deleted in Exact: "no longer exists"
    books["master"]["vat_codes"]["2"].deleted_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.flush()
    fresh = MasterData.of(books["account"])
    found = [
        str(p) for p in preparing.problems(_valid_item(books["account"]), fresh, books["settings"])
    ]
    assert "Line 1: VAT code 2 no longer exists in Exact Online" in found


def test_a_customer_is_no_supplier_and_an_unknown_supplier_is_said(books):
    assert "3 is not a supplier in Exact Online" in _problems(
        books, _valid_item(books["account"], supplier_code="3")
    )
    unknown = _valid_item(
        books["account"], supplier_code=None, supplier_name="Nieuw B.V.", supplier_unknown=True
    )
    assert _problems(books, unknown) == [
        "Unknown supplier Nieuw B.V.: create it in Exact Online, sync, then choose it"
    ]


def test_the_journal_must_be_of_the_items_type(books):
    assert _problems(books, _valid_item(books["account"], journal_code="90")) == [
        "Journal 90 is not a purchase journal"
    ]
    claim = _valid_item(books["account"], kind=ItemKind.CLAIM, supplier_code=None)
    assert _problems(books, claim) == ["Journal 70 is not a general journal"]
    claim.journal_code = "90"
    assert _problems(books, claim) == []


def test_entry_date_in_a_synced_open_period(books):
    books["settings"].closed_through = date(2026, 3, 31)
    found = _problems(books, _valid_item(books["account"]))
    assert found == ["The period of Mar 14, 2026 is closed (books closed through Mar 31, 2026)"]
    books["settings"].closed_through = None
    outside = _valid_item(books["account"], entry_date=date(2031, 1, 5))
    assert _problems(books, outside) == [
        "Jan 5, 2031 falls in no financial period of Exact Online (synced periods)"
    ]


def test_without_an_exact_link_one_problem(books):
    item = _valid_item(books["account"])
    assert [str(p) for p in preparing.problems(item, MasterData(None), books["settings"])] == [
        "Link an Exact Online administration first"
    ]


def test_lines_must_add_up_to_the_amount(books):
    item = _valid_item(books["account"], amount=D("125.00"))
    assert _problems(books, item) == [
        "The lines add up to €121.00 incl. VAT, the item's amount is €125.00: a difference of €4.00"
    ]


def test_negative_amounts_only_on_credit_notes(books):
    credit = _valid_item(
        books["account"],
        kind=ItemKind.EINVOICE,
        amount=D("-121.00"),
        lines=[
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "amount_excl": D("-100.00"),
                "vat_amount": D("-21.00"),
            }
        ],
    )
    assert _problems(books, credit) == []
    bank = _valid_item(
        books["account"],
        kind=ItemKind.BANK,
        amount=D("-121.00"),
        lines=[
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "amount_excl": D("-100.00"),
                "vat_amount": D("-21.00"),
            }
        ],
    )
    assert _problems(books, bank) == ["A negative amount is only possible on a credit note"]


def test_a_vat_amount_off_by_more_than_a_cent_is_a_problem(books):
    item = _valid_item(
        books["account"],
        lines=[
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "amount_excl": D("98.00"),
                "vat_amount": D("23.00"),
            }
        ],
    )
    found = _problems(books, item)
    assert len(found) == 1 and found[0].startswith("Line 1: the VAT €23.00 differs")


# --- save, ready, back ---------------------------------------------------------------------------


def _input(**fields) -> preparing.ItemInput:
    values = {
        "supplier_code": "1",
        "journal_code": "70",
        "entry_date": date(2026, 3, 14),
        "lines": [preparing.LineInput(gl_account_code="4000", vat_code="2", amount=D("121.00"))],
    }
    values.update(fields)
    return preparing.ItemInput(**values)


def test_save_prepares_and_mark_ready_needs_a_valid_item(books):
    user = books["user"]
    item = make_item(books["account"])
    preparing.save(item, _input(), books["master_data"], user, item.version)
    assert item.status == ItemStatus.PREPARED
    assert item.prepared_by_id == user.id and item.prepared_at is not None
    line = item.lines[0]
    assert (line.amount_excl, line.vat_amount, line.vat_percentage) == (
        D("100.00"),
        D("21.00"),
        D("0.21"),
    )
    assert item.due_date == date(2026, 4, 13)  # Kantoor Plus pays in 30 days
    preparing.mark_ready(item, books["master_data"], books["settings"], user)
    assert item.status == ItemStatus.READY and item.ready_by_id == user.id
    preparing.back_to_preparing(item, user)
    assert item.status == ItemStatus.PREPARED and item.ready_at is None

    incomplete = make_item(books["account"])
    with pytest.raises(preparing.NotReady) as refused:
        preparing.mark_ready(incomplete, books["master_data"], books["settings"], user)
    assert "Choose the supplier" in [str(p) for p in refused.value.problems]
    assert incomplete.status == ItemStatus.NEW


def test_save_refuses_a_vat_correction_of_two_cents_and_changes_nothing(books):
    item = make_item(books["account"])
    line = preparing.LineInput(
        gl_account_code="4000", vat_code="2", amount=D("121.00"), vat_amount=D("21.02")
    )
    with pytest.raises(preparing.VatTooFar):
        preparing.save(item, _input(lines=[line]), books["master_data"], books["user"], None)
    assert item.status == ItemStatus.NEW and item.lines == [] and item.supplier_code is None


def test_a_save_on_an_old_version_is_refused_with_who_changed_it(books):
    first, second = books["user"], make_user(name="Bea Boekhouder")
    item = make_item(books["account"])
    db.session.commit()
    seen = item.version  # both opened the item at this version
    preparing.save(item, _input(description="First"), books["master_data"], second, seen)
    db.session.commit()
    with pytest.raises(preparing.Conflict) as refused:
        preparing.save(item, _input(description="Second"), books["master_data"], first, seen)
    assert "Someone else (Bea Boekhouder) changed this item at" in str(refused.value.message)
    db.session.rollback()
    assert db.session.get(BookItem, item.id).description == "First"


def test_the_true_race_ends_in_a_conflict_too(books):
    item = make_item(books["account"])
    db.session.commit()
    assert item.version == 1  # our read
    # another session saves between our read and our write
    table = BookItem.__table__
    with db.engine.begin() as other:
        other.execute(
            update(table)
            .where(table.c.id == item.id)
            .values(version=table.c.version + 1, description="Theirs")
        )
    with pytest.raises(preparing.Conflict):
        preparing.save(item, _input(description="Ours"), books["master_data"], books["user"], None)
    assert db.session.get(BookItem, item.id).description == "Theirs"


def test_an_exported_item_is_locked(books):
    item = _valid_item(books["account"], status=ItemStatus.EXPORTED)
    with pytest.raises(preparing.Locked):
        preparing.save(item, _input(), books["master_data"], books["user"], item.version)


# --- bulk -----------------------------------------------------------------------------------------


def test_bulk_assigns_only_the_given_fields_and_recomputes_vat(books):
    account, user = books["account"], books["user"]
    a = make_item(
        account,
        supplier_code="2",
        description="Tanken",
        amount=D("109.00"),
        lines=[
            {
                "gl_account_code": "4100",
                "vat_code": "1",
                "amount_excl": D("100.00"),
                "vat_amount": D("9.00"),
                "cost_center": "200",
            }
        ],
    )
    b = make_item(account, amount=D("121.00"))  # no lines yet
    values = preparing.BulkValues(gl_account_code="4000", vat_code="2", cost_center="100")
    changed = preparing.bulk_assign([a, b], values, books["master_data"], user)
    assert changed == [a, b]
    line = a.lines[0]
    assert (line.gl_account_code, line.vat_code, line.cost_center) == ("4000", "2", "100")
    assert line.amount_incl == D("109.00")  # amounts untouched, VAT split again at 21 %
    assert (line.amount_excl, line.vat_amount) == (D("90.08"), D("18.92"))
    assert a.supplier_code == "2" and a.description == "Tanken"  # left as they were
    assert (b.lines[0].amount_excl, b.lines[0].vat_amount) == (D("100.00"), D("21.00"))
    assert a.status == b.status == ItemStatus.PREPARED
    assert preparing.BulkValues().empty() and not values.empty()


def test_bulk_mark_ready_keeps_the_invalid_ones_and_says_why(books):
    account = books["account"]
    good = _valid_item(account)
    bad = _valid_item(account, supplier_code=None)
    ready, refused = preparing.bulk_mark_ready(
        [good, bad], books["master_data"], books["settings"], books["user"]
    )
    assert ready == [good] and good.status == ItemStatus.READY
    assert bad.status == ItemStatus.NEW
    assert [(item, [str(p) for p in problems]) for item, problems in refused] == [
        (bad, ["Choose the supplier"])
    ]


def test_selected_items_are_only_this_accounts(books):
    mine = make_item(books["account"])
    other = make_bookkeeping_client()
    theirs = make_item(other["account"])
    assert preparing.selected_items(books["account"].id, [mine.id, theirs.id]) == [mine]


def test_find_supplier_by_code_or_name(books):
    master = books["master_data"]
    assert preparing.find_supplier(master, "1").name == "Kantoor Plus B.V."
    assert preparing.find_supplier(master, "Tankstation De Snelweg").code == "2"
    assert preparing.find_supplier(master, "snelweg").code == "2"
    assert preparing.find_supplier(master, "Klant Jansen") is None
    assert preparing.find_supplier(master, "") is None
