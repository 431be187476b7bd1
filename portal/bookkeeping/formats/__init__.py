"""Pure parsers of the files clients and banks send: receipts, e-invoices, bank statements.

Nothing here touches the database, Flask or the network: bytes go in, plain dataclasses come
out, and anything wrong with a file raises ``FormatError`` with a message (``portal.messages.N_``)
that can be shown to the user in their language.

- ``sniff(data)`` / ``check_readable(data, file_type)``: what an upload is, and that it opens.
- ``parse_ubl(data)``: a UBL 2.1 (Peppol BIS Billing 3.0) invoice or credit note.
- ``parse_facturx(pdf)``: the CII invoice inside a Factur-X / ZUGFeRD PDF, or ``None``.
- ``parse_statement(data)``: the statements of an MT940 or camt.053 file.

Amounts are ``Decimal`` with two places, never float; a credit note's amounts are negative.
VAT percentages are as the document gives them (21 for 21 %).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from portal.messages import Message


class FormatError(ValueError):
    """A file that cannot be read as what it claims to be; ``message`` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message.render() if isinstance(self.message, Message) else str(self.message)


class FileType(enum.StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    HEIC = "heic"
    XML = "xml"


class InvoiceKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


@dataclass
class Party:
    name: str | None
    vat: str | None
    coc: str | None  # KvK (NL) / KBO (BE) number: the legal entity's registration
    iban: str | None  # compact, validated; None when absent or invalid
    endpoint: str | None  # Peppol address "scheme:id", e.g. "0106:12345678"


@dataclass
class InvoiceLine:
    description: str
    quantity: Decimal | None
    net_amount: Decimal
    vat_category: str | None
    vat_percent: Decimal | None


@dataclass
class VatSubtotal:
    category: str | None
    percent: Decimal | None
    taxable: Decimal
    tax: Decimal


@dataclass
class Attachment:
    filename: str
    mime: str
    data: bytes


@dataclass
class Invoice:
    kind: InvoiceKind
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    supplier: Party
    payment_reference: str | None
    lines: list[InvoiceLine]
    vat: list[VatSubtotal]
    total_excl: Decimal
    total_vat: Decimal
    total_incl: Decimal
    payable: Decimal
    attachment: Attachment | None
    source: str  # "ubl" | "factur-x"
    type_code: str | None = None  # UNTDID 1001 document type as sent (380, 381, …)


@dataclass
class StatementLine:
    key: str
    booking_date: date
    value_date: date | None
    amount: Decimal
    currency: str
    counterparty_name: str | None
    counterparty_iban: str | None
    description: str
    end_to_end_id: str | None
    bank_reference: str | None
    reversal: bool = False


@dataclass
class Statement:
    format: str  # "mt940" | "camt053"
    iban: str
    currency: str
    statement_id: str | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    lines: list[StatementLine] = field(default_factory=list)


def clean_iban(value: str | None) -> str | None:
    """``value`` as a compact, valid IBAN (checksum and country format), else ``None``."""
    if not value:
        return None
    try:
        return IBAN(value.strip()).compact
    except (SchwiftyException, ValueError):
        return None


from portal.bookkeeping.formats.facturx import parse_facturx  # noqa: E402
from portal.bookkeeping.formats.files import check_readable, sniff  # noqa: E402
from portal.bookkeeping.formats.statements import parse_statement  # noqa: E402
from portal.bookkeeping.formats.ubl import parse_ubl  # noqa: E402

__all__ = [
    "Attachment",
    "FileType",
    "FormatError",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "Party",
    "Statement",
    "StatementLine",
    "VatSubtotal",
    "check_readable",
    "clean_iban",
    "parse_facturx",
    "parse_statement",
    "parse_ubl",
    "sniff",
]
