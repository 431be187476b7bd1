"""Injected faults: errors, 429s, slow answers, dropped connections, booked-then-failed POSTs."""

from __future__ import annotations

import time

import pytest
import requests
from exact_sandbox.testing import control, inject_fault

from .helpers import DIVISION, purchase

SELECT = {"$select": "ID"}


def test_status_fault_hits_the_next_matching_calls_only(sandbox, api):
    inject_fault(sandbox.url, kind="status", path="crm/Accounts", status=503, count=2)
    assert api.get(f"{DIVISION}/financial/GLAccounts", SELECT).status_code == 200
    statuses = [api.get(f"{DIVISION}/crm/Accounts", SELECT).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    faults = control(sandbox.url, "faults")["faults"]
    assert faults[0]["fired"] == 2 and faults[0]["count"] == 0


def test_rate_limit_fault_answers_an_empty_429(sandbox, api):
    inject_fault(sandbox.url, kind="rate_limit", path="sync/")
    response = api.get(f"{DIVISION}/sync/CRM/Accounts", {**SELECT, "$filter": "Timestamp gt 1L"})
    assert response.status_code == 429
    assert response.content == b""


def test_dropped_connection_gets_no_answer(sandbox, api):
    inject_fault(sandbox.url, kind="drop", path="GLAccounts")
    with pytest.raises(requests.ConnectionError):
        api.get(f"{DIVISION}/financial/GLAccounts", SELECT)
    assert api.get(f"{DIVISION}/financial/GLAccounts", SELECT).status_code == 200


def test_slow_answer_waits_then_serves(sandbox, api):
    inject_fault(sandbox.url, kind="slow", path="Journals", delay=0.3)
    started = time.monotonic()
    response = api.get(f"{DIVISION}/financial/Journals", SELECT)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_token_endpoint_can_fail_too(sandbox):
    inject_fault(sandbox.url, kind="status", path="oauth2/token", status=500)
    response = requests.post(
        f"{sandbox.url}/api/oauth2/token", data={"grant_type": "x"}, timeout=10
    )
    assert response.status_code == 500


def test_book_then_fail_books_the_entry_but_answers_an_error(sandbox, api):
    inject_fault(sandbox.url, kind="book_then_fail", path="PurchaseEntries", status=504)
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api))
    assert response.status_code == 504
    found = api.get(
        f"{DIVISION}/purchaseentry/PurchaseEntries",
        {"$select": "EntryID", "$filter": "YourRef eq 'PORTAL-0001'"},
    ).json()
    assert len(found["d"]["results"]) == 1


def test_book_then_drop(sandbox, api):
    inject_fault(sandbox.url, kind="book_then_fail", path="PurchaseEntries", drop=True)
    with pytest.raises(requests.ConnectionError):
        api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api))
    lines = api.get(
        f"{DIVISION}/financialtransaction/TransactionLines",
        {"$select": "ID", "$filter": "YourRef eq 'PORTAL-0001'"},
    ).json()
    assert len(lines["d"]["results"]) == 5


def test_faults_can_be_cleared_and_bad_kinds_refused(sandbox, api):
    inject_fault(sandbox.url, kind="status", path="", count=100)
    control(sandbox.url, "faults", method="DELETE")
    assert api.get(f"{DIVISION}/crm/Accounts", SELECT).status_code == 200
    response = requests.post(f"{sandbox.url}/_sandbox/faults", json={"kind": "explode"}, timeout=10)
    assert response.status_code == 400


def test_a_fault_with_a_probability_fires_on_about_that_share_of_calls_repeatably(sandbox, api):
    fired = []
    for _ in range(2):
        control(sandbox.url, "faults", method="DELETE")
        inject_fault(
            sandbox.url, kind="status", path="Journals", count=1000, probability=0.2, seed=7
        )
        # 2 x 25 calls stay within Exact's 60 a minute
        statuses = [
            api.get(f"{DIVISION}/financial/Journals", SELECT).status_code for _ in range(25)
        ]
        fired.append(statuses)
    assert fired[0] == fired[1]  # the same seed, the same calls fail
    assert set(fired[0]) == {200, 503}
    assert 1 <= fired[0].count(503) <= 12  # about a fifth of 25
    with pytest.raises(RuntimeError, match="probability"):
        inject_fault(sandbox.url, kind="status", path="x", probability=0)
