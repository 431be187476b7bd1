"""Bookkeeping views: bank and card statements, their transactions, pairing with receipts.

- ``/books/bank``: the bank accounts and their statements, and the import form.
- ``/books/transactions``: the transactions, filtered (receipt missing, paired, credits…).
- pairing by hand: ``/books/items/<item_id>/pair`` (the candidates, then the choice), and
  undoing a pairing from the transactions list.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice

from portal import audit
from portal.blueprints.bookkeeping import bp
from portal.blueprints.bookkeeping.bank_forms import ImportForm, PairForm, TransactionFilterForm
from portal.blueprints.params import page_number
from portal.bookkeeping import bank, pairing
from portal.bookkeeping.files import clean_filename
from portal.bookkeeping.formats import FormatError
from portal.extensions import db
from portal.models import BankTransaction, BookItem
from portal.pagination import paginate
from portal.permissions import Action, require
from portal.tenancy import get_for_account

PER_PAGE = 50
FILTER_ARGS = ("bank_account", "state", "date_from", "date_to", "q")


def _bank_page(form: ImportForm, status: int = 200):
    return (
        render_template(
            "bookkeeping/bank.html",
            form=form,
            overview=bank.overview(g.account.id),
            missing=pairing.count_receipt_missing(g.account.id),
        ),
        status,
    )


@bp.route("/bank", endpoint="bank")
def bank_page():
    return _bank_page(ImportForm())


@bp.route("/bank/import", methods=["POST"])
def import_statement():
    require(Action.UPLOAD)
    form = ImportForm()
    if not form.validate_on_submit():
        return _bank_page(form, 400)
    failed = False
    for upload in form.files.data:
        if not getattr(upload, "filename", None):
            continue
        failed |= not _import_one(upload)
    return redirect(url_for("bookkeeping.bank")) if not failed else _bank_page(ImportForm(), 400)


def _import_one(upload) -> bool:
    """Import one uploaded file and say how it went (a flashed message); whether it went."""
    name = clean_filename(upload.filename, "statement")
    try:
        user = current_user._get_current_object()
        result = bank.import_statement(g.account, user, name, upload.read())
    except FormatError as error:
        flash(_("%(file)s was not imported: %(reason)s", file=name, reason=str(error)), "error")
        return False
    except IntegrityError:
        flash(
            _(
                "%(file)s was not imported: it was being imported at the same moment. "
                "Import it again: it will add only what is new.",
                file=name,
            ),
            "error",
        )
        return False
    flash(_("%(file)s: %(summary)s.", file=name, summary=result.summary.render()), "success")
    return True


def _filters(form: TransactionFilterForm) -> bank.TransactionFilter:
    """The filters as given; one that is not valid is left out (and marked on the form)."""
    form.validate()

    def valid(field):
        return None if field.errors else field.data

    chosen = valid(form.bank_account)
    return bank.TransactionFilter(
        bank_account_id=int(chosen) if chosen else None,
        state=valid(form.state) or None,
        date_from=valid(form.date_from),
        date_to=valid(form.date_to),
        search=form.search,
    )


@bp.route("/transactions")
def transactions():
    form = TransactionFilterForm(request.args)
    accounts = bank.bank_accounts(g.account.id)
    form.bank_account.choices = [SelectChoice("", _("All bank accounts"))] + [
        SelectChoice(str(a.id), a.name or a.iban) for a in accounts
    ]
    filters = _filters(form)
    rows = paginate(bank.transactions(g.account.id, filters), page_number(), PER_PAGE)
    page_args = {k: request.args[k] for k in FILTER_ARGS if request.args.get(k)}
    return render_template(
        "bookkeeping/transactions.html",
        form=form,
        rows=rows,
        filters=filters,
        has_accounts=bool(accounts),
        page_args=page_args,
        can_prepare=g.authority.can(Action.PREPARE),
    )


@bp.route("/transactions/<int:transaction_id>/unpair", methods=["POST"])
def unpair_transaction(transaction_id: int):
    require(Action.PREPARE)
    transaction = get_for_account(BankTransaction, transaction_id)
    item = transaction.item
    other = pairing.unpair(item) if item is not None else None
    if other is None:
        flash(_("This transaction was not paired with a receipt."), "error")
    else:
        audit.record(g.account, "bookkeeping.items_unpaired", f"{item.id}/{other.id}")
        db.session.commit()
        flash(_("The receipt is no longer paired with this transaction."), "success")
    args = {k: request.args[k] for k in (*FILTER_ARGS, "page") if request.args.get(k)}
    return redirect(url_for("bookkeeping.transactions", **args))


@bp.route("/items/<int:item_id>/pair", methods=["GET", "POST"])
def pair_item(item_id: int):
    """GET: what the item may be paired with; POST: pair it with the chosen one."""
    require(Action.PREPARE)
    item = get_for_account(BookItem, item_id)
    form = PairForm()
    if form.validate_on_submit():
        other = get_for_account(BookItem, form.other_item_id.data)
        try:
            pairing.pair_by_hand(item, other)
        except pairing.PairingError as error:
            flash(error.message.render(), "error")
            return _pair_page(item, form, 400)
        audit.record(g.account, "bookkeeping.items_paired", f"{item.id}/{other.id}")
        db.session.commit()
        flash(_("Paired."), "success")
        return redirect(url_for("bookkeeping.transactions"))
    return _pair_page(item, form, 400 if form.is_submitted() else 200)


def _pair_page(item: BookItem, form: PairForm, status: int):
    paired = db.session.get(BookItem, item.paired_item_id) if item.paired_item_id else None
    return (
        render_template(
            "bookkeeping/transactions_pair.html",
            item=item,
            paired=paired,
            form=form,
            candidates=[] if paired else pairing.hand_candidates(item),
            days=pairing.HAND_PAIRING_DAYS,
        ),
        status,
    )
