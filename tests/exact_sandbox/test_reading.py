"""Reading: envelopes, paging, $select, $filter, dates, codes, Atom, every entity."""

from __future__ import annotations

import re

import pytest
import requests
from exact_sandbox.testing import control

from .helpers import BIG, api_for, rows_with_exactly

DATE = re.compile(r"^/Date\(\d+\)/$")


@pytest.fixture
def big(make_sandbox):
    server = make_sandbox(BIG)
    return api_for(server, "u")


def test_select_is_required_on_bulk_endpoints(api):
    response = api.get("3001101/bulk/CRM/Accounts")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "",
            "message": {
                "lang": "",
                "value": "Please add a $select or a $top=1 statement to the query string.",
            },
        }
    }


def test_top_one_without_select_gives_a_bare_list_with_all_fields(api):
    response = api.get("3001101/crm/Accounts", {"$top": "1"})
    assert response.status_code == 200
    rows = response.json()["d"]
    assert isinstance(rows, list) and len(rows) == 1
    assert {"ID", "Code", "Name", "IsSupplier", "VATNumber", "ChamberOfCommerce"} <= set(rows[0])


def test_select_returns_exactly_the_fields_asked(api):
    rows = api.get("3001101/financial/GLAccounts", {"$select": "Code,Description"}).json()
    first = rows["d"]["results"][0]
    assert list(first) == ["__metadata", "Code", "Description"]
    assert first["__metadata"]["type"] == "Exact.Web.Api.Models.Financial.GLAccount"
    assert "/api/v1/3001101/financial/GLAccounts(guid'" in first["__metadata"]["uri"]


def test_unknown_select_field_is_400(api):
    response = api.get("3001101/financial/GLAccounts", {"$select": "Code,Nonsense"})
    assert response.status_code == 400


def test_standard_endpoints_page_by_60_following_next(big):
    first = big.get("777/crm/Accounts", {"$select": "ID,Code"}).json()["d"]
    assert len(first["results"]) == 60
    assert "$skiptoken=guid'" in first["__next"]
    rows = big.get_all("777/crm/Accounts", {"$select": "ID,Code"})
    assert len(rows) == 150
    assert len({row["ID"] for row in rows}) == 150


def test_top_gives_a_bare_list_without_next(big):
    rows = big.get("777/crm/Accounts", {"$select": "ID", "$top": "5"}).json()["d"]
    assert isinstance(rows, list) and len(rows) == 5


def test_sync_pages_by_1000_in_timestamp_order(big):
    params = {"$select": "ID,Timestamp,LineNumber", "$filter": "Timestamp gt 1L"}
    first = big.get("777/sync/Financial/TransactionLines", params).json()["d"]
    assert len(first["results"]) == 1000
    assert first["__next"]
    rows = big.get_all("777/sync/Financial/TransactionLines", params)
    stamps = [row["Timestamp"] for row in rows]
    assert len(rows) == 2500
    assert stamps == sorted(stamps) and len(set(stamps)) == 2500
    after = big.get(
        "777/sync/Financial/TransactionLines",
        {**params, "$filter": f"Timestamp gt {stamps[2399]}L"},
    ).json()["d"]
    assert [row["Timestamp"] for row in after["results"]] == stamps[2400:]
    assert "__next" not in after


def test_sync_line_zero_is_the_entry_header(big):
    rows = big.get(
        "777/sync/Financial/TransactionLines",
        {"$select": "EntryID,LineNumber,AmountDC", "$filter": "Timestamp gt 1L"},
    ).json()
    lines = [
        row for row in rows["d"]["results"] if row["EntryID"] == rows["d"]["results"][0]["EntryID"]
    ]
    assert [row["LineNumber"] for row in lines] == [0, 1, 2, 3]
    assert round(sum(row["AmountDC"] for row in lines), 2) == 0


def test_sync_filters_only_on_timestamp(big):
    response = big.get("777/sync/CRM/Accounts", {"$select": "ID", "$filter": "Name eq 'x'"})
    assert response.status_code == 400


def test_bulk_pages_by_1000(big):
    page = big.get("777/bulk/Financial/TransactionLines", {"$select": "ID"}).json()["d"]
    assert len(page["results"]) == 1000
    assert "__next" in page


def test_filters_on_standard_endpoints(big):
    suppliers = big.get_all(
        "777/crm/Accounts", {"$select": "ID,IsSupplier", "$filter": "IsSupplier eq true"}
    )
    assert suppliers and all(row["IsSupplier"] for row in suppliers)
    everyone = big.get_all("777/crm/Accounts", {"$select": "ID,IsSupplier"})
    assert len(suppliers) == sum(row["IsSupplier"] for row in everyone) < 150
    target = everyone[77]["ID"]
    found = big.get("777/crm/Accounts", {"$select": "ID", "$filter": f"ID eq guid'{target}'"})
    assert [row["ID"] for row in found.json()["d"]["results"]] == [target]


def test_string_and_combined_filters(big):
    line = big.get(
        "777/financialtransaction/TransactionLines",
        {"$select": "YourRef,EntryNumber", "$filter": "LineNumber eq 0"},
    ).json()
    wanted = next(r for r in line["d"]["results"] if r["YourRef"])
    rows = big.get_all(
        "777/financialtransaction/TransactionLines",
        {
            "$select": "YourRef,LineNumber",
            "$filter": f"YourRef eq '{wanted['YourRef']}' and LineNumber eq 0",
        },
    )
    assert rows and all(row["YourRef"] == wanted["YourRef"] for row in rows)
    assert all(row["LineNumber"] == 0 for row in rows)


def test_or_filters_with_parentheses(api):
    rows = api.get_all(
        "3001101/financial/GLAccounts",
        {
            "$select": "Code,BalanceType",
            "$filter": "(Code eq '4300' or Code eq '8000' or Code eq '1000') "
            "and BalanceType eq 'W'",
        },
    )
    assert sorted(row["Code"] for row in rows) == ["4300", "8000"]


def test_unsupported_filter_functions_are_400(api):
    response = api.get(
        "3001101/crm/Accounts", {"$select": "ID", "$filter": "substringof('Bakker', Name)"}
    )
    assert response.status_code == 400


def test_datetime_filter(big):
    rows = big.get_all(
        "777/financial/FinancialPeriods",
        {
            "$select": "FinYear,FinPeriod,StartDate",
            "$filter": "StartDate ge datetime'2026-06-01T00:00:00'",
        },
    )
    assert [(row["FinYear"], row["FinPeriod"]) for row in rows] == [(2026, m) for m in range(6, 13)]


def test_dates_and_padded_account_codes(api):
    row = api.get("3001101/crm/Accounts", {"$select": "Code,Created", "$top": "1"}).json()["d"][0]
    assert len(row["Code"]) == 18
    assert row["Code"] == row["Code"].strip().rjust(18)
    assert DATE.match(row["Created"])


def test_without_json_accept_the_answer_is_atom_xml(api):
    response = requests.get(
        f"{api.url}/api/v1/3001101/financial/GLAccounts",
        params={"$select": "ID"},
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    assert response.text.startswith("<?xml")


STANDARD = {
    "financial/GLAccounts": "ID,Code,Description,BalanceType,BalanceSide,Type,VATCode",
    "financial/GLClassifications": "ID,Code,Description,Parent",
    "financial/Journals": "ID,Code,Description,Type,GLAccount",
    "vat/VATCodes": "ID,Code,Description,Percentage,VATTransactionType",
    "crm/Accounts": "ID,Code,Name,IsSupplier,IsSales,VATNumber,ChamberOfCommerce",
    "hrm/Costcenters": "ID,Code,Description",
    "hrm/Costunits": "ID,Code,Description",
    "financial/FinancialPeriods": "ID,FinYear,FinPeriod,StartDate,EndDate",
    "cashflow/PaymentConditions": "ID,Code,Description,PaymentDays",
    "financialtransaction/TransactionLines": "ID,EntryID,LineNumber,GLAccount,AmountDC",
    "documents/Documents": "ID,Subject,Type",
    "documents/DocumentAttachments": "ID,Document,FileName,FileSize,Url",
}
SYNC = (
    "sync/Financial/GLAccounts",
    "sync/Financial/GLClassifications",
    "sync/Financial/TransactionLines",
    "sync/CRM/Accounts",
    "sync/Documents/Documents",
    "sync/Documents/DocumentAttachments",
    "sync/Cashflow/PaymentTerms",
)


@pytest.mark.parametrize("path", sorted(STANDARD))
def test_every_standard_endpoint_serves_rows_with_its_fields(api, path):
    rows_with_exactly(api, f"3001101/{path}", STANDARD[path])


@pytest.mark.parametrize("path", SYNC)
def test_every_sync_endpoint_serves_rows_with_timestamps(api, path):
    response = api.get(f"3001101/{path}", {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1L"})
    assert response.status_code == 200, response.text
    rows = response.json()["d"]["results"]
    assert rows and all(isinstance(row["Timestamp"], int) for row in rows)


def test_gl_accounts_and_journals_look_like_exact(api):
    gl = api.get_all("3001101/financial/GLAccounts", {"$select": "Code,BalanceType,BalanceSide"})
    assert {row["BalanceType"] for row in gl} == {"B", "W"}
    assert {row["BalanceSide"] for row in gl} == {"D", "C"}
    journals = api.get_all("3001101/financial/Journals", {"$select": "Code,Type"})
    assert {row["Type"] for row in journals} == {10, 12, 20, 22, 90}


def test_vat_codes_differ_per_country_and_expand_percentages(api):
    params = {"$select": "Code,Percentage,VATPercentages", "$expand": "VATPercentages"}
    dutch = {row["Code"]: row for row in api.get_all("3001101/vat/VATCodes", params)}
    belgian = {row["Code"]: row for row in api.get_all("3001104/vat/VATCodes", params)}
    assert dutch["2"]["Percentage"] == 0.09
    assert [p["Percentage"] for p in dutch["2"]["VATPercentages"]["results"]] == [0.06, 0.09]
    assert belgian["06"]["Percentage"] == 0.06
    deferred = api.get("3001101/vat/VATCodes", {"$select": "Code,VATPercentages"}).json()
    assert "__deferred" in deferred["d"]["results"][0]["VATPercentages"]


def test_record_by_key(api):
    first = api.get("3001101/crm/Accounts", {"$select": "ID,Name", "$top": "1"}).json()["d"][0]
    one = api.get(f"3001101/crm/Accounts(guid'{first['ID']}')", {"$select": "ID,Name"})
    assert one.status_code == 200
    assert one.json()["d"]["Name"] == first["Name"]
    missing = api.get("3001101/crm/Accounts(guid'00000000-0000-4000-8000-000000000000')")
    assert missing.status_code == 404


def test_generation_is_deterministic(make_sandbox):
    first, second = make_sandbox(BIG), make_sandbox(BIG)
    params = {"$select": "ID,Name,Code,VATNumber", "$top": "20"}
    rows = [
        api_for(server, "u").get("777/crm/Accounts", params).json() for server in (first, second)
    ]
    assert [r["ID"] for r in rows[0]["d"]] == [r["ID"] for r in rows[1]["d"]]
    assert [r["Name"] for r in rows[0]["d"]] == [r["Name"] for r in rows[1]["d"]]


def test_attachment_url_downloads_the_file(api):
    row = api.get("3001101/documents/DocumentAttachments", {"$select": "Url,FileSize"}).json()
    first = row["d"]["results"][0]
    response = requests.get(first["Url"], headers=api.headers(), timeout=10)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert len(response.content) == first["FileSize"]


def test_unknown_resource_is_404(api):
    assert api.get("3001101/financial/Nonsense", {"$select": "ID"}).status_code == 404


def test_sync_deleted_lists_deletions(sandbox, api):
    account = api.get("3001101/crm/Accounts", {"$select": "ID", "$top": "1"}).json()["d"][0]
    control(sandbox.url, f"divisions/3001101/records/Accounts/{account['ID']}", method="DELETE")
    rows = api.get_all(
        "3001101/sync/Deleted",
        {"$select": "EntityKey,EntityType,Timestamp,DeletedDate", "$filter": "Timestamp gt 1L"},
    )
    assert [(row["EntityKey"], row["EntityType"]) for row in rows] == [(account["ID"], 2)]
    assert DATE.match(rows[0]["DeletedDate"])
    gone = api.get(f"3001101/crm/Accounts(guid'{account['ID']}')", {"$select": "ID"})
    assert gone.status_code == 404
