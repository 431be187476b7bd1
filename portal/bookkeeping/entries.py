"""What an item becomes in Exact Online: the bodies the export POSTs (purchase entry, general
journal entry, the receipt's document and attachment), our reference, and Exact's refusals in
the bookkeeper's words with the item form's field they concern.

Nothing here calls Exact or reads a request: the export (``export.run_export``) posts these
bodies through the Exact client and hands a refusal to ``explain``.

Exact has no idempotency key. Our reference (``reference``, "PX<item id>") starts the entry's
``Description`` (a general journal entry has none in Exact: its employee line's), which Exact
keeps and can filter on; ``lookup_path``/``lookup_params`` find the entry again
before any retry. So ``description`` must give the same text for an item on every attempt: it
is built only from what arrived with the item (the supplier's name and invoice number as the
document gave them, the claim's title and employee), which preparing never changes, and never
from what a preparer types (a failed item is editable between two attempts).

Codes are resolved again against the synced master data of the current division at export
time; one that no longer resolves (deleted, blocked, wrong type) is ``CannotExport`` naming it
and the form field it concerns, before anything is sent.

Amounts: the bodies carry JSON numbers (``float``), as every Exact client sends ``Edm.Double``.
That is exact for our amounts: a Decimal of two places below 10^12 has at most 14 significant
digits, so ``float`` gives the nearest double and ``repr`` (what ``json.dumps`` writes) gives
the shortest text that reads back to that double — the Decimal's own text. ``_number`` asserts
the round trip for every amount and refuses anything else (``CannotExport``), so Exact books
exactly the Decimal the preparer saw.
"""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import Decimal

from portal.bookkeeping.masterdata import GENERAL_JOURNAL, PURCHASE_JOURNAL, MasterData, Option
from portal.bookkeeping.money import cents
from portal.bookkeeping.rules import code_problem
from portal.exact.client.errors import (
    FORBIDDEN_REASONS,
    ExactError,
    ExactForbidden,
    ExactValidationError,
    Text,
    missing_right,
)
from portal.exact.client.parsing import format_date
from portal.messages import N_, Message
from portal.models import BookItem, BookkeepingSettings, ItemKind, ItemLine

PURCHASE_PATH = "purchaseentry/PurchaseEntries"
JOURNAL_PATH = "generaljournalentry/GeneralJournalEntries"
LINES_PATH = "financialtransaction/TransactionLines"
DOCUMENTS_PATH = "documents/Documents"
ATTACHMENTS_PATH = "documents/DocumentAttachments"

REFERENCE_PREFIX = "PX"
DESCRIPTION_LENGTH = 60  # Exact's entry Description
LINE_DESCRIPTION_LENGTH = 60
SUBJECT_LENGTH = 200  # a document's Subject
DOCUMENT_TYPE_PURCHASE_INVOICE = 20  # Exact's document types: 10 is a *sales* invoice
DOCUMENT_TYPE_GENERAL_ATTACHMENT = 183
MAX_AMOUNT = Decimal("1000000000000")  # 10^12: below it two decimals survive float exactly


class CannotExport(Exception):
    """Something of the item does not (any more) resolve in Exact's synced data; ``message``
    says what in words, ``field`` names the item form's field it concerns (None: the item)."""

    def __init__(self, message: Message, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


# --- our reference and the texts Exact keeps ----------------------------------------------------


def reference(item: BookItem) -> str:
    """Our reference: short, and unique across the portal (item ids are)."""
    return f"{REFERENCE_PREFIX}{item.id}"


def _clean(text: object) -> str:
    """One line of text: no line breaks or runs of spaces (Exact shows one line)."""
    return " ".join(str(text or "").split())


def _arrived_text(item: BookItem) -> str:
    """What the entry is, from what arrived with the item only (never edited later)."""
    if item.kind == ItemKind.CLAIM:
        source = item.source or {}
        return " – ".join(
            part
            for part in (_clean(source.get("employee_name")), _clean(source.get("title")))
            if part
        )
    parts = [_clean(item.supplier_name), _clean(item.invoice_number)]
    text = " ".join(part for part in parts if part)
    if text:
        return text
    if item.file is not None:
        return _clean(item.file.filename)
    return _clean(item.description)


def _with_reference(ref: str, text: str, length: int) -> str:
    """``ref`` whole at the start, then as much of ``text`` as fits in ``length``."""
    if not text:
        return ref[:length] if len(ref) > length else ref
    return f"{ref} {text}"[:length].rstrip()


def description(item: BookItem) -> str:
    """The entry's Description: our reference, then the supplier and invoice number (or the
    claim's employee and title), at most 60 characters. The same for an item on every attempt:
    the export looks the entry up by it (see the module)."""
    return _with_reference(reference(item), _arrived_text(item), DESCRIPTION_LENGTH)


def _odata_string(text: str) -> str:
    """A string literal for ``$filter``: quoted, a quote doubled (OData)."""
    return "'" + text.replace("'", "''") + "'"


def lookup_path(item: BookItem) -> str:
    """Where the item's entry is found again: a purchase entry by its own Description; a
    general journal entry has none (Exact documents no Description on its header), so by the
    Description of its employee line, among the transaction lines it booked."""
    return LINES_PATH if item.kind == ItemKind.CLAIM else PURCHASE_PATH


def lookup_params(item: BookItem) -> dict:
    """The query that finds the item's entry in Exact again (by our Description)."""
    return {
        "$filter": f"Description eq {_odata_string(description(item))}",
        "$select": "EntryID,EntryNumber,Description",
    }


def entry_path(item: BookItem) -> str:
    """An expense claim is a general journal entry; everything else a purchase entry."""
    return JOURNAL_PATH if item.kind == ItemKind.CLAIM else PURCHASE_PATH


# --- amounts and codes --------------------------------------------------------------------------


def _number(value: Decimal | int | None, field: str | None = None) -> float:
    """A Decimal amount as the JSON number Exact reads, exactly (see the module)."""
    amount = Decimal(value if value is not None else 0)
    if amount != cents(amount) or abs(amount) >= MAX_AMOUNT:
        raise CannotExport(
            N_("The amount %(amount)s cannot be sent to Exact Online.", amount=str(amount)), field
        )
    number = float(amount)
    if Decimal(repr(number)) != amount:  # the proof, for every amount sent
        raise CannotExport(
            N_("The amount %(amount)s cannot be sent to Exact Online.", amount=str(amount)), field
        )
    return number


def _resolve(master: MasterData, entity: str, code: str | None, field: str) -> Option:
    """The live, unblocked row of ``code``; else ``CannotExport`` saying why."""
    problem = code_problem(master, entity, code)
    if problem is not None:
        raise CannotExport(problem, field)
    found = master.find(entity, code)
    if found is None:  # pragma: no cover - code_problem reports a missing row
        raise CannotExport(N_("%(code)s is not in Exact Online", code=code), field)
    return found


def _line_field(index: int, name: str) -> str:
    return f"lines-{index}-{name}"


def _journal(master: MasterData, item: BookItem, journal_type: int) -> str:
    if not item.journal_code:
        raise CannotExport(N_("Choose the journal"), "journal_code")
    journal = _resolve(master, "journals", item.journal_code, "journal_code")
    if int(journal.data.get("Type") or 0) != journal_type:
        if journal_type == GENERAL_JOURNAL:
            message = N_("Journal %(code)s is not a general journal", code=item.journal_code)
        else:
            message = N_("Journal %(code)s is not a purchase journal", code=item.journal_code)
        raise CannotExport(message, "journal_code")
    return journal.code


def _entry_date(item: BookItem, master: MasterData, settings: BookkeepingSettings) -> date:
    day = item.entry_date
    if day is None:
        raise CannotExport(N_("Fill in the entry date"), "entry_date")
    if settings.closed_through is not None and day <= settings.closed_through:
        raise CannotExport(
            N_(
                "The period of %(date)s is closed (books closed through %(closed)s)",
                date=day.isoformat(),
                closed=settings.closed_through.isoformat(),
            ),
            "entry_date",
        )
    if master.period_of(day) is None:
        raise CannotExport(
            N_(
                "%(date)s falls in no financial period of Exact Online (synced periods)",
                date=day.isoformat(),
            ),
            "entry_date",
        )
    return day


def _line_description(item: BookItem, line: ItemLine) -> str | None:
    text = _clean(line.description) or _clean(item.description)
    return text[:LINE_DESCRIPTION_LENGTH] or None


def _entry_line(
    item: BookItem, index: int, line: ItemLine, master: MasterData, vat_field: str
) -> dict:
    """A line as both entry kinds take it: GL account (Exact ID), amount excl. VAT, the VAT as
    prepared (Exact books the receipt's VAT, it does not compute its own) under the kind's
    name for it (``vat_field``), dimensions."""
    if not line.gl_account_code:
        raise CannotExport(
            N_("Line %(n)d: choose a GL account", n=index + 1),
            _line_field(index, "gl_account_code"),
        )
    if line.amount_excl is None:
        raise CannotExport(
            N_("Line %(n)d: fill in the amount", n=index + 1), _line_field(index, "amount")
        )
    gl = _resolve(
        master, "gl_accounts", line.gl_account_code, _line_field(index, "gl_account_code")
    )
    body: dict = {
        "GLAccount": gl.exact_id,
        "AmountFC": _number(line.amount_excl, _line_field(index, "amount")),
    }
    if line.vat_code:
        body["VATCode"] = _resolve(
            master, "vat_codes", line.vat_code, _line_field(index, "vat_code")
        ).code
        body[vat_field] = _number(line.vat_amount, _line_field(index, "vat_amount"))
    if line.cost_center:
        body["CostCenter"] = _resolve(
            master, "cost_centers", line.cost_center, _line_field(index, "cost_center")
        ).code
    if line.cost_unit:
        body["CostUnit"] = _resolve(
            master, "cost_units", line.cost_unit, _line_field(index, "cost_unit")
        ).code
    text = _line_description(item, line)
    if text:
        body["Description"] = text
    return body


# The line's VAT amount: Exact names it differently on the two kinds of entry lines
PURCHASE_LINE_VAT, JOURNAL_LINE_VAT = "VATAmountFC", "AmountVATFC"


def _lines(item: BookItem, master: MasterData, vat_field: str) -> list[dict]:
    if not item.lines:
        raise CannotExport(N_("Add at least one line"), None)
    return [
        _entry_line(item, index, line, master, vat_field) for index, line in enumerate(item.lines)
    ]


# --- the entries --------------------------------------------------------------------------------


def entry_body(
    item: BookItem,
    master: MasterData,
    settings: BookkeepingSettings,
    document_id: str | None,
) -> dict:
    """The body to POST at ``entry_path(item)``; ``CannotExport`` when a code, the date or the
    amounts no longer fit what Exact has."""
    if not master.linked:
        raise CannotExport(N_("Link an Exact Online administration first"), None)
    if item.kind == ItemKind.CLAIM:
        return _journal_entry(item, master, settings, document_id)
    return _purchase_entry(item, master, settings, document_id)


def _purchase_entry(
    item: BookItem, master: MasterData, settings: BookkeepingSettings, document_id: str | None
) -> dict:
    if not item.supplier_code:
        raise CannotExport(N_("Choose the supplier"), "supplier_code")
    supplier = _resolve(master, "accounts", item.supplier_code, "supplier_code")
    body: dict = {
        "Journal": _journal(master, item, PURCHASE_JOURNAL),
        "Supplier": supplier.exact_id,
        "EntryDate": format_date(_entry_date(item, master, settings)),
    }
    if item.due_date is not None:
        body["DueDate"] = format_date(item.due_date)
    if _clean(item.invoice_number):
        body["YourRef"] = _clean(item.invoice_number)
    body["Description"] = description(item)
    body["Currency"] = item.currency or "EUR"
    if document_id:
        body["Document"] = document_id
    body["PurchaseEntryLines"] = _lines(item, master, PURCHASE_LINE_VAT)
    return body


def _journal_entry(
    item: BookItem, master: MasterData, settings: BookkeepingSettings, document_id: str | None
) -> dict:
    """An approved expense claim: the expenses debit (excl. VAT, with their VAT), the
    employee's GL account credit the total incl. VAT. Exact checks the balance, the sandbox
    does not: checked here."""
    journal = _journal(master, item, GENERAL_JOURNAL)
    day = _entry_date(item, master, settings)
    if not settings.employee_gl_account_code:
        raise CannotExport(
            N_("Set the employee GL account for expense claims in Settings."),
            "employee_gl_account_code",
        )
    employee_gl = _resolve(
        master, "gl_accounts", settings.employee_gl_account_code, "employee_gl_account_code"
    )
    lines = _lines(item, master, JOURNAL_LINE_VAT)
    total = sum((Decimal(line.amount_incl or 0) for line in item.lines), Decimal("0.00"))
    claimed = Decimal(item.amount) if item.amount is not None else total
    if total != claimed:
        raise CannotExport(
            N_(
                "The lines add up to %(lines)s incl. VAT, the claim's total is %(amount)s: the "
                "entry would not balance.",
                lines=str(total),
                amount=str(claimed),
            ),
            None,
        )
    employee_line = {  # our reference: the export finds the entry again by it
        "GLAccount": employee_gl.exact_id,
        "AmountFC": _number(-claimed),
        "Description": description(item),
    }
    stamp = format_date(day)
    all_lines = [*lines, employee_line]
    for line in all_lines:
        line["Date"] = stamp
        if document_id:  # the header has no Document in Exact: its lines do
            line["Document"] = document_id
    body: dict = {"JournalCode": journal, "Currency": item.currency or "EUR"}
    period = master.period_of(day)
    if period is not None:
        body["FinancialYear"], body["FinancialPeriod"] = period
    body["GeneralJournalEntryLines"] = all_lines
    return body


# --- the receipt ---------------------------------------------------------------------------------


def document_subject(item: BookItem, filename: str | None) -> str:
    """The document's Subject: our reference whole, then the file's name."""
    return _with_reference(reference(item), _clean(filename), SUBJECT_LENGTH)


def document_body(
    item: BookItem, document_id_subject: str, master: MasterData | None = None
) -> dict:
    """``documents/Documents`` for the item's receipt; ``document_id_subject`` is the file's
    name (pass ``item.file.filename``: ``document_lookup_params`` uses that). A purchase invoice
    for purchases, a general attachment for a claim; linked to the supplier when there is one
    (resolved again when ``master`` is given, else the ID stored when it was chosen)."""
    body: dict = {
        "Subject": document_subject(item, document_id_subject),
        "Type": (
            DOCUMENT_TYPE_GENERAL_ATTACHMENT
            if item.kind == ItemKind.CLAIM
            else DOCUMENT_TYPE_PURCHASE_INVOICE
        ),
    }
    day = item.document_date or item.entry_date
    if day is not None:
        body["DocumentDate"] = format_date(day)
    supplier_id = _supplier_id(item, master)
    if supplier_id:
        body["Account"] = supplier_id
    return body


def _supplier_id(item: BookItem, master: MasterData | None) -> str | None:
    if item.kind == ItemKind.CLAIM or not item.supplier_code:
        return None
    if master is None:
        return item.supplier_exact_id
    found = master.find("accounts", item.supplier_code)
    return found.exact_id if found is not None and not found.deleted else None


def document_lookup_params(item: BookItem) -> dict:
    """The query that finds the item's document in Exact again (by its Subject)."""
    filename = item.file.filename if item.file is not None else None
    subject = document_subject(item, filename)
    return {"$filter": f"Subject eq {_odata_string(subject)}", "$select": "ID,Subject"}


def attachment_body(document_id: str, filename: str, data: bytes) -> dict:
    """``documents/DocumentAttachments``: the file, base64, on the document."""
    return {
        "Document": document_id,
        "FileName": filename,
        "Attachment": base64.b64encode(data).decode("ascii"),
    }


# --- Exact's refusals in words ------------------------------------------------------------------

# Exact's words (English and Dutch) for what a refusal is about -> our key
_SUBJECTS = {
    "journal": ("journal", "dagboek"),
    "relationship": ("relationship", "relatie", "supplier", "leverancier", "account"),
    "gl": ("g/l account", "gl account", "grootboekrekening", "grootboek"),
    "amount": ("amount", "bedrag"),
    "vat": ("vat code", "btw-code", "btw code", "vat"),
    "costcenter": ("cost center", "cost centre", "kostenplaats"),
    "costunit": ("cost unit", "kostendrager"),
    "payment": ("payment condition", "betalingsconditie"),
    "document": ("document",),
    "currency": ("currency", "valuta"),
    "lines": ("lines", "regels"),
    "subject": ("subject", "onderwerp"),
    "type": ("type", "soort"),
    "filename": ("file name", "bestandsnaam"),
    "attachment": ("attachment", "bijlage"),
    "name": ("name", "naam"),
    "date": ("date", "datum"),
    "ourref": ("our ref", "onze ref"),
}
_KINDS = (
    ("reference", re.compile(r"^(invalid reference|ongeldige referentie)\s*:\s*(.+)$", re.I)),
    ("mandatory", re.compile(r"^(mandatory|verplicht)\s*:\s*(.+)$", re.I)),
    ("invalid", re.compile(r"^(invalid|ongeldig)\s*:\s*(.+)$", re.I)),
)
_NO_YEAR = re.compile(r"^(financial year|boekjaar)\s+(\d{4})\s+(does not exist|bestaat niet)", re.I)


def _subject_key(text: str) -> str | None:
    wanted = text.strip().strip(".").strip().lower()
    for key, words in _SUBJECTS.items():
        if wanted in words:
            return key
    return None


def _parts(raw: str) -> list[str]:
    """Exact may put several refusals in one message (a line or " / " apart)."""
    found = []
    for chunk in re.split(r"\r?\n| / ", raw or ""):
        chunk = chunk.strip()
        if chunk:
            found.append(chunk)
    return found


def _first_line_with(item: BookItem, attribute: str) -> int | None:
    return next((index for index, line in enumerate(item.lines) if getattr(line, attribute)), None)


def _line_target(item: BookItem, attribute: str, field: str | None = None) -> str | None:
    """The form field of the line a refusal is about: the only line, or the first one that
    has the value (Exact does not say which line)."""
    field = field or attribute
    if len(item.lines) == 1:
        return _line_field(0, field)
    index = _first_line_with(item, attribute)
    return _line_field(index, field) if index is not None else None


def _explain_part(kind: str, key: str, item: BookItem) -> tuple[Message, str | None] | None:
    handler = _EXPLAINERS.get(key)
    return handler(kind, item) if handler else None


def _journal_words(kind: str, item: BookItem):
    if kind == "mandatory":
        return N_("Exact Online needs a journal for this entry: choose the journal."), (
            "journal_code"
        )
    return (
        N_(
            "The journal %(code)s is not valid in Exact Online for this entry: choose another "
            "journal.",
            code=item.journal_code or "",
        ),
        "journal_code",
    )


def _supplier_words(kind: str, item: BookItem):
    code = item.supplier_code or ""
    if kind == "mandatory":
        return N_("Exact Online needs a supplier for this entry: choose the supplier."), (
            "supplier_code"
        )
    if kind == "reference":
        return (
            N_(
                "The supplier %(code)s does not exist in Exact Online (any more): sync, then "
                "choose the supplier again.",
                code=code,
            ),
            "supplier_code",
        )
    return (
        N_(
            "%(code)s is not a supplier in Exact Online: choose a supplier, or mark it as a "
            "supplier in Exact Online.",
            code=code,
        ),
        "supplier_code",
    )


def _gl_words(kind: str, item: BookItem):
    field = _line_target(item, "gl_account_code")
    if kind == "mandatory":
        return N_("Exact Online needs a GL account on every line: choose one."), field
    return (
        N_(
            "A GL account of this entry does not exist in Exact Online (any more): sync, then "
            "choose the GL account again."
        ),
        field,
    )


def _amount_words(kind: str, item: BookItem):
    return (
        N_("Exact Online needs an amount on every line: fill in the amount."),
        next(
            (
                _line_field(index, "amount")
                for index, line in enumerate(item.lines)
                if line.amount_excl is None
            ),
            _line_target(item, "amount_excl", "amount"),
        ),
    )


def _vat_words(kind: str, item: BookItem):
    return (
        N_(
            "A VAT code of this entry does not exist in Exact Online (any more): sync, then "
            "choose the VAT code again."
        ),
        _line_target(item, "vat_code"),
    )


def _cost_center_words(kind: str, item: BookItem):
    return (
        N_(
            "A cost center of this entry does not exist in Exact Online (any more): sync, then "
            "choose the cost center again."
        ),
        _line_target(item, "cost_center"),
    )


def _cost_unit_words(kind: str, item: BookItem):
    return (
        N_(
            "A cost unit of this entry does not exist in Exact Online (any more): sync, then "
            "choose the cost unit again."
        ),
        _line_target(item, "cost_unit"),
    )


def _payment_words(kind: str, item: BookItem):
    return (
        N_(
            "The supplier's payment condition does not exist in Exact Online: correct the "
            "supplier in Exact Online, or fill in the due date."
        ),
        "due_date",
    )


def _document_words(kind: str, item: BookItem):
    return (
        N_(
            "The receipt stored in Exact Online for this entry was not found there: export "
            "again to send it anew."
        ),
        None,
    )


def _currency_words(kind: str, item: BookItem):
    return (
        N_(
            "The currency %(currency)s is not the currency of this administration in Exact "
            "Online: book it in Exact Online itself.",
            currency=item.currency or "",
        ),
        None,
    )


def _date_words(kind: str, item: BookItem):
    return N_("Exact Online did not accept the entry date: check the date."), "entry_date"


def _reference_words(kind: str, item: BookItem):
    return (
        N_("Exact Online did not accept the invoice number the payment refers to."),
        None,
    )


def _lines_words(kind: str, item: BookItem):
    return N_("Exact Online needs at least one line: add a line."), None


def _receipt_words(kind: str, item: BookItem):
    return (
        N_("Exact Online did not accept the receipt's file: upload the receipt again."),
        None,
    )


_EXPLAINERS = {
    "journal": _journal_words,
    "relationship": _supplier_words,
    "gl": _gl_words,
    "amount": _amount_words,
    "vat": _vat_words,
    "costcenter": _cost_center_words,
    "costunit": _cost_unit_words,
    "payment": _payment_words,
    "document": _document_words,
    "currency": _currency_words,
    "lines": _lines_words,
    "subject": _receipt_words,
    "type": _receipt_words,
    "filename": _receipt_words,
    "attachment": _receipt_words,
    "name": _receipt_words,
    "date": _date_words,
    "ourref": _reference_words,
}


def _explain_text(part: str, item: BookItem) -> tuple[Message, str | None] | None:
    year = _NO_YEAR.match(part)
    if year:
        return (
            N_(
                "The financial year %(year)s does not exist in Exact Online: create it there, "
                "or choose an entry date in an existing year.",
                year=year.group(2),
            ),
            "entry_date",
        )
    for kind, pattern in _KINDS:
        match = pattern.match(part)
        if match:
            key = _subject_key(match.group(2))
            return _explain_part(kind, key, item) if key else None
    return None


def _validation(error: ExactError, item: BookItem) -> tuple[Message, str | None]:
    raw = (error.raw_message or "").strip()
    found = [explained for explained in (_explain_text(p, item) for p in _parts(raw)) if explained]
    if not found:
        return N_("Exact Online did not accept this entry: %(message)s", message=raw), None
    if len(found) == 1:
        return found[0]
    return (
        N_("Exact Online did not accept this entry: %(problems)s", problems=[m for m, _f in found]),
        next((field for _m, field in found if field), None),
    )


def _forbidden(error: ExactForbidden) -> Message:
    for text in (error.reason, error.raw_message):
        for key, template in FORBIDDEN_REASONS.items():
            if text and (text.lower().startswith(key.lower()) or key.lower() in text.lower()):
                return Message(str(template))
    needed = missing_right(error.endpoint, "POST")
    if needed:
        return N_(
            "The Exact Online user of this connection may not add %(data)s in this "
            "administration. In Exact Online, give this user the right \u201c%(right)s\u201d.",
            data=Message(str(needed[0])),
            right=Message(str(needed[1])),
        )
    return N_("Exact Online refused access to this data.")


def _params(params: dict) -> dict:
    """An Exact error's parameters for a stored message (its texts translated when shown)."""
    return {
        key: Message(str(value)) if isinstance(value, Text) else value
        for key, value in params.items()
    }


def explain(error: ExactValidationError | ExactError, item: BookItem) -> tuple[Message, str | None]:
    """Exact's refusal in the bookkeeper's words, and the item form's field it concerns."""
    if isinstance(error, ExactForbidden):
        return _forbidden(error), None
    if isinstance(error, ExactValidationError) or (error.status == 500 and error.raw_message):
        return _validation(error, item)
    return Message(str(error.template), **_params(error.params)), None
