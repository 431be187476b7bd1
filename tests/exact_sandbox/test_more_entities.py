"""The endpoints extraction tools read: contacts, addresses, sales invoices and their lines,
open items (Payments, Receivables) and GL account classification mappings, over HTTP."""

from __future__ import annotations

import time

import pytest
from exact_sandbox.testing import control

from .helpers import DIVISION, api_for, rows_with_exactly

SMALL_PAGES = {"page_sizes": {"standard": 5, "bulk": 3, "sync": 4}}

STANDARD = {
    "crm/Contacts": "ID,Account,FullName,Email,IsMainContact",
    "crm/Addresses": "ID,Account,Type,AddressLine1,City,Postcode,Main",
    "salesinvoice/SalesInvoices": "InvoiceID,InvoiceNumber,InvoiceTo,AmountFC,Status",
    "salesinvoice/SalesInvoiceLines": "ID,InvoiceID,LineNumber,AmountFC,GLAccount",
    "cashflow/Payments": "ID,Account,AmountDC,Status,EntryNumber,InvoiceNumber,DueDate",
    "cashflow/Receivables": "ID,Account,AmountDC,Status,IsFullyPaid,TransactionEntryID",
    "financial/GLAccountClassificationMappings": "ID,GLAccount,Classification,GLSchemeCode",
}
BULK = {
    "bulk/CRM/Contacts": "ID,FullName",
    "bulk/CRM/Addresses": "ID,Type",
    "bulk/SalesInvoice/SalesInvoiceLines": "ID,InvoiceID",
    "bulk/Cashflow/Payments": "ID,AmountDC",
    "bulk/Cashflow/Receivables": "ID,AmountDC",
}
SYNC = {  # feed -> (key field, EntityType in sync/Deleted, control entity deleted)
    "sync/CRM/Contacts": ("ID", 5, "Contacts"),
    "sync/CRM/Addresses": ("ID", 3, "Addresses"),
    "sync/SalesInvoice/SalesInvoices": ("InvoiceID", 13, "SalesInvoices"),
}


def all_rows(api, path: str, select: str, **params: str) -> list[dict]:
    return api.get_all(f"{DIVISION}/{path}", {"$select": select, **params})


def keyed(rows: list[dict], field: str = "ID") -> dict:
    return {row[field]: row for row in rows}


@pytest.mark.parametrize("path", sorted(STANDARD))
def test_standard_endpoints_serve_exactly_the_selected_fields(api, path):
    rows = rows_with_exactly(api, f"{DIVISION}/{path}", STANDARD[path])
    assert rows[0]["__metadata"]["uri"].startswith(f"{api.url}/api/v1/{DIVISION}/{path}(guid'")


@pytest.mark.parametrize("path", sorted(STANDARD))
def test_unknown_select_field_is_400(api, path):
    key = STANDARD[path].split(",")[0]
    response = api.get(f"{DIVISION}/{path}", {"$select": f"{key},NoSuchField"})
    assert response.status_code == 400
    assert "NoSuchField" in response.json()["error"]["message"]["value"]


def test_fields_an_extraction_tool_selects_are_accepted(api):
    """The Singer tap's selections: creator fields, free fields, the sync feed's line fields."""
    checks = {
        "crm/Contacts": "ID,Creator,CreatorFullName,HID,Person,PictureUrl,Timestamp",
        "crm/Addresses": "ID,FreeBoolField_01,FreeTextField_05,NicNumber,Warehouse",
        "cashflow/Payments": "ID,TransactionAmountDC,TransactionEntryID,PaymentSelected",
        "cashflow/Receivables": "ID,DirectDebitMandate,EndToEndID,LastPaymentDate",
        "financial/GLAccountClassificationMappings": "ID,GLSchemeDescription,GLSchemeID",
    }
    for path, select in checks.items():
        response = api.get(f"{DIVISION}/{path}", {"$select": select})
        assert response.status_code == 200, (path, response.text)
    sync = api.get(
        f"{DIVISION}/sync/SalesInvoice/SalesInvoices",
        {
            "$select": "ID,InvoiceID,LineNumber,Item,UnitPrice,Timestamp",
            "$filter": "Timestamp gt 1",
        },
    )
    assert sync.status_code == 200, sync.text


@pytest.mark.parametrize("path", sorted(STANDARD))
def test_standard_endpoints_page_with_next_and_guid_skiptokens(make_sandbox, path):
    api = api_for(make_sandbox(SMALL_PAGES))
    key = STANDARD[path].split(",")[0]
    first = api.get(f"{DIVISION}/{path}", {"$select": key}).json()["d"]
    assert len(first["results"]) == 5
    assert "$skiptoken=guid'" in first["__next"]
    rows = api.get_all(f"{DIVISION}/{path}", {"$select": key})
    assert len(rows) > 5
    assert len({row[key] for row in rows}) == len(rows)  # no row twice


@pytest.mark.parametrize("path", sorted(BULK))
def test_bulk_endpoints_page_by_the_bulk_size(make_sandbox, path):
    api = api_for(make_sandbox(SMALL_PAGES))
    first = api.get(f"{DIVISION}/{path}", {"$select": BULK[path]}).json()["d"]
    assert len(first["results"]) == 3 and first["__next"]
    assert len(api.get_all(f"{DIVISION}/{path}", {"$select": BULK[path]})) > 3


@pytest.mark.parametrize("path", sorted(SYNC))
def test_sync_feeds_page_in_timestamp_order_and_resume_after_a_cursor(make_sandbox, path):
    api = api_for(make_sandbox(SMALL_PAGES))
    params = {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1L"}
    first = api.get(f"{DIVISION}/{path}", params).json()["d"]
    assert len(first["results"]) == 4
    assert first["__next"].endswith(f"$skiptoken={first['results'][-1]['Timestamp']}L")
    rows = api.get_all(f"{DIVISION}/{path}", params)
    stamps = [row["Timestamp"] for row in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    cursor = stamps[5]
    later = api.get_all(f"{DIVISION}/{path}", {**params, "$filter": f"Timestamp gt {cursor}L"})
    assert [row["ID"] for row in later] == [row["ID"] for row in rows[6:]]


@pytest.mark.parametrize("path", sorted(SYNC))
def test_sync_feeds_accept_only_timestamp_filters(api, path):
    response = api.get(
        f"{DIVISION}/{path}", {"$select": "ID", "$filter": "Division eq 3001101 and Timestamp gt 1"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("path", sorted(SYNC))
def test_a_changed_record_comes_back_after_the_cursor(sandbox, api, path):
    key_field, _code, entity = SYNC[path]
    params = {"$select": f"ID,{key_field},Timestamp", "$filter": "Timestamp gt 1L"}
    rows = api.get_all(f"{DIVISION}/{path}", params)
    cursor = max(row["Timestamp"] for row in rows)
    changed = rows[0][key_field]
    field = {"Contacts": "Notes", "Addresses": "Notes", "SalesInvoices": "Remarks"}[entity]
    control(
        sandbox.url,
        f"divisions/{DIVISION}/records/{entity}/{changed}",
        {"fields": {field: "gewijzigd"}},
        method="PATCH",
    )
    later = api.get_all(f"{DIVISION}/{path}", {**params, "$filter": f"Timestamp gt {cursor}L"})
    assert later and {row[key_field] for row in later} == {changed}
    if entity == "SalesInvoices":  # one sync row per invoice line: both lines come back
        assert len(later) == 2


@pytest.mark.parametrize("path", sorted(SYNC))
def test_deletions_go_to_sync_deleted_with_exacts_entity_type(sandbox, api, path):
    key_field, code, entity = SYNC[path]
    params = {"$select": f"ID,{key_field},Timestamp", "$filter": "Timestamp gt 1L"}
    rows = api.get_all(f"{DIVISION}/{path}", params)
    doomed = rows[1][key_field]
    control(sandbox.url, f"divisions/{DIVISION}/records/{entity}/{doomed}", method="DELETE")
    deleted = api.get_all(
        f"{DIVISION}/sync/Deleted",
        {"$select": "EntityKey,EntityType,DeletedDate", "$filter": "Timestamp gt 1L"},
    )
    assert [(row["EntityKey"], row["EntityType"]) for row in deleted] == [(doomed, code)]
    after = api.get_all(f"{DIVISION}/{path}", params)
    assert doomed not in {row[key_field] for row in after}
    assert len(after) == len(rows) - (2 if entity == "SalesInvoices" else 1)


def test_contacts_and_addresses_belong_to_the_division_accounts(api):
    accounts = keyed(all_rows(api, "crm/Accounts", "ID,Name,AddressLine1,City,Postcode"))
    contacts = all_rows(api, "crm/Contacts", "ID,Account,AccountName,IsMainContact")
    assert {row["Account"] for row in contacts} <= set(accounts)
    assert all(row["AccountName"] == accounts[row["Account"]]["Name"] for row in contacts)
    main = [row["Account"] for row in contacts if row["IsMainContact"]]
    assert sorted(main) == sorted(set(main))  # at most one main contact per account
    addresses = all_rows(api, "crm/Addresses", "Account,Type,Main,AddressLine1,City,Postcode")
    visits = [row for row in addresses if row["Type"] == 1]
    assert visits
    for row in visits:  # a visit address is the account's own address
        account = accounts[row["Account"]]
        assert (row["AddressLine1"], row["City"], row["Postcode"]) == (
            account["AddressLine1"],
            account["City"],
            account["Postcode"],
        )


def test_booked_sales_invoices_are_the_sales_entries_in_transaction_lines(api):
    invoices = all_rows(
        api,
        "salesinvoice/SalesInvoices",
        "InvoiceID,InvoiceNumber,InvoiceTo,AmountFC,AmountFCExclVat,VATAmountFC,Status",
    )
    headers = all_rows(
        api,
        "financialtransaction/TransactionLines",
        "InvoiceNumber,Account,AmountDC,JournalCode",
        **{"$filter": "LineNumber eq 0 and JournalCode eq '70'"},
    )
    by_number = {row["InvoiceNumber"]: row for row in headers}
    booked = [row for row in invoices if row["Status"] == 50]
    assert booked and len(booked) < len(invoices)  # the rest are open, not booked yet
    assert len(booked) == len(headers)
    for invoice in booked:
        entry = by_number[invoice["InvoiceNumber"]]
        assert entry["Account"] == invoice["InvoiceTo"]
        assert entry["AmountDC"] == invoice["AmountFC"]
        assert round(invoice["AmountFCExclVat"] + invoice["VATAmountFC"], 2) == invoice["AmountFC"]
    customers = keyed(all_rows(api, "crm/Accounts", "ID,IsSales"))
    assert all(customers[row["InvoiceTo"]]["IsSales"] for row in invoices)


def test_invoice_lines_add_up_and_expand_under_their_invoice(api):
    invoice = api.get(
        f"{DIVISION}/salesinvoice/SalesInvoices",
        {"$select": "InvoiceID,AmountFCExclVat,SalesInvoiceLines", "$top": "1"},
    ).json()["d"][0]
    assert "__deferred" in invoice["SalesInvoiceLines"]
    lines = all_rows(
        api,
        "salesinvoice/SalesInvoiceLines",
        "ID,InvoiceID,LineNumber,AmountFC",
        **{"$filter": f"InvoiceID eq guid'{invoice['InvoiceID']}'"},
    )
    assert [line["LineNumber"] for line in lines] == [1, 2]
    assert round(sum(line["AmountFC"] for line in lines), 2) == invoice["AmountFCExclVat"]
    expanded = api.get(
        f"{DIVISION}/salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')",
        {"$expand": "SalesInvoiceLines"},
    ).json()["d"]
    assert [line["ID"] for line in expanded["SalesInvoiceLines"]["results"]] == [
        line["ID"] for line in lines
    ]


def test_sales_invoice_sync_feed_has_one_row_per_line_with_header_fields(api):
    feed = all_rows(
        api,
        "sync/SalesInvoice/SalesInvoices",
        "ID,InvoiceID,LineNumber,InvoiceNumber,InvoiceTo,AmountFC,Timestamp",
        **{"$filter": "Timestamp gt 1L"},
    )
    lines = keyed(all_rows(api, "salesinvoice/SalesInvoiceLines", "ID,InvoiceID,AmountFC"))
    invoices = keyed(
        all_rows(api, "salesinvoice/SalesInvoices", "InvoiceID,InvoiceNumber,InvoiceTo"),
        "InvoiceID",
    )
    assert {row["ID"] for row in feed} == set(lines)
    for row in feed:
        assert row["AmountFC"] == lines[row["ID"]]["AmountFC"]  # the line's amount
        header = invoices[row["InvoiceID"]]
        assert (row["InvoiceNumber"], row["InvoiceTo"]) == (
            header["InvoiceNumber"],
            header["InvoiceTo"],
        )


def test_every_gl_account_maps_once_to_its_classification(api):
    # Exact's GLAccounts do not name their classification: the mapping is the only link
    gl_accounts = keyed(all_rows(api, "financial/GLAccounts", "ID,Code"))
    classifications = keyed(all_rows(api, "financial/GLClassifications", "ID,Code"))
    mappings = all_rows(
        api,
        "financial/GLAccountClassificationMappings",
        "GLAccount,GLAccountCode,Classification,ClassificationCode,GLSchemeCode,GLSchemeID",
    )
    assert sorted(row["GLAccount"] for row in mappings) == sorted(gl_accounts)
    for row in mappings:
        account = gl_accounts[row["GLAccount"]]
        assert row["GLAccountCode"] == account["Code"]
        assert row["ClassificationCode"] == classifications[row["Classification"]]["Code"]
    assert {(row["GLSchemeCode"], row["GLSchemeID"]) for row in mappings} == {
        ("RGS", mappings[0]["GLSchemeID"])
    }


def test_generated_open_items_follow_the_entries(api):
    payments = all_rows(
        api,
        "cashflow/Payments",
        "Account,AmountDC,TransactionAmountDC,Status,EndDate,TransactionEntryID,GLAccountCode",
    )
    receivables = all_rows(
        api, "cashflow/Receivables", "AmountDC,Status,IsFullyPaid,InvoiceNumber,GLAccountCode"
    )
    assert payments and receivables
    assert all(row["AmountDC"] < 0 and row["GLAccountCode"] == "1600" for row in payments)
    assert all(row["AmountDC"] > 0 and row["GLAccountCode"] == "1300" for row in receivables)
    assert {row["Status"] for row in payments} == {20, 50}
    assert all((row["Status"] == 50) == (row["EndDate"] is not None) for row in payments)
    assert all((row["Status"] == 50) == row["IsFullyPaid"] for row in receivables)
    invoices = all_rows(api, "salesinvoice/SalesInvoices", "InvoiceNumber,Status")
    booked = sorted(row["InvoiceNumber"] for row in invoices if row["Status"] == 50)
    assert booked == sorted(row["InvoiceNumber"] for row in receivables)[: len(booked)]
    terms = all_rows(
        api, "sync/Cashflow/PaymentTerms", "EntryID,Status", **{"$filter": "Timestamp gt 1L"}
    )
    open_terms = {row["EntryID"] for row in terms if row["Status"] == 20}
    open_payments = {row["TransactionEntryID"] for row in payments if row["Status"] == 20}
    assert open_payments and open_payments <= open_terms


@pytest.mark.parametrize(
    ("right", "paths"),
    [
        ("view_accounts", ["crm/Contacts", "sync/CRM/Addresses", "bulk/CRM/Contacts"]),
        (
            "view_financial_entries",
            [
                "salesinvoice/SalesInvoices",
                "bulk/SalesInvoice/SalesInvoiceLines",
                "sync/SalesInvoice/SalesInvoices",
                "cashflow/Payments",
                "bulk/Cashflow/Receivables",
            ],
        ),
        ("view_financial_master_data", ["financial/GLAccountClassificationMappings"]),
    ],
)
def test_a_missing_right_refuses_with_403_naming_it(sandbox, api, right, paths):
    control(sandbox.url, "users/accountant/rights", {"division": DIVISION, "deny": [right]})
    for path in paths:
        params = {"$select": "ID" if "SalesInvoices" not in path else "InvoiceID"}
        if path.startswith("sync/"):
            params = {"$select": "ID", "$filter": "Timestamp gt 1L"}
        response = api.get(f"{DIVISION}/{path}", params)
        assert response.status_code == 403, path
        assert response.headers["Reason"].startswith("MissingRight: ")
    assert api.get("3001102/crm/Contacts", {"$select": "ID"}).status_code == 200


def test_volumes_are_configurable_and_big_ones_stay_cheap(make_sandbox):
    started = time.perf_counter()
    server = make_sandbox(
        {
            "divisions": [
                {
                    "code": 42,
                    "name": "Groot",
                    "volume": {
                        "accounts": 5_000,
                        "transaction_lines": 40_000,
                        "contacts": 50_000,
                        "addresses": 10_000,
                        "sales_invoices": 20_000,
                    },
                }
            ],
            "users": [{"username": "u", "password": "p", "divisions": [42]}],
        }
    )
    api = api_for(server, "u", "p")
    page = api.get("42/bulk/CRM/Contacts", {"$select": "ID,Account"}).json()["d"]
    assert len(page["results"]) == 1000 and page["__next"]
    lines = api.get("42/bulk/SalesInvoice/SalesInvoiceLines", {"$select": "ID"}).json()["d"]
    assert len(lines["results"]) == 1000
    counts = control(server.url, "divisions/42")["counts"]
    assert counts["Contacts"] == 50_000 and counts["SalesInvoiceLines"] == 40_000
    assert counts["Payments"] + counts["Receivables"] < 10_000  # one per purchase/sales entry
    assert time.perf_counter() - started < 10
