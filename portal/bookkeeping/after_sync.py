"""What the bookkeeping does when a client's master data has been synced again: rules are
resolved against the (possibly new) division, and items whose supplier was unknown look for it
again — the office created it in Exact, the sync brought it in, the item finds it."""

from __future__ import annotations

from sqlalchemy import select

from portal.bookkeeping import rules
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.models import Account, BookItem, ItemStatus

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
