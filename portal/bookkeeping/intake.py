"""What arrives becomes an item to prepare: an uploaded receipt, or an e-invoice read line by line.

``receive`` checks and stores the file (``files``) and makes the ``BookItem`` in the caller's
transaction: the caller commits, and on any refusal (``UploadRefused``) rolls back, which also
deletes the stored bytes. Everything that can refuse a file is checked before anything is
written.

- A plain PDF, JPEG, PNG or HEIC is a receipt: its amount, supplier and lines are filled in
  while preparing.
- A PDF with a Factur-X / ZUGFeRD invoice inside, or a UBL invoice or credit note (XML), is an
  e-invoice: supplier, number, dates, currency, amount incl. VAT (negative for a credit note)
  and one line per VAT rate come from the invoice. The receipt Exact gets is the PDF itself, or
  the PDF embedded in the UBL file (the XML when it has none that opens).

Exact stays the source of truth: the supplier is the synced supplier with the invoice's VAT
number (else its name), the VAT code the one synced purchase VAT code with the invoice's rate;
when there is none (or more than one) the field stays empty for the preparer, and a supplier
not in Exact is flagged (``supplier_unknown``) so the office creates it there and syncs.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal.bookkeeping import rules
from portal.bookkeeping.files import (
    LocalDay,
    UploadRefused,
    check_upload,
    clean_filename,
    store_checked,
)
from portal.bookkeeping.formats import (
    FileType,
    FormatError,
    Invoice,
    InvoiceLine,
    VatSubtotal,
    check_readable,
    parse_facturx,
    parse_ubl,
)
from portal.bookkeeping.masterdata import MasterData
from portal.bookkeeping.pairing import pair_item
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import Account, BookItem, ItemKind, ItemLine, ItemStatus, User

#: Lines of an invoice kept in the item's ``source`` (a 10,000-line invoice keeps its totals).
SOURCE_LINES = 200
_RATE = Decimal("0.0001")


def receive(
    account: Account,
    user: User | None,
    filename: str,
    data: bytes,
    category_id: int | None = None,
) -> BookItem:
    """The item for an uploaded file, or ``UploadRefused`` with the reason in words. A category
    the uploader chose is kept with the item: its rule proposes GL account and VAT code."""
    file_type = check_upload(data)
    invoice = _read_invoice(data, file_type)
    if invoice is not None:
        _refuse_received_twice(account, invoice)
    receipt_name, receipt, receipt_type = _receipt_of(filename, data, file_type, invoice)
    stored = store_checked(account, user, receipt_name, receipt, receipt_type)
    item = BookItem(
        account_id=account.id,
        kind=ItemKind.EINVOICE if invoice is not None else ItemKind.RECEIPT,
        status=ItemStatus.NEW,
        file_id=stored.id,
        created_by_id=user.id if user is not None else None,
        source={"upload": {"filename": clean_filename(filename), "type": file_type.value}},
    )
    if category_id is not None:
        item.source["category_id"] = category_id
    item.file = stored
    master = MasterData.of(account)
    if invoice is not None:
        _fill_from_invoice(item, invoice, master)
        item.source = {**item.source, "invoice": summary(invoice)}
        if receipt_type == FileType.XML and invoice.attachment is not None:
            item.source["invoice"]["attachment_unreadable"] = True
    db.session.add(item)
    rules.propose(item, master)
    db.session.flush()
    pair_item(item)  # the bank or card transaction of the same payment, when it is there
    return item


# --- reading ------------------------------------------------------------------------------------


def _read_invoice(data: bytes, file_type: FileType) -> Invoice | None:
    try:
        if file_type == FileType.XML:
            return parse_ubl(data)
        if file_type == FileType.PDF:
            return parse_facturx(data)
    except FormatError as error:
        message = error.message
        raise UploadRefused(
            message if isinstance(message, Message) else Message("%(text)s", text=str(message))
        ) from error
    return None


def _receipt_of(
    filename: str, data: bytes, file_type: FileType, invoice: Invoice | None
) -> tuple[str, bytes, FileType]:
    """(name, bytes, type) of the file kept as the item's receipt."""
    attachment = invoice.attachment if invoice is not None else None
    if file_type == FileType.XML and attachment is not None:
        try:
            check_readable(attachment.data, FileType.PDF)
        except FormatError:
            return filename, data, file_type  # keep the XML: nothing of the invoice is lost
        return attachment.filename, attachment.data, FileType.PDF
    return filename, data, file_type


def _refuse_received_twice(account: Account, invoice: Invoice) -> None:
    """Refuse an invoice number this account already received from the same supplier (by
    VAT number, else by name), even when the file differs (a re-sent copy)."""
    vat = compact_vat(invoice.supplier.vat)
    name = _fit(invoice.supplier.name, 255)
    if not vat and not name:
        return
    query = select(BookItem).where(
        BookItem.account_id == account.id,
        BookItem.kind == ItemKind.EINVOICE,
        BookItem.invoice_number == _fit(invoice.number, 64),
    )
    query = (
        query.where(BookItem.supplier_vat == vat)
        if vat
        else query.where(BookItem.supplier_name == name)
    )
    earlier = db.session.scalar(query.order_by(BookItem.id).limit(1))
    if earlier is not None:
        raise UploadRefused(
            N_(
                "Invoice %(number)s of %(supplier)s was already received on %(date)s.",
                number=invoice.number,
                supplier=invoice.supplier.name or vat,
                date=LocalDay(earlier.created_at),
            )
        )


# --- the item from an e-invoice -----------------------------------------------------------------


def _fill_from_invoice(item: BookItem, invoice: Invoice, master: MasterData) -> None:
    supplier = invoice.supplier
    item.supplier_name = _fit(supplier.name, 255)
    item.supplier_vat = compact_vat(supplier.vat)
    item.supplier_coc = _fit(supplier.coc, 32)
    item.supplier_iban = _fit(supplier.iban, 34)
    item.invoice_number = _fit(invoice.number, 64)
    item.document_date = invoice.issue_date
    item.entry_date = invoice.issue_date
    item.currency = (invoice.currency or "EUR").upper()[:3]
    item.amount = invoice.total_incl
    found = master.supplier_for(supplier.vat, supplier.name)
    item.supplier_unknown = found is None
    if found is not None:
        item.supplier_code = found.code
        item.supplier_exact_id = found.exact_id
    item.due_date = invoice.due_date
    if item.due_date is None and found is not None:
        days = master.payment_days(found.code)
        if days is not None:
            item.due_date = invoice.issue_date + timedelta(days=days)
    item.lines = _lines(invoice, master)


def _lines(invoice: Invoice, master: MasterData) -> list[ItemLine]:
    """One line per VAT rate of the invoice's breakdown (the amounts as the invoice gives them)."""
    lines = []
    for position, subtotal in enumerate(invoice.vat):
        fraction = vat_fraction(subtotal.percent)
        lines.append(
            ItemLine(
                position=position,
                description=_describe(_lines_of(invoice, subtotal)),
                vat_percentage=fraction,
                vat_code=master.purchase_vat_code(fraction),
                amount_excl=subtotal.taxable,
                vat_amount=subtotal.tax,
            )
        )
    if not lines:  # no breakdown at all: one line with the totals
        lines.append(
            ItemLine(
                position=0,
                description=_describe(invoice.lines),
                amount_excl=invoice.total_excl,
                vat_amount=invoice.total_vat,
            )
        )
    return lines


def vat_fraction(percent: Decimal | None) -> Decimal | None:
    """A document's VAT percentage (21) as Exact's fraction (0.21)."""
    return None if percent is None else (percent / 100).quantize(_RATE)


def _lines_of(invoice: Invoice, subtotal: VatSubtotal) -> list[InvoiceLine]:
    if len(invoice.vat) == 1:
        return invoice.lines
    return [
        line
        for line in invoice.lines
        if line.vat_percent == subtotal.percent
        and (line.vat_category or None) in (subtotal.category, None)
    ]


def _describe(lines: list[InvoiceLine]) -> str | None:
    names: list[str] = []
    for line in lines:
        name = " ".join((line.description or "").split())
        if name and name not in names:
            names.append(name)
    text = "; ".join(names)
    return _fit(text, 255) or None


def compact_vat(vat: str | None) -> str | None:
    """A VAT number as the items keep it: upper case, without spaces, dots or dashes."""
    if not vat:
        return None
    return _fit("".join(ch for ch in vat.upper() if ch.isalnum()), 32) or None


def _fit(text: str | None, size: int) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) <= size:
        return text
    return text[: size - 1] + "…"


def summary(invoice: Invoice) -> dict[str, Any]:
    """What the invoice said, kept with the item as it came (amounts as text, never float)."""

    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    party = invoice.supplier
    return {
        "format": invoice.source,
        "kind": invoice.kind.value,
        "type_code": invoice.type_code,
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "currency": invoice.currency,
        "supplier": {
            "name": party.name,
            "vat": party.vat,
            "coc": party.coc,
            "iban": party.iban,
            "endpoint": party.endpoint,
        },
        "payment_reference": invoice.payment_reference,
        "lines": [
            {
                "description": line.description,
                "quantity": money(line.quantity),
                "net_amount": money(line.net_amount),
                "vat_category": line.vat_category,
                "vat_percent": money(line.vat_percent),
            }
            for line in invoice.lines[:SOURCE_LINES]
        ],
        "line_count": len(invoice.lines),
        "vat": [
            {
                "category": sub.category,
                "percent": money(sub.percent),
                "taxable": money(sub.taxable),
                "tax": money(sub.tax),
            }
            for sub in invoice.vat
        ],
        "totals": {
            "excl": money(invoice.total_excl),
            "vat": money(invoice.total_vat),
            "incl": money(invoice.total_incl),
            "payable": money(invoice.payable),
        },
        "attachment": invoice.attachment.filename if invoice.attachment else None,
    }
