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

The resume rules of ``run_export``, per item (each Exact write is committed at once, so a
killed worker loses nothing):

- ``exact_entry_id`` set: it is booked (EXPORTED), nothing is sent.
- ``export_posted_at`` is set (and committed) before the item's *first* write, the document's
  when it has a file, else the entry's: from then on something of it may be in Exact. An
  attempt that finds it set looks the entry up by its Description first (``entries.
  lookup_params``) and adopts it; an item with a file also looks up its document by Subject
  when ``exact_document_id`` is empty, and its attachment when ``exact_attachment_id`` is.
  A fresh item makes no lookup: 1 call without a file, 3 with one.
- A write that timed out, dropped or answered 5xx (``maybe_booked``) is looked up at once,
  and once more after ``RECHECK_DELAY`` (a slow answer may still be booking): found, adopted;
  not found, the item fails saying so, and a retry looks it up again first. Never a blind
  resend in a loop.
- A refusal (HTTP 500 with Exact's message, or ``CannotExport``) created nothing: the item
  fails with the reason in words and its marker is cleared (what did get created, a document,
  stays stored with the item and is reused).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select

from portal import audit, clock, messages, modules
from portal.bookkeeping import after_sync, files, preparing
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.masterdata import MasterData
from portal.exact import connecting, links, sync, wiring
from portal.exact.client.errors import (
    ExactDailyLimitReached,
    ExactError,
    ExactErrorBudgetExhausted,
    ExactForbidden,
    ExactRateLimited,
    ExactReauthorizationNeeded,
    ExactUnavailable,
    ExactValidationError,
)
from portal.exact.client.http import ExactClient
from portal.exact.scheduling import RETRY
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import (
    Account,
    BookItem,
    ExactDivisionLink,
    ExportRun,
    ItemStatus,
    RunStatus,
    SyncRun,
    Trigger,
    User,
)
from portal.queue import after_commit, get_queue

log = logging.getLogger(__name__)

EXPORT_QUEUE = "export"  # workers take it before "sync": exports go before background syncs
EXPORT_JOB = "portal.jobs.export.export_dossier"


EXPORT_MAX_WAIT = 5  # seconds a run may wait for Exact's minute; longer: it pauses (WAITING)
RECHECK_DELAY = 3.0  # seconds before the second look-up of a write that got no answer
JOB_OPTIONS = {
    # a job lost with its worker (SIGKILL: RQ's abandoned job) or failing runs again, resuming
    "retry": RETRY,
    "job_timeout": 3600,
    "result_ttl": 0,  # a finished job leaves no hash behind: the id is free again at once
    "failure_ttl": 7 * 86400,
}


def export_job_id(account_id: int) -> str:
    return f"export-{account_id}"


def resume_job_id(account_id: int) -> str:
    """The paused export's continuation, scheduled while the job with the other id runs."""
    return f"export-{account_id}-resume"


def enqueue_export(account_id: int) -> bool:
    """Queue the dossier's export job now; False when one is already queued or running (it
    takes the new items too: it exports every EXPORTING item of the dossier)."""
    return _enqueue(account_id, export_job_id(account_id), None)


def _enqueue(account_id: int, job_id: str, at: datetime | None) -> bool:
    """Queue (or, with ``at``, schedule) the export job under ``job_id``, once: a finished
    job of that id left behind is removed first."""
    from rq.exceptions import DuplicateJobError, NoSuchJobError
    from rq.job import Job, JobStatus

    queue = get_queue(EXPORT_QUEUE)
    options = {"job_id": job_id, "unique": True, **JOB_OPTIONS}
    for _attempt in range(2):
        try:
            if at is None:
                queue.enqueue(EXPORT_JOB, account_id, **options)
            else:
                queue.enqueue_at(at, EXPORT_JOB, account_id, **options)
            return True
        except DuplicateJobError:
            try:
                job = Job.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                continue
            if job.get_status(refresh=True) not in (
                JobStatus.FINISHED,
                JobStatus.FAILED,
                JobStatus.CANCELED,
                JobStatus.STOPPED,
            ):
                return False
            job.delete()
    return False


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
        audit.record(account, "bookkeeping.export_requested", None, actor=user, items=_ids(items))
        db.session.flush()
        after_commit(lambda: enqueue_export(account.id))
    return len(items)


def _ids(items: list[BookItem]) -> list[int]:
    return [item.id for item in items]


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
    if items:
        audit.record(account, "bookkeeping.export_back", None, actor=user, items=_ids(items))
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
    """The dossier's export paused on Exact's limits (it continues by itself at its time):
    its latest run, when that one is waiting (an earlier paused run was continued since)."""
    latest = db.session.scalar(
        select(ExportRun)
        .where(ExportRun.account_id == account_id)
        .order_by(ExportRun.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.status == RunStatus.WAITING else None


# --- the job -------------------------------------------------------------------------------------

NO_ANSWER = N_(
    "Exact Online did not answer; nothing was booked (checked) — retry. A retry looks in "
    "Exact Online again first, so it never books the item twice."
)
UNEXPECTED = N_(
    "Something went wrong on our side while exporting this item. Retry it; if it keeps "
    "failing, contact support."
)


class _Stop(Exception):
    """The run cannot go on: the current and the remaining items fail with ``reason``."""

    def __init__(self, reason: str, status: RunStatus = RunStatus.STOPPED) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class _Wait(Exception):
    """Exact's limits are spent: the run pauses until ``until`` (items stay EXPORTING)."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until, self.reason = until, reason


class _NoAnswer(Exception):
    """A write got no answer and its look-ups did not find it in Exact."""


class _Run:
    """What one run works with: the run row, the dossier's link, client and master data."""

    def __init__(self, run: ExportRun) -> None:
        self.run = run
        self.link: ExactDivisionLink | None = None
        self.client: ExactClient | None = None
        self.master: MasterData | None = None
        self.settings = None

    @property
    def division(self) -> int:
        return self.link.division_code


def run_export(account_id: int) -> ExportRun:
    """Export the dossier's EXPORTING items in order (the job's body); commits as it goes.

    How the run ends: SUCCEEDED when it went through every item, *also when some items
    failed* (each is in the export queue with its reason: the run itself finished);
    WAITING when Exact's limits are spent (the items stay EXPORTING, a continuation is
    scheduled for the reset); STOPPED when the dossier may not export now or its division
    changed (the items fail with the reason); FAILED when the consent is gone, a right is
    missing, or something unexpected happened (that is re-raised, so RQ retries the job).
    """
    sync.close_interrupted_runs(account_id, ExportRun)
    run = ExportRun(
        account_id=account_id,
        status=RunStatus.RUNNING,
        items_exported=0,
        items_failed=0,
        api_calls=0,
    )
    db.session.add(run)
    db.session.commit()
    ctx = _Run(run)
    try:
        _prepare(ctx, account_id)
        _export_items(ctx, account_id)
    except _Wait as wait:
        db.session.rollback()
        run.waiting_until = wait.until
        _finish(ctx, RunStatus.WAITING, wait.reason)
        _schedule_resume(account_id, wait.until)
    except _Stop as stop:
        db.session.rollback()
        _fail_remaining(ctx, account_id, stop.reason)
        _finish(ctx, stop.status, stop.reason)
    except Exception:
        db.session.rollback()
        _finish(ctx, RunStatus.FAILED, UNEXPECTED)
        raise
    else:
        _finish(ctx, RunStatus.SUCCEEDED)
    return run


def _finish(ctx: _Run, status: RunStatus, error: str | None = None) -> None:
    run = ctx.run
    run.status, run.finished_at = status, clock.now()
    if error is not None:
        run.error = error
    run.api_calls = ctx.client.calls_made if ctx.client is not None else 0
    account = db.session.get(Account, run.account_id)
    if account is not None:
        audit.record(
            account,
            "bookkeeping.exported",
            None,
            items=run.items_exported,
            failed=run.items_failed,
            run_id=run.id,
        )
    db.session.commit()


# --- before posting ----------------------------------------------------------------------------


def _prepare(ctx: _Run, account_id: int) -> None:
    """May it run, is the division the one activated, is the master data fresh enough."""
    try:
        ctx.link = sync.eligible_link(account_id)
        ctx.run.division_code = ctx.link.division_code
        db.session.commit()
        ctx.client = wiring.link_api_client(ctx.link, max_wait=EXPORT_MAX_WAIT)
    except sync.SyncStopped as stop:
        raise _Stop(stop.reason) from stop
    except wiring.ConnectError as error:
        raise _Stop(error.message) from error
    _exact(lambda: _check_division(ctx))
    _fresh_master_data(ctx, account_id)
    account = db.session.get(Account, account_id)
    ctx.master = MasterData.of(account)
    ctx.settings = book_settings.of(account_id)


def _exact(call: Callable[[], Any]) -> Any:
    """A call outside an item: Exact's limits pause the run, a lost consent stops it."""
    try:
        return call()
    except (ExactRateLimited, ExactDailyLimitReached, ExactErrorBudgetExhausted) as error:
        raise _Wait(_until(error), sync.error_message(error)) from error
    except (ExactReauthorizationNeeded, ExactForbidden) as error:
        raise _Stop(sync.error_message(error), RunStatus.FAILED) from error
    except ExactError as error:
        raise _Stop(sync.error_message(error), RunStatus.FAILED) from error


def _until(error: ExactError) -> datetime:
    until = getattr(error, "reset_at", None) or getattr(error, "until", None)
    return until or clock.now() + timedelta(seconds=60)


def _check_division(ctx: _Run) -> None:
    """The identity guard: the division as activated (name, VAT, KvK) and not moved since
    the last sync; else nothing is posted."""
    link = ctx.link
    rows = list(
        ctx.client.get_all(
            link.division_code,
            "system/Divisions",
            {"$select": sync.DIVISION_FIELDS, "$filter": f"Code eq {link.division_code}"},
        )
    )
    row = next((r for r in rows if int(r.get("Code", 0)) == link.division_code), None)
    if row is None:
        raise _Stop(
            N_(
                "Administration %(code)s is not in the Exact Online connection's list any "
                "more: nothing was exported.",
                code=link.division_code,
            )
        )
    if not links.check_identity(link, connecting.division_summary(row)):
        db.session.commit()  # the link is blocked now, with its audit event
        raise _Stop(link.blocked_reason_restored)
    state = sync.state_for(link.account_id)
    moved = str(row["DivisionMoveDate"]) if row.get("DivisionMoveDate") else None
    if state.division_code == link.division_code and state.division_move_date != moved:
        raise _Stop(
            N_(
                "Administration %(code)s was moved in Exact Online since the last sync: "
                "nothing was exported. The next sync reads it again; export after it.",
                code=link.division_code,
            )
        )


def _fresh_master_data(ctx: _Run, account_id: int) -> None:
    """Sync first, in this job, when the last successful sync is older than the configured
    age (``EXPORT_MAX_MASTER_DATA_AGE``): the entries use the master data's IDs."""
    last = db.session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.account_id == account_id, SyncRun.status == RunStatus.SUCCEEDED
        )
    )
    max_age = timedelta(seconds=int(current_app.config.get("EXPORT_MAX_MASTER_DATA_AGE", 86400)))
    if last is not None and clock.now() - _aware(last) <= max_age:
        return
    try:
        synced = sync.run_sync(account_id, Trigger.MANUAL, max_wait=EXPORT_MAX_WAIT)
    except sync.SyncStopped as stop:
        raise _Stop(stop.reason) from stop
    except ExactError as error:
        raise _Stop(sync.error_message(error), RunStatus.FAILED) from error
    reason = messages.restore(synced.error, synced.error_message) or ""
    if synced.status == RunStatus.WAITING:
        raise _Wait(sync.state_for(account_id).waiting_until or _until(ExactError()), reason)
    if synced.status != RunStatus.SUCCEEDED:
        raise _Stop(reason, RunStatus.STOPPED)
    account = db.session.get(Account, account_id)
    if account is not None and modules.is_enabled(account, "bookkeeping"):
        after_sync.after_sync(account_id)


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the items ---------------------------------------------------------------------------------


def _exporting_ids(account_id: int, done: set[int]) -> list[int]:
    ids = db.session.scalars(
        select(BookItem.id)
        .where(BookItem.account_id == account_id, BookItem.status == ItemStatus.EXPORTING)
        .order_by(BookItem.export_requested_at, BookItem.id)
    ).all()
    return [item_id for item_id in ids if item_id not in done]


def _export_items(ctx: _Run, account_id: int) -> None:
    """Every EXPORTING item once, in order; items requested while the run goes are taken too
    (their request found this job running and queued nothing)."""
    done: set[int] = set()
    while ids := _exporting_ids(account_id, done):
        for item_id in ids:
            done.add(item_id)
            item = db.session.get(BookItem, item_id)
            if item is None or item.status != ItemStatus.EXPORTING:
                continue
            _export_guarded(ctx, item)


def _export_guarded(ctx: _Run, item: BookItem) -> None:
    """One item, its failures turned into its reason (or the run's pause or stop)."""
    from portal.bookkeeping import entries

    item_id = item.id
    try:
        _export_item(ctx, item)
    except entries.CannotExport as refusal:
        _refused(ctx, item_id, refusal.message, refusal.field)
    except ExactValidationError as error:
        db.session.rollback()
        message, field = entries.explain(error, db.session.get(BookItem, item_id))
        _refused(ctx, item_id, message, field)
    except (ExactRateLimited, ExactDailyLimitReached, ExactErrorBudgetExhausted) as error:
        raise _Wait(_until(error), sync.error_message(error)) from error
    except ExactForbidden as error:  # a missing right, named
        raise _Stop(entries.explain(error, item)[0], RunStatus.FAILED) from error
    except ExactReauthorizationNeeded as error:
        raise _Stop(sync.error_message(error), RunStatus.FAILED) from error
    except _NoAnswer:
        _failed(ctx, item_id, NO_ANSWER)
    except ExactError as error:  # Exact unreachable for a look-up, or another refusal
        _failed(ctx, item_id, sync.error_message(error))
    except FileNotFoundError:
        name = item.file.filename if item.file else "?"
        _failed(
            ctx, item_id, N_("The stored file %(name)s is missing: upload it again.", name=name)
        )
    except Exception:
        _failed(ctx, item_id, UNEXPECTED)
        ctx.run.status = RunStatus.FAILED
        db.session.commit()
        raise


def _refused(ctx: _Run, item_id: int, message: str, field: str | None) -> None:
    """Exact (or our check) refused the item: nothing was created by the refused write, so
    the marker goes (what was created before, a document, stays with the item)."""
    _failed(ctx, item_id, message, field, clear_marker=True)


def _failed(
    ctx: _Run, item_id: int, message: str, field: str | None = None, clear_marker: bool = False
) -> None:
    db.session.rollback()
    item = db.session.get(BookItem, item_id)
    _fail(ctx.run, item, message, field)
    if clear_marker:
        item.export_posted_at = None
    db.session.commit()


def _fail(run: ExportRun, item: BookItem, message: str, field: str | None = None) -> None:
    item.status = ItemStatus.FAILED
    item.export_error, item.export_error_field = message, field
    item.export_run_id = run.id
    run.items_failed += 1


def _fail_remaining(ctx: _Run, account_id: int, reason: str) -> None:
    """The run stopped: every item still waiting for it fails with the reason (the queue
    says what happened; Retry exports them once it is mended)."""
    for item_id in _exporting_ids(account_id, set()):
        _fail(ctx.run, db.session.get(BookItem, item_id), reason)
    db.session.commit()


def _exported(ctx: _Run, item: BookItem) -> None:
    item.status = ItemStatus.EXPORTED
    item.exported_at = clock.now()
    item.exported_by_id = item.export_requested_by_id
    item.export_error = item.export_error_field = None
    item.export_run_id = ctx.run.id
    ctx.run.items_exported += 1
    db.session.commit()


def _export_item(ctx: _Run, item: BookItem) -> None:
    """The item's entry in Exact, with its receipt: see the module for the resume rules."""
    from portal.bookkeeping import entries

    item.export_run_id = ctx.run.id
    if item.exact_entry_id:
        _exported(ctx, item)
        return
    item.export_reference = item.export_reference or entries.reference(item)
    item.export_attempts = (item.export_attempts or 0) + 1
    db.session.commit()
    resumed = item.export_posted_at is not None
    if resumed and _adopt_entry(ctx, item, _find_entry(ctx, item)):
        return
    found = preparing.problems(item, ctx.master, ctx.settings)
    if found:
        raise entries.CannotExport(
            N_("This item is not valid any more: %(problems)s", problems=found),
            _problem_field(found[0]),
        )
    entries.entry_body(item, ctx.master, ctx.settings, None)  # refused before any write
    document_id = _document(ctx, item, resumed) if item.file_id else None
    _mark_posted(item)
    body = entries.entry_body(item, ctx.master, ctx.settings, document_id)
    answer = _write(ctx, entries.entry_path(item), body, lambda: _find_entry(ctx, item))
    _adopt_entry(ctx, item, answer)


def _mark_posted(item: BookItem) -> None:
    """From now on something of the item may be in Exact: committed before the write."""
    if item.export_posted_at is None:
        item.export_posted_at = clock.now()
    db.session.commit()


def _document(ctx: _Run, item: BookItem, resumed: bool) -> str:
    """The item's document in Exact with the receipt attached: reused, found, or posted."""
    from portal.bookkeeping import entries

    if not item.exact_document_id and resumed:
        found = _find(ctx, entries.DOCUMENTS_PATH, entries.document_lookup_params(item))
        if found:
            item.exact_document_id = str(found["ID"])
            db.session.commit()
    posted = False
    if not item.exact_document_id:
        _mark_posted(item)
        body = entries.document_body(item, item.file.filename, ctx.master)
        answer = _write(
            ctx,
            entries.DOCUMENTS_PATH,
            body,
            lambda: _find(ctx, entries.DOCUMENTS_PATH, entries.document_lookup_params(item)),
        )
        item.exact_document_id, posted = str(answer["ID"]), True
        db.session.commit()
    if not item.exact_attachment_id and resumed and not posted:
        found = _find_attachment(ctx, item.exact_document_id)
        if found:
            item.exact_attachment_id = str(found["ID"])
            db.session.commit()
    if not item.exact_attachment_id:
        data = files.read(item.file)
        body = entries.attachment_body(item.exact_document_id, item.file.filename, data)
        answer = _write(
            ctx,
            entries.ATTACHMENTS_PATH,
            body,
            lambda: _find_attachment(ctx, item.exact_document_id),
        )
        item.exact_attachment_id = str(answer["ID"])
        db.session.commit()
    return item.exact_document_id


def _write(ctx: _Run, path: str, body: dict, look_up: Callable[[], dict | None]) -> dict:
    """POST once. No answer (timeout, dropped, 5xx): it may have been booked, so look it up
    now and once more a little later (a slow answer may still be booking); never resend."""
    try:
        return ctx.client.post(ctx.division, path, body)
    except ExactUnavailable as error:
        if not error.maybe_booked:
            raise
        log.warning("export: no answer to POST %s (%s): looking it up", path, error)
    found = look_up()
    if found is None:
        clock.sleep(RECHECK_DELAY)
        found = look_up()
    if found is None:
        raise _NoAnswer()
    return found


def _find(ctx: _Run, path: str, params: dict) -> dict | None:
    rows = list(ctx.client.get_all(ctx.division, path, params))
    if len(rows) > 1:
        log.error("export: %d records in Exact for %s %s", len(rows), path, params)
    return rows[0] if rows else None


def _find_entry(ctx: _Run, item: BookItem) -> dict | None:
    from portal.bookkeeping import entries

    return _find(ctx, entries.lookup_path(item), entries.lookup_params(item))


def _find_attachment(ctx: _Run, document_id: str) -> dict | None:
    from portal.bookkeeping import entries

    params = {"$filter": f"Document eq guid'{document_id}'", "$select": "ID,Document"}
    return _find(ctx, entries.ATTACHMENTS_PATH, params)


def _adopt_entry(ctx: _Run, item: BookItem, entry: dict | None) -> bool:
    """The entry (as posted, or found again) is the item's: store Exact's ID and number."""
    if not entry or not entry.get("EntryID"):
        return False
    item.exact_entry_id = str(entry["EntryID"])
    number = entry.get("EntryNumber")
    item.exact_entry_number = str(number) if number is not None else None
    _exported(ctx, item)
    return True


_PROBLEM_FIELDS = (
    ("supplier", "supplier_code"),
    ("journal", "journal_code"),
    ("entry date", "entry_date"),
    ("period", "entry_date"),
)
_LINE_FIELDS = (
    ("gl account", "gl_account_code"),
    ("vat code", "vat_code"),
    ("cost center", "cost_center"),
    ("cost unit", "cost_unit"),
    ("vat", "vat_amount"),
    ("amount", "amount"),
)


def _problem_field(problem: Message | str) -> str | None:
    """The item form's field a problem of ``preparing.problems`` concerns, when it says."""
    template = getattr(problem, "template", str(problem))
    params = getattr(problem, "params", {})
    text = template.lower()
    if template.startswith("Line %(n)d"):
        inner = params.get("problem")
        text = (getattr(inner, "template", None) or text).lower()
        field = next((name for word, name in _LINE_FIELDS if word in text), None)
        return f"lines-{int(params.get('n', 1)) - 1}-{field}" if field else None
    return next((name for word, name in _PROBLEM_FIELDS if word in text), None)


def _schedule_resume(account_id: int, until: datetime) -> None:
    """Continue by itself at ``until``: the job scheduled under the id the running job does
    not have (RQ refuses a second job with a running one's id)."""
    from rq import get_current_job

    current = get_current_job()
    job_id = resume_job_id(account_id)
    if current is not None and current.id == job_id:
        job_id = export_job_id(account_id)
    _enqueue(account_id, job_id, until + timedelta(seconds=1))
