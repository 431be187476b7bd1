"""Sync jobs: one job per dossier (deterministic id, unique), and the periodic fan-out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from rq import Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_, select

from portal.exact import sync
from portal.extensions import db
from portal.jobs.context import app_job
from portal.jobs.queues import get_queue, redis_connection
from portal.models import ExactDivisionLink, LinkStatus, SyncState

log = logging.getLogger(__name__)
FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED}
JOB_OPTIONS = {
    "retry": Retry(max=3, interval=[30, 120, 600]),
    "result_ttl": 0,  # a finished job leaves no hash behind, so the id is free again
    "failure_ttl": 3600,
    "job_timeout": 3 * 3600,
}


def sync_job_id(account_id: int) -> str:
    return f"sync-{account_id}"


@app_job
def sync_dossier(account_id: int, trigger: str = "schedule") -> str:
    """Sync one client's division. Transient Exact faults raise, so RQ retries with backoff."""
    try:
        run = sync.run_sync(account_id, trigger)
    except sync.SyncStopped as stop:
        state = sync.state_for(account_id)
        state.last_status, state.last_error = "stopped", stop.reason
        db.session.commit()
        return "stopped"
    return run.status


def enqueue_sync(account_id: int, trigger: str) -> bool:
    """Queue a sync of the dossier now; False when one is already queued or running."""
    queue = get_queue("sync")
    try:
        queue.enqueue(
            sync_dossier,
            account_id,
            trigger,
            job_id=sync_job_id(account_id),
            unique=True,
            **JOB_OPTIONS,
        )
    except DuplicateJobError:
        job = _job(account_id)
        if job is None or job.get_status(refresh=True) not in FINISHED:
            return False
        job.delete()
        return enqueue_sync(account_id, trigger)
    return True


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


@app_job
def enqueue_due_syncs() -> int:
    """The periodic fan-out: queue every linked, due dossier; returns how many were queued."""
    now = datetime.now(UTC)
    links = db.session.execute(
        select(ExactDivisionLink.account_id, SyncState)
        .outerjoin(SyncState, SyncState.account_id == ExactDivisionLink.account_id)
        .where(ExactDivisionLink.status == LinkStatus.ACTIVE)
        .where(
            or_(
                SyncState.id.is_(None),
                SyncState.next_run_at.is_(None),
                SyncState.next_run_at <= now,
            )
        )
    ).all()
    queued = 0
    for account_id, state in links:
        try:
            sync.eligible_link(account_id)
        except sync.SyncStopped:
            continue
        state = state or sync.state_for(account_id)
        interval = state.interval_minutes or 240
        state.next_run_at = now + timedelta(
            minutes=interval, seconds=stagger_seconds(account_id, interval)
        )
        db.session.commit()
        queued += enqueue_sync(account_id, "schedule")
    return queued
