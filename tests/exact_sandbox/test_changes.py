"""Changes over time through /_sandbox/: records, division moves, the clock, reset."""

from __future__ import annotations

import threading

import requests
from exact_sandbox import SandboxClock, create_sandbox_app
from exact_sandbox.testing import TEST_START, control, set_clock

from .helpers import api_for

SYNC_PARAMS = {"$select": "ID,Name,Timestamp", "$filter": "Timestamp gt 1L"}


def max_timestamp(api, path: str) -> int:
    rows = api.get_all(path, {"$select": "Timestamp", "$filter": "Timestamp gt 1L"})
    return max(row["Timestamp"] for row in rows)


def test_added_record_appears_in_sync_after_the_last_timestamp(sandbox, api):
    before = max_timestamp(api, "3001101/sync/CRM/Accounts")
    added = control(
        sandbox.url,
        "divisions/3001101/records/Accounts",
        {"fields": {"Name": "Nieuwe Leverancier BV", "IsSupplier": True, "Code": "900"}},
    )
    rows = api.get_all(
        "3001101/sync/CRM/Accounts", {**SYNC_PARAMS, "$filter": f"Timestamp gt {before}L"}
    )
    assert [row["Name"] for row in rows] == ["Nieuwe Leverancier BV"]
    assert rows[0]["ID"] == added["ID"]
    assert added["Code"] == "900".rjust(18)


def test_changed_record_gets_a_new_timestamp_and_moves_to_the_end(sandbox, api):
    rows = api.get_all("3001101/sync/CRM/Accounts", SYNC_PARAMS)
    first = rows[0]
    control(
        sandbox.url,
        f"divisions/3001101/records/Accounts/{first['ID']}",
        {"fields": {"Name": "Hernoemd BV"}},
        method="PATCH",
    )
    after = api.get_all("3001101/sync/CRM/Accounts", SYNC_PARAMS)
    assert len(after) == len(rows)
    assert after[-1]["ID"] == first["ID"]
    assert after[-1]["Name"] == "Hernoemd BV"
    assert after[-1]["Timestamp"] > rows[-1]["Timestamp"]


def test_deleted_transaction_line_goes_to_sync_deleted(sandbox, api):
    line = api.get(
        "3001101/sync/Financial/TransactionLines", SYNC_PARAMS | {"$select": "ID,Timestamp"}
    ).json()["d"]["results"][5]
    control(
        sandbox.url, f"divisions/3001101/records/TransactionLines/{line['ID']}", method="DELETE"
    )
    deleted = api.get_all(
        "3001101/sync/Deleted", {"$select": "EntityKey,EntityType", "$filter": "Timestamp gt 1L"}
    )
    assert deleted == [
        {"__metadata": deleted[0]["__metadata"], "EntityKey": line["ID"], "EntityType": 1}
    ]
    params = SYNC_PARAMS | {"$select": "ID"}
    ids = {row["ID"] for row in api.get_all("3001101/sync/Financial/TransactionLines", params)}
    assert line["ID"] not in ids


def test_control_refuses_unknown_entities_and_fields(sandbox):
    response = requests.post(
        f"{sandbox.url}/_sandbox/divisions/3001101/records/Nope", json={"fields": {}}, timeout=10
    )
    assert response.status_code == 404
    response = requests.post(
        f"{sandbox.url}/_sandbox/divisions/3001101/records/Accounts",
        json={"fields": {"Bogus": 1}},
        timeout=10,
    )
    assert response.status_code == 400


def test_division_move_regenerates_timestamps_and_sets_move_date(sandbox, api):
    before = api.get_all(
        "3001101/sync/Financial/GLAccounts", SYNC_PARAMS | {"$select": "ID,Timestamp"}
    )
    control(sandbox.url, "divisions/3001101/move", {})
    after = api.get_all(
        "3001101/sync/Financial/GLAccounts", SYNC_PARAMS | {"$select": "ID,Timestamp"}
    )
    assert [row["ID"] for row in after] == [row["ID"] for row in before]
    assert min(row["Timestamp"] for row in after) > max(row["Timestamp"] for row in before)
    division = api.get("3001101/system/Divisions", {"$select": "Code,DivisionMoveDate"}).json()
    moved = {row["Code"]: row["DivisionMoveDate"] for row in division["d"]["results"]}
    assert moved[3001101] and moved[3001101].startswith("/Date(")
    assert moved[3001102] is None


def test_clock_can_be_set_advanced_and_sped_up(sandbox):
    start = control(sandbox.url, "clock")
    assert start["iso"] == TEST_START and start["speed"] == 0
    assert control(sandbox.url, "clock", {"advance": 90})["iso"] == "2026-03-02T09:01:30Z"
    assert set_clock(sandbox.url, now="2027-01-01T00:00:00")["iso"] == "2027-01-01T00:00:00Z"
    assert set_clock(sandbox.url, speed=60)["speed"] == 60


def test_fast_clock_runs_faster_than_real_time():
    moments = iter([100.0, 100.5])
    clock = SandboxClock(0, speed=120, monotonic=lambda: next(moments))
    assert clock.now() == 60.0  # half a real second at speed 120


def test_reset_restores_data_tokens_and_counters(sandbox, api):
    control(sandbox.url, "divisions/3001101/records/Accounts", {"fields": {"Name": "X"}})
    control(sandbox.url, "clock", {"advance": 5})
    control(sandbox.url, "reset", {})
    assert api.get("current/Me").status_code == 401  # tokens are gone
    assert control(sandbox.url, "counters")["api_calls_total"] == 0
    assert control(sandbox.url, "clock")["iso"] == TEST_START


def test_state_stays_in_memory_per_app():
    first, second = create_sandbox_app(), create_sandbox_app()
    assert first.extensions["exact_sandbox"] is not second.extensions["exact_sandbox"]
    response = first.test_client().get("/_sandbox/")
    assert response.status_code == 200
    assert response.get_json()["divisions"][0] == 3001000


def test_sandbox_can_be_mounted_under_a_path_prefix():
    from exact_sandbox.testing import connect, frozen_clock
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server

    outer = create_sandbox_app()  # anything can sit at the root
    outer.wsgi_app = DispatcherMiddleware(
        outer.wsgi_app, {"/sandbox": create_sandbox_app(clock=frozen_clock())}
    )
    server = make_server("127.0.0.1", 0, outer, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.port}/sandbox"
        token = connect(base)["access_token"]
        response = requests.get(
            f"{base}/api/v1/3001101/crm/Accounts",
            params={"$select": "ID", "$top": "1"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=10,
        )
        uri = response.json()["d"][0]["__metadata"]["uri"]
        assert uri.startswith(f"{base}/api/v1/3001101/crm/Accounts(guid'")
    finally:
        server.shutdown()
        server.server_close()


def test_sync_deleted_keeps_deletions_two_months(sandbox, api):
    account = api.get("3001101/crm/Accounts", {"$select": "ID", "$top": "1"}).json()["d"][0]
    control(sandbox.url, f"divisions/3001101/records/Accounts/{account['ID']}", method="DELETE")
    params = {"$select": "EntityKey", "$filter": "Timestamp gt 1L"}
    control(sandbox.url, "clock", {"advance": 59 * 86_400})
    api = api_for(sandbox)  # the old token expired meanwhile
    assert len(api.get_all("3001101/sync/Deleted", params)) == 1
    control(sandbox.url, "clock", {"advance": 2 * 86_400})
    api = api_for(sandbox)
    assert api.get_all("3001101/sync/Deleted", params) == []


def test_division_stats_and_unknown_division(sandbox):
    stats = control(sandbox.url, "divisions/3001101")
    assert stats["counts"]["TransactionLines"] == 80
    assert stats["counts"]["Accounts"] == 12
    response = requests.get(f"{sandbox.url}/_sandbox/divisions/42", timeout=10)
    assert response.status_code == 404
