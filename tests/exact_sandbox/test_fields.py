"""Field lists: every property Exact documents is accepted, other names are 400 (issue 15, 1)."""

from __future__ import annotations

import pytest
from exact_sandbox.fields import documented, extras

from .helpers import DIVISION, api_for, purchase

# path -> the entity in fields.json whose documented names it serves
STANDARD = {
    "financial/GLAccounts": "GLAccounts",
    "financial/GLClassifications": "GLClassifications",
    "financial/Journals": "Journals",
    "vat/VATCodes": "VATCodes",
    "crm/Accounts": "Accounts",
    "hrm/Costcenters": "Costcenters",
    "hrm/Costunits": "Costunits",
    "financial/FinancialPeriods": "FinancialPeriods",
    "cashflow/PaymentConditions": "PaymentConditions",
    "financialtransaction/TransactionLines": "TransactionLines",
    "documents/Documents": "Documents",
    "documents/DocumentAttachments": "DocumentAttachments",
}
SYNC = {
    "sync/Financial/GLAccounts": "GLAccounts",
    "sync/Financial/GLClassifications": "GLClassifications",
    "sync/CRM/Accounts": "Accounts",
    "sync/Financial/TransactionLines": "TransactionLines",
    "sync/Cashflow/PaymentTerms": "PaymentTerms",
    "sync/Documents/Documents": "Documents",
    "sync/Documents/DocumentAttachments": "DocumentAttachments",
}
NAVIGATION = {"DeductibilityPercentages", "VATPercentages", "BankAccounts"}


def test_the_issues_select_on_gl_accounts_is_answered_with_the_user(api):
    me = api.get("current/Me", {"$select": "UserID,FullName"}).json()["d"]["results"][0]
    response = api.get(
        f"{DIVISION}/financial/GLAccounts", {"$select": "ID,Creator,Modifier,CreatorFullName"}
    )
    assert response.status_code == 200, response.text
    row = response.json()["d"]["results"][0]
    assert row["Creator"] == row["Modifier"] == me["UserID"]
    assert row["CreatorFullName"] == me["FullName"] == "Anna de Boer"


@pytest.mark.parametrize("path", sorted(STANDARD))
def test_every_documented_field_of_a_standard_endpoint_is_served(api, path):
    names = documented(STANDARD[path])
    response = api.get(f"{DIVISION}/{path}", {"$select": ",".join(names)})
    assert response.status_code == 200, response.text
    row = response.json()["d"]["results"][0]
    assert list(row) == ["__metadata", *names]
    for name in NAVIGATION & set(names):
        assert "__deferred" in row[name]


@pytest.mark.parametrize("path", sorted(SYNC))
def test_every_documented_field_of_a_sync_feed_is_served(api, path):
    names = documented(SYNC[path])
    params = {"$select": ",".join(names), "$filter": "Timestamp gt 1L"}
    response = api.get(f"{DIVISION}/{path}", params)
    assert response.status_code == 200, response.text
    row = response.json()["d"]["results"][0]
    assert list(row) == ["__metadata", *names]
    assert isinstance(row["Timestamp"], int)


def test_the_tools_field_counts_are_reached(api):
    # the issue: Accounts 157 (sandbox 28), GLAccounts 41 (17), TransactionLines 71 (42),
    # GLClassifications 22 (14), Documents 42 (14): what Exact documents today, in full
    counts = {name: len(documented(name)) for name in ("Accounts", "GLAccounts")}
    assert counts["Accounts"] >= 145 and counts["GLAccounts"] >= 41
    assert len(documented("TransactionLines")) >= 71
    assert len(documented("GLClassifications")) >= 22
    assert len(documented("Documents")) >= 42
    select = ",".join(documented("Accounts"))
    assert api.get(f"{DIVISION}/bulk/CRM/Accounts", {"$select": select}).status_code == 200


def test_a_name_exact_does_not_have_is_400_naming_the_type(api):
    response = api.get(f"{DIVISION}/financial/GLAccounts", {"$select": "ID,Creator,Nonsense"})
    assert response.status_code == 400
    message = response.json()["error"]["message"]["value"]
    assert message == (
        "Property 'Nonsense' does not exist on type 'Exact.Web.Api.Models.Financial.GLAccount'."
    )


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("crm/Accounts", "IsPurchase"),  # the sandbox had it; Exact does not
        ("financial/GLAccounts", "Classification"),  # Exact: GLAccountClassificationMappings
        ("purchaseentry/PurchaseEntries", "FinancialYear"),  # Exact: ReportingYear
    ],
)
def test_names_the_sandbox_used_to_invent_are_gone(api, path, name):
    response = api.get(f"{DIVISION}/{path}", {"$select": f"{name}", "$top": "1"})
    assert response.status_code == 400
    assert f"Property '{name}' does not exist" in response.json()["error"]["message"]["value"]


def test_documented_names_are_filterable_and_unknown_ones_are_not(api):
    ok = api.get(f"{DIVISION}/crm/Accounts", {"$select": "ID", "$filter": "BankAccounts eq null"})
    assert ok.status_code == 200
    refused = api.get(f"{DIVISION}/crm/Accounts", {"$select": "ID", "$filter": "IsPurchase eq 1"})
    assert refused.status_code == 400


def test_the_portals_undocumented_names_are_accepted_unless_strict(make_sandbox):
    asked = ",".join(extras("GLAccounts"))  # ClassificationCode, ClassificationDescription
    params = {"$select": f"ID,{asked}", "$filter": "Timestamp gt 1L"}
    lenient = api_for(make_sandbox({}))
    response = lenient.get(f"{DIVISION}/sync/Financial/GLAccounts", params)
    assert response.status_code == 200, response.text
    assert response.json()["d"]["results"][0]["ClassificationCode"]
    strict = api_for(make_sandbox({"strict_fields": True}))
    refused = strict.get(f"{DIVISION}/sync/Financial/GLAccounts", params)
    assert refused.status_code == 400
    assert "ClassificationCode" in refused.json()["error"]["message"]["value"]
    full = strict.get(f"{DIVISION}/financial/GLAccounts", {"$top": "1"}).json()["d"][0]
    assert "ClassificationCode" not in full and "Creator" in full


def test_an_expanded_entry_shows_its_lines_documented_fields(api):
    created = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api)).json()["d"]
    params = {
        "$select": "EntryID,ReportingYear,ReportingPeriod,PurchaseEntryLines",
        "$expand": "PurchaseEntryLines",
        "$filter": f"EntryID eq guid'{created['EntryID']}'",
    }
    entry = api.get(f"{DIVISION}/purchaseentry/PurchaseEntries", params).json()["d"]["results"][0]
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2026, 2)
    line = entry["PurchaseEntryLines"]["results"][0]
    assert list(line)[1:] == list(documented("PurchaseEntryLines"))
    assert line["AmountFC"] == 100.0 and line["VATAmountFC"] == 21.0
    assert line["GLAccountCode"] is None  # documented, not generated: null
