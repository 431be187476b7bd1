"""Bookkeeping views: expense claims (seed 003).

An employee (UPLOAD) makes claims and sees only their own; an approver (APPROVE_CLAIMS) also
sees every submitted claim and approves or rejects it. Another employee's claim is a 404 for
someone who may not approve. The service decides what may change; these views read the forms,
commit one transaction per action and say what happened.
"""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from portal.blueprints.bookkeeping import bp, money
from portal.blueprints.bookkeeping.claims_forms import (
    ClaimForm,
    ExpenseForm,
    MileageForm,
    RejectForm,
)
from portal.blueprints.params import page_number
from portal.bookkeeping import claims as service
from portal.bookkeeping.claims import ClaimError, Expense, Mileage
from portal.extensions import db
from portal.models import ExpenseClaim, User
from portal.pagination import paginate
from portal.permissions import Action, require

PER_PAGE = 25


def _user() -> User:
    return current_user._get_current_object()


def _may_approve() -> bool:
    return g.authority.can(Action.APPROVE_CLAIMS)


def optional_url(endpoint: str, **values) -> str | None:
    """A link to a page another part builds (the receipt, the rules, the item), or None
    while that page does not exist."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _claim(claim_id: int) -> ExpenseClaim:
    claim = service.visible_claim(g.account.id, claim_id, _user().id, _may_approve())
    if claim is None:
        abort(404)
    return claim


def _show_error(error: ClaimError, form=None) -> None:
    """The service's refusal next to the field it is about, else as a message on top."""
    field = form[error.field] if form is not None and error.field and error.field in form else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


# --- the list ------------------------------------------------------------------------------------


@bp.route("/claims", methods=["GET", "POST"])
def claims():
    form = ClaimForm()
    if request.method == "POST":
        require(Action.UPLOAD)
        if form.validate_on_submit():
            try:
                claim = service.new_claim(g.account, _user(), form.title.data)
            except ClaimError as error:
                db.session.rollback()
                _show_error(error, form)
            else:
                db.session.commit()
                flash(_("The claim has been created. Add your expenses and trips."), "success")
                return redirect(url_for("bookkeeping.claim", claim_id=claim.id))
    mine = paginate(service.my_claims(g.account.id, _user().id), page_number(), PER_PAGE)
    waiting = service.claims_to_approve(g.account.id) if _may_approve() else []
    return render_template("bookkeeping/claims.html", form=form, mine=mine, waiting=waiting)


# --- one claim -----------------------------------------------------------------------------------


def _line_forms(claim: ExpenseClaim, expense: ExpenseForm | None, mileage: MileageForm | None):
    categories = service.categories(g.account.id)
    expense = expense or ExpenseForm(prefix="expense", formdata=None)
    mileage = mileage or MileageForm(prefix="mileage", formdata=None)
    for form in (expense, mileage):
        form.set_categories(categories)
    return categories, expense, mileage


def _editing(claim: ExpenseClaim, expense, mileage):
    """``?edit=<line id>``: the line to change, its form filled with its values."""
    line_id = request.args.get("edit", type=int)
    line = next((line for line in claim.lines if line.id == line_id), None)
    if line is None or not service.editable(claim, _user().id):
        return None
    form = mileage if line.is_mileage else expense
    if not form.is_submitted():
        form.spent_on.data = line.spent_on
        form.category_id.data = line.category_id
        form.description.data = line.description
        if line.is_mileage:
            form.km.data = format_decimal(line.km)
        else:
            form.amount.data = f"{line.amount}"
    return line


def _page(
    claim: ExpenseClaim,
    expense: ExpenseForm | None = None,
    mileage: MileageForm | None = None,
    reject: RejectForm | None = None,
    editing=None,
):
    categories, expense, mileage = _line_forms(claim, expense, mileage)
    if editing is None and request.method == "GET":
        editing = _editing(claim, expense, mileage)
    receipts = {
        line.id: optional_url("bookkeeping.file", file_id=line.file_id)
        for line in claim.lines
        if line.file_id
    }
    return render_template(
        "bookkeeping/claim.html",
        claim=claim,
        categories=categories,
        expense_form=expense,
        mileage_form=mileage,
        reject_form=reject or RejectForm(formdata=None),
        editing=editing,
        editable=service.editable(claim, _user().id) and g.authority.can(Action.UPLOAD),
        may_decide=_may_approve() and claim.status.value == "submitted",
        rate=service.mileage_rate(g.account.id),
        receipts=receipts,
        number=format_decimal,
        rules_url=optional_url("bookkeeping.rules"),
        item_url=optional_url("bookkeeping.item", item_id=claim.item_id) if claim.item_id else None,
    )


@bp.route("/claims/<int:claim_id>")
def claim(claim_id: int):
    return _page(_claim(claim_id))


def _done(claim: ExpenseClaim, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("bookkeeping.claim", claim_id=claim.id))


def _refused(claim: ExpenseClaim, error: ClaimError, **forms):
    db.session.rollback()
    form = forms.get("expense") or forms.get("mileage") or forms.get("reject")
    _show_error(error, form)
    if error.field is None or form is None:
        return redirect(url_for("bookkeeping.claim", claim_id=claim.id))
    return _page(db.session.get(ExpenseClaim, claim.id), **forms)


def _expense_of(form: ExpenseForm) -> Expense:
    return Expense(
        spent_on=form.spent_on.data,
        amount=form.amount.value,
        category_id=form.category_id.data,
        description=form.description.data,
    )


def _mileage_of(form: MileageForm) -> Mileage:
    return Mileage(
        spent_on=form.spent_on.data,
        km=form.km.value,
        category_id=form.category_id.data,
        description=form.description.data,
    )


def _receipt(form: ExpenseForm) -> tuple[str | None, bytes | None]:
    upload = form.receipt.data
    if not upload or not getattr(upload, "filename", None):
        return None, None
    return upload.filename, upload.read()


def _valid(form, claim: ExpenseClaim) -> bool:
    form.set_categories(service.categories(claim.account_id))
    return form.validate_on_submit()


@bp.route("/claims/<int:claim_id>/expenses", methods=["POST"])
def add_claim_expense(claim_id: int):
    require(Action.UPLOAD)
    claim = _claim(claim_id)
    form = ExpenseForm(prefix="expense")
    if not _valid(form, claim):
        return _page(claim, expense=form)
    filename, data = _receipt(form)
    try:
        line = service.add_expense(claim, _user(), _expense_of(form), filename, data)
    except ClaimError as error:
        return _refused(claim, error, expense=form)
    return _done(claim, _("The expense of %(amount)s has been added.", amount=money(line.amount)))


@bp.route("/claims/<int:claim_id>/mileage", methods=["POST"])
def add_claim_mileage(claim_id: int):
    require(Action.UPLOAD)
    claim = _claim(claim_id)
    form = MileageForm(prefix="mileage")
    if not _valid(form, claim):
        return _page(claim, mileage=form)
    try:
        line = service.add_mileage(claim, _user(), _mileage_of(form))
    except ClaimError as error:
        return _refused(claim, error, mileage=form)
    return _done(
        claim,
        _("The trip of %(km)s km has been added.", km=format_decimal(line.km)),
    )


@bp.route("/claims/<int:claim_id>/lines/<int:line_id>", methods=["POST"])
def update_claim_line(claim_id: int, line_id: int):
    require(Action.UPLOAD)
    claim = _claim(claim_id)
    line = next((line for line in claim.lines if line.id == line_id), None)
    if line is None:
        abort(404)
    if line.is_mileage:
        form, name = MileageForm(prefix="mileage"), "mileage"
    else:
        form, name = ExpenseForm(prefix="expense"), "expense"
    if not _valid(form, claim):
        return _page(claim, editing=line, **{name: form})
    try:
        if line.is_mileage:
            service.update_mileage(claim, _user(), line_id, _mileage_of(form))
        else:
            filename, data = _receipt(form)
            service.update_expense(claim, _user(), line_id, _expense_of(form), filename, data)
    except ClaimError as error:
        db.session.rollback()
        _show_error(error, form)
        if error.field is None:
            return redirect(url_for("bookkeeping.claim", claim_id=claim.id))
        claim = db.session.get(ExpenseClaim, claim.id)
        line = next((item for item in claim.lines if item.id == line_id), None)
        return _page(claim, editing=line, **{name: form})
    return _done(claim, _("The line has been changed."))


@bp.route("/claims/<int:claim_id>/lines/<int:line_id>/delete", methods=["POST"])
def delete_claim_line(claim_id: int, line_id: int):
    require(Action.UPLOAD)
    claim = _claim(claim_id)
    try:
        service.remove_line(claim, _user(), line_id)
    except ClaimError as error:
        return _refused(claim, error)
    return _done(claim, _("The line has been removed."))


@bp.route("/claims/<int:claim_id>/submit", methods=["POST"])
def submit_claim(claim_id: int):
    require(Action.UPLOAD)
    claim = _claim(claim_id)
    try:
        service.submit(claim, _user())
    except ClaimError as error:
        return _refused(claim, error)
    return _done(claim, _("The claim has been submitted for approval."))


@bp.route("/claims/<int:claim_id>/approve", methods=["POST"])
def approve_claim(claim_id: int):
    require(Action.APPROVE_CLAIMS)
    claim = _claim(claim_id)
    try:
        service.approve(claim, _user())
    except ClaimError as error:
        return _refused(claim, error)
    return _done(
        claim, _("The claim has been approved; it is now an item for the bookkeeping to prepare.")
    )


@bp.route("/claims/<int:claim_id>/reject", methods=["POST"])
def reject_claim(claim_id: int):
    require(Action.APPROVE_CLAIMS)
    claim = _claim(claim_id)
    form = RejectForm()
    if not form.validate_on_submit():
        if claim.status.value != "submitted":
            flash(_("Only a submitted claim can be approved or rejected."), "error")
            return redirect(url_for("bookkeeping.claim", claim_id=claim.id))
        return _page(claim, reject=form)
    try:
        service.reject(claim, _user(), form.reason.data)
    except ClaimError as error:
        return _refused(claim, error, reject=form)
    return _done(claim, _("The claim has been rejected; the employee sees your reason."))
