"""Preparing an item for Exact: supplier, journal, dates and lines (GL account, VAT code and
amount, dimensions), the VAT computed from Exact's percentage; what keeps it from being
ready; and the states new → prepared → ready, alone and in bulk.

Money is Decimal throughout. A line's VAT is computed from its amount incl. or excl. VAT and
may be corrected by at most a cent (a receipt's VAT is what it says, see docs/bookkeeping.md).

Two people never overwrite each other: a save names the version it was based on, and a save
on an older version is refused (``Conflict``); the true race of two saves at the same moment
ends in SQLAlchemy's ``StaleDataError`` on the version column, refused the same way. Nothing
here commits: the view commits the action as one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.bookkeeping.masterdata import (
    GENERAL_JOURNAL,
    MasterData,
    Option,
)
from portal.bookkeeping.money import CENT, cents, split_incl, vat_on
from portal.bookkeeping.rules import code_problem, journal_type
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import (
    BookItem,
    BookkeepingSettings,
    ItemKind,
    ItemLine,
    ItemStatus,
    User,
)

PURCHASE_KINDS = (ItemKind.RECEIPT, ItemKind.EINVOICE, ItemKind.BANK)
# A negative total is a credit note (or a refund on a receipt); a bank debit or an expense
# claim is never negative.
NEGATIVE_ALLOWED = (ItemKind.RECEIPT, ItemKind.EINVOICE)
EDITABLE = (ItemStatus.NEW, ItemStatus.PREPARED, ItemStatus.READY, ItemStatus.FAILED)


class PrepareError(Exception):
    """An action on an item that cannot be done; ``message`` is shown to the user."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message


class Conflict(PrepareError):
    """Someone else saved the item since this save's version was read."""


class Locked(PrepareError):
    """The item is exported: Exact's now."""


class NotReady(Exception):
    """The item is not valid; ``problems`` says each thing that is wrong."""

    def __init__(self, problems: list[Message]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class VatTooFar(ValueError):
    """A typed VAT amount more than a cent from the VAT the code gives."""

    def __init__(self, computed: Decimal) -> None:
        super().__init__(str(computed))
        self.computed = computed


# --- texts in the reader's language ------------------------------------------------------------


def _babel() -> bool:
    return has_app_context() and "babel" in current_app.extensions


def _day(value: date) -> str:
    if _babel():
        from flask_babel import format_date

        return format_date(value, "medium")
    return value.isoformat()


def _amount(value: Decimal, currency: str = "EUR") -> str:
    if _babel():
        from flask_babel import format_currency

        return format_currency(value, currency or "EUR")
    return f"{currency} {value}"


# --- VAT ---------------------------------------------------------------------------------------


def vat_fits(amount_excl: Decimal, vat: Decimal, fraction: Decimal | None) -> bool:
    """Whether a line's VAT is within a cent of what its percentage gives, reckoned from the
    amount excl. VAT or from the amount incl. VAT (the two may round a cent apart)."""
    references = (vat_on(amount_excl, fraction), split_incl(amount_excl + vat, fraction)[1])
    return any(abs(vat - reference) <= CENT for reference in references)


def compute_line(
    amount: Decimal, includes_vat: bool, fraction: Decimal | None, typed_vat: Decimal | None
) -> tuple[Decimal, Decimal]:
    """(amount excl. VAT, VAT) of a line typed as ``amount`` incl. or excl. VAT.

    ``typed_vat`` corrects the computed VAT (the receipt's own figure); the amount incl. VAT
    stays what was typed. Raises ``VatTooFar`` when the correction is more than a cent.
    """
    if includes_vat:
        excl, vat = split_incl(amount, fraction)
        if typed_vat is not None:
            excl, vat = amount - typed_vat, typed_vat
    else:
        excl, vat = amount, vat_on(amount, fraction)
        if typed_vat is not None:
            vat = typed_vat
    if typed_vat is not None and not vat_fits(excl, vat, fraction):
        computed = split_incl(amount, fraction)[1] if includes_vat else vat_on(amount, fraction)
        raise VatTooFar(computed)
    return excl, vat


# --- defaults ----------------------------------------------------------------------------------


def default_due_date(master: MasterData, supplier_code: str | None, day: date | None):
    """The due date by the supplier's payment condition in Exact, from ``day``."""
    if day is None or not supplier_code:
        return None
    days = master.payment_days(supplier_code)
    return day + timedelta(days=days) if days is not None else None


def find_supplier(master: MasterData, text: str | None) -> Option | None:
    """The synced supplier meant by what was typed: its code, else its name (exactly, or the
    only one that holds the text). A blocked supplier typed by code is returned, to say so."""
    text = (text or "").strip()
    if not text:
        return None
    found = master.find("accounts", text)
    if found is not None and found.data.get("IsSupplier") and not found.deleted:
        return found
    matches = master.suppliers(text, limit=10)
    exact = [o for o in matches if o.name.casefold() == text.casefold()]
    if len(exact) == 1:
        return exact[0]
    return matches[0] if len(matches) == 1 else None


# --- saving ------------------------------------------------------------------------------------


@dataclass
class LineInput:
    gl_account_code: str | None = None
    vat_code: str | None = None
    amount: Decimal | None = None
    includes_vat: bool = True
    vat_amount: Decimal | None = None  # a correction of the computed VAT; None: computed
    cost_center: str | None = None
    cost_unit: str | None = None
    description: str | None = None


@dataclass
class ItemInput:
    supplier_code: str | None = None
    journal_code: str | None = None
    entry_date: date | None = None
    due_date: date | None = None
    description: str | None = None
    lines: list[LineInput] = field(default_factory=list)
    amount: Decimal | None = None  # the total incl. VAT, where the item's kind lets it be typed
    amount_given: bool = False


def amount_editable(item: BookItem) -> bool:
    """A receipt's total is typed while preparing; the others' came with the document."""
    return item.kind == ItemKind.RECEIPT


def last_change(item: BookItem) -> tuple[User | None, object]:
    """Who last saved or marked the item, and when."""
    changes = [
        (item.prepared_at, item.prepared_by),
        (item.ready_at, item.ready_by),
    ]
    changes = [(at, who) for at, who in changes if at is not None]
    if not changes:
        return item.created_by, item.created_at
    at, who = max(changes, key=lambda change: change[0])
    return who, at


def conflict_message(item: BookItem) -> Message:
    who, at = last_change(item)
    return N_(
        "Someone else (%(name)s) changed this item at %(when)s — reload to see their changes.",
        name=who.name if who is not None else "?",
        when=at,
    )


def _check_editable(item: BookItem, version: int | None) -> None:
    if item.locked or item.status not in EDITABLE:
        raise Locked(N_("This item was exported to Exact Online and can no longer be changed."))
    if version is not None and version != item.version:
        raise Conflict(conflict_message(item))


def save(
    item: BookItem,
    data: ItemInput,
    master: MasterData,
    user: User,
    version: int | None,
) -> BookItem:
    """Store what the preparer filled in; the item becomes PREPARED (a ready item too: it has
    changed, so it is marked ready again). Raises ``Conflict`` when ``version`` is not the
    item's, ``Locked`` for an exported item, ``VatTooFar`` (with ``.line``) for a line."""
    _check_editable(item, version)
    lines = []
    for position, line in enumerate(data.lines):
        fraction = master.vat_percentage(line.vat_code) if line.vat_code else None
        excl = vat = None
        if line.amount is not None:
            try:
                excl, vat = compute_line(line.amount, line.includes_vat, fraction, line.vat_amount)
            except VatTooFar as error:
                error.line = position
                raise
        lines.append(
            ItemLine(
                position=position,
                gl_account_code=line.gl_account_code or None,
                vat_code=line.vat_code or None,
                vat_percentage=fraction,
                amount_excl=excl,
                vat_amount=vat,
                cost_center=line.cost_center or None,
                cost_unit=line.cost_unit or None,
                description=(line.description or "").strip() or None,
            )
        )
    # every lookup first: a query would flush a half-changed item
    supplier = master.find("accounts", data.supplier_code) if data.supplier_code else None
    due_date = data.due_date or default_due_date(
        master, data.supplier_code, data.entry_date or item.document_date
    )
    with db.session.no_autoflush:
        if data.supplier_code != item.supplier_code:
            item.supplier_exact_id = supplier.exact_id if supplier else None
            item.supplier_unknown = item.supplier_unknown and supplier is None
        item.supplier_code = data.supplier_code or None
        item.journal_code = data.journal_code or None
        item.entry_date = data.entry_date
        item.due_date = due_date
        item.description = (data.description or "").strip() or None
        if data.amount_given and amount_editable(item):
            item.amount = data.amount
        item.lines = lines
        _prepared(item, user)
    _flush(item)
    return item


def _prepared(item: BookItem, user: User) -> None:
    item.status = ItemStatus.PREPARED
    item.prepared_by_id, item.prepared_at = user.id, clock.now()
    item.ready_by_id = item.ready_at = None


def _flush(item: BookItem) -> None:
    """Flush the item; a concurrent save of the same version is a ``Conflict``."""
    item_id = item.id
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(BookItem, item_id)
        raise Conflict(conflict_message(fresh)) from None


def _flush_all() -> None:
    """Flush many items; one saved by someone else meanwhile makes it a ``Conflict``."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(
            N_("Someone else changed one of these items meanwhile — reload and try again.")
        ) from None


def mark_ready(
    item: BookItem,
    master: MasterData,
    settings: BookkeepingSettings,
    user: User,
    version: int | None = None,
) -> BookItem:
    """READY when the item is valid; else ``NotReady`` with every problem."""
    _check_editable(item, version)
    found = problems(item, master, settings)
    if found:
        raise NotReady(found)
    item.status = ItemStatus.READY
    item.ready_by_id, item.ready_at = user.id, clock.now()
    if item.prepared_at is None:
        item.prepared_by_id, item.prepared_at = user.id, item.ready_at
    _flush(item)
    return item


def back_to_preparing(item: BookItem, user: User, version: int | None = None) -> BookItem:
    """A ready (or failed) item goes back to PREPARED, to be changed."""
    _check_editable(item, version)
    if item.status in (ItemStatus.READY, ItemStatus.FAILED):
        _prepared(item, user)
        _flush(item)
    return item


# --- what keeps an item from being ready -------------------------------------------------------


def problems(item: BookItem, master: MasterData, settings: BookkeepingSettings) -> list[Message]:
    """Everything that keeps the item from being ready, in words; empty when it is valid."""
    if not master.linked:
        return [N_("Link an Exact Online administration first")]
    found: list[Message] = []
    found += _supplier_problems(item, master)
    found += _journal_problems(item, master)
    found += _date_problems(item, master, settings)
    found += _line_problems(item, master)
    found += _total_problems(item)
    return found


def _supplier_problems(item: BookItem, master: MasterData) -> list[Message]:
    if item.kind not in PURCHASE_KINDS:
        return []
    if not item.supplier_code:
        if item.supplier_unknown and item.supplier_name:
            return [
                N_(
                    "Unknown supplier %(name)s: create it in Exact Online, sync, then choose it",
                    name=item.supplier_name,
                )
            ]
        return [N_("Choose the supplier")]
    problem = code_problem(master, "accounts", item.supplier_code)
    return [problem] if problem else []


def _journal_problems(item: BookItem, master: MasterData) -> list[Message]:
    if not item.journal_code:
        return [N_("Choose the journal")]
    problem = code_problem(master, "journals", item.journal_code)
    if problem:
        return [problem]
    journal = master.find("journals", item.journal_code)
    if int(journal.data.get("Type") or 0) != journal_type(item):
        if journal_type(item) == GENERAL_JOURNAL:
            return [N_("Journal %(code)s is not a general journal", code=item.journal_code)]
        return [N_("Journal %(code)s is not a purchase journal", code=item.journal_code)]
    return []


def _date_problems(
    item: BookItem, master: MasterData, settings: BookkeepingSettings
) -> list[Message]:
    day = item.entry_date
    if day is None:
        return [N_("Fill in the entry date")]
    if settings.closed_through is not None and day <= settings.closed_through:
        return [
            N_(
                "The period of %(date)s is closed (books closed through %(closed)s)",
                date=_day(day),
                closed=_day(settings.closed_through),
            )
        ]
    if master.period_of(day) is None:
        return [
            N_(
                "%(date)s falls in no financial period of Exact Online (synced periods)",
                date=_day(day),
            )
        ]
    return []


def _line_problems(item: BookItem, master: MasterData) -> list[Message]:
    if not item.lines:
        return [N_("Add at least one line")]
    found = []
    for n, line in enumerate(item.lines, 1):
        if not line.gl_account_code:
            found.append(N_("Line %(n)d: choose a GL account", n=n))
        if not line.vat_code:
            found.append(N_("Line %(n)d: choose a VAT code", n=n))
        if line.amount_excl is None:
            found.append(N_("Line %(n)d: fill in the amount", n=n))
        for entity, code in (
            ("gl_accounts", line.gl_account_code),
            ("vat_codes", line.vat_code),
            ("cost_centers", line.cost_center),
            ("cost_units", line.cost_unit),
        ):
            problem = code_problem(master, entity, code)
            if problem is not None:
                found.append(N_("Line %(n)d: %(problem)s", n=n, problem=problem))
        found += _line_amount_problems(n, line, master)
    return found


def _line_amount_problems(n: int, line: ItemLine, master: MasterData) -> list[Message]:
    if line.amount_excl is None:
        return []
    vat = line.vat_amount if line.vat_amount is not None else Decimal("0")
    for value in (line.amount_excl, vat):
        if Decimal(value) != cents(Decimal(value)):
            return [N_("Line %(n)d: an amount has more than two decimals", n=n)]
    if line.vat_code and master.find("vat_codes", line.vat_code) is not None:
        fraction = master.vat_percentage(line.vat_code)
        if not vat_fits(Decimal(line.amount_excl), Decimal(vat), fraction):
            expected = vat_on(Decimal(line.amount_excl), fraction)
            return [
                N_(
                    "Line %(n)d: the VAT %(vat)s differs by more than a cent from the "
                    "%(expected)s VAT code %(code)s gives",
                    n=n,
                    vat=_amount(Decimal(vat)),
                    expected=_amount(expected),
                    code=line.vat_code,
                )
            ]
    return []


def _total_problems(item: BookItem) -> list[Message]:
    amounts = [line.amount_incl for line in item.lines if line.amount_incl is not None]
    lines_total = sum(amounts, Decimal("0.00"))
    total = item.amount if item.amount is not None else lines_total
    found = []
    if item.amount is not None and Decimal(item.amount) != cents(Decimal(item.amount)):
        found.append(N_("The amount has more than two decimals"))
    if total < 0 and item.kind not in NEGATIVE_ALLOWED:
        found.append(N_("A negative amount is only possible on a credit note"))
    if item.amount is not None and amounts and lines_total != item.amount:
        found.append(
            N_(
                "The lines add up to %(lines)s incl. VAT, the item's amount is %(amount)s: "
                "a difference of %(difference)s",
                lines=_amount(lines_total, item.currency),
                amount=_amount(Decimal(item.amount), item.currency),
                difference=_amount(Decimal(item.amount) - lines_total, item.currency),
            )
        )
    return found


# --- bulk --------------------------------------------------------------------------------------


@dataclass
class BulkValues:
    """Pre-accounting values to assign to many items; None leaves a field as it is."""

    supplier_code: str | None = None
    journal_code: str | None = None
    gl_account_code: str | None = None
    vat_code: str | None = None
    cost_center: str | None = None
    cost_unit: str | None = None
    description: str | None = None
    entry_date: date | None = None

    def empty(self) -> bool:
        return all(getattr(self, f.name) in (None, "") for f in fields(self))


def selected_items(account_id: int, item_ids: list[int]) -> list[BookItem]:
    """The selected items that are this account's (another account's ids are ignored), with
    their lines, in one query plus one for the lines."""
    if not item_ids:
        return []
    return list(
        db.session.scalars(
            select(BookItem)
            .where(BookItem.account_id == account_id, BookItem.id.in_(item_ids))
            .options(selectinload(BookItem.lines))
            .order_by(BookItem.id)
        )
    )


def bulk_assign(
    items: list[BookItem], values: BulkValues, master: MasterData, user: User
) -> list[BookItem]:
    """Assign the given values to every item (item fields) and every line (GL account, VAT,
    dimensions); amounts stay, a line whose VAT code changes gets its VAT split again from its
    amount incl. VAT. An item without lines gets one of its amount. Exported items are
    skipped. Returns the items changed."""
    changed = []
    fraction = master.vat_percentage(values.vat_code) if values.vat_code else None
    with db.session.no_autoflush:
        for item in items:
            if _assign(item, values, master, fraction, user):
                changed.append(item)
    _flush_all()
    return changed


def _assign(item: BookItem, values: BulkValues, master: MasterData, fraction, user: User) -> bool:
    if item.locked or item.status not in EDITABLE:
        return False
    _assign_item(item, values, master)
    if not item.lines and (values.gl_account_code or values.vat_code):
        item.lines.append(ItemLine(position=0))
    for line in item.lines:
        _assign_line(item, line, values, fraction)
    _prepared(item, user)
    return True


def _assign_item(item: BookItem, values: BulkValues, master: MasterData) -> None:
    if values.supplier_code:
        supplier = master.find("accounts", values.supplier_code)
        item.supplier_code = values.supplier_code
        item.supplier_exact_id = supplier.exact_id if supplier else None
        item.supplier_unknown = False
    if values.journal_code:
        item.journal_code = values.journal_code
    if values.entry_date:
        item.entry_date = values.entry_date
    if values.description:
        item.description = values.description.strip()
    if item.due_date is None:
        item.due_date = default_due_date(
            master, item.supplier_code, item.entry_date or item.document_date
        )


def _assign_line(item: BookItem, line: ItemLine, values: BulkValues, fraction) -> None:
    if values.gl_account_code:
        line.gl_account_code = values.gl_account_code
    if values.cost_center:
        line.cost_center = values.cost_center
    if values.cost_unit:
        line.cost_unit = values.cost_unit
    if values.vat_code and values.vat_code != line.vat_code:
        line.vat_code, line.vat_percentage = values.vat_code, fraction
        incl = line.amount_incl
        if incl is None and len(item.lines) == 1:
            incl = item.amount
        if incl is not None:
            line.amount_excl, line.vat_amount = split_incl(Decimal(incl), fraction)


def _ready_problems(item: BookItem, master: MasterData, settings) -> list[Message]:
    if item.status == ItemStatus.READY:
        return []
    if item.locked or item.status not in EDITABLE:
        return [N_("This item was exported to Exact Online.")]
    return problems(item, master, settings)


def bulk_mark_ready(
    items: list[BookItem],
    master: MasterData,
    settings: BookkeepingSettings,
    user: User,
) -> tuple[list[BookItem], list[tuple[BookItem, list[Message]]]]:
    """Mark each valid item ready; (the items made ready, (item, problems) of the others)."""
    for entity in ("gl_accounts", "vat_codes", "journals", "cost_centers", "cost_units"):
        master.all(entity)  # one query per list, not one per code
    ready, refused = [], []
    with db.session.no_autoflush:
        for item in items:
            found = _ready_problems(item, master, settings)
            if found:
                refused.append((item, found))
            elif item.status != ItemStatus.READY:
                item.status = ItemStatus.READY
                item.ready_by_id, item.ready_at = user.id, clock.now()
                if item.prepared_at is None:
                    item.prepared_by_id, item.prepared_at = user.id, item.ready_at
                ready.append(item)
    _flush_all()
    return ready, refused
