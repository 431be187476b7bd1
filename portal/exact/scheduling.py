"""Queueing dossier syncs: one RQ job per dossier (deterministic id, unique), the stagger of
scheduled runs, and the periodic fan-out of due dossiers.

The job itself lives in ``portal.jobs.sync``; it is named here by its import path, so views and
services queue syncs without importing job code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rq import Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_

from portal import clock
from portal.exact import sync
from portal.extensions import db
from portal.models import ExactDivisionLink, SyncState, Trigger
from portal.queue import after_commit, get_queue, redis_connection

SYNC_JOB = "portal.jobs.sync.sync_dossier"
FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED}
# A job waiting for its retry interval (or behind another job): not running, may be replaced.
WAITING = {JobStatus.SCHEDULED, JobStatus.DEFERRED}
# Triggers of a person (or of a reconnect) start now rather than wait for a pending retry.
REPLACES_WAITING = {Trigger.MANUAL, Trigger.INITIAL, Trigger.RESUME}
RETRY = Retry(max=3, interval=[30, 120, 600])
JOB_OPTIONS = {
    "retry": RETRY,
    "result_ttl": 0,  # a finished job leaves no hash behind, so the id is free again
    "failure_ttl": 3600,
    "job_timeout": 3 * 3600,
}


def sync_job_id(account_id: int) -> str:
    return f"sync-{account_id}"


def enqueue_sync(account_id: int, trigger: Trigger) -> bool:
    """Queue a sync of the dossier now; False when one is already queued or running.

    A person's sync (and a reconnect's) replaces a job that only waits for RQ's retry
    interval: it starts now instead of minutes later.
    """
    queue = get_queue("sync")
    try:
        queue.enqueue(
            SYNC_JOB,
            account_id,
            trigger,
            job_id=sync_job_id(account_id),
            unique=True,
            **JOB_OPTIONS,
        )
    except DuplicateJobError:
        job = _job(account_id)
        status = None if job is None else job.get_status(refresh=True)
        if status in FINISHED:
            job.delete()
        elif status in WAITING and Trigger(trigger) in REPLACES_WAITING:
            job.cancel()
            job.delete()
        else:
            return False
        return enqueue_sync(account_id, trigger)
    return True


def enqueue_sync_after_commit(account_id: int, trigger: Trigger) -> None:
    """``enqueue_sync`` once the current transaction commits (the job must see its rows)."""
    after_commit(lambda: enqueue_sync(account_id, trigger))


def is_retry(job: Job | None) -> bool:
    """Whether the job is one of RQ's automatic re-runs (it re-runs the same job with the
    same arguments, counting ``retries_left`` down from the configured maximum)."""
    return job is not None and job.retries_left is not None and job.retries_left < RETRY.max


def _job(account_id: int) -> Job | None:
    try:
        return Job.fetch(sync_job_id(account_id), connection=redis_connection())
    except NoSuchJobError:
        return None


def cancel_sync(account_id: int) -> None:
    """Drop a queued sync of the dossier (a running one stops at its next check)."""
    job = _job(account_id)
    if job is not None and job.get_status(refresh=True) in {
        JobStatus.QUEUED,
        JobStatus.SCHEDULED,
        JobStatus.DEFERRED,
    }:
        job.cancel()
        job.delete()


def stagger_seconds(account_id: int, interval_minutes: int) -> int:
    """A fixed offset per dossier, so a portal's clients do not all start the same minute."""
    window = max(60, interval_minutes * 60 // 4)
    return (account_id * 2654435761) % window


def next_run_at(account_id: int, interval_minutes: int | None, now) -> datetime:
    """When the dossier's next scheduled run is due: an interval from now, plus its stagger."""
    interval = interval_minutes or 240
    return now + timedelta(minutes=interval, seconds=stagger_seconds(account_id, interval))


def queue_due_syncs() -> int:
    """The periodic fan-out: queue every due dossier that may sync; returns how many."""
    now = clock.now()
    due = db.session.execute(
        sync.eligible_links()
        .add_columns(SyncState)
        .outerjoin(SyncState, SyncState.account_id == ExactDivisionLink.account_id)
        .where(
            or_(
                SyncState.id.is_(None),
                SyncState.next_run_at.is_(None),
                SyncState.next_run_at <= now,
            )
        )
    ).all()
    queued = 0
    for account_id, state in due:
        state = state or sync.state_for(account_id)
        state.next_run_at = next_run_at(account_id, state.interval_minutes, now)
        db.session.commit()
        queued += enqueue_sync(account_id, Trigger.SCHEDULE)
    return queued
