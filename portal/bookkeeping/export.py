"""The export to Exact Online: ready items become purchase entries (receipts, e-invoices, bank
and card payments) and general journal entries (expense claims), with the receipt attached.

The flow, as seed 004's users know it: *Ready to export* → select → *Export to Exact Online*
(``request_export``: the items become EXPORTING and the dossier's one export job is queued);
the job (``run_export``) exports them in order; a failure goes to the *Export queue* with the
reason (``retry`` or ``back_to_preparing`` from there), a success to the *Export history*.

Never a duplicate booking: each item has our reference (``export_reference``), which Exact
keeps in the entry's Description; ``export_posted_at`` is committed just before the entry is
posted, so any later attempt (a timeout, a 5xx, a killed worker) first looks the entry up by
that reference and adopts it. A document uploaded for an entry that then failed is reused.
"""

from __future__ import annotations

from sqlalchemy import Select, func, select

from portal import clock
from portal.extensions import db
from portal.models import Account, BookItem, ExportRun, ItemStatus, RunStatus, User
from portal.queue import after_commit, get_queue

EXPORT_QUEUE = "export"  # workers take it before "sync": exports go before background syncs
EXPORT_JOB = "portal.jobs.export.export_dossier"


def export_job_id(account_id: int) -> str:
    return f"export-{account_id}"


def enqueue_export(account_id: int) -> bool:
    """Queue the dossier's export job now; False when one is already queued or running."""
    from rq.exceptions import DuplicateJobError

    try:
        get_queue(EXPORT_QUEUE).enqueue(
            EXPORT_JOB,
            account_id,
            job_id=export_job_id(account_id),
            unique=True,
            job_timeout=3600,
            result_ttl=600,
            failure_ttl=7 * 86400,
        )
    except DuplicateJobError:
        return False
    return True


def _items(account_id: int, item_ids: list[int], status: ItemStatus) -> list[BookItem]:
    """The account's items among ``item_ids`` in ``status`` (others are left out, untouched)."""
    if not item_ids:
        return []
    return list(
        db.session.scalars(
            select(BookItem)
            .where(
                BookItem.account_id == account_id,
                BookItem.id.in_(item_ids),
                BookItem.status == status,
            )
            .order_by(BookItem.id)
        )
    )


def request_export(account: Account, user: User, item_ids: list[int]) -> int:
    """Ready items of the account → EXPORTING, and the export job queued once this commits.
    Returns how many were taken; the caller commits."""
    items = _items(account.id, item_ids, ItemStatus.READY)
    now = clock.now()
    for item in items:
        item.status = ItemStatus.EXPORTING
        item.export_requested_at, item.export_requested_by_id = now, user.id
        item.export_error = None
        item.export_error_field = None
    if items:
        db.session.flush()
        after_commit(lambda: enqueue_export(account.id))
    return len(items)


def retry(account: Account, user: User, item_ids: list[int]) -> int:
    """Failed items (fixed in the meantime, or failed for a passing reason) exported again."""
    items = _items(account.id, item_ids, ItemStatus.FAILED)
    for item in items:
        item.status = ItemStatus.READY
    db.session.flush()
    return request_export(account, user, [item.id for item in items])


def back_to_preparing(account: Account, user: User, item_ids: list[int]) -> int:
    """Failed items back to preparing (their error stays visible until they are exported)."""
    items = _items(account.id, item_ids, ItemStatus.FAILED)
    for item in items:
        item.status = ItemStatus.PREPARED
        item.prepared_at, item.prepared_by_id = clock.now(), user.id
    db.session.flush()
    return len(items)


# --- what the pages list ---------------------------------------------------------------------


def queue_items(account_id: int) -> Select:
    """The export queue: failed items, the most recent failure first."""
    return (
        select(BookItem)
        .where(BookItem.account_id == account_id, BookItem.status == ItemStatus.FAILED)
        .order_by(BookItem.export_requested_at.desc(), BookItem.id.desc())
    )


def history_items(account_id: int) -> Select:
    """The export history: exported items, the most recent first."""
    return (
        select(BookItem)
        .where(BookItem.account_id == account_id, BookItem.status == ItemStatus.EXPORTED)
        .order_by(BookItem.exported_at.desc(), BookItem.id.desc())
    )


def runs(account_id: int) -> Select:
    return (
        select(ExportRun)
        .where(ExportRun.account_id == account_id)
        .order_by(ExportRun.started_at.desc(), ExportRun.id.desc())
    )


def exporting_count(account_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(
            BookItem.account_id == account_id, BookItem.status == ItemStatus.EXPORTING
        )
    )


def waiting_run(account_id: int) -> ExportRun | None:
    """The dossier's export paused on Exact's limits (it continues by itself at its time)."""
    return db.session.scalar(
        select(ExportRun)
        .where(ExportRun.account_id == account_id, ExportRun.status == RunStatus.WAITING)
        .order_by(ExportRun.id.desc())
        .limit(1)
    )


# --- the job -----------------------------------------------------------------------------------


def run_export(account_id: int) -> ExportRun:
    """Export the dossier's EXPORTING items in order (the job's body). See the module."""
    raise NotImplementedError  # being built
