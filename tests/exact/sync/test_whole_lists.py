"""A list without a sync feed (cost centers, journals, ...) is read whole: a spent minute in the
middle of it is waited out, or a list longer than a minute's calls would never finish (issue 14:
the throughput benchmark found dossiers restarting their cost centers on every resume)."""

from __future__ import annotations

import math
import time

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.exact.client.http import ExactClient
from portal.models import ExactRecord, SyncRun
from tests.exact.portal_helpers import activated_dossier, control
from tests.exact.sync.conftest import DIVISION
from tests.exact.sync_helpers import run_sync_queue

COST_CENTERS = 130  # three pages of 60


@pytest.fixture
def exact_sandbox_config():
    from exact_sandbox.config import default_config

    config = default_config()
    for division in config["divisions"]:
        if division["code"] == DIVISION:
            division["volume"] = {**division.get("volume", {}), "cost_centers": COST_CENTERS}
    return {"divisions": config["divisions"], "limits": {"minutely": 10000, "daily": 100000}}


def test_a_spent_minute_in_the_middle_of_a_whole_list_is_waited_out(
    exact_app, db, login, client, exact_sandbox, monkeypatch
):
    minute = math.floor(time.time() / 60) * 60
    armed: list = []
    original = ExactClient.get

    def get(self, division, path, params=None):
        answer = original(self, division, path, params)
        first_page = "Costcenters" in path and "$top" not in (params or {"$top": 1})
        if first_page and not armed:  # the sync's first page (not the rights probe's $top=1)
            armed.append(path)
            # Exact's minute is spent: the next page answers 429
            control(exact_sandbox, "POST", "faults", kind="rate_limit", path="Costcenters")
        return answer

    monkeypatch.setattr(ExactClient, "get", get)
    with clock.use(clock.VirtualClock(start=minute + 2)) as virtual:
        dossier = activated_dossier(db, client, login, exact_sandbox, DIVISION)
        run_sync_queue()
    assert armed
    run = db.session.scalars(
        select(SyncRun).where(SyncRun.account_id == dossier["account_id"])
    ).all()[-1]
    assert run.status == "succeeded"
    assert 50 <= virtual.slept <= 65  # the rest of the minute, waited out once
    stored = db.session.scalar(
        select(func.count()).select_from(ExactRecord).where(ExactRecord.entity == "cost_centers")
    )
    assert stored == COST_CENTERS
