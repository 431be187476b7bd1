"""current/Me, the division lists, division scope and rights."""

from __future__ import annotations

import requests
from exact_sandbox.testing import DEMO_CLIENT_ID, control

from .helpers import api_for

DIVISION_FIELDS = {
    "Code",
    "Description",
    "Hid",
    "Customer",
    "CustomerName",
    "VATNumber",
    "ChamberOfCommerceNumber",
    "Country",
    "Currency",
    "Status",
    "BlockingStatus",
    "IsMainDivision",
    "DivisionMoveDate",
}


def test_me_names_the_user_and_current_division(api):
    response = api.get("current/Me")
    assert response.status_code == 200
    me = response.json()["d"]["results"][0]
    assert me["UserName"] == "accountant"
    assert me["FullName"] == "Anna de Boer"
    assert me["CurrentDivision"] == 3001000
    assert me["LanguageCode"] == "nl-NL"
    assert me["Legislation"] == 1  # an Int64 here (NL), letters in system/Divisions
    assert len(me["UserID"]) == 36
    assert me["__metadata"]["type"] == "Exact.Web.Api.System.Me"


def test_current_division_moves_when_the_user_opens_another(sandbox, api):
    control(sandbox.url, "users/accountant/current-division", {"division": 3001104})
    me = api.get("current/Me", {"$select": "CurrentDivision"}).json()["d"]["results"][0]
    assert me == {"__metadata": me["__metadata"], "CurrentDivision": 3001104}


def test_divisions_lists_granted_divisions_with_exact_fields(sandbox):
    api = api_for(sandbox, divisions=[3001000, 3001101, 3001104])
    response = api.get("3001000/system/Divisions", {"$select": ",".join(sorted(DIVISION_FIELDS))})
    assert response.status_code == 200
    rows = response.json()["d"]["results"]
    assert [row["Code"] for row in rows] == [3001000, 3001101, 3001104]
    assert set(rows[0]) >= DIVISION_FIELDS
    belgian = rows[2]
    assert belgian["Country"] == "BE"
    assert belgian["VATNumber"] == "BE0412345614"
    assert belgian["Currency"] == "EUR"
    assert belgian["Status"] == 1
    assert rows[0]["IsMainDivision"] is True
    assert belgian["DivisionMoveDate"] is None


def test_all_divisions_includes_divisions_without_rights(sandbox):
    api = api_for(sandbox, divisions=[3001101])
    params = {"$select": "Code,Status"}
    granted = api.get("3001101/system/Divisions", params).json()["d"]["results"]
    everything = api.get("3001101/system/AllDivisions", params).json()["d"]["results"]
    assert [row["Code"] for row in granted] == [3001101]
    codes = {row["Code"]: row["Status"] for row in everything}
    assert len(codes) == 8
    assert codes[3001199] == 2  # archived, reachable by nobody


def test_old_hrm_divisions_uses_other_field_names(api):
    rows = api.get("3001000/hrm/Divisions", {"$select": "Code,Description,HID,Main"}).json()
    first = rows["d"]["results"][0]
    assert set(first) == {"__metadata", "Code", "Description", "HID", "Main"}
    assert first["Main"] is True


def test_division_outside_the_grant_is_403_with_reason(sandbox):
    api = api_for(sandbox, divisions=[3001000, 3001101])
    response = api.get("3001102/financial/GLAccounts", {"$select": "ID"})
    assert response.status_code == 403
    assert response.headers["Reason"] == "Application Scope Violated"
    assert response.json() == {
        "error": {
            "code": "",
            "message": {"lang": "", "value": "User division is not within division scope"},
        }
    }


def test_division_the_user_cannot_reach_is_403(sandbox):
    api = api_for(sandbox, "client")
    response = api.get("3001102/financial/GLAccounts", {"$select": "ID"})
    assert response.status_code == 403
    assert response.headers["Reason"] == "NoDivisionAccess"


def test_client_user_sees_only_its_division(sandbox):
    api = api_for(sandbox, "client")
    rows = api.get("3001101/system/Divisions", {"$select": "Code"}).json()["d"]["results"]
    assert [row["Code"] for row in rows] == [3001101]


def test_missing_right_gives_403_naming_it(sandbox, api):
    control(
        sandbox.url,
        "users/accountant/rights",
        {"division": 3001101, "deny": ["view_financial_master_data"]},
    )
    response = api.get("3001101/financial/GLAccounts", {"$select": "ID"})
    assert response.status_code == 403
    assert response.headers["Reason"] == "MissingRight: View financial master data"
    message = response.json()["error"]["message"]["value"]
    assert "Financiële stamgegevens bekijken" in message  # the accountant reads Dutch
    assert api.get("3001101/crm/Accounts", {"$select": "ID"}).status_code == 200
    assert api.get("3001102/financial/GLAccounts", {"$select": "ID"}).status_code == 200


def test_missing_right_message_is_english_for_english_users(sandbox):
    control(sandbox.url, "users/client/rights", {"division": "*", "deny": ["view_accounts"]})
    api = api_for(sandbox, "client")
    response = api.get("3001101/crm/Accounts", {"$select": "ID"})
    assert response.status_code == 403
    assert response.json()["error"]["message"]["value"] == (
        "Forbidden: you need the right 'View accounts'"
    )


def test_rights_from_the_config_apply(make_sandbox):
    config_user = {
        "username": "junior",
        "password": "junior",
        "full_name": "Jo Junior",
        "language": "en-GB",
        "divisions": [3001101],
        "denied_rights": {"3001101": ["view_financial_entries"]},
    }
    server = make_sandbox({"users": [config_user]})
    api = api_for(server, "junior")
    assert (
        api.get(
            "3001101/sync/Financial/TransactionLines",
            {"$select": "ID", "$filter": "Timestamp gt 1L"},
        ).status_code
        == 403
    )


def test_blocked_division_is_403(sandbox, api):
    control(sandbox.url, "divisions/3001105", {"blocking_status": 1}, method="PATCH")
    response = api.get("3001105/financial/GLAccounts", {"$select": "ID"})
    assert response.status_code == 403
    assert response.headers["Reason"] == "DivisionBlocked"
    rows = api.get("3001000/system/Divisions", {"$select": "Code,BlockingStatus"}).json()
    blocking = {row["Code"]: row["BlockingStatus"] for row in rows["d"]["results"]}
    assert blocking[3001105] == 1


def test_division_list_works_from_a_current_division_outside_the_grant(sandbox):
    api = api_for(sandbox, divisions=[3001101])
    response = api.get("3001000/system/Divisions", {"$select": "Code"})
    assert response.status_code == 200
    assert [row["Code"] for row in response.json()["d"]["results"]] == [3001101]


def test_division_list_outside_grant_can_be_made_strict(make_sandbox):
    server = make_sandbox({"division_list_from_any_user_division": False})
    api = api_for(server, divisions=[3001101])
    assert api.get("3001000/system/Divisions", {"$select": "Code"}).status_code == 403


def test_consents_are_listed(sandbox, api):
    consents = control(sandbox.url, "consents")["consents"]
    assert consents[0]["client_id"] == DEMO_CLIENT_ID
    assert consents[0]["divisions"][0] == 3001000


def test_me_in_atom_when_json_is_not_asked(api):
    response = requests.get(
        f"{api.url}/api/v1/current/Me",
        headers={"Authorization": f"Bearer {api.token}", "Accept": "application/xml"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    assert "current/Me(guid'" in response.text


def test_division_list_pages_by_60_for_big_offices(make_sandbox):
    divisions = [{"code": 5000 + n, "name": f"Klant {n}", "licence": "big"} for n in range(130)]
    user = {"username": "big", "password": "big", "divisions": [d["code"] for d in divisions]}
    server = make_sandbox({"divisions": divisions, "users": [user]})
    api = api_for(server, "big")
    first = api.get("5000/system/Divisions", {"$select": "Code"}).json()["d"]
    assert len(first["results"]) == 60 and "$skiptoken=5059" in first["__next"]
    rows = api.get_all("5000/system/Divisions", {"$select": "Code"})
    assert [row["Code"] for row in rows] == [5000 + n for n in range(130)]
    top = api.get("5000/system/Divisions", {"$select": "Code", "$top": "2"}).json()["d"]
    assert [row["Code"] for row in top] == [5000, 5001]
