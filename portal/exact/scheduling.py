"""Queueing dossier syncs: one RQ job per dossier (deterministic id, unique), the stagger of
scheduled runs, and the periodic fan-out of due dossiers.

The job itself lives in ``portal.jobs.sync``; it is named here by its import path, so views and
services queue syncs without importing job code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rq import Retry, get_current_job
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_

from portal import clock
from portal.exact import sync, wiring
from portal.exact.client.ratelimit import Budget
from portal.extensions import db
from portal.models import ExactDivisionLink, SyncState, Trigger
from portal.queue import after_commit, get_queue, redis_connection

SYNC_JOB = "portal.jobs.sync.sync_dossier"
FINISHED = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED}
# A job waiting for its retry interval, for Exact's minute (a resume) or behind another job:
# not running, may be replaced.
WAITING = {JobStatus.SCHEDULED, JobStatus.DEFERRED}
# Work a person waits for (Sync now, Activate/Overwrite's first import, Reconnect's resume):
# it goes to its own queue, which workers take before the background syncs.
INTERACTIVE = {Trigger.MANUAL, Trigger.INITIAL, Trigger.RESUME}
# Triggers of a person (or of a reconnect) start now rather than wait for a pending retry.
REPLACES_WAITING = INTERACTIVE
SYNC_NOW_QUEUE = "sync-now"  # listed before SYNC_QUEUE in RQ_QUEUES
SYNC_QUEUE = "sync"
# The fan-out does not start a division with fewer calls left today: a run would stop
# after a few pages, and interactive work (Sync now, exports) keeps a little room.
DAILY_RESERVE = 50
RESUME_MARGIN = timedelta(seconds=1)  # start a resume just after Exact's reset, not before
RETRY = Retry(max=3, interval=[30, 120, 600])
JOB_OPTIONS = {
    "retry": RETRY,
    "result_ttl": 0,  # a finished job leaves no hash behind, so the id is free again
    "failure_ttl": 3600,
    "job_timeout": 3 * 3600,
}


def sync_job_id(account_id: int) -> str:
    return f"sync-{account_id}"


def resume_job_id(account_id: int) -> str:
    """The id of a dossier's continuation after Exact's minute, scheduled while the job with
    the other id still runs (RQ keeps one job per id; the running one's hash goes when it
    ends). A dossier has at most one job under either id."""
    return f"sync-{account_id}-resume"


def queue_for(trigger: Trigger | str) -> str:
    """Interactive syncs on ``sync-now`` (taken first), the fan-out's runs on ``sync``."""
    return SYNC_NOW_QUEUE if Trigger(trigger) in INTERACTIVE else SYNC_QUEUE


def enqueue_sync(account_id: int, trigger: Trigger) -> bool:
    """Queue a sync of the dossier now; False when one is already queued or running.

    One job per dossier across both queues and both ids. A person's sync (and a
    reconnect's) replaces a job that only waits (RQ's retry interval, or a resume scheduled
    for Exact's next minute): it starts now instead of later.
    """
    replaces = Trigger(trigger) in REPLACES_WAITING
    for job_id in (sync_job_id(account_id), resume_job_id(account_id)):
        if not _make_room(_fetch(job_id), replaces):
            return False
    try:
        get_queue(queue_for(trigger)).enqueue(
            SYNC_JOB,
            account_id,
            trigger,
            job_id=sync_job_id(account_id),
            unique=True,
            **JOB_OPTIONS,
        )
    except DuplicateJobError:  # another process queued it just now
        return False
    return True


def _make_room(job: Job | None, replace_waiting: bool) -> bool:
    """Whether the dossier may get a new job as far as ``job`` is concerned: a finished job's
    leftover is removed, a waiting one too when ``replace_waiting``."""
    if job is None:
        return True
    status = job.get_status(refresh=True)
    if status in FINISHED or (status in WAITING and replace_waiting):
        if status not in FINISHED:
            job.cancel()
        job.delete()
        return True
    return False


def in_sync_job(account_id: int) -> bool:
    """Whether this process runs the dossier's own sync job (not an export that syncs first,
    not a direct call): only that job hands its work on to a scheduled resume."""
    current = get_current_job()
    return current is not None and current.id in (
        sync_job_id(account_id),
        resume_job_id(account_id),
    )


def schedule_resume(account_id: int, trigger: Trigger, until: datetime) -> bool:
    """Continue the dossier's sync by itself just after ``until`` (Exact's minute reset), on
    the queue of its trigger: RQ's scheduler (every worker runs one) queues it then. The
    running job keeps its id until it ends, so the resume takes the other of the two ids.
    False when the dossier already has another job waiting or queued (that one continues)."""
    current = get_current_job()
    job_id = resume_job_id(account_id)
    if current is not None and current.id == job_id:
        job_id = sync_job_id(account_id)
    if not _make_room(_fetch(job_id), replace_waiting=False):
        return False
    try:
        get_queue(queue_for(trigger)).enqueue_at(
            until + RESUME_MARGIN,
            SYNC_JOB,
            account_id,
            Trigger(trigger),
            job_id=job_id,
            unique=True,
            **JOB_OPTIONS,
        )
    except DuplicateJobError:
        return False
    return True


def enqueue_sync_after_commit(account_id: int, trigger: Trigger) -> None:
    """``enqueue_sync`` once the current transaction commits (the job must see its rows)."""
    after_commit(lambda: enqueue_sync(account_id, trigger))


def is_retry(job: Job | None) -> bool:
    """Whether the job is one of RQ's automatic re-runs (it re-runs the same job with the
    same arguments, counting ``retries_left`` down from the configured maximum)."""
    return job is not None and job.retries_left is not None and job.retries_left < RETRY.max


def _fetch(job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None


def cancel_sync(account_id: int) -> None:
    """Drop a queued or waiting sync of the dossier (a running one stops at its next check)."""
    for job_id in (sync_job_id(account_id), resume_job_id(account_id)):
        job = _fetch(job_id)
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
    """The periodic fan-out: queue every due dossier that may sync; returns how many.

    A division with less than DAILY_RESERVE calls left today is not started: its next run
    moves to just after Exact's daily reset (staggered), so a big first import goes on with
    the next day's budget from its kept cursor instead of failing at 5,000.
    """
    now = clock.now()
    due = db.session.execute(
        sync.eligible_links()
        .add_columns(ExactDivisionLink.division_code, SyncState)
        .outerjoin(SyncState, SyncState.account_id == ExactDivisionLink.account_id)
        .where(
            or_(
                SyncState.id.is_(None),
                SyncState.next_run_at.is_(None),
                SyncState.next_run_at <= now,
            )
        )
    ).all()
    budgets = wiring.rate_limits().budgets(code for _id, code, _state in due)  # one pipeline
    queued = 0
    for account_id, division_code, state in due:
        state = state or sync.state_for(account_id)
        reset = daily_reset_if_spent(budgets[division_code], now)
        if reset is not None:
            stagger = stagger_seconds(account_id, state.interval_minutes or 240)
            state.next_run_at = reset + timedelta(seconds=stagger)
            db.session.commit()
            continue
        state.next_run_at = next_run_at(account_id, state.interval_minutes, now)
        db.session.commit()
        queued += enqueue_sync(account_id, Trigger.SCHEDULE)
    return queued


def daily_reset_if_spent(budget: Budget, now: datetime) -> datetime | None:
    """Exact's daily reset when the division has less than DAILY_RESERVE calls left of
    today's budget as last seen; None when it may start (unknown, enough left, a new day)."""
    reset = budget.daily_reset_at
    if budget.daily_remaining is None or reset is None or reset <= now:
        return None
    return reset if budget.daily_remaining < DAILY_RESERVE else None
