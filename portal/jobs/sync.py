"""Sync jobs: one dossier's sync, and the periodic fan-out (both call services)."""

from __future__ import annotations

from rq import get_current_job

from portal import modules
from portal.bookkeeping.after_sync import after_sync
from portal.exact import scheduling, sync
from portal.extensions import db
from portal.jobs.context import app_job
from portal.models import Account, RunStatus, Trigger


@app_job
def sync_dossier(account_id: int, trigger: str = Trigger.SCHEDULE) -> str:
    """Sync one client's division. Transient Exact faults raise, so RQ retries with backoff;
    RQ re-runs the same job with the same arguments, so a re-run says itself it is a retry."""
    trigger = Trigger(trigger)  # an enum or its value, as RQ kept it
    if scheduling.is_retry(get_current_job()):
        trigger = Trigger.RETRY
    try:
        run = sync.run_sync(account_id, trigger)
    except sync.SyncStopped as stop:
        state = sync.state_for(account_id)
        state.last_status, state.last_error = RunStatus.STOPPED, stop.reason
        db.session.commit()
        return RunStatus.STOPPED
    account = db.session.get(Account, account_id)
    if run.status == RunStatus.SUCCEEDED and account and modules.is_enabled(account, "bookkeeping"):
        after_sync(account_id)
    return run.status


@app_job
def enqueue_due_syncs() -> int:
    """The periodic fan-out: queue every linked, due dossier; returns how many were queued."""
    return scheduling.queue_due_syncs()
