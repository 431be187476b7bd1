"""A bank debit and the receipt (or e-invoice) of the same payment, paired.

Two items pair when they are of the same account, one a ``BANK`` item and the other a
``RECEIPT``/``EINVOICE`` item, neither paired yet, of the same absolute amount (exactly, in
Decimal), dated at most ``PAIRING_DAYS`` apart, and of the same counterparty: the same
supplier code, or the same IBAN, or names that are equal ignoring case, spaces and punctuation
(or one holds the other: "Kantoor Plus" and "KANTOOR PLUS BV"), or the document has no supplier
at all yet (a photographed receipt not read yet). Of several candidates the closest date wins,
then the oldest item.

A bank item left unpaired is "receipt missing" (``receipt_missing``). Pairing is set on both
items (``paired_item_id``); nothing here commits: the caller's action does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import Select, func, select

from portal.bookkeeping.masterdata import compact
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import BookItem, ItemKind

PAIRING_DAYS = 4
HAND_PAIRING_DAYS = 90  # how far the candidates offered for pairing by hand go
DOCUMENT_KINDS = (ItemKind.RECEIPT, ItemKind.EINVOICE)
MIN_CONTAINED_NAME = 4  # a shorter name must equal the other one, not just be part of it


class PairingError(ValueError):
    """Two items that cannot be paired; ``message`` says why, for the user."""

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


def _side(item: BookItem) -> str | None:
    if item.kind == ItemKind.BANK:
        return "bank"
    if item.kind in DOCUMENT_KINDS:
        return "document"
    return None


def _other_kinds(item: BookItem) -> tuple[ItemKind, ...]:
    return DOCUMENT_KINDS if item.kind == ItemKind.BANK else (ItemKind.BANK,)


def _names_match(a: str | None, b: str | None) -> bool:
    a, b = compact(a), compact(b)
    if not a or not b:
        return False
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= MIN_CONTAINED_NAME and shorter in longer


def same_counterparty(bank: BookItem, document: BookItem) -> bool:
    """Whether a bank item and a document are of the same counterparty (see the module)."""
    if not (document.supplier_code or document.supplier_name or document.supplier_iban):
        return True
    if bank.supplier_code and bank.supplier_code == document.supplier_code:
        return True
    if bank.supplier_iban and compact(bank.supplier_iban) == compact(document.supplier_iban):
        return True
    return _names_match(bank.supplier_name, document.supplier_name)


def matches(item: BookItem, other: BookItem) -> bool:
    """Whether ``other`` is the other half of ``item``'s payment."""
    if item.account_id != other.account_id or item.id == other.id:
        return False
    sides = {_side(item), _side(other)}
    if sides != {"bank", "document"}:
        return False
    if item.paired_item_id is not None or other.paired_item_id is not None:
        return False
    if item.amount is None or other.amount is None or abs(item.amount) != abs(other.amount):
        return False
    if item.document_date is None or other.document_date is None:
        return False
    if abs((item.document_date - other.document_date).days) > PAIRING_DAYS:
        return False
    bank, document = (item, other) if item.kind == ItemKind.BANK else (other, item)
    return same_counterparty(bank, document)


def _distance(item: BookItem, other: BookItem) -> tuple[int, int]:
    return abs((item.document_date - other.document_date).days), other.id


def _pairable(item: BookItem) -> bool:
    return (
        _side(item) is not None
        and item.paired_item_id is None
        and item.amount is not None
        and item.document_date is not None
    )


def _candidates(account_id: int, kinds: Iterable[ItemKind], items: list[BookItem]) -> list:
    """Unpaired items of ``kinds`` dated near any of ``items`` (one query for them all)."""
    first = min(i.document_date for i in items) - timedelta(days=PAIRING_DAYS)
    last = max(i.document_date for i in items) + timedelta(days=PAIRING_DAYS)
    return list(
        db.session.scalars(
            select(BookItem).where(
                BookItem.account_id == account_id,
                BookItem.kind.in_(list(kinds)),
                BookItem.paired_item_id.is_(None),
                BookItem.document_date.between(first, last),
                BookItem.amount.is_not(None),
            )
        )
    )


def link(item: BookItem, other: BookItem) -> None:
    """Pair the two (both must have ids: flushed)."""
    item.paired_item_id = other.id
    other.paired_item_id = item.id


def pair_item(item: BookItem) -> BookItem | None:
    """Pair a bank item with its receipt or a receipt with its bank item, when there is one;
    the item it was paired with, or None."""
    if not _pairable(item):
        return None
    if item.id is None:
        db.session.flush()
    candidates = _candidates(item.account_id, _other_kinds(item), [item])
    found = [c for c in candidates if matches(item, c)]
    if not found:
        return None
    best = min(found, key=lambda c: _distance(item, c))
    link(item, best)
    return best


def pair_items(items: list[BookItem]) -> int:
    """Pair many items of one account and one kind side (an import's new bank items) with one
    query for all their candidates; the number paired. Earlier-dated items choose first."""
    items = [i for i in items if _pairable(i)]
    if not items:
        return 0
    if any(i.id is None for i in items):
        db.session.flush()
    taken: set[int] = set()
    paired = 0
    by_amount: dict = {}
    for candidate in _candidates(items[0].account_id, _other_kinds(items[0]), items):
        by_amount.setdefault(abs(candidate.amount), []).append(candidate)
    for item in sorted(items, key=lambda i: (i.document_date, i.id)):
        found = [
            c for c in by_amount.get(abs(item.amount), []) if c.id not in taken and matches(item, c)
        ]
        if found:
            best = min(found, key=lambda c: _distance(item, c))
            link(item, best)
            taken.add(best.id)
            paired += 1
    return paired


def unpair(item: BookItem) -> BookItem | None:
    """Undo an item's pairing; the item it was paired with, or None when it was not paired."""
    if item.paired_item_id is None:
        return None
    other = db.session.get(BookItem, item.paired_item_id)
    item.paired_item_id = None
    if other is not None and other.paired_item_id == item.id:
        other.paired_item_id = None
    return other


def pair_by_hand(item: BookItem, other: BookItem) -> None:
    """Pair two items a person chose: one bank item and one receipt or e-invoice of the same
    account, neither paired yet (amount and date are the person's call); ``PairingError``."""
    if item.account_id != other.account_id:
        raise PairingError(N_("These items are not of the same account."))
    if {_side(item), _side(other)} != {"bank", "document"}:
        raise PairingError(
            N_("A bank transaction can only be paired with a receipt or an e-invoice.")
        )
    for one in (item, other):
        if one.paired_item_id is not None:
            raise PairingError(
                N_(
                    "Item %(id)s is already paired; unpair it first.",
                    id=one.id,
                )
            )
    link(item, other)


def hand_candidates(item: BookItem, limit: int = 50) -> list[BookItem]:
    """What a person may pair the item with: unpaired items of the other side dated within
    ``HAND_PAIRING_DAYS``; the same amount first, then the closest date."""
    if _side(item) is None or item.document_date is None:
        return []
    first = item.document_date - timedelta(days=HAND_PAIRING_DAYS)
    last = item.document_date + timedelta(days=HAND_PAIRING_DAYS)
    rows = db.session.scalars(
        select(BookItem)
        .where(
            BookItem.account_id == item.account_id,
            BookItem.kind.in_(list(_other_kinds(item))),
            BookItem.paired_item_id.is_(None),
            BookItem.id != item.id,
            BookItem.document_date.between(first, last),
        )
        .limit(1000)
    ).all()
    amount = abs(item.amount) if item.amount is not None else None

    def order(other: BookItem):
        same = other.amount is not None and amount is not None and abs(other.amount) == amount
        return (not same, abs((other.document_date - item.document_date).days), other.id)

    return sorted(rows, key=order)[:limit]


def receipt_missing(account_id: int) -> Select:
    """Bank items without a receipt, newest first (a select, for paging)."""
    return (
        select(BookItem)
        .where(
            BookItem.account_id == account_id,
            BookItem.kind == ItemKind.BANK,
            BookItem.paired_item_id.is_(None),
        )
        .order_by(BookItem.document_date.desc(), BookItem.id.desc())
    )


def count_receipt_missing(account_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(receipt_missing(account_id).subquery())
    )
