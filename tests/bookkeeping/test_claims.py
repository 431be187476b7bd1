"""Expense claims (seed 003): expenses and mileage, submit, approve into one CLAIM item with
a line per expense (VAT split exact to the cent), reject with a reason, nothing half-stored."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.bookkeeping import claims
from portal.bookkeeping.claims import ClaimError, Expense, Mileage
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.models import (
    AuditEvent,
    BookItem,
    BookkeepingSettings,
    Category,
    ClaimStatus,
    ExpenseLine,
    ItemKind,
    ItemStatus,
    Role,
    StoredFile,
)
from tests.bookkeeping import samples
from tests.factories import add_member, make_bookkeeping_client, make_user
from tests.helpers import count_rows, stored_paths

DAY = date(2025, 6, 2)


@pytest.fixture
def setup(app):
    made = make_bookkeeping_client()
    account = made["account"]
    employee = make_user(name="Eva Jansen")
    add_member(account, employee, Role.MEMBER)
    meals = Category(
        account_id=account.id, name="Meals", gl_account_code="4500", vat_code="2", cost_center="100"
    )
    travel = Category(account_id=account.id, name="Travel", gl_account_code="4100", vat_code="0")
    db.session.add_all([meals, travel])
    db.session.commit()
    return {**made, "employee": employee, "meals": meals, "travel": travel}


def _expense(setup, amount="12.50", day=DAY, **fields) -> Expense:
    return Expense(
        spent_on=day,
        amount=Decimal(amount),
        category_id=fields.pop("category_id", setup["meals"].id),
        description=fields.pop("description", "Lunch with a customer"),
    )


def _trip(setup, km="42", day=DAY) -> Mileage:
    return Mileage(
        spent_on=day, km=Decimal(km), category_id=setup["travel"].id, description="Utrecht"
    )


def _submitted(setup):
    claim = claims.new_claim(setup["account"], setup["employee"], "June")
    claims.add_expense(claim, setup["employee"], _expense(setup), "bon.jpg", samples.jpeg_receipt())
    claims.add_mileage(claim, setup["employee"], _trip(setup, day=DAY + timedelta(days=3)))
    claims.submit(claim, setup["employee"])
    db.session.commit()
    return claim


def test_the_whole_flow_makes_one_claim_item_split_to_the_cent(app, setup):
    claim = _submitted(setup)
    assert claim.status == ClaimStatus.SUBMITTED and claim.submitted_at is not None
    trip = claim.lines[1]
    assert (trip.km, trip.rate, trip.amount) == (Decimal("42.0"), Decimal("0.23"), Decimal("9.66"))
    assert claim.total == Decimal("22.16")

    item = claims.approve(claim, setup["user"], MasterData.of(setup["account"]))
    db.session.commit()

    assert count_rows(BookItem) == 1
    assert item.kind == ItemKind.CLAIM and item.status == ItemStatus.NEW
    assert item.supplier_code is None and item.supplier_name is None
    assert item.journal_code == "90"  # the only synced journal of type 90
    assert item.amount == Decimal("22.16") and isinstance(item.amount, Decimal)
    assert item.document_date == DAY + timedelta(days=3)
    assert item.entry_date == claims.today()
    assert item.description == "Expense claim June – Eva Jansen"
    assert item.file_id == claim.lines[0].file_id is not None
    assert item.source["employee_id"] == setup["employee"].id
    meal, mileage = item.lines
    assert (meal.gl_account_code, meal.vat_code, meal.cost_center) == ("4500", "2", "100")
    assert meal.vat_percentage == Decimal("0.21")
    assert (meal.amount_excl, meal.vat_amount) == (Decimal("10.33"), Decimal("2.17"))
    assert meal.amount_incl == Decimal("12.50")
    assert meal.description == "Lunch with a customer"
    assert (mileage.gl_account_code, mileage.vat_code) == ("4100", None)
    assert (mileage.amount_excl, mileage.vat_amount) == (Decimal("9.66"), Decimal("0.00"))
    assert sum(line.amount_incl for line in item.lines) == item.amount
    assert claim.status == ClaimStatus.APPROVED and claim.item_id == item.id
    assert claim.decided_by_id == setup["user"].id
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"claim.submitted", "claim.approved"} <= actions


def test_the_settings_decide_the_rate_and_the_journal(app, setup):
    db.session.add(
        BookkeepingSettings(
            account_id=setup["account"].id,
            mileage_rate=Decimal("0.21"),
            general_journal_code="91",
        )
    )
    db.session.commit()
    claim = claims.new_claim(setup["account"], setup["employee"], "Trips")
    line = claims.add_mileage(claim, setup["employee"], _trip(setup, km="42.5"))
    assert (line.rate, line.amount) == (Decimal("0.21"), Decimal("8.93"))  # 8.925 rounds up
    claims.submit(claim, setup["employee"])
    item = claims.approve(claim, setup["user"])
    assert item.journal_code == "91"


def test_no_journal_is_guessed_among_several(app, setup):
    from portal.models import ExactRecord

    master_row = setup["master"]["journals"]["90"]
    db.session.add(
        ExactRecord(
            account_id=setup["account"].id,
            division_code=master_row.division_code,
            entity="journals",
            exact_id="00000000-0000-0000-0000-999999999999",
            code="91",
            description="Memoriaal 2",
            data={"Code": "91", "Type": 90},
        )
    )
    db.session.commit()
    item = claims.approve(_submitted(setup), setup["user"])
    assert item.journal_code is None


def test_a_rejected_claim_keeps_the_reason_and_can_be_submitted_again(app, setup):
    claim = _submitted(setup)
    with pytest.raises(ClaimError) as refused:
        claims.reject(claim, setup["user"], "  ")
    assert refused.value.field == "reason"
    claims.reject(claim, setup["user"], "The lunch receipt is unreadable.")
    db.session.commit()
    assert claim.status == ClaimStatus.REJECTED
    assert claim.reason == "The lunch receipt is unreadable."
    assert claims.editable(claim, setup["employee"].id)

    claims.remove_line(claim, setup["employee"], claim.lines[0].id)
    claims.add_expense(
        claim, setup["employee"], _expense(setup, "13.00"), "bon.png", samples.png_receipt()
    )
    claims.submit(claim, setup["employee"])
    db.session.commit()
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.total == Decimal("22.66")
    assert "claim.rejected" in set(db.session.scalars(select(AuditEvent.action)))


def test_decided_claims_cannot_be_changed(app, setup):
    claim = _submitted(setup)
    with pytest.raises(ClaimError):
        claims.add_mileage(claim, setup["employee"], _trip(setup))  # waiting for approval
    claims.approve(claim, setup["user"])
    db.session.commit()
    employee = setup["employee"]
    for change in (
        lambda: claims.add_mileage(claim, employee, _trip(setup)),
        lambda: claims.remove_line(claim, employee, claim.lines[0].id),
        lambda: claims.update_mileage(claim, employee, claim.lines[1].id, _trip(setup, "1")),
        lambda: claims.submit(claim, employee),
        lambda: claims.approve(claim, setup["user"]),
        lambda: claims.reject(claim, setup["user"], "no"),
    ):
        with pytest.raises(ClaimError):
            change()
    db.session.rollback()
    assert count_rows(ExpenseLine) == 2 and count_rows(BookItem) == 1


def test_only_the_employee_changes_a_claim(app, setup):
    claim = claims.new_claim(setup["account"], setup["employee"], "Mine")
    with pytest.raises(ClaimError):
        claims.add_mileage(claim, setup["user"], _trip(setup))


@pytest.mark.parametrize(
    ("amount", "field"),
    [("0", "amount"), ("-5.00", "amount"), ("100000.01", "amount"), ("1.005", "amount")],
)
def test_bad_amounts_are_refused_and_nothing_is_stored(app, setup, amount, field):
    claim = claims.new_claim(setup["account"], setup["employee"], "June")
    db.session.commit()
    with pytest.raises(ClaimError) as refused:
        claims.add_expense(
            claim, setup["employee"], _expense(setup, amount), "bon.jpg", samples.jpeg_receipt()
        )
    db.session.rollback()
    assert refused.value.field == field
    assert count_rows(ExpenseLine) == 0 and count_rows(StoredFile) == 0
    assert stored_paths(app) == []


def test_a_date_in_the_future_and_a_foreign_category_are_refused(app, setup):
    claim = claims.new_claim(setup["account"], setup["employee"], "June")
    tomorrow = claims.today() + timedelta(days=1)
    with pytest.raises(ClaimError) as refused:
        claims.add_mileage(claim, setup["employee"], _trip(setup, day=tomorrow))
    assert refused.value.field == "spent_on"
    other = make_bookkeeping_client()["account"]
    foreign = Category(account_id=other.id, name="Theirs", gl_account_code="4000")
    db.session.add(foreign)
    db.session.flush()
    with pytest.raises(ClaimError) as refused:
        claims.add_expense(
            claim,
            setup["employee"],
            _expense(setup, category_id=foreign.id),
            "bon.jpg",
            samples.jpeg_receipt(),
        )
    assert refused.value.field == "category_id"
    with pytest.raises(ClaimError) as refused:
        claims.add_mileage(claim, setup["employee"], _trip(setup, km="0"))
    assert refused.value.field == "km"


def test_a_receipt_must_be_a_photo_or_pdf_and_new(app, setup):
    claim = claims.new_claim(setup["account"], setup["employee"], "June")
    db.session.commit()
    employee = setup["employee"]
    for name, data in (
        ("none", b""),
        ("bill.xml", samples.ubl_invoice()),
        ("broken.pdf", samples.corrupt_pdf()),
    ):
        with pytest.raises(ClaimError) as refused:
            claims.add_expense(claim, employee, _expense(setup), name, data)
        assert refused.value.field == "receipt", name
        db.session.rollback()
    assert count_rows(StoredFile) == 0 and stored_paths(app) == []

    claims.add_expense(claim, employee, _expense(setup), "bon.pdf", samples.pdf_receipt())
    db.session.commit()
    with pytest.raises(ClaimError) as refused:
        claims.add_expense(claim, employee, _expense(setup), "again.pdf", samples.pdf_receipt())
    assert "already uploaded" in str(refused.value.message)
    db.session.rollback()
    assert (
        count_rows(ExpenseLine) == 1 and count_rows(StoredFile) == 1 and len(stored_paths(app)) == 1
    )


def test_an_expense_is_changed_with_or_without_a_new_receipt(app, setup):
    claim = claims.new_claim(setup["account"], setup["employee"], "June")
    line = claims.add_expense(
        claim, setup["employee"], _expense(setup), "bon.jpg", samples.jpeg_receipt()
    )
    first_file = line.file_id
    claims.update_expense(claim, setup["employee"], line.id, _expense(setup, "14.00"))
    assert (line.amount, line.file_id) == (Decimal("14.00"), first_file)
    claims.update_expense(
        claim, setup["employee"], line.id, _expense(setup), "new.png", samples.png_receipt()
    )
    assert line.file_id != first_file and line.amount == Decimal("12.50")


def test_who_sees_which_claim(app, setup):
    account, employee = setup["account"], setup["employee"]
    colleague = make_user()
    add_member(account, colleague, Role.MEMBER)
    draft = claims.new_claim(account, employee, "Draft")
    db.session.commit()
    assert claims.visible_claim(account.id, draft.id, employee.id, False) is draft
    assert claims.visible_claim(account.id, draft.id, colleague.id, False) is None
    assert claims.visible_claim(account.id, draft.id, setup["user"].id, True) is None  # a draft
    submitted = _submitted(setup)
    assert claims.visible_claim(account.id, submitted.id, colleague.id, False) is None
    assert claims.visible_claim(account.id, submitted.id, setup["user"].id, True) is submitted
    other = make_bookkeeping_client()["account"]
    assert claims.visible_claim(other.id, submitted.id, employee.id, True) is None
    assert claims.claims_to_approve(account.id) == [submitted]
    mine = db.session.scalars(claims.my_claims(account.id, employee.id)).all()
    assert {claim.id for claim in mine} == {draft.id, submitted.id}


def test_a_claim_without_lines_is_not_submitted(app, setup):
    claim = claims.new_claim(setup["account"], setup["employee"], "Empty")
    with pytest.raises(ClaimError):
        claims.submit(claim, setup["employee"])
    with pytest.raises(ClaimError) as refused:
        claims.new_claim(setup["account"], setup["employee"], "   ")
    assert refused.value.field == "title"
