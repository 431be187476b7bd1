"""Writing: purchase, general journal and bank entries, documents, attachments, accounts.

Validation failures answer HTTP 500 with Exact's error body in the user's language, as Exact
does; a malformed body answers 400, and so does a body (or an entry line in it) naming a
property its entity does not have. Booked purchase entries open a Payment, bank entry lines
settle open Payments and Receivables (see ``cashflow.py``).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from flask import Response, request

from . import cashflow
from . import fields as documented_fields
from .chart import DOCUMENT_TYPES
from .data import DAY_MS, DivisionData, day_ms, odata_date
from .entities import JOURNAL_LINE_FIELDS, NAVIGATION, PURCHASE_LINE_FIELDS, Entity
from .entity import line_type
from .more_entities import BANK_ENTRY_LINE_FIELDS
from .odata import date_ms
from .responses import exact_error, json_response
from .state import SandboxState

if TYPE_CHECKING:
    from .api import Call

MESSAGES = {
    "mandatory": ("Mandatory: {}", "Verplicht: {}"),
    "invalid": ("Invalid: {}", "Ongeldig: {}"),
    "reference": ("Invalid reference: {}", "Ongeldige referentie: {}"),
    "no_year": ("Financial year {} does not exist", "Boekjaar {} bestaat niet"),
}
SUBJECTS = {
    "journal": ("Journal", "Dagboek"),
    "relationship": ("Relationship", "Relatie"),
    "gl": ("G/L account", "Grootboekrekening"),
    "amount": ("Amount", "Bedrag"),
    "vat": ("VAT code", "Btw-code"),
    "costcenter": ("Cost center", "Kostenplaats"),
    "costunit": ("Cost unit", "Kostendrager"),
    "payment": ("Payment condition", "Betalingsconditie"),
    "document": ("Document", "Document"),
    "currency": ("Currency", "Valuta"),
    "lines": ("Lines", "Regels"),
    "subject": ("Subject", "Onderwerp"),
    "type": ("Type", "Soort"),
    "filename": ("File name", "Bestandsnaam"),
    "attachment": ("Attachment", "Bijlage"),
    "name": ("Name", "Naam"),
    "date": ("Date", "Datum"),
    "ourref": ("Our ref.", "Onze ref."),
}
ENTRY_TYPES = {22: 30, 12: 40, 10: 40, 90: 90}  # journal type -> TransactionLines Type
# The line's VAT amount as each entry's lines name it (Exact's REST reference).
LINE_VAT_AMOUNT = {"PurchaseEntryLines": "VATAmountFC", "GeneralJournalEntryLines": "AmountVATFC"}
# A property the type lacks, in ODataLib 5's words (the OData v3 reader; OData/WebApi's v3
# deserializer tests assert them). Exact's own answer was not found in print: uncertain.
UNKNOWN_PROPERTY = (
    "The property '{name}' does not exist on type '{type}'. "
    "Make sure to only use property names that are defined by the type."
)
PROTECTED = {"ID", "EntryID", "Timestamp", "Created", "Modified", "Division"}
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?$")


class RequestError(Exception):
    """A body Exact cannot even read: HTTP 400."""


class Invalid(Exception):
    """A validation failure: HTTP 500 with a message in the user's language."""

    def __init__(self, kind: str, subject: str | int) -> None:
        super().__init__(kind, subject)
        self.kind = kind
        self.subject = subject

    def message(self, dutch: bool) -> str:
        template = MESSAGES[self.kind][1 if dutch else 0]
        subject = SUBJECTS.get(self.subject, (self.subject, self.subject))  # type: ignore[arg-type]
        return template.format(subject[1 if dutch else 0])


def write(st: SandboxState, call: Call, entity: Entity, base_url: str) -> Response:
    method = request.method
    data = st.data(call.division)
    try:
        if method == "POST" and call.key is None:
            handler = POST_HANDLERS.get(entity.name)
            if handler is None:
                return exact_error(405, "Method not allowed")
            row = handler(st, call, data, _body(entity))
            st.counters.add("bookings", call.client_id, call.division)
            return _created(row, entity, call, base_url)
        if call.key is None:
            return exact_error(405, "Method not allowed")
        if method == "PUT" and entity.name in ("Accounts", "Documents"):
            return _put(st, data, entity, call.key, _body(entity))
        if method == "DELETE":
            return _delete(st, call, data, entity, call.key)
        return exact_error(405, "Method not allowed")
    except Invalid as error:
        return exact_error(500, error.message(st.user_language_is_dutch(call.username)))


def _body(entity: Entity) -> dict:
    """The JSON body, its property names checked against the entity's (see ``check_names``)."""
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise RequestError("Error processing request stream. The request body is not valid JSON.")
    check_names(body, entity.name, entity.odata_type)
    return body


def check_names(body: dict, entity_name: str, type_name: str) -> None:
    """400 for the first property ``entity_name`` does not have, in the body's order.

    Exact's OData reader refuses such a body before anything is booked; lines nested in a
    navigation property (PurchaseEntryLines, ...) are checked against their own entity.
    """
    known = set(documented_fields.documented(entity_name))
    nested = documented_fields.navigation(entity_name)
    for name, value in body.items():
        if name == "__metadata":  # OData verbose JSON may name the type; Exact allows it
            continue
        if name not in known:
            raise RequestError(UNKNOWN_PROPERTY.format(name=name, type=type_name))
        child = nested.get(name)
        if child is not None:
            for line in _nested_rows(value):
                check_names(line, child, line_type(type_name, name))


def _nested_rows(value: object) -> list[dict]:
    """The rows of a nested list as sent: a list, or {"results": [...]}."""
    if isinstance(value, dict):
        value = value.get("results")
    if not isinstance(value, list):
        return []
    return [row for row in value if isinstance(row, dict)]


def _created(row: dict, entity: Entity, call: Call, base_url: str) -> Response:
    from .api import render

    path = f"{base_url}/api/v1/{call.division}/{entity.standard}"
    nested = {name for name in NAVIGATION if name in entity.fields and name in row}
    item = render(row, entity, list(entity.fields), path, nested)
    if "return=representation" not in request.headers.get("Prefer", ""):
        item = {
            key: (value if key in ("__metadata", entity.key) else None)
            for key, value in item.items()
        }
    return json_response({"d": item}, 201)


# ---------------------------------------------------------------- field helpers
def _guid(body: dict, name: str, subject: str, mandatory: bool = False) -> str | None:
    value = body.get(name)
    if value in (None, ""):
        if mandatory:
            raise Invalid("mandatory", subject)
        return None
    if not isinstance(value, str) or not _GUID.match(value):
        raise RequestError(
            f"Error processing request stream. The property '{name}' has an invalid Edm.Guid value."
        )
    return value.strip("{}").lower()


def _amount(body: dict, name: str, mandatory: bool = False) -> float | None:
    value = body.get(name)
    if value is None:
        if mandatory:
            raise Invalid("mandatory", "amount")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RequestError(
            f"Error processing request stream. The property '{name}' is not a valid Edm.Double."
        )
    try:
        return round(float(value), 2)
    except ValueError as error:
        raise RequestError(
            f"Error processing request stream. The property '{name}' is not a valid Edm.Double."
        ) from error


def _date(body: dict, name: str) -> int | None:
    """A date sent as ISO 8601 without zone (or /Date(ms)/), as midnight UTC in ms."""
    value = body.get(name)
    if value in (None, ""):
        return None
    stamp = date_ms(value) if isinstance(value, str) and value.startswith("/Date(") else None
    if stamp is not None:
        return stamp - stamp % DAY_MS
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", ""))
    except ValueError as error:
        raise RequestError(
            f"Error processing request stream. The property '{name}' is not a valid Edm.DateTime."
        ) from error
    return day_ms(moment.date())


def _today_ms(st: SandboxState) -> int:
    return day_ms(datetime.fromtimestamp(st.now(), UTC).date())


def _lines(body: dict, name: str) -> list[dict]:
    lines = body.get(name)
    if isinstance(lines, dict):
        lines = lines.get("results")
    if not lines:
        raise Invalid("mandatory", "lines")
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise RequestError(f"Error processing request stream. '{name}' must be a list.")
    return lines


def _by_code(data: DivisionData, table: str, code: object) -> dict | None:
    wanted = str(code).strip().lower()
    for _index, row in data.tables[table].iter_from():
        if str(row["Code"]).strip().lower() == wanted:
            return row
    return None


def _document_ref(data: DivisionData, body: dict, name: str) -> str | None:
    """An optional link to a document (``Document``, ``BankStatementDocument``): it must exist."""
    document_id = _guid(body, name, "document")
    if document_id and data.tables["Documents"].find(document_id) is None:
        raise Invalid("reference", "document")
    return document_id


def _check_year(data: DivisionData, day: int) -> int:
    year = date.fromordinal(day // DAY_MS + 719_163).year
    if not any(row["FinYear"] == year for _i, row in data.tables["FinancialPeriods"].iter_from()):
        raise Invalid("no_year", year)
    return year


# ---------------------------------------------------------------- entries
def _purchase_entry(st: SandboxState, call: Call, data: DivisionData, body: dict) -> dict:
    if not body.get("Journal"):
        raise Invalid("mandatory", "journal")
    journal = _by_code(data, "Journals", body["Journal"])
    if journal is None or journal["Type"] != 22:
        raise Invalid("invalid", "journal")
    supplier_id = _guid(body, "Supplier", "relationship", mandatory=True)
    supplier = data.tables["Accounts"].find(supplier_id)
    if supplier is None:
        raise Invalid("reference", "relationship")
    if not supplier["IsSupplier"]:
        raise Invalid("invalid", "relationship")
    if (body.get("Currency") or data.currency) != data.currency:
        raise Invalid("invalid", "currency")
    day = _date(body, "EntryDate") or _today_ms(st)
    _check_year(data, day)
    condition = None
    if body.get("PaymentCondition"):
        condition = _by_code(data, "PaymentConditions", body["PaymentCondition"])
        if condition is None:
            raise Invalid("reference", "payment")
    document_id = _document_ref(data, body, "Document")
    lines = [
        _entry_line(data, line, "PurchaseEntryLines") for line in _lines(body, "PurchaseEntryLines")
    ]
    days = condition["PaymentDays"] if condition else 30
    due = _date(body, "DueDate") or day + days * DAY_MS
    header = {
        "Journal": journal["Code"],
        "JournalDescription": journal["Description"],
        "Supplier": supplier["ID"],
        "SupplierName": supplier["Name"],
        "SupplierCode": supplier["Code"],
        "YourRef": body.get("YourRef"),
        "Description": body.get("Description"),
        "PaymentCondition": body.get("PaymentCondition"),
        "Condition": condition,
        "Document": document_id,
        "Day": day,
        "Due": due,
    }
    return _book(st, data, "PurchaseEntries", journal, header, lines)


def _entry_journal(data: DivisionData, body: dict, field: str, journal_type: int) -> dict:
    """The entry's journal (of ``journal_type``: 90 general, 12 bank) in the division's
    currency, or Exact's refusal."""
    if not body.get(field):
        raise Invalid("mandatory", "journal")
    journal = _by_code(data, "Journals", body[field])
    if journal is None or journal["Type"] != journal_type:
        raise Invalid("invalid", "journal")
    if (body.get("Currency") or data.currency) != data.currency:
        raise Invalid("invalid", "currency")
    return journal


def _general_journal_entry(st: SandboxState, call: Call, data: DivisionData, body: dict) -> dict:
    """Exact's GeneralJournalEntries have no Description and no Document: each line carries
    its own (a line's Document is linked to the entry, as a purchase entry's is)."""
    journal = _entry_journal(data, body, "JournalCode", 90)
    lines = [
        _entry_line(data, line, "GeneralJournalEntryLines")
        for line in _lines(body, "GeneralJournalEntryLines")
    ]
    day = lines[0]["Day"] or _day_from_period(body) or _today_ms(st)
    _check_year(data, day)
    header = {
        "Journal": journal["Code"],
        "JournalDescription": journal["Description"],
        "Description": None,
        "Day": day,
        "Due": None,
    }
    return _book(st, data, "GeneralJournalEntries", journal, header, lines)


def _day_from_period(body: dict) -> int | None:
    year, period = body.get("FinancialYear"), body.get("FinancialPeriod")
    if not year or not period:
        return None
    try:
        return day_ms(date(int(year), int(period), 1))
    except (TypeError, ValueError) as error:
        raise RequestError("Error processing request stream. Invalid financial period.") from error


def _entry_line(data: DivisionData, line: dict, kind: str) -> dict:
    """Validate one entry line; returns the referenced rows the booking needs."""
    gl_id = _guid(line, "GLAccount", "gl", mandatory=True)
    gl = data.tables["GLAccounts"].find(gl_id)
    if gl is None:
        raise Invalid("reference", "gl")
    amount = _amount(line, "AmountFC", mandatory=True)
    vat = None
    if line.get("VATCode") not in (None, ""):
        vat = data.vat_by_code.get(str(line["VATCode"]).strip())
        if vat is None:
            raise Invalid("reference", "vat")
    result = {
        "GL": gl,
        "Amount": amount,
        "VAT": vat,
        "Description": line.get("Description"),
        "VATAmount": _amount(line, LINE_VAT_AMOUNT[kind]),
        "Day": _date(line, "Date"),
    }
    result["CostCenter"] = _optional_code(data, line, "CostCenter", "Costcenters", "costcenter")
    result["CostUnit"] = _optional_code(data, line, "CostUnit", "Costunits", "costunit")
    result["Account"] = None
    result["Document"] = None
    if kind == "GeneralJournalEntryLines":
        result["Document"] = _document_ref(data, line, "Document")
        if line.get("Account"):
            account = data.tables["Accounts"].find(_guid(line, "Account", "relationship"))
            if account is None:
                raise Invalid("reference", "relationship")
            result["Account"] = account
    return result


def _optional_code(data: DivisionData, line: dict, name: str, table: str, subject: str):
    if line.get(name) in (None, ""):
        return None
    row = _by_code(data, table, line[name])
    if row is None:
        raise Invalid("reference", subject)
    return row


def _book(
    st: SandboxState,
    data: DivisionData,
    entity_name: str,
    journal: dict,
    header: dict,
    lines: list[dict],
) -> dict:
    """Write the entry, its transaction lines (line 0 is the header) and payment term."""
    now_ms = st.now_ms()
    sequence = data.next_entry
    data.next_entry += 1
    entries = data.tables[entity_name]
    entry_id = entries.key(entries.count)
    number = data.entry_number(header["Day"], sequence)
    for line in lines:
        if line["VATAmount"] is None:
            rate = line["VAT"]["Percentage"] if line["VAT"] else 0.0
            line["VATAmount"] = round(line["Amount"] * rate, 2)
    total = round(sum(line["Amount"] + line["VATAmount"] for line in lines), 2)
    common = _line_common(data, journal, header, entry_id, number)
    booked = []
    if entity_name == "PurchaseEntries":
        booked.append(
            data.add(
                "TransactionLines",
                {
                    **common,
                    "LineNumber": 0,
                    "GLAccount": journal["GLAccount"],
                    "GLAccountCode": journal["GLAccountCode"],
                    "GLAccountDescription": journal["GLAccountDescription"],
                    "AmountDC": -total,
                    "AmountFC": -total,
                },
                now_ms,
            )
        )
    for number_in_entry, line in enumerate(lines, start=1):
        booked.append(
            data.add(
                "TransactionLines",
                {**common, **_line_fields(line), "LineNumber": number_in_entry},
                now_ms,
            )
        )
    booked += _vat_lines(data, common, lines, len(lines) + 1, now_ms)
    if entity_name == "PurchaseEntries":
        _payment_term(data, header, common, total, now_ms)
        _payable(data, journal, header, common, booked[0], total, now_ms)
    for document_id in _linked_documents(header, lines):
        data.update("Documents", document_id, {"FinancialTransactionEntryID": entry_id}, now_ms)
    return data.add(
        entity_name,
        _entry_row(data, entity_name, header, lines, booked, number, total, entry_id),
        now_ms,
    )


def _linked_documents(header: dict, lines: list[dict]) -> list[str]:
    """The documents an entry links: the purchase entry's, or its general journal lines'."""
    found = [header.get("Document")] + [line.get("Document") for line in lines]
    return list(dict.fromkeys(document for document in found if document))


def _line_common(
    data: DivisionData, journal: dict, header: dict, entry_id: str, number: int
) -> dict:
    when = date.fromordinal(header["Day"] // DAY_MS + 719_163)
    return {
        "EntryID": entry_id,
        "EntryNumber": number,
        "JournalCode": journal["Code"],
        "JournalDescription": journal["Description"],
        "Type": ENTRY_TYPES.get(journal["Type"], 90),
        "Date": odata_date(header["Day"]),
        "DueDate": odata_date(header["Due"]),
        "FinancialYear": when.year,
        "FinancialPeriod": when.month,
        "Account": header.get("Supplier"),
        "AccountCode": header.get("SupplierCode"),
        "AccountName": header.get("SupplierName"),
        "Currency": data.currency,
        "ExchangeRate": 1.0,
        "Description": header["Description"],
        "Document": header.get("Document"),
        "YourRef": header.get("YourRef"),
        "Status": 20,
        "AmountVATBaseFC": None,
        "AmountVATFC": None,
        "VATCode": None,
        "VATCodeDescription": None,
        "VATPercentage": None,
        "CostCenter": None,
        "CostCenterDescription": None,
        "CostUnit": None,
        "CostUnitDescription": None,
        "DocumentNumber": None,
        # a purchase entry's own invoice number ("our ref.") is its entry number
        "InvoiceNumber": number if journal["Type"] == 22 else None,
        "PaymentReference": None,
        "Notes": None,
    }


def _booked_on(line: dict) -> dict:
    """The transaction-line fields of what a validated line books on: its G/L account, and its
    relation, cost center and cost unit where it names them (else the entry's stand)."""
    gl = line["GL"]
    fields = {
        "GLAccount": gl["ID"],
        "GLAccountCode": gl["Code"],
        "GLAccountDescription": gl["Description"],
    }
    if line["Account"]:
        account = line["Account"]
        fields["Account"] = account["ID"]
        fields["AccountCode"] = account["Code"]
        fields["AccountName"] = account["Name"]
    if line["CostCenter"]:
        fields["CostCenter"] = line["CostCenter"]["Code"]
        fields["CostCenterDescription"] = line["CostCenter"]["Description"]
    if line["CostUnit"]:
        fields["CostUnit"] = line["CostUnit"]["Code"]
        fields["CostUnitDescription"] = line["CostUnit"]["Description"]
    return fields


def _line_fields(line: dict) -> dict:
    vat = line["VAT"]
    fields = {
        **_booked_on(line),
        "AmountDC": line["Amount"],
        "AmountFC": line["Amount"],
        "AmountVATFC": line["VATAmount"],
        "VATCode": vat["Code"] if vat else None,
        "VATCodeDescription": vat["Description"] if vat else None,
        "VATPercentage": vat["Percentage"] if vat else None,
    }
    if line["Description"]:
        fields["Description"] = line["Description"]
    if line["Document"]:
        fields["Document"] = line["Document"]
    return fields


def _vat_lines(
    data: DivisionData, common: dict, lines: list[dict], first: int, now_ms: int
) -> list[dict]:
    """One VAT line per VAT code, on the code's VAT account."""
    totals: dict[str, list] = {}
    for line in lines:
        if line["VAT"] and line["VATAmount"]:
            entry = totals.setdefault(line["VAT"]["Code"], [line["VAT"], 0.0, 0.0])
            entry[1] += line["VATAmount"]
            entry[2] += line["Amount"]
    booked = []
    for offset, (vat, amount, base) in enumerate(totals.values()):
        account_id = vat["GLToClaim"] or vat["GLToPay"]
        gl = data.tables["GLAccounts"].find(account_id) if account_id else data.gl("vat_claim")
        booked.append(
            data.add(
                "TransactionLines",
                {
                    **common,
                    "LineNumber": first + offset,
                    "GLAccount": gl["ID"],
                    "GLAccountCode": gl["Code"],
                    "GLAccountDescription": gl["Description"],
                    "AmountDC": round(amount, 2),
                    "AmountFC": round(amount, 2),
                    "AmountVATBaseFC": round(base, 2),
                    "VATCode": vat["Code"],
                    "VATCodeDescription": vat["Description"],
                    "VATPercentage": vat["Percentage"],
                },
                now_ms,
            )
        )
    return booked


def _payment_term(
    data: DivisionData, header: dict, common: dict, total: float, now_ms: int
) -> None:
    data.add(
        "PaymentTerms",
        {
            "EntryID": common["EntryID"],
            "EntryNumber": common["EntryNumber"],
            "EntryDate": common["Date"],
            "InvoiceNumber": common["InvoiceNumber"],
            "InvoiceDate": common["Date"],
            "DueDate": common["DueDate"],
            "Account": header["Supplier"],
            "AccountName": header["SupplierName"],
            "GLAccount": None,
            "AmountDC": -total,
            "AmountFC": -total,
            "Currency": data.currency,
            "Description": header["Description"],
            "PaymentCondition": header.get("PaymentCondition"),
            "Source": 1,
            "Status": 20,
            "TransactionType": 30,
        },
        now_ms,
    )


def _payable(
    data: DivisionData,
    journal: dict,
    header: dict,
    common: dict,
    creditor_line: dict,
    total: float,
    now_ms: int,
) -> None:
    """The open Payment of a booked purchase entry: the whole amount, due on its due date."""
    condition = header.get("Condition")
    cashflow.add_payable(
        data,
        journal,
        {
            "Account": header["Supplier"],
            "AccountCode": header["SupplierCode"],
            "AccountName": header["SupplierName"],
            "AmountDC": -total,
            "Description": header["Description"],
            "Day": header["Day"],
            "Due": header["Due"],
            "EntryID": common["EntryID"],
            "EntryNumber": common["EntryNumber"],
            "InvoiceNumber": common["EntryNumber"],
            "PaymentCondition": header.get("PaymentCondition"),
            "PaymentConditionDescription": condition["Description"] if condition else None,
            "PaymentDays": condition["PaymentDays"] if condition else 30,
            "TransactionID": creditor_line["ID"],
            "YourRef": header.get("YourRef"),
        },
        now_ms,
    )


def _entry_row(
    data: DivisionData,
    entity_name: str,
    header: dict,
    lines: list[dict],
    booked: list[dict],
    number: int,
    total: float,
    entry_id: str,
) -> dict:
    by_number = {row["LineNumber"]: row for row in booked}
    when = date.fromordinal(header["Day"] // DAY_MS + 719_163)
    nested = []
    for line_number, line in enumerate(lines, start=1):
        row = by_number[line_number]
        nested.append(
            {
                "ID": row["ID"],
                "EntryID": entry_id,
                "LineNumber": line_number,
                "GLAccount": row["GLAccount"],
                "Account": row["Account"],
                "Description": row["Description"],
                "Date": row["Date"],
                "AmountFC": line["Amount"],
                "AmountDC": line["Amount"],
                "VATCode": row["VATCode"],
                "VATAmountFC": line["VATAmount"],  # PurchaseEntryLines' name
                "VATAmountDC": line["VATAmount"],
                "AmountVATFC": line["VATAmount"],  # GeneralJournalEntryLines' name
                "AmountVATDC": line["VATAmount"],
                "VATPercentage": row["VATPercentage"],
                "CostCenter": row["CostCenter"],
                "CostUnit": row["CostUnit"],
                "Document": line["Document"],
            }
        )
    vat = round(sum(line["VATAmount"] for line in lines), 2)
    common = {
        "EntryNumber": number,
        "Description": header["Description"],
        "Currency": data.currency,
        "FinancialYear": when.year,
        "FinancialPeriod": when.month,
        "Status": 20,
    }
    if entity_name == "GeneralJournalEntries":
        fields = JOURNAL_LINE_FIELDS
        return {
            **common,
            "JournalCode": header["Journal"],
            "JournalDescription": header["JournalDescription"],
            "GeneralJournalEntryLines": [_only(line, fields) for line in nested],
        }
    return {
        **common,
        "Journal": header["Journal"],
        "JournalDescription": header["JournalDescription"],
        "InvoiceNumber": number,
        "Supplier": header["Supplier"],
        "SupplierName": header["SupplierName"],
        "EntryDate": odata_date(header["Day"]),
        "DueDate": odata_date(header["Due"]),
        "YourRef": header["YourRef"],
        "PaymentCondition": header["PaymentCondition"],
        "Document": header["Document"],
        "AmountDC": total,
        "AmountFC": total,
        "VATAmountDC": vat,
        "VATAmountFC": vat,
        "PurchaseEntryLines": [_only(line, PURCHASE_LINE_FIELDS) for line in nested],
    }


def _only(row: dict, fields: tuple[str, ...]) -> dict:
    return {name: row.get(name) for name in fields}


# ---------------------------------------------------------------- documents and accounts
def _document(st: SandboxState, call: Call, data: DivisionData, body: dict) -> dict:
    if not body.get("Subject"):
        raise Invalid("mandatory", "subject")
    if body.get("Type") in (None, ""):
        raise Invalid("mandatory", "type")
    try:
        doc_type = int(body["Type"])
    except (TypeError, ValueError) as error:
        raise RequestError(
            "Error processing request stream. 'Type' must be an Edm.Int32."
        ) from error
    if doc_type not in DOCUMENT_TYPES:
        raise Invalid("reference", "type")
    account = None
    account_id = _guid(body, "Account", "relationship")
    if account_id:
        account = data.tables["Accounts"].find(account_id)
        if account is None:
            raise Invalid("reference", "relationship")
    now_ms = st.now_ms()
    day = _date(body, "DocumentDate") or _today_ms(st)
    return data.add(
        "Documents",
        {
            "Subject": str(body["Subject"]),
            "Body": body.get("Body"),
            "Type": doc_type,
            "TypeDescription": DOCUMENT_TYPES[doc_type],
            "Account": account_id,
            "AccountName": account["Name"] if account else None,
            "DocumentDate": odata_date(day),
            "FinancialTransactionEntryID": None,
            "HasEmptyBody": not body.get("Body"),
        },
        now_ms,
    )


def _attachment(st: SandboxState, call: Call, data: DivisionData, body: dict) -> dict:
    document_id = _guid(body, "Document", "document", mandatory=True)
    if data.tables["Documents"].find(document_id) is None:
        raise Invalid("reference", "document")
    if not body.get("FileName"):
        raise Invalid("mandatory", "filename")
    if not body.get("Attachment"):
        raise Invalid("mandatory", "attachment")
    try:
        content = base64.b64decode(str(body["Attachment"]), validate=True)
    except (binascii.Error, ValueError) as error:
        raise RequestError(
            "Error processing request stream. 'Attachment' is not valid base64."
        ) from error
    row = data.add(
        "DocumentAttachments",
        {
            "Document": document_id,
            "FileName": str(body["FileName"]),
            "FileSize": float(len(content)),
            "Url": None,
            "Attachment": None,
        },
        st.now_ms(),
    )
    row["Url"] = data.attachment_url(row["ID"])
    data.blobs[row["ID"]] = content
    return row


def _account(st: SandboxState, call: Call, data: DivisionData, body: dict) -> dict:
    if not body.get("Name"):
        raise Invalid("mandatory", "name")
    table = data.tables["Accounts"]
    fields = {name: None for name in table.entity.fields if name not in PROTECTED}
    fields.update(
        {
            "Code": f"{table.count + 1:>18}",
            "Status": "",
            "IsSupplier": False,
            "IsSales": False,
            "IsPurchase": False,
            "Blocked": False,
            "Country": data.country,
            "PurchaseCurrency": data.currency,
            "SalesCurrency": data.currency,
        }
    )
    fields.update(_writable(body, table.entity))
    return data.add("Accounts", fields, st.now_ms())


def _writable(body: dict, entity: Entity) -> dict:
    fields = {
        name: value
        for name, value in body.items()
        if name in entity.fields and name not in PROTECTED
    }
    if fields.get("Code") is not None:
        fields["Code"] = f"{str(fields['Code']).strip():>18}"
    return fields


def _put(st: SandboxState, data: DivisionData, entity: Entity, key: str, body: dict) -> Response:
    if data.update(entity.name, key, _writable(body, entity), st.now_ms()) is None:
        return exact_error(404, "Record not found")
    return Response(b"", 204)


# What goes with a deleted entry: (table, the field naming the entry).
ENTRY_PARTS = {
    "PurchaseEntries": (
        ("TransactionLines", "EntryID"),
        ("PaymentTerms", "EntryID"),
        ("Payments", "TransactionEntryID"),
    ),
    "GeneralJournalEntries": (("TransactionLines", "EntryID"), ("PaymentTerms", "EntryID")),
    "BankEntries": (("TransactionLines", "EntryID"), ("BankEntryLines", "EntryID")),
}


def _delete(st: SandboxState, call: Call, data: DivisionData, entity: Entity, key: str) -> Response:
    user_id = st.users[call.username]["id"]
    now_ms = st.now_ms()
    if entity.name in ENTRY_PARTS:
        row = data.tables[entity.name].find(key)
        if row is None:
            return exact_error(404, "Record not found")
        if entity.name == "BankEntries":
            cashflow.unsettle(data, row["EntryID"], now_ms)
        for table_name, field in ENTRY_PARTS[entity.name]:
            table = data.tables[table_name]
            doomed = [
                r["ID"]
                for i, r in list(table.rows.items())
                if i >= table.base_count and r.get(field) == row["EntryID"]
            ]
            for doomed_key in doomed:
                data.delete(table_name, doomed_key, now_ms, user_id)
    if not data.delete(entity.name, key, now_ms, user_id):
        return exact_error(404, "Record not found")
    return Response(b"", 204)


# ---------------------------------------------------------------- bank entries
def _bank_entry(st: SandboxState, call: Call, data: DivisionData, body: dict) -> dict:
    """POST financialtransaction/BankEntries: a bank journal and lines that each move money
    (AmountFC negative: paid out, positive: received) against a G/L account and relation."""
    journal = _entry_journal(data, body, "JournalCode", 12)
    today = _today_ms(st)
    lines = [_bank_line(data, line, today) for line in _lines(body, "BankEntryLines")]
    for line in lines:
        _check_year(data, line["Day"])
    document_id = _document_ref(data, body, "BankStatementDocument")
    header = {
        "Journal": journal["Code"],
        "JournalDescription": journal["Description"],
        "Description": None,
        "Document": document_id,
        "Day": lines[0]["Day"],
        "Due": None,
        "OpeningBalanceFC": _amount(body, "OpeningBalanceFC"),
        "ClosingBalanceFC": _amount(body, "ClosingBalanceFC"),
    }
    return _book_bank(st, data, journal, header, lines)


def _bank_line(data: DivisionData, line: dict, today: int) -> dict:
    """Validate one bank entry line. Without GLAccount a line naming a relation books on the
    creditors (supplier) or debtors (customer) account, as Exact's bank screen proposes."""
    amount = _amount(line, "AmountFC", mandatory=True)
    account = None
    if line.get("Account"):
        account = data.tables["Accounts"].find(_guid(line, "Account", "relationship"))
        if account is None:
            raise Invalid("reference", "relationship")
    gl_id = _guid(line, "GLAccount", "gl", mandatory=account is None)
    if gl_id:
        gl = data.tables["GLAccounts"].find(gl_id)
        if gl is None:
            raise Invalid("reference", "gl")
    else:
        gl = data.gl(_relation_role(account, amount))
    return {
        "GL": gl,
        "Amount": amount,
        "Account": account,
        "OurRef": _our_ref(line),
        "Day": _date(line, "Date") or today,
        "Description": line.get("Description"),
        "Notes": line.get("Notes"),
        "CostCenter": _optional_code(data, line, "CostCenter", "Costcenters", "costcenter"),
        "CostUnit": _optional_code(data, line, "CostUnit", "Costunits", "costunit"),
    }


def _relation_role(account: dict, amount: float) -> str:
    if account["IsSupplier"] and not account["IsSales"]:
        return "creditors"
    if account["IsSales"] and not account["IsSupplier"]:
        return "debtors"
    return "creditors" if amount < 0 else "debtors"


def _our_ref(line: dict) -> int | None:
    """OurRef is Edm.Int32 ("Invoice number"): our number of the invoice the line pays."""
    value = line.get("OurRef")
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise RequestError(
            "Error processing request stream. The property 'OurRef' is not a valid Edm.Int32."
        )
    return int(value)


def _book_bank(
    st: SandboxState, data: DivisionData, journal: dict, header: dict, lines: list[dict]
) -> dict:
    """Write the bank entry, its lines, its transaction lines (line 0 the bank account with the
    total movement, then one offset line per bank line) and settle the open items it pays."""
    now_ms = st.now_ms()
    sequence = data.next_entry
    data.next_entry += 1
    entries = data.tables["BankEntries"]
    entry_id = entries.key(entries.count)
    number = data.entry_number(header["Day"], sequence)
    total = round(sum(line["Amount"] for line in lines), 2)
    common = _line_common(data, journal, header, entry_id, number)
    bank = {
        **common,
        "LineNumber": 0,
        "GLAccount": journal["GLAccount"],
        "GLAccountCode": journal["GLAccountCode"],
        "GLAccountDescription": journal["GLAccountDescription"],
        "AmountDC": total,
        "AmountFC": total,
        "Description": lines[0]["Description"],
    }
    data.add("TransactionLines", bank, now_ms)
    nested = []
    for line_number, line in enumerate(lines, start=1):
        offset = data.add("TransactionLines", _bank_offset(common, line, line_number), now_ms)
        stored = data.add("BankEntryLines", _bank_line_row(common, line, line_number), now_ms)
        stored["OffsetID"] = offset["ID"]
        nested.append(stored)
        _settle(data, line, entry_id, now_ms)
    when = date.fromordinal(header["Day"] // DAY_MS + 719_163)
    row = {
        "EntryNumber": number,
        "JournalCode": journal["Code"],
        "JournalDescription": journal["Description"],
        "Currency": data.currency,
        "FinancialYear": when.year,
        "FinancialPeriod": when.month,
        "Status": 20,
        "StatusDescription": "Open",
        "BankStatementDocument": header["Document"],
        "OpeningBalanceFC": header["OpeningBalanceFC"],
        "ClosingBalanceFC": header["ClosingBalanceFC"],
        "BankEntryLines": nested,
    }
    return data.add("BankEntries", row, now_ms)


def _bank_offset(common: dict, line: dict, line_number: int) -> dict:
    """The transaction line a bank line books against: the opposite of the bank movement."""
    return {
        **common,
        **_booked_on(line),
        "LineNumber": line_number,
        "Date": odata_date(line["Day"]),
        "AmountDC": -line["Amount"],
        "AmountFC": -line["Amount"],
        "Description": line["Description"],
        "InvoiceNumber": line["OurRef"],
        "Notes": line["Notes"],
    }


def _bank_line_row(common: dict, line: dict, line_number: int) -> dict:
    row = {name: None for name in BANK_ENTRY_LINE_FIELDS if name not in PROTECTED}
    row.update(
        {
            **_booked_on(line),
            "EntryID": common["EntryID"],
            "EntryNumber": common["EntryNumber"],
            "LineNumber": line_number,
            "Date": odata_date(line["Day"]),
            "AmountDC": line["Amount"],
            "AmountFC": line["Amount"],
            "AmountVATFC": 0.0,
            "Description": line["Description"],
            "ExchangeRate": 1.0,
            "Notes": line["Notes"],
            "OurRef": line["OurRef"],
        }
    )
    return row


def _settle(data: DivisionData, line: dict, entry_id: str, now_ms: int) -> None:
    """A line on the creditors/debtors account naming a relation and OurRef pays that invoice."""
    table_name = cashflow.TABLE_FOR_GL_TYPE.get(line["GL"]["Type"])
    if table_name is None or line["Account"] is None or line["OurRef"] is None:
        return
    cashflow.settle(
        data,
        table_name,
        line["Account"]["ID"],
        line["OurRef"],
        line["Amount"],
        line["Day"],
        entry_id,
        now_ms,
    )


POST_HANDLERS = {
    "BankEntries": _bank_entry,
    "PurchaseEntries": _purchase_entry,
    "GeneralJournalEntries": _general_journal_entry,
    "Documents": _document,
    "DocumentAttachments": _attachment,
    "Accounts": _account,
}
