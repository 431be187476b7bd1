"""Faults the export must survive, against the Exact sandbox (real HTTP; real Redis and a real
worker process for the SIGKILL). After each: exactly one entry per exported item, none for a
failed one, and the items and the run say what happened.
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
import requests
from exact_sandbox.testing import DEMO_CLIENT_ID
from flask_babel import force_locale
from rq import SimpleWorker
from rq.job import Job

from portal import clock
from portal.bookkeeping import export
from portal.bookkeeping.masterdata import MasterData
from portal.exact import wiring
from portal.extensions import db
from portal.models import BookItem, ExactDivisionLink, ItemStatus, LinkStatus, RunStatus
from portal.queue import get_queue, redis_connection
from tests.bookkeeping import test_export as base
from tests.bookkeeping.test_export import (
    DIVISION,
    assert_exported_once,
    assert_not_booked,
    booked,
    claim,
    fresh,
    receipt,
    runs,
)
from tests.exact.portal_helpers import control
from tests.processes import descendants, wait_until

ENTRIES = "purchaseentry/PurchaseEntries"
exact_sandbox_config = base.exact_sandbox_config  # the fixtures, shared
dossier = base.dossier


def fault(sandbox, kind: str, path: str = ENTRIES, **spec) -> None:
    """Arm a fault of the sandbox (its control API; ``method`` is a field of the fault)."""
    response = requests.post(
        f"{sandbox.url}/_sandbox/faults", json={"kind": kind, "path": path, **spec}, timeout=10
    )
    assert response.status_code < 400, response.text


def skip_first_post(sandbox) -> None:
    """Let the first POST of entries through (a harmless 0 s "slow"), so the next fault on the
    same path lands mid-batch: faults are taken first armed, first used."""
    fault(sandbox, "slow", method="POST", delay=0, count=1)


def run_export_queue() -> None:
    SimpleWorker([get_queue(export.EXPORT_QUEUE)], connection=redis_connection()).work(burst=True)


@pytest.mark.parametrize("drop", [False, True], ids=["503", "dropped"])
def test_booked_then_no_answer_is_found_and_adopted(dossier, exact_sandbox, drop):
    item = receipt(dossier)
    fault(exact_sandbox, "book_then_fail", status=503, drop=drop)

    run = export.run_export(dossier["account_id"])

    assert (run.items_exported, run.items_failed) == (1, 0)
    assert run.api_calls == 1 + 2  # division, the POST, the look-up that found it
    assert_exported_once(exact_sandbox, item)


def test_a_claim_booked_then_no_answer_is_found_by_its_line_and_adopted(dossier, exact_sandbox):
    """A general journal entry has no Description in Exact: the look-up finds our reference on
    its employee line among the transaction lines it booked, and posts nothing again."""
    item = claim(dossier)
    fault(exact_sandbox, "book_then_fail", path="generaljournalentry", status=503)

    run = export.run_export(dossier["account_id"])

    assert (run.items_exported, run.items_failed) == (1, 0)
    assert run.api_calls == 1 + 2  # division, the POST, the look-up that found it
    assert_exported_once(exact_sandbox, item)


def test_a_slow_answer_past_the_timeout_is_looked_up_not_sent_twice(
    dossier, exact_sandbox, monkeypatch
):
    original = wiring.link_api_client

    def quick(link, max_wait=wiring.JOB_MAX_WAIT):
        client = original(link, max_wait=max_wait)
        client.timeout = 1
        return client

    monkeypatch.setattr(wiring, "link_api_client", quick)
    monkeypatch.setattr(export, "RECHECK_DELAY", 2.5)
    item = receipt(dossier)
    fault(exact_sandbox, "slow", method="POST", delay=2, count=1)

    run = export.run_export(dossier["account_id"])

    assert (run.items_exported, run.items_failed) == (1, 0)
    # division, the POST that timed out, a look-up while the sandbox still held it (nothing),
    # the look-up after RECHECK_DELAY that found it
    assert run.api_calls == 4
    assert_exported_once(exact_sandbox, item)


def test_no_answer_and_not_found_fails_and_the_retry_looks_first(
    dossier, exact_sandbox, monkeypatch
):
    monkeypatch.setattr(export, "RECHECK_DELAY", 0)
    item = receipt(dossier)
    fault(exact_sandbox, "drop", method="POST", count=1)  # dropped before booking

    run = export.run_export(dossier["account_id"])

    assert (run.items_exported, run.items_failed) == (0, 1)
    failed = assert_not_booked(exact_sandbox, item)
    assert "nothing was booked (checked)" in failed.export_error_text
    assert failed.export_posted_at is not None and failed.export_attempts == 1

    export.retry(dossier["client"], failed.export_requested_by, [failed.id])
    db.session.commit()
    again = export.run_export(dossier["account_id"])
    assert again.api_calls == 1 + 2  # division, the look-up first, then the POST
    assert assert_exported_once(exact_sandbox, item).export_attempts == 2


def test_a_validation_error_fails_one_item_and_the_others_go_through(dossier, exact_sandbox):
    codes = dossier["codes"]
    first, refused, last = receipt(dossier), receipt(dossier, supplier=1), receipt(dossier)
    # the supplier is gone from Exact since the last sync: only Exact can say so
    exact_id = MasterData.of(dossier["client"]).find("accounts", codes["suppliers"][1]).exact_id
    control(exact_sandbox, "DELETE", f"divisions/{DIVISION}/records/Accounts/{exact_id}")

    run = export.run_export(dossier["account_id"])

    assert (run.status, run.items_exported, run.items_failed) == (RunStatus.SUCCEEDED, 2, 1)
    assert_exported_once(exact_sandbox, first)
    assert_exported_once(exact_sandbox, last)
    item = assert_not_booked(exact_sandbox, refused)
    # Exact answered the Dutch user in Dutch ("Ongeldige referentie: Relatie"); the queue says
    # it in words, a message translated when shown, pointing at the supplier
    assert "does not exist in Exact Online" in item.export_error_text
    assert codes["suppliers"][1] in item.export_error_text
    assert item.export_error_message["t"].startswith("The supplier %(code)s")
    assert item.export_error_field == "supplier_code"
    assert item.export_posted_at is None  # refused: nothing of it is in Exact
    with force_locale("nl"):
        assert "bestaat niet (meer) in Exact Online" in item.export_error_text


def test_a_429_mid_batch_pauses_and_the_resumed_job_finishes(dossier, exact_sandbox):
    items = [receipt(dossier) for _ in range(3)]
    ids, account_id = [item.id for item in items], dossier["account_id"]
    skip_first_post(exact_sandbox)
    fault(exact_sandbox, "rate_limit", method="POST", count=1)
    minute = math.floor(time.time() / 60) * 60
    with clock.use(clock.VirtualClock(start=minute + 2)) as virtual:  # the minute has 58 s left
        run = export.run_export(dossier["account_id"])

        assert run.status == RunStatus.WAITING and run.items_exported == 1
        assert run.waiting_until is not None and export.waiting_run(run.account_id).id == run.id
        assert [fresh(i).status for i in items[1:]] == [ItemStatus.EXPORTING] * 2
        queue = get_queue(export.EXPORT_QUEUE)
        registry = queue.scheduled_job_registry
        resume = export.resume_job_id(dossier["account_id"])
        assert registry.get_job_ids() == [resume]
        assert registry.get_scheduled_time(resume).timestamp() >= run.waiting_until.timestamp()

        virtual.advance(60)  # the minute is over: RQ's scheduler moves the job to the queue
        registry.remove(resume)
        queue.enqueue_job(Job.fetch(resume, connection=redis_connection()))
        run_export_queue()

    finished = runs(account_id)
    assert [r.status for r in finished] == [RunStatus.WAITING, RunStatus.SUCCEEDED]
    assert finished[1].items_exported == 2 and export.waiting_run(account_id) is None
    for item_id in ids:
        assert_exported_once(exact_sandbox, db.session.get(BookItem, item_id))


def test_a_consent_revoked_mid_batch_stops_and_fails_the_rest(
    dossier, exact_sandbox, monkeypatch, portal_clock
):
    items = [receipt(dossier) for _ in range(3)]
    original = export._exported

    def exported_then_revoked(ctx, item):
        original(ctx, item)
        if ctx.run.items_exported == 1:
            control(
                exact_sandbox,
                "POST",
                "consents/revoke",
                client_id=DEMO_CLIENT_ID,
                username="accountant",
            )
            portal_clock.advance(601)
            control(exact_sandbox, "POST", "clock", advance=601)

    monkeypatch.setattr(export, "_exported", exported_then_revoked)

    run = export.run_export(dossier["account_id"])

    assert (run.status, run.items_exported, run.items_failed) == (RunStatus.FAILED, 1, 2)
    assert "connect it again" in run.error_text
    assert_exported_once(exact_sandbox, items[0])
    for item in items[1:]:
        assert "connect it again" in assert_not_booked(exact_sandbox, item).export_error_text


@pytest.mark.parametrize("change", ["renamed", "moved"])
def test_a_division_renamed_or_moved_posts_nothing(dossier, exact_sandbox, change):
    items = [receipt(dossier), receipt(dossier, file=True)]
    if change == "renamed":
        control(exact_sandbox, "PATCH", f"divisions/{DIVISION}", name="Bakkerij Anders B.V.")
    else:
        control(exact_sandbox, "POST", f"divisions/{DIVISION}/move")

    run = export.run_export(dossier["account_id"])

    assert (run.status, run.items_exported, run.items_failed) == (RunStatus.STOPPED, 0, 2)
    assert run.api_calls == 1
    for item in items:
        failed = assert_not_booked(exact_sandbox, item)
        assert failed.exact_document_id is None
    word = "other details" if change == "renamed" else "was moved"
    assert word in run.error_text and word in fresh(items[0]).export_error_text
    link = db.session.query(ExactDivisionLink).one()
    assert (link.status == LinkStatus.BLOCKED) == (change == "renamed")


def test_a_worker_killed_mid_export_resumes_without_a_second_entry(
    dossier, exact_sandbox, exact_app, redis_url
):
    """SIGKILL a forking RQ worker while the entry's POST is in flight; a second worker
    finishes: the entry the first one sent is found and adopted, not sent again."""
    items = [receipt(dossier), receipt(dossier)]
    ids = [item.id for item in items]
    fault(exact_sandbox, "slow", method="POST", delay=2, count=1)
    assert export.enqueue_export(dossier["account_id"])
    worker = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "worker", "export", "--burst"],
        env=_worker_env(exact_app, redis_url),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _posted(ids[0]), timeout=30, what="the first entry's POST")
        time.sleep(0.5)  # the POST is in flight (the sandbox holds it 2 s)
    finally:
        _kill_tree(worker.pid)
        worker.wait(10)
    assert fresh(items[0]).status == ItemStatus.EXPORTING
    # the sandbox books it after its delay, though nobody hears the answer
    wait_until(lambda: booked(exact_sandbox, fresh(items[0])), timeout=10, what="the booking")

    Job.fetch(export.export_job_id(dossier["account_id"]), connection=redis_connection()).delete()
    assert export.enqueue_export(dossier["account_id"])
    run_export_queue()

    finished = runs(dossier["account_id"])
    assert [r.status for r in finished] == [RunStatus.INTERRUPTED, RunStatus.SUCCEEDED]
    assert "stopped in the middle" in finished[0].error_text
    assert finished[1].items_exported == 2
    for item_id in ids:
        assert_exported_once(exact_sandbox, db.session.get(BookItem, item_id))


def _posted(item_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(BookItem, item_id).export_posted_at is not None


def _worker_env(app, redis_url: str) -> dict:
    keys = ("EXACT_BASE_URL", "EXACT_CLIENT_ID", "EXACT_CLIENT_SECRET", "EXACT_REDIRECT_URI")
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test",
        "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"],
        "FILE_STORAGE": app.config["FILE_STORAGE"],
        **{key: app.config[key] for key in keys},
    }


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants, deepest first."""
    for found in reversed([pid, *descendants(pid)]):
        with contextlib.suppress(ProcessLookupError):
            os.kill(found, signal.SIGKILL)
