"""Writing: purchase and general journal entries, documents and attachments."""

from __future__ import annotations

import base64

import pytest
import requests
from exact_sandbox.testing import control

from .helpers import DIVISION, api_for, purchase


def message(response: requests.Response) -> str:
    return response.json()["error"]["message"]["value"]


def test_purchase_entry_is_booked_with_entry_id_and_number(api):
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api))
    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    assert len(entry["EntryID"]) == 36
    assert entry["EntryNumber"] == 26_000_021  # 20 generated entries, then ours
    assert entry["Journal"] == "60"
    assert entry["AmountFC"] == 100 + 21 + 50 + 4.5
    lines = entry["PurchaseEntryLines"]["results"]
    assert [line["AmountFC"] for line in lines] == [100.0, 50.0]
    assert lines[0]["VATAmountFC"] == 21.0


def test_without_prefer_most_fields_are_null(api):
    response = api.post(
        f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api), representation=False
    )
    entry = response.json()["d"]
    assert response.status_code == 201
    assert entry["EntryID"]
    assert entry["EntryNumber"] is None and entry["Journal"] is None


def test_booked_entry_shows_up_in_transaction_lines_with_new_timestamps(api):
    params = {"$select": "Timestamp", "$filter": "Timestamp gt 1L"}
    before = max(
        row["Timestamp"]
        for row in api.get_all(f"{DIVISION}/sync/Financial/TransactionLines", params)
    )
    entry = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api)).json()["d"]
    rows = api.get_all(
        f"{DIVISION}/sync/Financial/TransactionLines",
        {
            "$select": "EntryID,LineNumber,AmountDC,GLAccountCode,YourRef,CostCenter,Timestamp",
            "$filter": f"Timestamp gt {before}L",
        },
    )
    assert {row["EntryID"] for row in rows} == {entry["EntryID"]}
    assert [row["LineNumber"] for row in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["AmountDC"] == -175.5 and rows[0]["GLAccountCode"] == "1600"
    assert round(sum(row["AmountDC"] for row in rows), 2) == 0
    assert rows[1]["CostCenter"] == "100"
    assert all(row["YourRef"] == "PORTAL-0001" for row in rows)


def test_entry_can_be_found_by_your_ref_and_read_by_key(api):
    entry = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api)).json()["d"]
    found = api.get(
        f"{DIVISION}/purchaseentry/PurchaseEntries",
        {"$select": "EntryID,YourRef", "$filter": "YourRef eq 'PORTAL-0001'"},
    ).json()
    assert [row["EntryID"] for row in found["d"]["results"]] == [entry["EntryID"]]
    one = api.get(f"{DIVISION}/purchaseentry/PurchaseEntries(guid'{entry['EntryID']}')")
    assert one.status_code == 200
    assert one.json()["d"]["EntryNumber"] == entry["EntryNumber"]


@pytest.mark.parametrize(
    ("change", "dutch"),
    [
        ({"Journal": "ZZ"}, "Ongeldig: Dagboek"),
        ({"Journal": "70"}, "Ongeldig: Dagboek"),  # a sales journal
        ({"Journal": None}, "Verplicht: Dagboek"),
        ({"Supplier": None}, "Verplicht: Relatie"),
        ({"Supplier": "11111111-2222-4333-8444-555555555555"}, "Ongeldige referentie: Relatie"),
        ({"PurchaseEntryLines": []}, "Verplicht: Regels"),
        ({"PaymentCondition": "99"}, "Ongeldige referentie: Betalingsconditie"),
        ({"EntryDate": "2019-05-01"}, "Boekjaar 2019 bestaat niet"),
    ],
)
def test_validation_fails_with_500_in_dutch_for_dutch_users(api, change, dutch):
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api, **change))
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "", "message": {"lang": "", "value": dutch}}}


@pytest.mark.parametrize(
    ("line_change", "english"),
    [
        ({"GLAccount": "11111111-2222-4333-8444-555555555555"}, "Invalid reference: G/L account"),
        ({"VATCode": "XX"}, "Invalid reference: VAT code"),
        ({"CostUnit": "NOPE"}, "Invalid reference: Cost unit"),
        ({"CostCenter": "NOPE"}, "Invalid reference: Cost center"),
        ({"AmountFC": None}, "Mandatory: Amount"),
    ],
)
def test_line_validation_in_english_for_english_users(sandbox, line_change, english):
    api = api_for(sandbox, "client")
    body = purchase(api)
    body["PurchaseEntryLines"][0].update(line_change)
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", body)
    assert response.status_code == 500
    assert message(response) == english


def test_missing_supplier_in_english(sandbox):
    api = api_for(sandbox, "client")
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api, Supplier=None))
    assert message(response) == "Mandatory: Relationship"


def test_malformed_body_is_400(api):
    response = requests.post(
        f"{api.url}/api/v1/{DIVISION}/purchaseentry/PurchaseEntries",
        data="{not json",
        headers=api.headers(),
        timeout=10,
    )
    assert response.status_code == 400
    bad_guid = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api, Supplier="x"))
    assert bad_guid.status_code == 400


def test_writing_needs_the_right(sandbox, api):
    control(
        sandbox.url,
        "users/accountant/rights",
        {"division": DIVISION, "deny": ["enter_purchase_entries"]},
    )
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api))
    assert response.status_code == 403
    assert response.headers["Reason"] == "MissingRight: Enter purchase entries"


def test_general_journal_entry(api):
    gl = {
        row["Code"]: row["ID"]
        for row in api.get_all(f"{DIVISION}/financial/GLAccounts", {"$select": "ID,Code"})
    }
    body = {
        "JournalCode": "90",
        "GeneralJournalEntryLines": [
            {"GLAccount": gl["4600"], "AmountFC": 250.0, "Date": "2026-02-01", "Description": "a"},
            {"GLAccount": gl["1700"], "AmountFC": -250.0, "Date": "2026-02-01"},
        ],
    }
    response = api.post(f"{DIVISION}/generaljournalentry/GeneralJournalEntries", body)
    assert response.status_code == 201, response.text
    entry = response.json()["d"]
    assert entry["JournalCode"] == "90" and entry["FinancialPeriod"] == 2
    lines = entry["GeneralJournalEntryLines"]["results"]
    assert [line["AmountFC"] for line in lines] == [250.0, -250.0]
    wrong = api.post(
        f"{DIVISION}/generaljournalentry/GeneralJournalEntries", {**body, "JournalCode": "60"}
    )
    assert wrong.status_code == 500 and message(wrong) == "Ongeldig: Dagboek"


def test_document_with_attachment_and_link_to_an_entry(api):
    document = api.post(
        f"{DIVISION}/documents/Documents", {"Subject": "Bon 42", "Type": 183}
    ).json()["d"]
    content = b"%PDF-1.4 receipt"
    attachment = api.post(
        f"{DIVISION}/documents/DocumentAttachments",
        {
            "Document": document["ID"],
            "FileName": "bon.pdf",
            "Attachment": base64.b64encode(content).decode(),
        },
    )
    assert attachment.status_code == 201
    url = attachment.json()["d"]["Url"]
    assert requests.get(url, headers=api.headers(), timeout=10).content == content
    entry = api.post(
        f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api, Document=document["ID"])
    ).json()["d"]
    linked = api.get(
        f"{DIVISION}/documents/Documents(guid'{document['ID']}')",
        {"$select": "FinancialTransactionEntryID"},
    ).json()["d"]
    assert linked["FinancialTransactionEntryID"] == entry["EntryID"]


def test_document_validation(api):
    assert message(api.post(f"{DIVISION}/documents/Documents", {"Type": 183})) == (
        "Verplicht: Onderwerp"
    )
    missing_doc = api.post(
        f"{DIVISION}/documents/DocumentAttachments",
        {
            "Document": "11111111-2222-4333-8444-555555555555",
            "FileName": "a.pdf",
            "Attachment": "QQ==",
        },
    )
    assert message(missing_doc) == "Ongeldige referentie: Document"


def test_deleting_an_entry_reports_its_lines_in_sync_deleted(api):
    entry = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api)).json()["d"]
    response = requests.delete(
        f"{api.url}/api/v1/{DIVISION}/purchaseentry/PurchaseEntries(guid'{entry['EntryID']}')",
        headers=api.headers(),
        timeout=10,
    )
    assert response.status_code == 204
    deleted = api.get_all(
        f"{DIVISION}/sync/Deleted", {"$select": "EntityType", "$filter": "Timestamp gt 1L"}
    )
    assert sorted(row["EntityType"] for row in deleted) == [1, 1, 1, 1, 1, 10]


def test_supplier_can_be_created_and_changed(api):
    created = api.post(f"{DIVISION}/crm/Accounts", {"Name": "Nieuw BV", "IsSupplier": True})
    assert created.status_code == 201
    account = created.json()["d"]
    assert account["IsSupplier"] is True and len(account["Code"]) == 18
    response = requests.put(
        f"{api.url}/api/v1/{DIVISION}/crm/Accounts(guid'{account['ID']}')",
        json={"Name": "Anders BV"},
        headers=api.headers(),
        timeout=10,
    )
    assert response.status_code == 204
    again = api.get(f"{DIVISION}/crm/Accounts(guid'{account['ID']}')", {"$select": "Name"})
    assert again.json()["d"]["Name"] == "Anders BV"


def test_bodies_over_10_mb_are_refused(api):
    huge = {"Subject": "x" * (10 * 1024 * 1024 + 10), "Type": 183}
    response = api.post(f"{DIVISION}/documents/Documents", huge)
    assert response.status_code == 413


def test_document_can_be_deleted_and_shows_in_sync_deleted(api):
    document = api.post(f"{DIVISION}/documents/Documents", {"Subject": "Weg", "Type": 183})
    key = document.json()["d"]["ID"]
    response = requests.delete(
        f"{api.url}/api/v1/{DIVISION}/documents/Documents(guid'{key}')",
        headers=api.headers(),
        timeout=10,
    )
    assert response.status_code == 204
    deleted = api.get_all(
        f"{DIVISION}/sync/Deleted",
        {"$select": "EntityKey,EntityType", "$filter": "Timestamp gt 1L"},
    )
    assert [(row["EntityKey"], row["EntityType"]) for row in deleted] == [(key, 6)]
