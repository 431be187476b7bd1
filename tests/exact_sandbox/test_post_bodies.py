"""POST and PUT bodies: a property the entity does not have is 400, as from Exact's OData
reader, and nothing is written; the names the portal posts are Exact's and book."""

from __future__ import annotations

import base64

import pytest
import requests
from exact_sandbox.testing import control

from .helpers import DIVISION, first, purchase

PURCHASES = f"{DIVISION}/purchaseentry/PurchaseEntries"
JOURNAL_ENTRIES = f"{DIVISION}/generaljournalentry/GeneralJournalEntries"
BANK_ENTRIES = f"{DIVISION}/financialtransaction/BankEntries"
TYPES = "Exact.Web.Api.Models."
JOURNAL_TYPE = "GeneralJournalEntry.GeneralJournalEntry"
ADVICE = "Make sure to only use property names that are defined by the type."


def message(response: requests.Response) -> str:
    return response.json()["error"]["message"]["value"]


def unknown(name: str, type_name: str) -> str:
    return f"The property '{name}' does not exist on type '{TYPES}{type_name}'. {ADVICE}"


def division_state(sandbox) -> dict:
    """Row counts per table and the highest Timestamp: any write changes one of them."""
    stats = control(sandbox.url, f"divisions/{DIVISION}")
    return {"counts": stats["counts"], "max_timestamp": stats["max_timestamp"]}


def gl_ids(api) -> dict[str, str]:
    rows = api.get_all(f"{DIVISION}/financial/GLAccounts", {"$select": "ID,Code"})
    return {row["Code"]: row["ID"] for row in rows}


def new_document(api, subject: str = "PX7 bon.pdf") -> str:
    response = api.post(f"{DIVISION}/documents/Documents", {"Subject": subject, "Type": 183})
    assert response.status_code == 201, response.text
    return response.json()["d"]["ID"]


def claim(api, document_id: str | None = None) -> dict:
    """An expense claim as the portal now posts it: no header Description or Document, the VAT
    as AmountVATFC, the receipt on the lines, our reference on the employee's line."""
    gl = gl_ids(api)
    expense = {
        "GLAccount": gl["4600"],
        "AmountFC": 100.0,
        "VATCode": "4",
        "AmountVATFC": 21.0,
        "CostCenter": "100",
        "Description": "Lunch klant",
        "Date": "2026-02-10",
    }
    employee = {
        "GLAccount": gl["1700"],
        "AmountFC": -121.0,
        "Description": "PX7 Jan Jansen – Lunch",
        "Date": "2026-02-10",
    }
    if document_id:
        expense["Document"] = employee["Document"] = document_id
    return {
        "JournalCode": "90",
        "Currency": "EUR",
        "FinancialYear": 2026,
        "FinancialPeriod": 2,
        "GeneralJournalEntryLines": [expense, employee],
    }


def bank_entry(api) -> dict:
    supplier = first(api, "crm/Accounts", "ID", "IsSupplier eq true")
    line = {"Account": supplier["ID"], "AmountFC": -50.0, "Date": "2026-03-01"}
    return {"JournalCode": "20", "BankEntryLines": [line]}


# ---------------------------------------------------------------- refused, nothing written
@pytest.mark.parametrize(
    ("path", "body", "name", "type_name"),
    [
        (PURCHASES, {"Nonsense": 1}, "Nonsense", "PurchaseEntry.PurchaseEntry"),
        (PURCHASES, {"FinancialYear": 2026}, "FinancialYear", "PurchaseEntry.PurchaseEntry"),
        (JOURNAL_ENTRIES, {"Description": "PX7"}, "Description", JOURNAL_TYPE),
        (JOURNAL_ENTRIES, {"Document": None}, "Document", JOURNAL_TYPE),
        (BANK_ENTRIES, {"Description": "x"}, "Description", "FinancialTransaction.BankEntry"),
    ],
)
def test_an_unknown_header_property_is_400_and_books_nothing(
    sandbox, api, path, body, name, type_name
):
    if "PurchaseEntries" in path:
        sent = purchase(api)
    elif "BankEntries" in path:
        sent = bank_entry(api)
    else:
        sent = claim(api)
    before = division_state(sandbox)
    response = api.post(path, {**sent, **body})
    assert response.status_code == 400
    assert message(response) == unknown(name, type_name)
    assert division_state(sandbox) == before
    listed = api.get(path, {"$select": "EntryID"}).json()["d"]["results"]
    assert listed == []


@pytest.mark.parametrize(
    ("path", "name", "type_name"),
    [
        (PURCHASES, "Date", "PurchaseEntry.PurchaseEntryLine"),  # purchase lines have no Date
        (PURCHASES, "AmountVATFC", "PurchaseEntry.PurchaseEntryLine"),
        (JOURNAL_ENTRIES, "VATAmountFC", "GeneralJournalEntry.GeneralJournalEntryLine"),
        (JOURNAL_ENTRIES, "VATAmountDC", "GeneralJournalEntry.GeneralJournalEntryLine"),
        (BANK_ENTRIES, "YourRef", "FinancialTransaction.BankEntryLine"),
    ],
)
def test_an_unknown_line_property_is_400_and_books_nothing(sandbox, api, path, name, type_name):
    if "PurchaseEntries" in path:
        body, lines = purchase(api), "PurchaseEntryLines"
    elif "BankEntries" in path:
        body, lines = bank_entry(api), "BankEntryLines"
    else:
        body, lines = claim(api), "GeneralJournalEntryLines"
    body[lines][-1][name] = 21.0
    before = division_state(sandbox)
    response = api.post(path, body)
    assert response.status_code == 400
    assert message(response) == unknown(name, type_name)
    assert division_state(sandbox) == before


def test_lines_sent_as_results_are_checked_too(sandbox, api):
    body = claim(api)
    body["GeneralJournalEntryLines"] = {"results": body["GeneralJournalEntryLines"]}
    body["GeneralJournalEntryLines"]["results"][0]["Nonsense"] = 1
    response = api.post(JOURNAL_ENTRIES, body)
    assert response.status_code == 400
    assert "'Nonsense' does not exist" in message(response)


def test_documents_attachments_and_accounts_refuse_unknown_names(sandbox, api):
    before = division_state(sandbox)
    document = api.post(
        f"{DIVISION}/documents/Documents", {"Subject": "x", "Type": 183, "Title": "x"}
    )
    assert document.status_code == 400
    assert message(document) == unknown("Title", "Documents.Document")
    attachment = api.post(
        f"{DIVISION}/documents/DocumentAttachments",
        {"Document": new_document(api), "FileName": "a.pdf", "Attachment": "QQ==", "Size": 1},
    )
    assert message(attachment) == unknown("Size", "Documents.DocumentAttachment")
    account = api.post(f"{DIVISION}/crm/Accounts", {"Name": "Nieuw BV", "IsPurchase": True})
    assert message(account) == unknown("IsPurchase", "CRM.Account")
    after = division_state(sandbox)
    assert after["counts"]["Documents"] == before["counts"]["Documents"] + 1  # new_document
    assert after["counts"]["DocumentAttachments"] == before["counts"]["DocumentAttachments"]
    assert after["counts"]["Accounts"] == before["counts"]["Accounts"]


def test_put_refuses_unknown_names_and_changes_nothing(api):
    created = api.post(f"{DIVISION}/crm/Accounts", {"Name": "Nieuw BV", "IsSupplier": True})
    key = created.json()["d"]["ID"]
    url = f"{api.url}/api/v1/{DIVISION}/crm/Accounts(guid'{key}')"
    body = {"Name": "Anders BV", "IsPurchase": True}
    response = requests.put(url, json=body, headers=api.headers(), timeout=10)
    assert response.status_code == 400
    assert message(response) == unknown("IsPurchase", "CRM.Account")
    again = api.get(f"{DIVISION}/crm/Accounts(guid'{key}')", {"$select": "Name"})
    assert again.json()["d"]["Name"] == "Nieuw BV"


# ---------------------------------------------------------------- Exact's names book
def test_a_general_journal_entry_books_amount_vat_fc_and_links_the_lines_document(api):
    document_id = new_document(api)
    response = api.post(JOURNAL_ENTRIES, claim(api, document_id))
    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    lines = entry["GeneralJournalEntryLines"]["results"]
    assert [line["AmountVATFC"] for line in lines] == [21.0, 0.0]
    assert [line["Document"] for line in lines] == [document_id, document_id]
    assert "VATAmountFC" not in lines[0] and "Description" not in entry
    linked = api.get(
        f"{DIVISION}/documents/Documents(guid'{document_id}')",
        {"$select": "FinancialTransactionEntryID"},
    ).json()["d"]
    assert linked["FinancialTransactionEntryID"] == entry["EntryID"]
    booked = api.get_all(
        f"{DIVISION}/financialtransaction/TransactionLines",
        {
            "$select": "LineNumber,Description,Document,AmountFC,AmountVATFC",
            "$filter": f"EntryID eq guid'{entry['EntryID']}'",
        },
    )
    by_number = {row["LineNumber"]: row for row in booked}
    assert by_number[1]["Description"] == "Lunch klant" and by_number[1]["AmountVATFC"] == 21.0
    assert by_number[2]["Description"] == "PX7 Jan Jansen – Lunch"
    assert by_number[2]["Document"] == document_id
    assert by_number[3]["AmountFC"] == 21.0 and by_number[3]["Description"] is None  # VAT line


def test_the_employee_line_is_found_by_its_description(api):
    entry = api.post(JOURNAL_ENTRIES, claim(api)).json()["d"]
    found = api.get(
        f"{DIVISION}/financialtransaction/TransactionLines",
        {"$select": "EntryID,EntryNumber", "$filter": "Description eq 'PX7 Jan Jansen – Lunch'"},
    ).json()["d"]["results"]
    assert [(row["EntryID"], row["EntryNumber"]) for row in found] == [
        (entry["EntryID"], entry["EntryNumber"])
    ]


def test_a_lines_document_must_exist(api):
    body = claim(api, "11111111-2222-4333-8444-555555555555")
    response = api.post(JOURNAL_ENTRIES, body)
    assert response.status_code == 500
    assert message(response) == "Ongeldige referentie: Document"


def test_the_names_the_portal_posts_for_a_purchase_book(api):
    """Every name portal/bookkeeping/entries.py puts in a purchase entry, its lines, the
    receipt's document and attachment (all documented by Exact)."""
    supplier = first(api, "crm/Accounts", "ID", "IsSupplier eq true")
    document = api.post(
        f"{DIVISION}/documents/Documents",
        {
            "Subject": "PX8 f.pdf",
            "Type": 20,
            "DocumentDate": "2026-02-10",
            "Account": supplier["ID"],
        },
    )
    assert document.status_code == 201, document.text
    document_id = document.json()["d"]["ID"]
    attachment = api.post(
        f"{DIVISION}/documents/DocumentAttachments",
        {
            "Document": document_id,
            "FileName": "f.pdf",
            "Attachment": base64.b64encode(b"%PDF").decode(),
        },
    )
    assert attachment.status_code == 201, attachment.text
    body = purchase(api, Supplier=supplier["ID"], DueDate="2026-03-12", Currency="EUR")
    body["Document"] = document_id
    body["PurchaseEntryLines"][0].update({"VATAmountFC": 21.0, "CostUnit": "P001"})
    response = api.post(PURCHASES, body)
    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    assert entry["PurchaseEntryLines"]["results"][0]["VATAmountFC"] == 21.0
    assert entry["Document"] == document_id
