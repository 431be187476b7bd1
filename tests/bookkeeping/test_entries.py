"""What each item becomes in Exact Online (the bodies, field by field), our reference and
Description, the lookups, and Exact's refusals in the bookkeeper's words."""

from __future__ import annotations

import base64
import json
from datetime import date
from decimal import Decimal

import pytest
from exact_sandbox.writes import MESSAGES, SUBJECTS

from portal.bookkeeping import entries
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.entries import CannotExport
from portal.bookkeeping.masterdata import MasterData
from portal.exact.client.errors import (
    ExactError,
    ExactForbidden,
    ExactRateLimited,
    ExactValidationError,
)
from portal.extensions import db
from portal.models import ItemKind, StoredFile
from tests.factories import make_bookkeeping_client, make_item

D = Decimal


@pytest.fixture
def books(app):
    client = make_bookkeeping_client()
    client["master_data"] = MasterData.of(client["account"])
    client["settings"] = book_settings.of(client["account"].id)
    return client


def _id(books, entity: str, code: str) -> str:
    return books["master"][entity][code].exact_id


def _receipt(books, **fields):
    """Two lines with cost center and unit: 100.00 + 21.00 on 4000, 50.00 + 4.50 on 4100."""
    values = {
        "supplier_code": "1",
        "supplier_name": "Kantoor Plus B.V.",
        "invoice_number": "F2026-17",
        "journal_code": "70",
        "entry_date": date(2026, 3, 14),
        "due_date": date(2026, 4, 13),
        "amount": D("175.50"),
        "description": "Papier en toner",
        "lines": [
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "vat_percentage": D("0.21"),
                "amount_excl": D("100.00"),
                "vat_amount": D("21.00"),
                "cost_center": "100",
                "cost_unit": "P1",
                "description": "Toner",
            },
            {
                "gl_account_code": "4100",
                "vat_code": "1",
                "vat_percentage": D("0.09"),
                "amount_excl": D("50.00"),
                "vat_amount": D("4.50"),
                "cost_center": "200",
            },
        ],
    }
    values.update(fields)
    return make_item(books["account"], **values)


def _claim(books, **fields):
    values = {
        "kind": ItemKind.CLAIM,
        "journal_code": "90",
        "entry_date": date(2026, 3, 20),
        "amount": D("60.85"),
        "description": "Expense claim Maart – Eva de Vries",
        "source": {
            "claim_id": 7,
            "title": "Maart",
            "employee_id": 3,
            "employee_name": "Eva de Vries",
        },
        "lines": [
            {
                "gl_account_code": "4500",
                "vat_code": "1",
                "vat_percentage": D("0.09"),
                "amount_excl": D("45.87"),
                "vat_amount": D("4.13"),
                "description": "Lunch",
            },
            {
                "gl_account_code": "4100",
                "vat_code": "0",
                "vat_percentage": D("0"),
                "amount_excl": D("10.85"),
                "vat_amount": D("0.00"),
                "description": "47 km",
            },
        ],
    }
    values.update(fields)
    return make_item(books["account"], **values)


def _body(books, item, document_id=None):
    return entries.entry_body(item, books["master_data"], books["settings"], document_id)


# --- the purchase entry -----------------------------------------------------------------------


def test_a_receipt_becomes_a_purchase_entry_field_by_field(books):
    item = _receipt(books)
    body = _body(books, item, "5b0c3c5e-0000-4000-8000-000000000001")

    assert entries.entry_path(item) == entries.PURCHASE_PATH
    assert body == {
        "Journal": "70",
        "Supplier": _id(books, "accounts", "1"),
        "EntryDate": "2026-03-14T00:00:00",
        "DueDate": "2026-04-13T00:00:00",
        "YourRef": "F2026-17",
        "Description": f"PX{item.id} Kantoor Plus B.V. F2026-17",
        "Currency": "EUR",
        "Document": "5b0c3c5e-0000-4000-8000-000000000001",
        "PurchaseEntryLines": [
            {
                "GLAccount": _id(books, "gl_accounts", "4000"),
                "AmountFC": 100.0,
                "VATCode": "2",
                "VATAmountFC": 21.0,
                "CostCenter": "100",
                "CostUnit": "P1",
                "Description": "Toner",
            },
            {
                "GLAccount": _id(books, "gl_accounts", "4100"),
                "AmountFC": 50.0,
                "VATCode": "1",
                "VATAmountFC": 4.5,
                "CostCenter": "200",
                # a line without its own text gets the item's description
                "Description": "Papier en toner",
            },
        ],
    }


def test_without_invoice_number_due_date_or_document_those_fields_are_left_out(books):
    item = _receipt(books, invoice_number=None, due_date=None)
    body = _body(books, item)

    assert "YourRef" not in body
    assert "DueDate" not in body
    assert "Document" not in body
    assert body["Description"] == f"PX{item.id} Kantoor Plus B.V."


def test_an_einvoice_credit_note_is_sent_negative_as_prepared(books):
    item = _receipt(
        books,
        kind=ItemKind.EINVOICE,
        invoice_number="CN-2026-3",
        amount=D("-24.20"),
        lines=[
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "vat_percentage": D("0.21"),
                "amount_excl": D("-20.00"),
                "vat_amount": D("-4.20"),
            }
        ],
    )
    body = _body(books, item)

    assert entries.entry_path(item) == entries.PURCHASE_PATH
    assert body["YourRef"] == "CN-2026-3"
    (line,) = body["PurchaseEntryLines"]
    assert line["AmountFC"] == -20.0
    assert line["VATAmountFC"] == -4.2
    assert json.dumps(line["VATAmountFC"]) == "-4.2"


def test_a_bank_payment_becomes_a_purchase_entry_with_the_counterparty_in_the_description(books):
    item = make_item(
        books["account"],
        kind=ItemKind.BANK,
        supplier_name="Tankstation De Snelweg",
        supplier_code="2",
        journal_code="70",
        entry_date=date(2026, 3, 2),
        amount=D("60.50"),
        description="Pinbetaling 02-03 Tankstation",
        lines=[
            {
                "gl_account_code": "4100",
                "vat_code": "2",
                "vat_percentage": D("0.21"),
                "amount_excl": D("50.00"),
                "vat_amount": D("10.50"),
            }
        ],
    )
    body = _body(books, item)

    assert entries.entry_path(item) == entries.PURCHASE_PATH
    assert body["Supplier"] == _id(books, "accounts", "2")
    assert body["Description"] == f"PX{item.id} Tankstation De Snelweg"
    assert "YourRef" not in body
    assert body["PurchaseEntryLines"] == [
        {
            "GLAccount": _id(books, "gl_accounts", "4100"),
            "AmountFC": 50.0,
            "VATCode": "2",
            "VATAmountFC": 10.5,
            "Description": "Pinbetaling 02-03 Tankstation",
        }
    ]


def test_the_receipts_vat_is_sent_as_prepared_not_recomputed(books):
    # 9 % of 45.87 is 4.13 rounded; the receipt said 4.12: Exact must book 4.12
    item = _receipt(
        books,
        amount=D("49.99"),
        lines=[
            {
                "gl_account_code": "4000",
                "vat_code": "1",
                "vat_percentage": D("0.09"),
                "amount_excl": D("45.87"),
                "vat_amount": D("4.12"),
            }
        ],
    )
    (line,) = _body(books, item)["PurchaseEntryLines"]
    assert line["VATAmountFC"] == 4.12


def test_amounts_reach_json_exactly_as_the_decimals(books):
    for text in ("0.01", "0.10", "-0.07", "1234567.89", "999999999999.99", "-4.35", "0.29"):
        amount = D(text)
        number = entries._number(amount)
        assert D(json.dumps(number)) == amount


def test_an_amount_with_more_than_two_decimals_is_not_sent(books):
    with pytest.raises(CannotExport) as refused:
        entries._number(D("1.005"), "lines-0-amount")
    assert refused.value.field == "lines-0-amount"


# --- what cannot be exported --------------------------------------------------------------------


def test_a_blocked_gl_account_cannot_be_exported_and_names_the_lines_field(books):
    item = _receipt(books)
    item.lines[1].gl_account_code = "4999"
    with pytest.raises(CannotExport) as refused:
        _body(books, item)

    assert refused.value.field == "lines-1-gl_account_code"
    assert refused.value.message.template == "GL account %(code)s is blocked in Exact Online"
    assert "4999" in str(refused.value.message)


def test_an_unknown_supplier_cannot_be_exported(books):
    item = _receipt(books, supplier_code="55")
    with pytest.raises(CannotExport) as refused:
        _body(books, item)

    assert refused.value.field == "supplier_code"
    assert "55" in str(refused.value.message)
    assert "no longer exists" in refused.value.message.template


def test_a_blocked_supplier_or_a_customer_cannot_be_exported(books):
    for code, words in (("4", "is blocked"), ("3", "is not a supplier")):
        with pytest.raises(CannotExport) as refused:
            _body(books, _receipt(books, supplier_code=code))
        assert refused.value.field == "supplier_code"
        assert words in refused.value.message.template


def test_a_missing_supplier_or_journal_cannot_be_exported(books):
    with pytest.raises(CannotExport) as refused:
        _body(books, _receipt(books, supplier_code=None))
    assert refused.value.field == "supplier_code"

    with pytest.raises(CannotExport) as refused:
        _body(books, _receipt(books, journal_code="90"))
    assert refused.value.field == "journal_code"
    assert refused.value.message.template == "Journal %(code)s is not a purchase journal"


def test_deleted_vat_code_and_inactive_cost_center_name_their_fields(books):
    item = _receipt(books)
    item.lines[0].vat_code = "7"
    with pytest.raises(CannotExport) as refused:
        _body(books, item)
    assert refused.value.field == "lines-0-vat_code"

    item.lines[0].vat_code = "2"
    item.lines[1].cost_center = "900"
    with pytest.raises(CannotExport) as refused:
        _body(books, item)
    assert refused.value.field == "lines-1-cost_center"


def test_an_entry_date_outside_the_synced_periods_or_in_closed_books_cannot_be_exported(books):
    with pytest.raises(CannotExport) as refused:
        _body(books, _receipt(books, entry_date=date(2031, 1, 5)))
    assert refused.value.field == "entry_date"

    books["settings"].closed_through = date(2026, 3, 31)
    with pytest.raises(CannotExport) as refused:
        _body(books, _receipt(books))
    assert refused.value.field == "entry_date"
    assert "closed" in refused.value.message.template


# --- the general journal entry of an expense claim --------------------------------------------


def test_a_claim_becomes_a_balanced_general_journal_entry_with_the_employee_line(books):
    books["settings"].employee_gl_account_code = "1600"
    item = _claim(books)
    body = _body(books, item)

    assert entries.entry_path(item) == entries.JOURNAL_PATH
    day = "2026-03-20T00:00:00"
    assert body == {  # Exact's names only: no header Description, the line VAT AmountVATFC
        "JournalCode": "90",
        "Currency": "EUR",
        "FinancialYear": 2026,
        "FinancialPeriod": 3,
        "GeneralJournalEntryLines": [
            {
                "GLAccount": _id(books, "gl_accounts", "4500"),
                "AmountFC": 45.87,
                "VATCode": "1",
                "AmountVATFC": 4.13,
                "Description": "Lunch",
                "Date": day,
            },
            {
                "GLAccount": _id(books, "gl_accounts", "4100"),
                "AmountFC": 10.85,
                "VATCode": "0",
                "AmountVATFC": 0.0,
                "Description": "47 km",
                "Date": day,
            },
            {
                "GLAccount": _id(books, "gl_accounts", "1600"),
                "AmountFC": -60.85,
                "Description": f"PX{item.id} Eva de Vries – Maart",  # found again by it
                "Date": day,
            },
        ],
    }
    assert entries.lookup_path(item) == entries.LINES_PATH
    assert entries.lookup_params(item)["$filter"] == (
        f"Description eq 'PX{item.id} Eva de Vries – Maart'"
    )
    lines = body["GeneralJournalEntryLines"]
    total = sum(D(repr(line["AmountFC"])) + D(repr(line.get("AmountVATFC", 0.0))) for line in lines)
    assert total == 0


def test_a_claim_without_the_employee_gl_account_cannot_be_exported(books):
    books["settings"].employee_gl_account_code = None
    with pytest.raises(CannotExport) as refused:
        _body(books, _claim(books))
    assert refused.value.field == "employee_gl_account_code"
    assert "Settings" in refused.value.message.template

    books["settings"].employee_gl_account_code = "4999"  # blocked
    with pytest.raises(CannotExport) as refused:
        _body(books, _claim(books))
    assert refused.value.field == "employee_gl_account_code"


def test_a_claim_whose_lines_do_not_add_up_to_its_total_cannot_be_exported(books):
    books["settings"].employee_gl_account_code = "1600"
    with pytest.raises(CannotExport) as refused:
        _body(books, _claim(books, amount=D("61.00")))
    assert refused.value.field is None
    assert "balance" in refused.value.message.template


def test_a_claim_needs_a_general_journal(books):
    books["settings"].employee_gl_account_code = "1600"
    with pytest.raises(CannotExport) as refused:
        _body(books, _claim(books, journal_code="70"))
    assert refused.value.field == "journal_code"
    assert refused.value.message.template == "Journal %(code)s is not a general journal"


# --- reference, Description, lookups ----------------------------------------------------------


def test_the_description_is_deterministic_short_and_keeps_the_reference_whole(books):
    item = _receipt(books, supplier_name="Leverancier " * 10, invoice_number="F" * 40)
    first = entries.description(item)

    assert entries.reference(item) == f"PX{item.id}"
    assert first.startswith(f"PX{item.id} Leverancier")
    assert len(first) <= 60
    # what the preparer types may change between two attempts: the Description does not
    item.description = "Iets anders"
    item.supplier_code = "2"
    item.lines[0].description = "Weer anders"
    assert entries.description(item) == first


def test_a_receipt_without_supplier_name_is_described_by_its_file(books):
    stored = StoredFile(
        account_id=books["account"].id,
        sha256="a" * 64,
        storage_key="k/1",
        filename="bon 12 maart.jpg",
        file_type="jpeg",
        size=10,
    )
    db.session.add(stored)
    db.session.flush()
    item = _receipt(books, supplier_name=None, invoice_number=None, file_id=stored.id)
    db.session.refresh(item)

    assert entries.description(item) == f"PX{item.id} bon 12 maart.jpg"


def test_lookup_params_escape_quotes_as_odata_does(books):
    item = _receipt(books, supplier_name="Bakker 't Hoekje", invoice_number=None)
    params = entries.lookup_params(item)

    assert params == {
        "$filter": f"Description eq 'PX{item.id} Bakker ''t Hoekje'",
        "$select": "EntryID,EntryNumber,Description",
    }


# --- the receipt's document and attachment --------------------------------------------------


def test_document_and_attachment_bodies(books):
    item = _receipt(books, document_date=date(2026, 3, 12))
    body = entries.document_body(item, "factuur F2026-17.pdf", books["master_data"])

    assert body == {
        "Subject": f"PX{item.id} factuur F2026-17.pdf",
        "Type": 20,  # purchase invoice (Exact's 10 is a sales invoice)
        "DocumentDate": "2026-03-12T00:00:00",
        "Account": _id(books, "accounts", "1"),
    }
    claim = _claim(books)
    claim_body = entries.document_body(claim, "lunch.jpg")
    assert claim_body["Type"] == 183
    assert "Account" not in claim_body

    attachment = entries.attachment_body("doc-guid", "factuur.pdf", b"%PDF-1.4 abc")
    assert attachment == {
        "Document": "doc-guid",
        "FileName": "factuur.pdf",
        "Attachment": base64.b64encode(b"%PDF-1.4 abc").decode(),
    }


def test_the_document_lookup_finds_the_subject_the_body_gave(books):
    stored = StoredFile(
        account_id=books["account"].id,
        sha256="b" * 64,
        storage_key="k/2",
        filename="O'Neill.pdf",
        file_type="pdf",
        size=10,
    )
    db.session.add(stored)
    db.session.flush()
    item = _receipt(books, file_id=stored.id)
    db.session.refresh(item)

    subject = entries.document_body(item, item.file.filename)["Subject"]
    params = entries.document_lookup_params(item)
    assert params["$filter"] == "Subject eq " + "'" + subject.replace("'", "''") + "'"


# --- Exact's refusals in words ---------------------------------------------------------------

# Every refusal the sandbox's writes can give: (kind, subject) -> the form field it points at
SANDBOX_REFUSALS = {
    ("mandatory", "journal"): "journal_code",
    ("invalid", "journal"): "journal_code",
    ("mandatory", "relationship"): "supplier_code",
    ("reference", "relationship"): "supplier_code",
    ("invalid", "relationship"): "supplier_code",
    ("invalid", "currency"): None,
    ("reference", "payment"): "due_date",
    ("reference", "document"): None,
    ("mandatory", "document"): None,
    ("mandatory", "lines"): None,
    ("mandatory", "gl"): "lines-0-gl_account_code",
    ("reference", "gl"): "lines-0-gl_account_code",
    ("mandatory", "amount"): "lines-0-amount",
    ("reference", "vat"): "lines-0-vat_code",
    ("reference", "costcenter"): "lines-0-cost_center",
    ("reference", "costunit"): "lines-0-cost_unit",
    ("mandatory", "subject"): None,
    ("mandatory", "type"): None,
    ("reference", "type"): None,
    ("mandatory", "filename"): None,
    ("mandatory", "attachment"): None,
    ("mandatory", "name"): None,
}
FALLBACK = "Exact Online did not accept this entry: %(message)s"


def _refusal(kind: str, subject: str, dutch: bool) -> ExactValidationError:
    template = MESSAGES[kind][1 if dutch else 0]
    text = template.format(SUBJECTS[subject][1 if dutch else 0])
    return ExactValidationError(text, status=500, endpoint=entries.PURCHASE_PATH)


def _one_line_receipt(books):
    return _receipt(
        books,
        lines=[
            {
                "gl_account_code": "4000",
                "vat_code": "2",
                "vat_percentage": D("0.21"),
                "amount_excl": D("100.00"),
                "vat_amount": D("21.00"),
                "cost_center": "100",
                "cost_unit": "P1",
            }
        ],
        amount=D("121.00"),
    )


@pytest.mark.parametrize("dutch", [False, True], ids=["en", "nl"])
def test_every_sandbox_refusal_is_explained_with_its_field(books, dutch):
    item = _one_line_receipt(books)
    for (kind, subject), field in SANDBOX_REFUSALS.items():
        error = _refusal(kind, subject, dutch)
        message, got_field = entries.explain(error, item)
        assert message.template != FALLBACK, error.raw_message
        assert got_field == field, error.raw_message
        assert str(message)


@pytest.mark.parametrize("dutch", [False, True], ids=["en", "nl"])
def test_every_message_of_the_sandbox_table_is_understood(books, dutch):
    item = _one_line_receipt(books)
    for kind in ("mandatory", "invalid", "reference"):
        for subject in SUBJECTS:
            message, _field = entries.explain(_refusal(kind, subject, dutch), item)
            assert message.template != FALLBACK, (kind, subject)


def test_the_journal_refusal_names_the_journal(books):
    item = _one_line_receipt(books)
    for text in ("Ongeldig: Dagboek", "Invalid: Journal"):
        message, field = entries.explain(ExactValidationError(text, status=500), item)
        assert field == "journal_code"
        assert message.params == {"code": "70"}
        assert "70" in str(message)


def test_a_missing_financial_year_points_at_the_entry_date(books):
    item = _one_line_receipt(books)
    for text in ("Financial year 2031 does not exist", "Boekjaar 2031 bestaat niet"):
        message, field = entries.explain(ExactValidationError(text, status=500), item)
        assert field == "entry_date"
        assert message.params == {"year": "2031"}


def test_a_refusal_of_a_later_line_points_at_the_line_that_has_the_value(books):
    item = _receipt(books)  # line 0 has cost unit P1, line 1 none
    _message, field = entries.explain(
        ExactValidationError("Invalid reference: Cost unit", status=500), item
    )
    assert field == "lines-0-cost_unit"
    item.lines[0].cost_unit = None
    item.lines[1].cost_unit = "P1"
    _message, field = entries.explain(
        ExactValidationError("Ongeldige referentie: Kostendrager", status=500), item
    )
    assert field == "lines-1-cost_unit"


def test_two_refusals_in_one_message_are_both_said(books):
    item = _one_line_receipt(books)
    message, field = entries.explain(
        ExactValidationError("Mandatory: Relationship / Invalid reference: Cost unit", status=500),
        item,
    )
    assert field == "supplier_code"
    assert len(message.params["problems"]) == 2
    assert "; " in str(message)


def test_an_unknown_refusal_keeps_exacts_words(books):
    item = _one_line_receipt(books)
    message, field = entries.explain(
        ExactValidationError("Boekingsnummer is al in gebruik", status=500), item
    )
    assert field is None
    assert message.template == FALLBACK
    assert "Boekingsnummer is al in gebruik" in str(message)


def test_a_403_names_the_missing_right_in_words(books):
    item = _one_line_receipt(books)
    error = ExactForbidden.build(
        "Forbidden", method="POST", status=403, endpoint="purchaseentry/PurchaseEntries"
    )
    message, field = entries.explain(error, item)
    assert field is None
    assert "Enter, modify and delete purchase entries" in str(message)
    assert "purchase entries" in str(message)

    error = ExactForbidden.build(
        "", reason="DivisionBlocked", method="POST", status=403, endpoint="documents/Documents"
    )
    message, _field = entries.explain(error, item)
    assert str(message) == "This administration is blocked in Exact Online."


def test_other_errors_keep_their_own_message_as_a_stored_text(books):
    item = _one_line_receipt(books)
    error = ExactRateLimited("slow down")
    message, field = entries.explain(error, item)
    assert field is None
    assert message.template == str(error.template)
    assert message.to_json()["t"] == str(error.template)
    assert str(message) == error.user_message
    message, _field = entries.explain(ExactError("boom", status=502), item)
    assert message.template == ExactError.template
