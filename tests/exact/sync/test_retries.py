"""RQ's automatic retries of a failed sync: labelled as retries, and replaced by Sync now."""

from __future__ import annotations

import pytest
from rq.job import Job, JobStatus

from portal import clock
from portal.blueprints.sync.helpers import trigger_label
from portal.exact.scheduling import enqueue_sync, sync_job_id
from portal.models import Trigger
from portal.queue import get_queue, redis_connection
from tests.exact.portal_helpers import control
from tests.exact.sync_helpers import release_scheduled_jobs, run_sync_queue, sync_runs

GL_PATH = "sync/Financial/GLAccounts"


@pytest.fixture
def virtual_time():
    """Backoff waits take no real time."""
    with clock.use(clock.VirtualClock()) as virtual:
        yield virtual


@pytest.fixture
def retry_waiting(dossier, db, exact_sandbox, virtual_time):
    """The first import done, then a run that failed on a lasting 5xx: RQ holds the same job
    for its retry (SCHEDULED, 30 s later)."""
    run_sync_queue()
    control(exact_sandbox, "POST", "faults", kind="status", status=503, path=GL_PATH, count=500)
    assert enqueue_sync(dossier["account_id"], Trigger.MANUAL)
    run_sync_queue()
    assert sync_runs(dossier["account_id"])[-1].status == "failed"
    assert _job(dossier).get_status(refresh=True) == JobStatus.SCHEDULED
    control(exact_sandbox, "DELETE", "faults")
    return dossier


def _job(dossier) -> Job:
    return Job.fetch(sync_job_id(dossier["account_id"]), connection=redis_connection())


def test_an_automatic_retry_is_labelled_a_retry_not_by_hand(retry_waiting, db, app):
    release_scheduled_jobs()
    run_sync_queue()
    runs = sync_runs(retry_waiting["account_id"])
    assert [run.trigger for run in runs[-2:]] == [Trigger.MANUAL, Trigger.RETRY]
    assert runs[-1].status == "succeeded"
    with app.test_request_context():
        assert trigger_label(Trigger.RETRY) == "automatic retry"


def test_sync_now_replaces_a_waiting_retry_and_starts_now(retry_waiting, db):
    account_id = retry_waiting["account_id"]
    assert enqueue_sync(account_id, Trigger.SCHEDULE) is False  # the fan-out leaves it alone
    assert enqueue_sync(account_id, Trigger.MANUAL) is True  # before: "already queued"
    assert _job(retry_waiting).get_status(refresh=True) == JobStatus.QUEUED
    for name in ("sync-now", "sync"):
        assert get_queue(name).scheduled_job_registry.get_job_ids() == []
    run_sync_queue()
    run = sync_runs(account_id)[-1]
    assert run.trigger == Trigger.MANUAL and run.status == "succeeded"


def test_sync_now_while_a_sync_really_runs_answers_already_running(retry_waiting):
    job = _job(retry_waiting)
    job.set_status(JobStatus.STARTED)
    assert enqueue_sync(retry_waiting["account_id"], Trigger.MANUAL) is False
