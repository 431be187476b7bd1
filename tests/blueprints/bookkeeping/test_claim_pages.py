"""The expense-claim pages: an employee makes, fills and submits a claim; an admin approves or
rejects it; bad input re-renders the form with a message and stores nothing."""

from __future__ import annotations

import html
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.bookkeeping import claims
from portal.extensions import db
from portal.models import (
    BookItem,
    Category,
    ClaimStatus,
    ExpenseClaim,
    ExpenseLine,
    ItemKind,
    Role,
    StoredFile,
)
from tests.bookkeeping import samples
from tests.factories import PASSWORD, add_member, make_bookkeeping_client, make_user
from tests.helpers import PortalClient, count_rows, stored_paths

DAY = date(2025, 6, 2)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def setup(app):
    made = make_bookkeeping_client()
    account = made["account"]
    employee = make_user(name="Eva Jansen")
    add_member(account, employee, Role.MEMBER)
    meals = Category(account_id=account.id, name="Meals", gl_account_code="4500", vat_code="2")
    travel = Category(account_id=account.id, name="Travel", gl_account_code="4100", vat_code="0")
    db.session.add_all([meals, travel])
    db.session.commit()
    base = f"/a/{account.id}/books/claims"
    return {**made, "employee": employee, "meals": meals, "travel": travel, "base": base}


def _as(app, user):
    """A browser of its own, logged in as ``user``."""
    app.test_client_class = PortalClient
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def _expense_data(setup, amount="12,50", receipt=True, **fields) -> dict:
    data = {
        "expense-spent_on": fields.get("spent_on", DAY.isoformat()),
        "expense-amount": amount,
        "expense-category_id": str(fields.get("category_id", setup["meals"].id)),
        "expense-description": fields.get("description", "Lunch with a customer"),
    }
    if receipt:
        data["expense-receipt"] = (io.BytesIO(samples.jpeg_receipt()), "bon.jpg")
    return data


def _mileage_data(setup, km="42", day=DAY) -> dict:
    return {
        "mileage-spent_on": day.isoformat(),
        "mileage-km": km,
        "mileage-category_id": str(setup["travel"].id),
        "mileage-description": "Customer in Utrecht",
    }


def _new_claim(browser, setup, title="June") -> int:
    response = browser.post(setup["base"], data={"title": title})
    assert response.status_code == 302, _text(response)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def _filled_claim(browser, setup) -> int:
    claim_id = _new_claim(browser, setup)
    url = f"{setup['base']}/{claim_id}"
    response = browser.post(
        f"{url}/expenses", data=_expense_data(setup), content_type="multipart/form-data"
    )
    assert response.status_code == 302, _text(response)
    assert browser.post(f"{url}/mileage", data=_mileage_data(setup)).status_code == 302
    return claim_id


def test_the_whole_flow_from_employee_to_approved_item(app, setup):
    employee = _as(app, setup["employee"])
    claim_id = _filled_claim(employee, setup)
    url = f"{setup['base']}/{claim_id}"
    page = _text(employee.get(url))
    assert "€22.16" in page and "€9.66" in page and "bon.jpg" in page
    assert "42 km × €0.23" in page
    assert employee.post(f"{url}/submit").status_code == 302
    assert "Waiting for approval" in _text(employee.get(url))

    admin = _as(app, setup["user"])
    listing = _text(admin.get(setup["base"]))
    assert 'data-testid="to-approve"' in listing and "June" in listing
    assert admin.post(f"{url}/approve").status_code == 302

    item = db.session.scalars(select(BookItem)).one()
    assert item.kind == ItemKind.CLAIM and item.amount == Decimal("22.16")
    assert [(line.amount_excl, line.vat_amount) for line in item.lines] == [
        (Decimal("10.33"), Decimal("2.17")),
        (Decimal("9.66"), Decimal("0.00")),
    ]
    claim = db.session.get(ExpenseClaim, claim_id)
    assert claim.status == ClaimStatus.APPROVED and claim.item_id == item.id
    assert "Approved" in _text(employee.get(url))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12,3456789012345", "at most two decimals"),
        ("-5", "greater than zero"),
        ("abc", "as a number"),
        ("0", "greater than zero"),
        ("9999999999", "at most"),
    ],
)
def test_a_bad_amount_is_a_form_error_and_stores_nothing(app, setup, amount, message):
    employee = _as(app, setup["employee"])
    claim_id = _new_claim(employee, setup)
    response = employee.post(
        f"{setup['base']}/{claim_id}/expenses",
        data=_expense_data(setup, amount=amount),
        content_type="multipart/form-data",
    )
    page = _text(response)
    assert response.status_code == 200
    assert message in page and f'value="{amount}"' in page  # the typed value is kept
    assert "Lunch with a customer" in page
    assert count_rows(ExpenseLine) == 0 and count_rows(StoredFile) == 0
    assert stored_paths(app) == []


def test_other_form_errors_say_what_is_wrong(app, setup):
    employee = _as(app, setup["employee"])
    claim_id = _new_claim(employee, setup)
    url = f"{setup['base']}/{claim_id}"
    tomorrow = claims.today() + timedelta(days=1)
    future = employee.post(f"{url}/mileage", data=_mileage_data(setup, day=tomorrow))
    assert "The date is in the future." in _text(future)
    no_receipt = employee.post(
        f"{url}/expenses",
        data=_expense_data(setup, receipt=False),
        content_type="multipart/form-data",
    )
    assert "Add a photo or PDF of the receipt." in _text(no_receipt)
    xml = _expense_data(setup, receipt=False)
    xml["expense-receipt"] = (io.BytesIO(b"<Invoice/>"), "bill.xml")
    refused = employee.post(f"{url}/expenses", data=xml, content_type="multipart/form-data")
    assert refused.status_code == 200 and 'class="error"' in _text(refused)
    no_category = employee.post(
        f"{url}/mileage", data={**_mileage_data(setup), "mileage-category_id": ""}
    )
    assert "Choose a category." in _text(no_category)
    assert "Give the claim a title." in _text(employee.post(setup["base"], data={"title": ""}))
    assert (
        count_rows(ExpenseLine) == 0
        and count_rows(StoredFile) == 0
        and count_rows(ExpenseClaim) == 1
    )


def test_reject_with_a_reason_then_correct_and_submit_again(app, setup):
    employee = _as(app, setup["employee"])
    claim_id = _filled_claim(employee, setup)
    url = f"{setup['base']}/{claim_id}"
    employee.post(f"{url}/submit")
    admin = _as(app, setup["user"])
    without = admin.post(f"{url}/reject", data={"reason": ""})
    assert "Say why the claim is rejected." in _text(without)
    assert db.session.get(ExpenseClaim, claim_id).status == ClaimStatus.SUBMITTED
    assert admin.post(f"{url}/reject", data={"reason": "Trip was private."}).status_code == 302

    page = _text(employee.get(url))
    assert "Rejected" in page and "Trip was private." in page
    line_id = db.session.scalars(select(ExpenseLine.id).where(ExpenseLine.is_mileage)).one()
    assert employee.post(f"{url}/lines/{line_id}/delete").status_code == 302
    assert employee.post(f"{url}/submit").status_code == 302
    claim = db.session.get(ExpenseClaim, claim_id)
    db.session.refresh(claim)
    assert claim.status == ClaimStatus.SUBMITTED and claim.total == Decimal("12.50")


def test_a_line_is_changed_through_its_form(app, setup):
    employee = _as(app, setup["employee"])
    claim_id = _filled_claim(employee, setup)
    url = f"{setup['base']}/{claim_id}"
    line_id = db.session.scalars(select(ExpenseLine.id).where(ExpenseLine.is_mileage)).one()
    form = _text(employee.get(f"{url}?edit={line_id}"))
    assert f"/lines/{line_id}" in form and 'value="42"' in form
    bad = employee.post(f"{url}/lines/{line_id}", data=_mileage_data(setup, km="-3"))
    assert "greater than zero" in _text(bad)
    assert (
        employee.post(f"{url}/lines/{line_id}", data=_mileage_data(setup, km="100")).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(ExpenseLine, line_id).amount == Decimal("23.00")


def test_an_employee_neither_sees_anothers_claim_nor_approves(app, setup):
    owner_browser = _as(app, setup["employee"])
    claim_id = _filled_claim(owner_browser, setup)
    url = f"{setup['base']}/{claim_id}"
    owner_browser.post(f"{url}/submit")
    colleague = make_user()
    add_member(setup["account"], colleague, Role.MEMBER)
    db.session.commit()
    other = _as(app, colleague)
    assert other.get(url).status_code == 404
    assert other.post(f"{url}/mileage", data=_mileage_data(setup)).status_code == 404
    assert other.post(f"{url}/approve").status_code == 403
    assert "June" not in _text(other.get(setup["base"]))
    assert owner_browser.post(f"{url}/approve").status_code == 403
    assert count_rows(BookItem) == 0 and count_rows(ExpenseLine) == 2


def test_a_decided_claim_cannot_be_changed(app, setup):
    employee = _as(app, setup["employee"])
    claim_id = _filled_claim(employee, setup)
    url = f"{setup['base']}/{claim_id}"
    employee.post(f"{url}/submit")
    _as(app, setup["user"]).post(f"{url}/approve")
    line_id = db.session.scalars(select(ExpenseLine.id)).first()
    response = employee.post(f"{url}/mileage", data=_mileage_data(setup), follow_redirects=True)
    assert "approved and cannot be changed" in _text(response)
    employee.post(f"{url}/lines/{line_id}/delete")
    employee.post(f"{url}/lines/{line_id}", data=_mileage_data(setup, km="1"))
    assert count_rows(ExpenseLine) == 2
    assert 'data-testid="expense-form"' not in _text(employee.get(url))


def test_a_read_only_member_cannot_make_a_claim(app, setup):
    reader = make_user()
    add_member(setup["account"], reader, Role.READ_ONLY)
    db.session.commit()
    browser = _as(app, reader)
    assert browser.get(setup["base"]).status_code == 200
    assert browser.post(setup["base"], data={"title": "Mine"}).status_code == 403
    assert count_rows(ExpenseClaim) == 0


def test_without_categories_the_page_says_the_office_sets_them_up(app, setup):
    for category in (setup["meals"], setup["travel"]):
        db.session.delete(category)
    db.session.commit()
    employee = _as(app, setup["employee"])
    claim_id = _new_claim(employee, setup)
    page = _text(employee.get(f"{setup['base']}/{claim_id}"))
    assert "The office must set up the categories first." in page
    assert 'data-testid="expense-form"' not in page


def test_an_employees_claim_receipt_is_served_to_them_and_approvers_only(app, client, login):
    world = make_bookkeeping_client()
    account = world["account"]
    employee, colleague, admin = make_user(), make_user(), make_user()
    add_member(account, employee, Role.MEMBER)
    add_member(account, colleague, Role.MEMBER)
    add_member(account, admin, Role.ADMIN)
    category = Category(account_id=account.id, name="Lunch", gl_account_code="4500", vat_code="1")
    db.session.add(category)
    db.session.flush()
    claim = claims.new_claim(account, employee, "Lunch")
    expense = claims.Expense(spent_on=DAY, amount=Decimal("12.50"), category_id=category.id)
    line = claims.add_expense(claim, employee, expense, "bon.jpg", samples.jpeg_receipt())
    claims.submit(claim, employee)
    db.session.commit()
    url = f"/a/{account.id}/books/files/{line.file_id}"

    login(colleague)
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(employee)
    assert client.get(url).status_code == 200
    client.post("/logout")
    login(admin)
    assert client.get(url).status_code == 200
