"""Sync tests: a linked client dossier, a real worker, and the sandbox's truth to compare."""

from __future__ import annotations

import json

from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import select

from portal.exact import sync
from portal.exact.entities import ENTITIES
from portal.extensions import db
from portal.models import ExactRecord, SyncRun
from portal.queue import get_queue, redis_connection

SANDBOX_TABLES = {
    "gl_classifications": "GLClassifications",
    "gl_accounts": "GLAccounts",
    "journals": "Journals",
    "vat_codes": "VATCodes",
    "accounts": "Accounts",
    "cost_centers": "Costcenters",
    "cost_units": "Costunits",
    "financial_periods": "FinancialPeriods",
    "payment_conditions": "PaymentConditions",
    "transaction_lines": "TransactionLines",
}


def run_sync_queue() -> None:
    """Run every queued sync job in a real (in-process) RQ worker on real Redis: the
    interactive queue first, as the portal's workers take them."""
    queues = [get_queue("sync-now"), get_queue("sync")]
    SimpleWorker(queues, connection=redis_connection()).work(burst=True)


def sandbox_ids(sandbox, division: int) -> dict[str, set[str]]:
    """The live record IDs per entity as the sandbox (Exact) holds them."""
    with sandbox.state.lock:
        data = sandbox.state.data(division)
        return {
            key: {str(row["ID"]) for _index, row in data.tables[name].iter_from()}
            for key, name in SANDBOX_TABLES.items()
        }


def portal_ids(account_id: int) -> dict[str, set[str]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(ExactRecord.entity, ExactRecord.exact_id).where(
            ExactRecord.account_id == account_id,
            ExactRecord.deleted_at.is_(None),
            ExactRecord.retired_at.is_(None),
        )
    ).all()
    result = {entity.key: set() for entity in ENTITIES}
    for entity, exact_id in rows:
        result[entity].add(exact_id)
    return result


def sandbox_row(sandbox, division: int, table: str, key: str) -> dict:
    with sandbox.state.lock:
        return json.loads(json.dumps(sandbox.state.data(division).tables[table].find(key)))


def after_first_page(monkeypatch, key: str, action) -> list:
    """Do ``action()`` once, right after the first page of the read ``key`` (a sync feed or
    a whole list) came in from Exact and before the next GET: "between two pages" for Exact,
    wherever the storing is (the run reads ahead in a thread of its own). Returns a list that
    holds the page's row count once it happened."""
    done: list = []
    original = sync._pages

    def hooked(client, division, read_key, path, params):
        for read in original(client, division, read_key, path, params):
            yield read
            if read_key == key and read[1] is not None and not done:
                done.append(len(read[1]))
                action()

    monkeypatch.setattr(sync, "_pages", hooked)
    return done


def release_scheduled_jobs() -> None:
    """What RQ's scheduler (in every ``portal worker``) does once a job's time has come."""
    for name in ("sync-now", "sync"):
        queue = get_queue(name)
        registry = queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=redis_connection())
            registry.remove(job)
            queue.enqueue_job(job)


def sync_runs(account_id: int) -> list[SyncRun]:
    """The dossier's sync runs, oldest first, read afresh."""
    db.session.expire_all()
    return db.session.scalars(
        select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id)
    ).all()
