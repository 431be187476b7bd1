"""A list without a sync feed (cost centers, periods, ...) is stored page by page with the link
to its next page as its cursor: a spent minute in the middle ends the run (no job sleeps on it,
issue 14) and the resume goes on from that page, so a list longer than a minute's calls still
finishes; rows gone from Exact are marked deleted once the list is whole."""

from __future__ import annotations

import math
import time

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.exact import sync
from portal.exact.client.http import ExactClient
from portal.models import ExactRecord, SyncState
from portal.queue import redis_connection
from tests.exact.portal_helpers import activated_dossier, control
from tests.exact.sync.conftest import DIVISION
from tests.exact.sync_helpers import (
    after_first_page,
    portal_ids,
    release_scheduled_jobs,
    run_sync_queue,
    sandbox_ids,
    sync_runs,
)

COST_CENTERS = 130  # three pages of 60


@pytest.fixture
def exact_sandbox_config():
    from exact_sandbox.config import default_config

    config = default_config()
    for division in config["divisions"]:
        if division["code"] == DIVISION:
            division["volume"] = {**division.get("volume", {}), "cost_centers": COST_CENTERS}
    return {"divisions": config["divisions"], "limits": {"minutely": 10000, "daily": 100000}}


@pytest.fixture
def early_in_the_minute():
    minute = math.floor(time.time() / 60) * 60
    with clock.use(clock.VirtualClock(start=minute + 2)) as virtual:
        yield virtual


@pytest.fixture
def list_gets(monkeypatch) -> list:
    """The cost centers' GETs the portal makes (not the rights check's ``$top=1``)."""
    gets: list = []
    original = ExactClient.get

    def get(self, division, path, params=None):
        if "Costcenters" in path and "$top" not in (params or {}):
            gets.append(path)
        return original(self, division, path, params)

    monkeypatch.setattr(ExactClient, "get", get)
    return gets


@pytest.fixture
def stopped_in_the_list(
    exact_app, db, login, client, exact_sandbox, monkeypatch, early_in_the_minute, list_gets
):
    """The first import: Exact's minute is spent right after the first page of cost centers."""
    hit = after_first_page(
        monkeypatch,
        "cost_centers",
        lambda: control(exact_sandbox, "POST", "faults", kind="rate_limit", path="Costcenters"),
    )
    dossier = activated_dossier(db, client, login, exact_sandbox, DIVISION)
    run_sync_queue()
    assert hit == [60]
    return dossier


def _cost_centers(db) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ExactRecord)
        .where(ExactRecord.entity == "cost_centers", ExactRecord.deleted_at.is_(None))
    )


def _served_ids(sandbox) -> list[str]:
    """The cost centers' IDs in the order Exact pages them."""
    with sandbox.state.lock:
        table = sandbox.state.data(DIVISION).tables["Costcenters"]
        return [str(row["ID"]) for _index, row in table.iter_from()]


def _resume(clock_, sandbox) -> None:
    clock_.advance(60)  # the minute is over; RQ's scheduler queues the resume
    release_scheduled_jobs()
    run_sync_queue()


def test_a_spent_minute_in_a_whole_list_ends_the_run_and_the_resume_reads_on(
    stopped_in_the_list, db, exact_sandbox, early_in_the_minute, list_gets
):
    account_id = stopped_in_the_list["account_id"]
    first = sync_runs(account_id)[-1]
    assert first.status == "waiting"
    assert _cost_centers(db) == 60  # the first page, stored
    state = db.session.scalar(select(SyncState))
    assert "$skiptoken" in state.cursors["cost_centers:next"]  # with the link to the next one

    _resume(early_in_the_minute, exact_sandbox)
    resumed = sync_runs(account_id)[-1]
    assert resumed.status == "succeeded"
    assert resumed.stats["cost_centers"]["in"] == COST_CENTERS - 60  # on from that page
    assert _cost_centers(db) == COST_CENTERS
    assert early_in_the_minute.slept == 0  # no job slept on Exact's minute
    assert len(list_gets) == 3 + 1  # every page once, plus the one answered 429
    assert len(set(list_gets)) == 3
    assert "cost_centers:next" not in db.session.scalar(select(SyncState)).cursors
    assert not redis_connection().exists(sync._seen_key(account_id, "cost_centers"))


def test_rows_gone_while_the_list_waits_are_marked_deleted_once_it_is_whole(
    stopped_in_the_list, db, exact_sandbox, early_in_the_minute
):
    ids = _served_ids(exact_sandbox)
    on_a_page_to_come, on_the_stored_page = ids[-1], ids[0]
    for gone in (on_a_page_to_come, on_the_stored_page):
        control(exact_sandbox, "DELETE", f"divisions/{DIVISION}/records/Costcenters/{gone}")

    _resume(early_in_the_minute, exact_sandbox)
    live = portal_ids(stopped_in_the_list["account_id"])["cost_centers"]
    assert on_a_page_to_come not in live
    # read before it went: gone at the next whole reading, like any row of a list
    assert on_the_stored_page in live
    sync.run_sync(stopped_in_the_list["account_id"], "manual")
    live = portal_ids(stopped_in_the_list["account_id"])["cost_centers"]
    assert live == sandbox_ids(exact_sandbox, DIVISION)["cost_centers"]


def test_a_list_whose_read_ids_are_lost_starts_over_and_is_still_whole(
    stopped_in_the_list, db, exact_sandbox, early_in_the_minute
):
    account_id = stopped_in_the_list["account_id"]
    redis_connection().delete(sync._seen_key(account_id, "cost_centers"))  # Redis restarted
    _resume(early_in_the_minute, exact_sandbox)
    resumed = sync_runs(account_id)[-1]
    assert resumed.status == "succeeded"
    assert resumed.stats["cost_centers"]["in"] == COST_CENTERS - 60  # page one again: unchanged
    assert portal_ids(account_id) == sandbox_ids(exact_sandbox, DIVISION)
