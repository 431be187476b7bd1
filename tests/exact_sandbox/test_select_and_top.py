"""Where $select is demanded (issue 15, 3) and $top beyond one page (issue 15, 4)."""

from __future__ import annotations

import pytest
import requests
from exact_sandbox.fields import documented

from .helpers import BIG, DIVISION, api_for

SELECT_MISSING = "Please add a $select or a $top=1 statement to the query string."


def message(response: requests.Response) -> str:
    return response.json()["error"]["message"]["value"]


@pytest.fixture
def big(make_sandbox):
    return api_for(make_sandbox(BIG), "u")


# ---------------------------------------------------------------- $select, per endpoint
def test_accounts_list_without_select_with_every_documented_field(api):
    response = api.get(f"{DIVISION}/crm/Accounts")
    assert response.status_code == 200, response.text
    rows = response.json()["d"]["results"]
    assert len(rows) == 12  # the division's accounts, one page
    assert list(rows[0])[1:] == list(documented("Accounts"))
    assert {"ID", "Code", "Name", "Creator", "BankAccounts"} <= set(rows[0])


def test_purchase_entries_refuse_a_list_without_select(api):
    response = api.get(f"{DIVISION}/purchaseentry/PurchaseEntries")
    assert response.status_code == 400
    assert message(response) == SELECT_MISSING
    assert api.get(f"{DIVISION}/purchaseentry/PurchaseEntries", {"$top": "1"}).status_code == 200


@pytest.mark.parametrize(
    "path", ["bulk/Financial/TransactionLines", "sync/Financial/TransactionLines"]
)
def test_bulk_and_sync_refuse_a_list_without_select(api, path):
    response = api.get(f"{DIVISION}/{path}", {"$filter": "Timestamp gt 1L"})
    assert response.status_code == 400
    assert message(response) == SELECT_MISSING


def test_division_lists_answer_without_select(api):
    response = api.get("3001000/system/Divisions")
    assert response.status_code == 200, response.text
    rows = response.json()["d"]["results"]
    assert set(rows[0]) == {"__metadata", *documented("Divisions")}


def test_the_strict_setting_refuses_every_list_without_select(make_sandbox):
    strict = api_for(make_sandbox({"select_required": "always"}))
    for path in ("crm/Accounts", "purchaseentry/PurchaseEntries", "system/Divisions"):
        response = strict.get(f"{DIVISION}/{path}")
        assert response.status_code == 400, path
        assert message(response) == SELECT_MISSING
    assert strict.get(f"{DIVISION}/crm/Accounts", {"$top": "1"}).status_code == 200
    assert strict.get(f"{DIVISION}/crm/Accounts", {"$select": "ID"}).status_code == 200


def test_an_unknown_select_rule_is_a_config_error(make_sandbox):
    with pytest.raises(ValueError, match="select_required"):
        make_sandbox({"select_required": "sometimes"})


# ---------------------------------------------------------------- $top
def test_top_within_one_page_is_a_bare_list(big):
    rows = big.get("777/crm/Accounts", {"$select": "ID", "$top": "5"}).json()["d"]
    assert isinstance(rows, list) and len(rows) == 5


def test_top_one_still_probes_with_a_bare_list(big):
    rows = big.get("777/financial/GLAccounts", {"$select": "ID", "$top": "1"}).json()["d"]
    assert isinstance(rows, list) and len(rows) == 1


def test_top_above_one_page_keeps_paging_with_next_up_to_top(big):
    everyone = big.get_all("777/crm/Accounts", {"$select": "ID"})
    assert len(everyone) == 150
    first = big.get("777/crm/Accounts", {"$select": "ID", "$top": "100"}).json()["d"]
    assert len(first["results"]) == 60
    assert "$top=40&" in first["__next"]
    rows = big.get_all("777/crm/Accounts", {"$select": "ID", "$top": "100"})
    assert [row["ID"] for row in rows] == [row["ID"] for row in everyone[:100]]


def test_top_pages_end_when_the_rows_do(big):
    rows = big.get_all("777/crm/Accounts", {"$select": "ID", "$top": "500"})
    assert len(rows) == len(big.get_all("777/crm/Accounts", {"$select": "ID"}))


def test_top_on_a_sync_feed_pages_by_1000(big):
    params = {"$select": "ID,Timestamp", "$filter": "Timestamp gt 1L", "$top": "1500"}
    first = big.get("777/sync/Financial/TransactionLines", params).json()["d"]
    assert len(first["results"]) == 1000 and "$top=500&" in first["__next"]
    rows = big.get_all("777/sync/Financial/TransactionLines", params)
    stamps = [row["Timestamp"] for row in rows]
    assert len(rows) == 1500 and stamps == sorted(stamps)


def test_top_pages_can_be_switched_off(make_sandbox):
    api = api_for(make_sandbox({**BIG, "top_pages": False}), "u")
    rows = api.get("777/crm/Accounts", {"$select": "ID", "$top": "150"}).json()["d"]
    assert isinstance(rows, list) and len(rows) == 60


def test_top_zero_is_an_empty_list(big):
    assert big.get("777/crm/Accounts", {"$select": "ID", "$top": "0"}).json() == {"d": []}
