"""current/Me: Legislation typed as Exact types it (Int64), its documented fields (issue 15, 2)."""

from __future__ import annotations

from exact_sandbox.fields import documented
from exact_sandbox.testing import control

from .helpers import api_for

BELGIAN = {
    "divisions": [
        {"code": 501, "name": "Brouwerij", "country": "BE", "seed": 5, "licence": "x"},
        {"code": 502, "name": "Bakkerij", "country": "NL", "seed": 6, "licence": "x"},
    ],
    "users": [
        {"username": "b", "password": "b", "divisions": [501, 502], "legislation": "BE"},
        {"username": "n", "password": "n", "divisions": [502]},
    ],
}


def me(api) -> dict:
    response = api.get("current/Me")
    assert response.status_code == 200, response.text
    return response.json()["d"]["results"][0]


def test_me_has_every_documented_field_and_the_portals_values(api):
    row = me(api)
    assert list(row)[1:] == list(documented("Me"))
    assert row["FullName"] == "Anna de Boer"
    assert row["Email"] == "anna@deboer-accountants.example"
    assert row["CurrentDivision"] == 3001000
    assert row["DivisionCustomerName"] == "De Boer Accountants B.V."
    assert row["ServerTime"] == "/Date(1772442000000)/"  # the frozen clock


def test_legislation_is_an_int64_in_me_and_letters_in_divisions(make_sandbox):
    server = make_sandbox(BELGIAN)
    belgian, dutch = api_for(server, "b"), api_for(server, "n")
    assert me(belgian)["Legislation"] == 2
    assert me(dutch)["Legislation"] == 1
    assert all(isinstance(me(api)["Legislation"], int) for api in (belgian, dutch))
    rows = belgian.get("501/system/Divisions", {"$select": "Code,Legislation"}).json()
    assert {row["Code"]: row["Legislation"] for row in rows["d"]["results"]} == {
        501: "BE",
        502: "NL",
    }


def test_legislation_numbers_are_configurable(make_sandbox):
    server = make_sandbox({**BELGIAN, "legislation_codes": {"BE": 32}})
    assert me(api_for(server, "b"))["Legislation"] == 32
    assert me(api_for(server, "n"))["Legislation"] == 1  # NL keeps the default


def test_me_select_takes_documented_names_only(api):
    params = {"$select": "UserID,Legislation,AccountingDivision"}
    row = api.get("current/Me", params).json()["d"]["results"][0]
    assert set(row) == {"__metadata", "UserID", "Legislation", "AccountingDivision"}
    assert row["AccountingDivision"] == 3001000  # the office's own division
    refused = api.get("current/Me", {"$select": "UserID,Country"})
    assert refused.status_code == 400
    assert "Exact.Web.Api.System.Me" in refused.json()["error"]["message"]["value"]


def test_a_client_user_has_no_accounting_division(sandbox):
    client = api_for(sandbox, "client")
    control(sandbox.url, "users/client/current-division", {"division": 3001101})
    row = me(client)
    assert row["AccountingDivision"] is None
    assert row["DivisionCustomerName"] == "Bakkerij Jansen B.V."
    assert row["Legislation"] == 1
