"""Field lists: every property Exact documents is accepted, other names are 400 (issue 15, 1)."""

from __future__ import annotations

import pytest
from exact_sandbox.fields import documented
from exact_sandbox.testing import control

from .helpers import DIVISION, purchase

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


@pytest.mark.parametrize(
    ("path", "name"),
    [
        # names the portal used to ask for; Exact does not have them, so neither does the sandbox
        ("sync/Financial/GLAccounts", "ClassificationCode"),
        ("sync/Financial/GLAccounts", "ClassificationDescription"),
        ("financial/Journals", "TypeDescription"),
        ("hrm/Costcenters", "Active"),  # Exact: EndDate
        ("cashflow/PaymentConditions", "PaymentDiscountPercentage"),  # Exact: DiscountPercentage
        ("generaljournalentry/GeneralJournalEntries", "Description"),
    ],
)
def test_names_exact_does_not_document_are_refused_always(api, path, name):
    params = {"$select": name, "$top": "1"}
    if path.startswith("sync/"):
        params["$filter"] = "Timestamp gt 1L"
    response = api.get(f"{DIVISION}/{path}", params)
    assert response.status_code == 400
    assert f"Property '{name}' does not exist" in response.json()["error"]["message"]["value"]


def test_full_rows_show_only_documented_names(api):
    row = api.get(f"{DIVISION}/financial/GLAccounts", {"$top": "1"}).json()["d"][0]
    assert "ClassificationCode" not in row and "Creator" in row
    condition = api.get(f"{DIVISION}/cashflow/PaymentConditions", {"$top": "1"}).json()["d"][0]
    assert condition["DiscountPercentage"] == 0.0
    assert "PaymentDiscountPercentage" not in condition


def test_cost_centers_have_an_end_date_and_one_default_division_has_an_ended_one(sandbox, api):
    rows = api.get("3001103/hrm/Costcenters", {"$select": "Code,EndDate"}).json()["d"]["results"]
    assert [row["Code"] for row in rows] == ["100", "200", "300", "400"]
    assert [row["EndDate"] is None for row in rows] == [True, True, True, False]
    ended_ms = int(rows[-1]["EndDate"][len("/Date(") : -len(")/")])
    assert ended_ms < control(sandbox.url, "clock")["now"] * 1000  # in the past
    used = api.get_all("3001103/financialtransaction/TransactionLines", {"$select": "CostCenter"})
    assert "400" not in {row["CostCenter"] for row in used}  # no generated entry uses it
    elsewhere = api.get(f"{DIVISION}/hrm/Costcenters", {"$select": "EndDate"}).json()["d"]
    assert all(row["EndDate"] is None for row in elsewhere["results"])


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
