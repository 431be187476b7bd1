"""Expense claims (seed 003): an employee's expenses and mileage, approved or rejected by an
admin; an approved claim becomes one bookkeeping item (kind CLAIM) to prepare and export as
one general journal entry.

Who may see or change what is decided here (``visible_claim``, ``editable``), so the views
only ask the permissions and pass plain values. Nothing here commits: the view commits the
action as one transaction. A receipt is stored through ``files`` (its bytes follow the
transaction: a rollback deletes them again, so nothing is half-stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal import audit, clock
from portal.bookkeeping import files, rules, settings
from portal.bookkeeping.formats import FileType
from portal.bookkeeping.masterdata import MasterData
from portal.bookkeeping.money import cents, split_incl
from portal.bookkeeping.settings import DEFAULT_MILEAGE_RATE
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import (
    Account,
    BookItem,
    Category,
    ClaimStatus,
    ExpenseClaim,
    ExpenseLine,
    ItemKind,
    ItemLine,
    ItemStatus,
    User,
)

MAX_EXPENSE = Decimal("100000.00")  # more than this on one receipt is a typing error
MAX_KM = Decimal("10000")  # per mileage line
MAX_TITLE = 255
MAX_DESCRIPTION = 255
MAX_REASON = 2000
EDITABLE = (ClaimStatus.DRAFT, ClaimStatus.REJECTED)
RECEIPT_TYPES = (FileType.PDF, FileType.JPEG, FileType.PNG, FileType.HEIC)


class ClaimError(Exception):
    """An action on a claim that cannot be done; ``message`` is shown to the user and
    ``field`` names the form field it is about (None: the claim as a whole)."""

    def __init__(self, message: Message, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


# --- settings and categories -------------------------------------------------------------------


def mileage_rate(account_id: int) -> Decimal:
    """The client's rate per km; the default when the office has set none."""
    return Decimal(settings.of(account_id).mileage_rate or DEFAULT_MILEAGE_RATE)


def categories(account_id: int) -> list[Category]:
    return list(
        db.session.scalars(
            select(Category).where(Category.account_id == account_id).order_by(Category.name)
        )
    )


def today() -> date:
    """Today where the office is (a receipt of today is not "in the future" at 0:30)."""
    name = "Europe/Amsterdam"
    if has_app_context():
        name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or name
    return clock.now().astimezone(ZoneInfo(name)).date()


# --- finding claims ------------------------------------------------------------------------------


def my_claims(account_id: int, employee_id: int) -> Select:
    """The employee's own claims, newest first (a select to page)."""
    return (
        select(ExpenseClaim)
        .where(ExpenseClaim.account_id == account_id, ExpenseClaim.employee_id == employee_id)
        .options(selectinload(ExpenseClaim.lines))
        .order_by(ExpenseClaim.created_at.desc(), ExpenseClaim.id.desc())
    )


def claims_to_approve(account_id: int) -> list[ExpenseClaim]:
    """Every submitted claim of the account, oldest first (the order to decide them)."""
    return list(
        db.session.scalars(
            select(ExpenseClaim)
            .where(
                ExpenseClaim.account_id == account_id,
                ExpenseClaim.status == ClaimStatus.SUBMITTED,
            )
            .options(selectinload(ExpenseClaim.lines), selectinload(ExpenseClaim.employee))
            .order_by(ExpenseClaim.submitted_at, ExpenseClaim.id)
        )
    )


def visible_claim(
    account_id: int, claim_id: int, user_id: int, may_approve: bool
) -> ExpenseClaim | None:
    """The claim if this user may see it: their own, or any but a draft for an approver.
    None otherwise (the view answers 404: another's claim does not exist for an employee)."""
    claim = db.session.scalar(
        select(ExpenseClaim).where(
            ExpenseClaim.id == claim_id, ExpenseClaim.account_id == account_id
        )
    )
    if claim is None:
        return None
    if claim.employee_id == user_id:
        return claim
    if may_approve and claim.status != ClaimStatus.DRAFT:
        return claim
    return None


def editable(claim: ExpenseClaim, user_id: int) -> bool:
    """Only the employee changes a claim, and only before it is decided (a rejected claim
    may be corrected and submitted again)."""
    return claim.employee_id == user_id and claim.status in EDITABLE


def _check_editable(claim: ExpenseClaim, user: User) -> None:
    if claim.employee_id != user.id:
        raise ClaimError(N_("Only the employee who made this claim can change it."))
    if claim.status == ClaimStatus.SUBMITTED:
        raise ClaimError(N_("This claim has been submitted and waits for approval."))
    if claim.status == ClaimStatus.APPROVED:
        raise ClaimError(N_("This claim has been approved and cannot be changed."))


# --- checking what was typed ---------------------------------------------------------------------


def check_amount(amount: Decimal, field: str = "amount") -> Decimal:
    if amount <= 0:
        raise ClaimError(N_("Enter an amount greater than zero."), field)
    if amount > MAX_EXPENSE:
        raise ClaimError(
            N_("Enter an amount of at most %(max)s.", max=f"{MAX_EXPENSE:,.2f}"), field
        )
    if amount != cents(amount):
        raise ClaimError(N_("Enter the amount with at most two decimals."), field)
    return amount


def check_km(km: Decimal) -> Decimal:
    if km <= 0:
        raise ClaimError(N_("Enter a distance greater than zero."), "km")
    if km > MAX_KM:
        raise ClaimError(N_("Enter at most %(max)s km per line.", max=str(MAX_KM)), "km")
    if km != km.quantize(Decimal("0.1")):
        raise ClaimError(N_("Enter the distance with at most one decimal."), "km")
    return km.quantize(Decimal("0.1"))


def check_day(day: date | None) -> date:
    if day is None:
        raise ClaimError(N_("Enter the date."), "spent_on")
    if day > today():
        raise ClaimError(N_("The date is in the future."), "spent_on")
    return day


def _category(account_id: int, category_id: int | None) -> Category:
    found = (
        db.session.scalar(
            select(Category).where(Category.id == category_id, Category.account_id == account_id)
        )
        if category_id
        else None
    )
    if found is None:
        raise ClaimError(N_("Choose a category."), "category_id")
    return found


def _description(text: str | None) -> str | None:
    text = (text or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise ClaimError(N_("Use at most %(max)d characters.", max=MAX_DESCRIPTION), "description")
    return text or None


# --- the employee's actions ----------------------------------------------------------------------


def new_claim(account: Account, employee: User, title: str) -> ExpenseClaim:
    title = (title or "").strip()
    if not title:
        raise ClaimError(N_("Give the claim a title."), "title")
    if len(title) > MAX_TITLE:
        raise ClaimError(N_("Use at most %(max)d characters.", max=MAX_TITLE), "title")
    claim = ExpenseClaim(account_id=account.id, employee_id=employee.id, title=title)
    db.session.add(claim)
    db.session.flush()
    return claim


@dataclass
class Expense:
    """An expense as typed: the amount incl. VAT, its category and the day it was spent."""

    spent_on: date | None
    amount: Decimal
    category_id: int | None
    description: str | None = None


@dataclass
class Mileage:
    """A trip: km × the client's rate."""

    spent_on: date | None
    km: Decimal
    category_id: int | None
    description: str | None = None


def add_expense(
    claim: ExpenseClaim, user: User, expense: Expense, filename: str | None, data: bytes | None
) -> ExpenseLine:
    """An expense with its receipt. Everything typed is checked before the receipt is stored;
    the stored bytes follow the transaction (``files``): a rollback deletes them again."""
    _check_editable(claim, user)
    line = ExpenseLine(is_mileage=False, **_expense_values(claim, expense))
    if not data:
        raise ClaimError(N_("Add a photo or PDF of the receipt."), "receipt")
    line.file_id = _store_receipt(claim, user, filename, data).id
    claim.lines.append(line)
    db.session.flush()
    return line


def update_expense(
    claim: ExpenseClaim,
    user: User,
    line_id: int,
    expense: Expense,
    filename: str | None = None,
    data: bytes | None = None,
) -> ExpenseLine:
    """Change an expense; a new receipt (optional) replaces the old one on the line."""
    _check_editable(claim, user)
    line = _line(claim, line_id, mileage=False)
    values = _expense_values(claim, expense)
    if data:
        values["file_id"] = _store_receipt(claim, user, filename, data).id
    for key, value in values.items():
        setattr(line, key, value)
    db.session.flush()
    return line


def add_mileage(claim: ExpenseClaim, user: User, trip: Mileage) -> ExpenseLine:
    _check_editable(claim, user)
    line = ExpenseLine(is_mileage=True, **_mileage_values(claim, trip))
    claim.lines.append(line)
    db.session.flush()
    return line


def update_mileage(claim: ExpenseClaim, user: User, line_id: int, trip: Mileage) -> ExpenseLine:
    _check_editable(claim, user)
    line = _line(claim, line_id, mileage=True)
    for key, value in _mileage_values(claim, trip).items():
        setattr(line, key, value)
    db.session.flush()
    return line


def remove_line(claim: ExpenseClaim, user: User, line_id: int) -> None:
    """Remove a line. Its receipt stays stored (a file is never deleted under a row that may
    point at it; the uploads list shows it)."""
    _check_editable(claim, user)
    line = _line(claim, line_id)
    claim.lines.remove(line)
    db.session.flush()


def submit(claim: ExpenseClaim, user: User) -> None:
    _check_editable(claim, user)
    if not claim.lines:
        raise ClaimError(N_("Add at least one expense or trip before submitting."))
    claim.status = ClaimStatus.SUBMITTED
    claim.submitted_at = clock.now()
    audit.record(
        _account(claim),
        "claim.submitted",
        target=claim.title,
        actor=user,
        claim_id=claim.id,
        total=str(claim.total),
    )
    db.session.flush()


def _expense_values(claim: ExpenseClaim, expense: Expense) -> dict:
    return {
        "spent_on": check_day(expense.spent_on),
        "amount": check_amount(expense.amount),
        "category_id": _category(claim.account_id, expense.category_id).id,
        "description": _description(expense.description),
        "km": None,
        "rate": None,
    }


def _mileage_values(claim: ExpenseClaim, trip: Mileage) -> dict:
    spent_on = check_day(trip.spent_on)
    km = check_km(trip.km)
    category = _category(claim.account_id, trip.category_id)
    rate = mileage_rate(claim.account_id)
    return {
        "spent_on": spent_on,
        "km": km,
        "rate": rate,
        "amount": cents(km * rate),
        "category_id": category.id,
        "description": _description(trip.description),
    }


def _line(claim: ExpenseClaim, line_id: int, mileage: bool | None = None) -> ExpenseLine:
    line = next((line for line in claim.lines if line.id == line_id), None)
    if line is None or (mileage is not None and line.is_mileage != mileage):
        raise ClaimError(N_("This line is not part of the claim (any more)."))
    return line


def _store_receipt(claim: ExpenseClaim, user: User, filename: str | None, data: bytes):
    """The receipt through the uploads' one door (type sniffed from the bytes, size, that it
    opens, duplicates); a refusal becomes the form's error on the receipt field."""
    try:
        file_type = files.check_upload(data)
        if file_type not in RECEIPT_TYPES:
            raise ClaimError(N_("Add a photo or PDF of the receipt."), "receipt")
        return files.store_checked(_account(claim), user, filename or "receipt", data, file_type)
    except files.UploadRefused as error:
        raise ClaimError(error.message, "receipt") from error


def _account(claim: ExpenseClaim) -> Account:
    return db.session.get(Account, claim.account_id)


# --- the approver's actions ----------------------------------------------------------------------


def _check_submitted(claim: ExpenseClaim) -> None:
    if claim.status != ClaimStatus.SUBMITTED:
        raise ClaimError(N_("Only a submitted claim can be approved or rejected."))


def approve(claim: ExpenseClaim, approver: User, master: MasterData | None = None) -> BookItem:
    """Approve the claim: one item of kind CLAIM with a line per expense, to prepare."""
    _check_submitted(claim)
    if not claim.lines:
        raise ClaimError(N_("This claim has no lines."))
    account = _account(claim)
    master = master or MasterData.of(account)
    item = _item_of(claim, approver, master)
    db.session.add(item)
    db.session.flush()
    claim.status = ClaimStatus.APPROVED
    claim.decided_at = clock.now()
    claim.decided_by_id = approver.id
    claim.item_id = item.id
    audit.record(
        account,
        "claim.approved",
        target=claim.title,
        actor=approver,
        claim_id=claim.id,
        item_id=item.id,
        total=str(claim.total),
    )
    db.session.flush()
    return item


def reject(claim: ExpenseClaim, approver: User, reason: str) -> None:
    _check_submitted(claim)
    reason = (reason or "").strip()
    if not reason:
        raise ClaimError(N_("Say why the claim is rejected."), "reason")
    if len(reason) > MAX_REASON:
        raise ClaimError(N_("Use at most %(max)d characters.", max=MAX_REASON), "reason")
    claim.status = ClaimStatus.REJECTED
    claim.reason = reason
    claim.decided_at = clock.now()
    claim.decided_by_id = approver.id
    audit.record(
        _account(claim),
        "claim.rejected",
        target=claim.title,
        actor=approver,
        claim_id=claim.id,
        reason=reason,
    )
    db.session.flush()


def _item_of(claim: ExpenseClaim, approver: User, master: MasterData) -> BookItem:
    employee = claim.employee.name if claim.employee is not None else "?"
    description = N_("Expense claim %(title)s – %(employee)s", title=claim.title, employee=employee)
    receipt = next((line.file_id for line in claim.lines if line.file_id), None)
    item = BookItem(
        account_id=claim.account_id,
        kind=ItemKind.CLAIM,
        status=ItemStatus.NEW,
        file_id=receipt,
        # what the export needs besides the lines: whose claim it is (the employee's line)
        source={
            "claim_id": claim.id,
            "title": claim.title,
            "employee_id": claim.employee_id,
            "employee_name": employee,
        },
        document_date=max(line.spent_on for line in claim.lines),
        entry_date=today(),
        amount=claim.total,
        description=str(description)[:MAX_DESCRIPTION],
        created_by_id=approver.id,
    )
    rules.propose_defaults(item, master)  # the general journal
    for position, line in enumerate(claim.lines):
        item.lines.append(_item_line(position, line, master))
    return item


def _item_line(position: int, line: ExpenseLine, master: MasterData) -> ItemLine:
    category = line.category
    vat_code = None if line.is_mileage or category is None else category.vat_code
    percentage = master.vat_percentage(vat_code) if vat_code else None
    # an expense's VAT is in its amount; mileage has none. A VAT code that no longer resolves
    # books the whole amount excl. VAT: preparing reports the code before the item is ready.
    excl, vat = split_incl(line.amount, percentage)
    return ItemLine(
        position=position,
        description=line.description or (category.name if category else None),
        gl_account_code=category.gl_account_code if category else None,
        vat_code=vat_code,
        vat_percentage=percentage,
        amount_excl=excl,
        vat_amount=vat,
        cost_center=category.cost_center if category else None,
    )


def receipt_hidden(account_id: int, file_id: int, user_id: int, may_approve: bool) -> bool:
    """Whether a stored file is an employee's claim receipt this user may not see: receipts
    of a claim are the employee's and the approvers' until the claim became an item."""
    claim_ids = db.session.scalars(
        select(ExpenseLine.claim_id)
        .join(ExpenseClaim, ExpenseClaim.id == ExpenseLine.claim_id)
        .where(ExpenseClaim.account_id == account_id, ExpenseLine.file_id == file_id)
    ).all()
    if not claim_ids:
        return False
    if db.session.scalar(select(BookItem.id).where(BookItem.file_id == file_id).limit(1)):
        return False
    return not any(
        visible_claim(account_id, claim_id, user_id, may_approve) for claim_id in set(claim_ids)
    )
