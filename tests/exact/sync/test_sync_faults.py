"""Faults a dossier sync must survive, against the sandbox with real workers and real Redis.

After each fault the next run ends with the portal's data equal to the sandbox's, and the
run history says what happened.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time

import pytest
from exact_sandbox.testing import DEMO_CLIENT_ID
from rq.job import Job
from sqlalchemy import func, select

from portal import clock
from portal.exact import sync
from portal.exact.scheduling import enqueue_sync, sync_job_id
from portal.models import ConnectionStatus, ExactConnection, ExactRecord
from portal.queue import redis_connection
from tests.exact.portal_helpers import connect, control
from tests.exact.sync.conftest import DIVISION
from tests.exact.sync_helpers import (
    after_first_page,
    portal_ids,
    run_sync_queue,
    sandbox_ids,
    sync_runs,
)
from tests.processes import descendants

TL_PATH = "sync/Financial/TransactionLines"


@pytest.fixture
def virtual_time():
    """Waits for Exact (rate limits, backoff) take no real time; they are added up instead."""
    with clock.use(clock.VirtualClock()) as virtual:
        yield virtual


def _equal(dossier, sandbox) -> bool:
    return portal_ids(dossier["account_id"]) == sandbox_ids(sandbox, DIVISION)


def test_a_429_in_the_middle_of_paging_waits_and_goes_on(
    dossier, db, exact_sandbox, monkeypatch, virtual_time
):
    """The minute ends within JOB_MAX_WAIT: the job waits it out (a 429 early in the minute
    ends the run WAITING instead: tests/exact/sync/test_limit_scheduling.py)."""
    virtual_time.current = math.floor(time.time() / 60) * 60 + 58.5  # 1.5 s of the minute left
    hit = after_first_page(
        monkeypatch,
        "transaction_lines",
        lambda: control(exact_sandbox, "POST", "faults", kind="rate_limit", path=TL_PATH, count=1),
    )
    run_sync_queue()
    run = sync_runs(dossier["account_id"])[-1]
    assert hit and run.status == "succeeded"
    assert run.stats["_limits"]["429"] == 1 and run.stats["_limits"]["waited_seconds"] > 0
    assert _equal(dossier, exact_sandbox)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ExactRecord)
            .where(ExactRecord.entity == "transaction_lines")
        )
        == 2500
    )


def test_passing_5xx_and_dropped_connections_are_retried(
    dossier, db, exact_sandbox, monkeypatch, virtual_time
):
    def faults():
        control(exact_sandbox, "POST", "faults", kind="status", status=503, path=TL_PATH, count=2)
        control(exact_sandbox, "POST", "faults", kind="drop", path=TL_PATH, count=1)

    after_first_page(monkeypatch, "transaction_lines", faults)
    run_sync_queue()
    run = sync_runs(dossier["account_id"])[-1]
    assert run.status == "succeeded" and virtual_time.slept > 0  # backed off
    assert _equal(dossier, exact_sandbox)


def test_a_lasting_5xx_fails_the_run_and_the_next_one_resumes(
    dossier, db, exact_sandbox, monkeypatch, virtual_time
):
    after_first_page(
        monkeypatch,
        "transaction_lines",
        lambda: control(
            exact_sandbox, "POST", "faults", kind="status", status=503, path=TL_PATH, count=50
        ),
    )
    run_sync_queue()  # RQ keeps the job for a retry later (Retry with backoff)
    failed = sync_runs(dossier["account_id"])[-1]
    assert failed.status == "failed" and "internal error" in failed.error
    stored = db.session.scalar(
        select(func.count())
        .select_from(ExactRecord)
        .where(ExactRecord.entity == "transaction_lines")
    )
    assert stored == 1000  # the first page, with its cursor
    control(exact_sandbox, "DELETE", "faults")
    Job.fetch(sync_job_id(dossier["account_id"]), connection=redis_connection()).delete()
    enqueue_sync(dossier["account_id"], "manual")
    run_sync_queue()
    resumed = sync_runs(dossier["account_id"])[-1]
    assert resumed.status == "succeeded"
    assert resumed.stats["transaction_lines"]["in"] == 1500  # no duplicate, no gap
    assert _equal(dossier, exact_sandbox)


def test_an_access_token_expiring_mid_run_is_refreshed_once(
    dossier, db, exact_sandbox, monkeypatch, portal_clock
):
    def expire():
        portal_clock.advance(601)
        control(exact_sandbox, "POST", "clock", advance=601)
        control(exact_sandbox, "POST", "counters/reset")

    after_first_page(monkeypatch, "transaction_lines", expire)
    run_sync_queue()
    assert sync_runs(dossier["account_id"])[-1].status == "succeeded"
    assert control(exact_sandbox, "GET", "counters")["refreshes_total"] == 1
    assert _equal(dossier, exact_sandbox)


def test_a_consent_revoked_mid_run_fails_clearly_and_stops_future_runs(
    dossier, db, client, exact_sandbox, monkeypatch, portal_clock
):
    def revoke_and_let_time_pass():
        control(
            exact_sandbox,
            "POST",
            "consents/revoke",
            client_id=DEMO_CLIENT_ID,
            username="accountant",
        )
        portal_clock.advance(601)
        control(exact_sandbox, "POST", "clock", advance=601)

    after_first_page(monkeypatch, "transaction_lines", revoke_and_let_time_pass)
    run_sync_queue()
    run = sync_runs(dossier["account_id"])[-1]
    assert run.status == "failed" and "connect it again" in run.error
    db.session.expire_all()
    assert db.session.scalar(select(ExactConnection)).status == (
        ConnectionStatus.NEEDS_REAUTHORIZATION
    )
    with pytest.raises(sync.SyncStopped):
        sync.eligible_link(dossier["account_id"])
    # an admin reconnects; the next run completes the dossier
    connect(client, exact_sandbox, dossier["portal_id"])
    enqueue_sync(dossier["account_id"], "manual")
    run_sync_queue()
    assert sync_runs(dossier["account_id"])[-1].status == "succeeded"
    assert _equal(dossier, exact_sandbox)


def test_a_worker_killed_mid_run_resumes_without_duplicates_or_gaps(
    dossier, db, exact_app, exact_sandbox, redis_url
):
    """SIGKILL a forking RQ worker while it pages; the next run finishes the job."""
    control(exact_sandbox, "POST", "faults", kind="slow", path=TL_PATH, delay=1.5, count=10)
    env = {
        **os.environ,
        "DATABASE_URL": exact_app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test",
        "TOKEN_ENCRYPTION_KEY": exact_app.config["TOKEN_ENCRYPTION_KEY"],
        **{
            key: exact_app.config[key]
            for key in (
                "EXACT_BASE_URL",
                "EXACT_CLIENT_ID",
                "EXACT_CLIENT_SECRET",
                "EXACT_REDIRECT_URI",
            )
        },
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "worker", "sync-now", "sync", "--burst"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_rows(dossier["account_id"], "transaction_lines", 1000, timeout=60)
    finally:
        _kill_tree(worker.pid)  # the worker and its work-horse, no goodbye
        worker.wait(10)
    stored = db.session.scalar(
        select(func.count())
        .select_from(ExactRecord)
        .where(ExactRecord.entity == "transaction_lines")
    )
    assert 1000 <= stored < 2500
    control(exact_sandbox, "DELETE", "faults")
    Job.fetch(sync_job_id(dossier["account_id"]), connection=redis_connection()).delete()
    enqueue_sync(dossier["account_id"], "resume")
    run_sync_queue()
    runs = sync_runs(dossier["account_id"])
    assert [r.status for r in runs] == ["interrupted", "succeeded"]
    assert "stopped in the middle" in runs[0].error
    assert runs[1].stats["transaction_lines"]["in"] == 2500 - stored
    assert _equal(dossier, exact_sandbox)


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants, deepest first."""
    for found in reversed([pid, *descendants(pid)]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(found, signal.SIGKILL)


def _wait_for_rows(account_id: int, entity: str, rows: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = sync.get_progress(account_id)
        if progress and progress["entity"] == entity and int(progress["rows"]) >= rows:
            return
        time.sleep(0.1)
    raise AssertionError(f"the worker did not store {rows} {entity} in {timeout} s")
