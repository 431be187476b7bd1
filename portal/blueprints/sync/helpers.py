"""What the dossier sync pages show: labels, live progress, Exact's API budget, queries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from flask_babel import (
    format_currency,
    format_decimal,
    format_number,
    format_percent,
    to_user_timezone,
)
from flask_babel import format_date as babel_format_date
from flask_babel import format_time as babel_format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from portal import clock
from portal.exact.client.parsing import (
    exact_day,
    is_exact_date,
    normalize_code,
    parse_date,
    to_decimal,
)
from portal.exact.client.ratelimit import Budget
from portal.exact.entities import ENTITIES, ENTITY_BY_KEY, Column, Kind, SyncEntity
from portal.exact.scheduling import resume_job_id, sync_job_id
from portal.exact.sync import eligible_links, get_progress
from portal.extensions import db
from portal.models import (
    Account,
    ExactDivisionLink,
    ExactRecord,
    PortalLink,
    PortalLinkStatus,
    RunStatus,
    SyncRun,
    SyncState,
    Trigger,
)
from portal.permissions import Action, roles_allowing
from portal.queue import redis_connection

STATUS_LABELS = {
    RunStatus.RUNNING: _l("running"),
    RunStatus.SUCCEEDED: _l("succeeded"),
    RunStatus.FAILED: _l("failed"),
    RunStatus.WAITING: _l("waiting"),
    RunStatus.STOPPED: _l("stopped"),
    RunStatus.INTERRUPTED: _l("interrupted"),
}
STATUS_CLASSES = {
    RunStatus.SUCCEEDED: "ok",
    RunStatus.WAITING: "warn",
    RunStatus.STOPPED: "warn",
    RunStatus.INTERRUPTED: "warn",
    RunStatus.FAILED: "bad",
}
TRIGGER_LABELS = {
    Trigger.INITIAL: _l("first import"),
    Trigger.SCHEDULE: _l("scheduled"),
    Trigger.MANUAL: _l("by hand"),
    Trigger.RESUME: _l("resumed"),
    Trigger.RETRY: _l("automatic retry"),
}
QUEUED = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
CURRENCY = "EUR"  # Exact's amounts in the division's currency (DC): the euro in NL and BE
DAILY_WAIT_SECONDS = 300  # a wait longer than this is Exact's daily limit, not its minute


# --- words and numbers for the templates ----------------------------------------------------


def status_label(status: str | None) -> str:
    return str(STATUS_LABELS.get(status, status or "")) if status else ""


def status_class(status: str | None) -> str:
    return STATUS_CLASSES.get(status or "", "")


def trigger_label(trigger: str | None) -> str:
    return str(TRIGGER_LABELS.get(trigger, trigger or ""))


def utc_time(value: datetime | None) -> str:
    """``2026-03-01 14:05 UTC``: Exact's daily limit resets at midnight UTC, so say UTC."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return _("%(s)d s", s=seconds)
    if seconds < 3600:
        return _("%(m)d min %(s)d s", m=seconds // 60, s=seconds % 60)
    return _("%(h)d h %(m)d min", h=seconds // 3600, m=seconds % 3600 // 60)


def exact_value(value) -> str:
    """A value of an Exact row as text: dates as dates, booleans in words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if is_exact_date(value):
        return parse_date(value).strftime("%Y-%m-%d")
    return str(value)


def run_entities(run: SyncRun) -> list[tuple[object, dict]]:
    """(label, {in, changed, deleted}) per entity of the run, in sync order."""
    stats = run.stats or {}
    return [(e.label, stats[e.key]) for e in ENTITIES if isinstance(stats.get(e.key), dict)]


def run_totals(run: SyncRun) -> dict[str, int]:
    totals = {"in": 0, "changed": 0, "deleted": 0}
    for _label, counts in run_entities(run):
        for field in totals:
            totals[field] += int(counts.get(field) or 0)
    return totals


def is_daily_wait(state: SyncState | None, calls: CallsLeft | None = None) -> bool:
    """Whether the dossier waits for Exact's daily limit (rather than for the next minute):
    the division's daily budget is spent, or the wait is longer than a minute's ever is."""
    if not is_waiting(state):
        return False
    if calls is not None and calls.day_spent:
        return True
    since = state.last_run_at or clock.now()
    return (state.waiting_until - since).total_seconds() > DAILY_WAIT_SECONDS


def is_waiting(state: SyncState | None) -> bool:
    return bool(state and state.waiting_until and state.waiting_until > clock.now())


# --- Exact's API budget (Redis) -------------------------------------------------------------


@dataclass(frozen=True)
class CallsLeft:
    """What is left of a division's API budget now, from the last rate-limit headers seen."""

    known: bool
    minute: int | None = None
    day: int | None = None
    day_spent: bool = False
    day_reset_at: datetime | None = None


def calls_left(budget: Budget | None) -> CallsLeft:
    if budget is None or budget.updated_at is None:
        return CallsLeft(known=False)
    now = clock.now()
    minute, day = budget.minutely_remaining, budget.daily_remaining
    if budget.minutely_reset_at is not None and budget.minutely_reset_at <= now:
        minute = budget.minutely_limit  # a new minute has begun
    if budget.daily_reset_at is not None and budget.daily_reset_at <= now:
        day = budget.daily_limit  # a new UTC day has begun
    minute = max(0, minute) if minute is not None else None
    day = max(0, day) if day is not None else None
    spent = day == 0
    return CallsLeft(True, minute, day, spent, budget.daily_reset_at if spent else None)


def division_budget(division_code: int) -> Budget:
    """The division's budget as the app's calls left it (scope: the app's client id)."""
    from portal.exact.wiring import rate_limits

    return rate_limits().budget(division_code)


# --- live progress --------------------------------------------------------------------------


def _job_status(account_id: int) -> JobStatus | None:
    """The status of the dossier's sync job, or of its resume after a spent minute once that
    runs or is queued (while it waits for the minute, the page's waiting line says so)."""
    jobs = Job.fetch_many(
        [sync_job_id(account_id), resume_job_id(account_id)], connection=redis_connection()
    )
    statuses = [job.get_status(refresh=False) if job else None for job in jobs]
    sync_status, resume_status = statuses
    if resume_status == JobStatus.STARTED or (
        resume_status in QUEUED - {JobStatus.SCHEDULED} and sync_status != JobStatus.STARTED
    ):
        return resume_status
    return sync_status


def progress(account_id: int, state: SyncState | None) -> dict:
    """The run going on now (Redis: the progress hash and the RQ job), for the page and JSON."""
    live = get_progress(account_id)
    job_status = _job_status(account_id)
    running = live is not None or job_status == JobStatus.STARTED
    entity = ENTITY_BY_KEY.get(live["entity"]) if live else None
    rows = int(live.get("rows") or 0) if live else 0
    step = ENTITIES.index(entity) + 1 if entity else 0
    if running and entity is not None:
        message = _(
            "Syncing %(entity)s (%(step)d of %(steps)d): %(rows)d rows so far",
            entity=entity.label,
            step=step,
            steps=len(ENTITIES),
            rows=rows,
        )
    elif running:
        message = _("The sync has started.")
    elif job_status == JobStatus.SCHEDULED:
        message = _("The sync is tried again in a moment.")
    elif job_status in QUEUED:
        message = _("The sync is queued and starts in a moment.")
    else:
        message = ""
    return {
        "running": running,
        "queued": not running and job_status in QUEUED,
        "entity": str(entity.label) if entity else None,
        "entity_key": entity.key if entity else None,
        "rows": rows,
        "step": step,
        "steps": len(ENTITIES),
        "status": state.last_status if state else None,
        "status_label": status_label(state.last_status if state else None),
        "message": message,
    }


# --- queries ----------------------------------------------------------------------------------


def state_of(account_id: int) -> SyncState | None:
    """The dossier's sync state, without creating one (a page only reads)."""
    return db.session.scalar(select(SyncState).where(SyncState.account_id == account_id))


def syncable_clients(portal: Account) -> list[tuple[int, datetime | None]]:
    """The portal's clients that may be synced now, in one query: (client id, waiting until).

    The rules are ``portal.exact.sync.RULES`` (which each job checks again), and only clients
    that granted the portal a role that may sync: others are synced on schedule, but not by
    the portal's hand.
    """
    return [
        (client_id, waiting_until)
        for client_id, waiting_until in db.session.execute(
            eligible_links()
            .add_columns(SyncState.waiting_until)
            .join(PortalLink, PortalLink.client_id == ExactDivisionLink.account_id)
            .outerjoin(SyncState, SyncState.account_id == ExactDivisionLink.account_id)
            .where(
                PortalLink.portal_id == portal.id,
                PortalLink.status == PortalLinkStatus.ACTIVE,
                PortalLink.role.in_(roles_allowing(Action.SYNC)),
            )
            .order_by(ExactDivisionLink.account_id)
        ).all()
    ]


def register_template_helpers(bp) -> None:
    """Filters and globals for the sync pages and the portal's client list."""
    for name, func_ in (
        ("sync_status_label", status_label),
        ("sync_status_class", status_class),
        ("sync_trigger_label", trigger_label),
        ("sync_calls_left", calls_left),
        ("sync_is_daily_wait", is_daily_wait),
        ("sync_is_waiting", is_waiting),
        ("sync_run_entities", run_entities),
        ("sync_run_totals", run_totals),
    ):
        bp.add_app_template_global(func_, name)
    bp.add_app_template_filter(utc_time, "utc_time")
    bp.add_app_template_filter(duration, "duration")
    bp.add_app_template_filter(exact_value, "exact_value")
    bp.add_app_template_filter(local_time, "local_time")
    bp.add_app_template_filter(format_number, "number")


# --- master data as an accountant reads it ----------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value of a master-data row: typed (for the downloads) and as text (for the page)."""

    value: object  # Decimal, date, datetime (aware), bool, int, str or None
    text: str
    code: str | None = None  # a REFERENCE's code (``text`` is "code name")
    name: str | None = None  # a REFERENCE's name


def exact_instant(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if is_exact_date(value):
        return parse_date(value)
    return None


def local_time(value: datetime | None) -> str:
    """An instant in the user's language and time zone (``DEFAULT_TIMEZONE``): 16 jan 2026 00:30."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{babel_format_date(value, 'medium')} {babel_format_time(value, 'short')}"


def local_datetime(value: datetime) -> datetime:
    """The instant in the user's time zone, without zone (what a spreadsheet cell holds)."""
    return to_user_timezone(value).replace(tzinfo=None)


def money(value: Decimal) -> str:
    return format_currency(value, CURRENCY)


def percent(value: Decimal) -> str:
    return format_percent(value, "#,##0.##%")


def cell(column: Column, row: dict, names: dict[str, dict[str, str]]) -> Cell:
    """The value of ``column`` in an Exact row, formatted for the user."""
    raw = row.get(column.field)
    kind = column.kind
    if kind == Kind.REFERENCE:
        code = normalize_code(raw) if raw not in (None, "") else None
        if code is None:
            return Cell(None, "")
        name = names.get(column.reference or "", {}).get(code)
        if name is None and column.fallback:
            name = row.get(column.fallback)
        text = f"{code} {name}" if name else code
        return Cell(code, text, code, name or None)
    if raw is None or raw == "":
        return Cell(None, "")
    if kind == Kind.CODE:
        code = normalize_code(raw)
        return Cell(code, code)
    if kind == Kind.MONEY:
        amount = to_decimal(raw)
        return Cell(amount, money(amount)) if amount is not None else Cell(raw, str(raw))
    if kind == Kind.PERCENT:
        fraction = to_decimal(raw)
        return Cell(fraction, percent(fraction)) if fraction is not None else Cell(raw, str(raw))
    if kind == Kind.NUMBER:
        number = to_decimal(raw)
        if number is None:
            return Cell(raw, str(raw))
        return Cell(number, format_decimal(number))
    if kind == Kind.DATE:
        day = exact_day(raw)
        return Cell(day, babel_format_date(day, "medium")) if day else Cell(raw, str(raw))
    if kind == Kind.DATETIME:
        when = exact_instant(raw)
        return Cell(when, local_time(when)) if when else Cell(raw, str(raw))
    if kind == Kind.BOOL or isinstance(raw, bool):
        return Cell(bool(raw), _("yes") if raw else _("no"))
    if kind == Kind.CHOICE:
        words = (column.choices or {}).get(raw)
        if words is None and column.fallback:
            words = row.get(column.fallback)
        return Cell(raw, str(words) if words not in (None, "") else str(raw))
    if is_exact_date(raw):
        day = exact_day(raw)
        return Cell(day, babel_format_date(day, "medium"))
    return Cell(raw, str(raw))


def reference_names(
    scope: Callable[[str], list], entity: SyncEntity, rows: Iterable[dict]
) -> dict[str, dict[str, str]]:
    """{entity key: {code: name}} for the codes the REFERENCE columns of ``rows`` name: one
    query per referenced entity, whatever the number of rows (``scope(key)`` gives the
    conditions that select the dossier's rows of an entity)."""
    wanted: dict[str, set[str]] = {}
    rows = list(rows)
    for column in entity.columns:
        if column.kind != Kind.REFERENCE or not column.reference:
            continue
        codes = wanted.setdefault(column.reference, set())
        for row in rows:
            code = normalize_code(row.get(column.field))
            if code:
                codes.add(code)
    names: dict[str, dict[str, str]] = {}
    for key, codes in wanted.items():
        found = names.setdefault(key, {})
        if not codes:
            continue
        for code, name in db.session.execute(
            select(ExactRecord.code, ExactRecord.description)
            .where(*scope(key), ExactRecord.code.in_(sorted(codes)))
            .order_by(ExactRecord.deleted_at.is_not(None), ExactRecord.id)  # live rows first
        ):
            if name:
                found.setdefault(code, name)
    return names


def choices_of(scope: Callable[[str], list], entity_key: str) -> list[tuple[str, str]]:
    """(code, "code description") of an entity's live rows, for a filter's pick list."""
    rows = db.session.execute(
        select(ExactRecord.code, ExactRecord.description)
        .where(*scope(entity_key), ExactRecord.deleted_at.is_(None), ExactRecord.code.is_not(None))
        .order_by(func.length(ExactRecord.code), ExactRecord.code)
    ).all()
    return [(code, f"{code} {name}" if name else code) for code, name in rows]
