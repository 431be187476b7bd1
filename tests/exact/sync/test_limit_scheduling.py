"""Limit-aware scheduling (issue 14): no job sleeps on Exact's spent minute, interactive work
goes first, and the fan-out respects each division's daily budget."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import func, select

from portal import clock
from portal.exact import sync, wiring
from portal.exact.scheduling import (
    RESUME_MARGIN,
    enqueue_sync,
    resume_job_id,
    stagger_seconds,
    sync_job_id,
)
from portal.jobs.sync import enqueue_due_syncs
from portal.models import ExactRecord, SyncState, Trigger
from portal.queue import get_queue, redis_connection
from tests.exact.portal_helpers import control
from tests.exact.sync.conftest import DIVISION
from tests.exact.sync_helpers import (
    after_first_page,
    portal_ids,
    release_scheduled_jobs,
    run_sync_queue,
    sandbox_ids,
    sync_runs,
)

TL_PATH = "sync/Financial/TransactionLines"


@pytest.fixture
def early_in_the_minute():
    """The portal on a virtual clock 2 s into a calendar minute: a spent minute resets in
    58 s, far beyond a job's JOB_MAX_WAIT. A sleep would move it on and show in ``slept``."""
    minute = math.floor(time.time() / 60) * 60
    with clock.use(clock.VirtualClock(start=minute + 2)) as virtual:
        yield virtual


def _spend_the_minute_after_the_first_page(monkeypatch, sandbox) -> list:
    """Exact answers 429 (empty, as it does) to the page after the first transaction lines."""
    return after_first_page(
        monkeypatch,
        "transaction_lines",
        lambda: control(sandbox, "POST", "faults", kind="rate_limit", path=TL_PATH, count=1),
    )


def _state(db) -> SyncState:
    db.session.expire_all()
    return db.session.scalar(select(SyncState))


def _transaction_lines(db) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ExactRecord)
        .where(ExactRecord.entity == "transaction_lines")
    )


@pytest.fixture
def waiting(dossier, db, exact_sandbox, monkeypatch, early_in_the_minute):
    """The first import hit a spent minute after one page of transaction lines."""
    hit = _spend_the_minute_after_the_first_page(monkeypatch, exact_sandbox)
    run_sync_queue()
    assert hit
    return dossier


def test_a_spent_minute_ends_the_run_waiting_without_sleeping(waiting, db, early_in_the_minute):
    run = sync_runs(waiting["account_id"])[-1]
    assert run.status == "waiting" and run.trigger == "initial"
    assert early_in_the_minute.slept == 0  # the job never slept on the minute
    assert run.stats["_limits"] == {"429": 1, "waited_seconds": 0}
    reset = datetime.fromtimestamp(math.floor(early_in_the_minute.time() / 60) * 60 + 60, UTC)
    state = _state(db)
    assert state.waiting_until.replace(tzinfo=UTC) == reset
    assert int(state.cursors["transaction_lines"]) > 1  # the stored page's cursor is committed
    assert _transaction_lines(db) == 1000


def test_the_resume_sits_in_the_scheduled_registry_at_the_reset_and_finishes(
    waiting, db, exact_sandbox, early_in_the_minute
):
    account_id = waiting["account_id"]
    state = _state(db)
    resume = resume_job_id(account_id)
    registry = get_queue("sync-now").scheduled_job_registry  # the first import: interactive
    assert registry.get_job_ids() == [resume]
    assert get_queue("sync").scheduled_job_registry.get_job_ids() == []
    at = state.waiting_until.replace(tzinfo=UTC) + RESUME_MARGIN
    assert registry.get_scheduled_time(resume) == at
    assert enqueue_sync(account_id, Trigger.SCHEDULE) is False  # one job per dossier

    early_in_the_minute.advance(60)  # the minute is over
    release_scheduled_jobs()
    run_sync_queue()

    runs = sync_runs(account_id)
    assert [(r.status, r.trigger) for r in runs] == [
        ("waiting", "initial"),
        ("succeeded", "initial"),
    ]
    assert runs[1].stats["transaction_lines"]["in"] == 1500  # on from the cursor, no duplicate
    assert _transaction_lines(db) == 2500
    assert portal_ids(account_id) == sandbox_ids(exact_sandbox, DIVISION)
    assert early_in_the_minute.slept == 0


def test_a_resumed_run_that_waits_again_schedules_under_the_other_id(
    waiting, db, exact_sandbox, monkeypatch, early_in_the_minute
):
    account_id = waiting["account_id"]
    early_in_the_minute.advance(60)
    _spend_the_minute_after_the_first_page(monkeypatch, exact_sandbox)
    release_scheduled_jobs()
    run_sync_queue()  # the resume (sync-<id>-resume) runs and hits a spent minute again
    assert [r.status for r in sync_runs(account_id)] == ["waiting", "waiting"]
    registry = get_queue("sync-now").scheduled_job_registry
    assert registry.get_job_ids() == [sync_job_id(account_id)]
    assert _transaction_lines(db) == 2000


def test_sync_now_replaces_a_waiting_resume(waiting, db, exact_sandbox, early_in_the_minute):
    account_id = waiting["account_id"]
    early_in_the_minute.advance(60)
    assert enqueue_sync(account_id, Trigger.MANUAL) is True  # before: "already queued"
    assert get_queue("sync-now").scheduled_job_registry.get_job_ids() == []
    with pytest.raises(NoSuchJobError):  # the resume is gone, not just unscheduled
        Job.fetch(resume_job_id(account_id), connection=redis_connection())
    assert get_queue("sync-now").job_ids == [sync_job_id(account_id)]
    run_sync_queue()
    runs = sync_runs(account_id)
    assert [(r.status, r.trigger) for r in runs][-1] == ("succeeded", "manual")
    assert len(runs) == 2  # the replaced resume never ran
    assert portal_ids(account_id) == sandbox_ids(exact_sandbox, DIVISION)


def test_sync_now_lands_on_sync_now_and_a_scheduled_run_on_sync(dossier, db):
    account_id = dossier["account_id"]
    run_sync_queue()  # the first import
    assert enqueue_sync(account_id, Trigger.MANUAL) is True
    assert get_queue("sync-now").job_ids == [sync_job_id(account_id)]
    assert enqueue_sync(account_id, Trigger.SCHEDULE) is False  # queued on the other queue
    assert get_queue("sync").job_ids == []
    run_sync_queue()

    state = _state(db)
    state.next_run_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert enqueue_due_syncs() == 1
    assert get_queue("sync").job_ids == [sync_job_id(account_id)]
    assert get_queue("sync-now").job_ids == []
    assert enqueue_sync(account_id, Trigger.MANUAL) is False  # a queued run is not replaced


def test_sync_now_queues_before_scheduled_runs_on_the_same_workers(app):
    assert list(app.config["RQ_QUEUES"]) == ["mail", "default", "export", "sync-now", "sync"]


def _spend_the_day(left: int, reset: datetime) -> None:
    now_ms = int(clock.time() * 1000)
    wiring.rate_limits().record(
        DIVISION,
        {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Reset": str(int(reset.timestamp() * 1000)),
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": "60",
            "X-RateLimit-Minutely-Reset": str(now_ms + 60_000),
        },
    )


def test_the_fan_out_skips_a_division_whose_daily_budget_is_spent_until_its_reset(
    dossier, db, portal_clock
):
    account_id = dossier["account_id"]
    run_sync_queue()  # the first import
    reset = (clock.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    _spend_the_day(left=10, reset=reset)
    state = _state(db)
    state.next_run_at = clock.now() - timedelta(minutes=1)
    stagger = stagger_seconds(account_id, state.interval_minutes or 240)
    db.session.commit()

    assert enqueue_due_syncs() == 0
    assert get_queue("sync").job_ids == []
    assert _state(db).next_run_at.replace(tzinfo=UTC) == reset + timedelta(seconds=stagger)
    assert enqueue_due_syncs() == 0  # not due before the reset

    portal_clock.advance((reset - clock.now()).total_seconds() + stagger + 1)
    assert enqueue_due_syncs() == 1  # a new day: it starts
    assert get_queue("sync").job_ids == [sync_job_id(account_id)]


def test_the_fan_out_starts_a_division_with_budget_left(dossier, db):
    run_sync_queue()
    reset = (clock.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    _spend_the_day(left=500, reset=reset)
    state = _state(db)
    state.next_run_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    assert enqueue_due_syncs() == 1


def test_a_spent_minute_outside_the_sync_job_leaves_the_restart_to_the_fan_out(
    dossier, db, exact_sandbox, monkeypatch, early_in_the_minute
):
    """An export syncs first in its own job and schedules its own resume: no second job."""
    _spend_the_minute_after_the_first_page(monkeypatch, exact_sandbox)
    run = sync.run_sync(dossier["account_id"], Trigger.MANUAL)
    assert run.status == "waiting" and early_in_the_minute.slept == 0
    state = _state(db)
    assert state.next_run_at == state.waiting_until  # the fan-out starts it after the reset
    for name in ("sync-now", "sync"):
        assert get_queue(name).scheduled_job_registry.get_job_ids() == []


def test_a_first_import_beyond_the_days_budget_goes_on_after_the_reset_from_its_cursor(
    dossier, db, exact_sandbox, monkeypatch, portal_clock
):
    account_id = dossier["account_id"]
    reset = (clock.now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    after_first_page(monkeypatch, "transaction_lines", lambda: _spend_the_day(left=0, reset=reset))
    run_sync_queue()  # the first import: Exact's day is over after one page of lines
    first = sync_runs(account_id)[-1]
    assert first.status == "waiting" and "daily limit" in first.error  # not failed
    assert _transaction_lines(db) == 1000
    assert _state(db).next_run_at.replace(tzinfo=UTC) == reset
    assert enqueue_due_syncs() == 0  # the day's budget is spent

    seconds = (reset - clock.now()).total_seconds() + 60
    portal_clock.advance(seconds)
    control(exact_sandbox, "POST", "clock", advance=seconds)
    assert enqueue_due_syncs() == 1
    run_sync_queue()
    second = sync_runs(account_id)[-1]
    assert second.status == "succeeded" and second.trigger == "schedule"
    assert second.stats["transaction_lines"]["in"] == 1500  # on from the kept cursor
    assert portal_ids(account_id) == sandbox_ids(exact_sandbox, DIVISION)


def test_revoked_access_drops_a_waiting_resume(waiting, db):
    from sqlalchemy import inspect

    from portal.clients.access import revoke_portal_access
    from portal.models import Account, User

    client = db.session.get(Account, waiting["account_id"])  # the job ended the session
    owner = db.session.get(User, inspect(waiting["client_owner"]).identity)
    revoke_portal_access(client, owner)
    db.session.commit()
    assert get_queue("sync-now").scheduled_job_registry.get_job_ids() == []
    with pytest.raises(NoSuchJobError):
        Job.fetch(resume_job_id(waiting["account_id"]), connection=redis_connection())
