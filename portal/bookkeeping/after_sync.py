"""What the bookkeeping does when a client's master data has been synced again: rules are
resolved against the (possibly new) division, and items whose supplier was unknown look for it
again — the office created it in Exact, the sync brought it in, the item finds it. Items and
lines that arrived before the master data get its proposals now: the journal, and the VAT code
of a line's rate. Exported items whose entry the sync brought in (its transaction lines) are
"seen in Exact"."""

from __future__ import annotations

from sqlalchemy import func, select, update

from portal import clock
from portal.bookkeeping import rules
from portal.bookkeeping.masterdata import MasterData
from portal.exact.sync import current_rows
from portal.extensions import db
from portal.models import Account, BookItem, ExactRecord, ItemLine, ItemStatus

OPEN = (ItemStatus.NEW, ItemStatus.PREPARED)


def after_sync(account_id: int) -> int:
    """Refresh the rules' Exact IDs and match unknown suppliers; returns the items matched.
    Commits."""
    account = db.session.get(Account, account_id)
    if account is None:
        return 0
    master = MasterData.of(account)
    if not master.linked:
        return 0
    rules.refresh_rule_ids(account, master)
    matched = rematch_suppliers(account, master)
    fill_vat_codes(account, master)
    fill_journals(account, master)
    mark_seen_in_exact(account, master)
    db.session.commit()
    return matched


def rematch_suppliers(account: Account, master: MasterData) -> int:
    """Open items flagged "unknown supplier" matched again by VAT number, then name."""
    items = db.session.scalars(
        select(BookItem).where(
            BookItem.account_id == account.id,
            BookItem.status.in_(OPEN),
            BookItem.supplier_unknown.is_(True),
            BookItem.supplier_code.is_(None),
        )
    ).all()
    matched = 0
    for item in items:
        supplier = master.supplier_for(item.supplier_vat, item.supplier_name)
        if supplier is None:
            continue
        item.supplier_code, item.supplier_exact_id = supplier.code, supplier.exact_id
        item.supplier_unknown = False
        rules.propose(item, master)
        matched += 1
    db.session.flush()
    return matched


def fill_vat_codes(account: Account, master: MasterData) -> int:
    """Open items' lines with a rate but no VAT code get the one purchase code of that rate."""
    lines = db.session.scalars(
        select(ItemLine)
        .join(BookItem, BookItem.id == ItemLine.item_id)
        .where(
            BookItem.account_id == account.id,
            BookItem.status.in_(OPEN),
            ItemLine.vat_code.is_(None),
            ItemLine.vat_percentage.is_not(None),
        )
    ).all()
    filled = 0
    for line in lines:
        code = master.purchase_vat_code(line.vat_percentage)
        if code is not None:
            line.vat_code, filled = code, filled + 1
    db.session.flush()
    return filled


def fill_journals(account: Account, master: MasterData) -> int:
    """Open items without a journal get the default one of their kind (if there is one)."""
    items = db.session.scalars(
        select(BookItem).where(
            BookItem.account_id == account.id,
            BookItem.status.in_(OPEN),
            BookItem.journal_code.is_(None),
        )
    ).all()
    for item in items:
        rules.propose_defaults(item, master)
    db.session.flush()
    return sum(1 for item in items if item.journal_code)


def mark_seen_in_exact(account: Account, master: MasterData) -> int:
    """Exported items whose entry is among the synced transaction lines (``EntryID``) are
    "seen in Exact" from now on; one statement for all of them. Returns how many."""
    entry_ids = select(func.lower(ExactRecord.data["EntryID"].as_string())).where(
        *current_rows(master.link),
        ExactRecord.entity == "transaction_lines",
        ExactRecord.deleted_at.is_(None),
    )
    return db.session.execute(
        update(BookItem)
        .where(
            BookItem.account_id == account.id,
            BookItem.status == ItemStatus.EXPORTED,
            BookItem.seen_in_exact_at.is_(None),
            BookItem.exact_entry_id.is_not(None),
            func.lower(BookItem.exact_entry_id).in_(entry_ids),
        )
        .values(seen_in_exact_at=clock.now())
        .execution_options(synchronize_session=False)
    ).rowcount
