"""Sync one client's Exact division into the portal: master data in, incrementally.

Every page read is upserted together with the cursor it advances, in one transaction, so a
worker killed mid-run resumes where it stopped, with no duplicate and no gap. Runs stop at
once when the dossier is no longer eligible (portal access revoked, module off, link
overwritten or blocked, connection needing re-authorisation).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Insert,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from portal import audit, clock, messages
from portal.exact import connecting, links, wiring
from portal.exact.client.errors import (
    ExactDailyLimitReached,
    ExactError,
    ExactRateLimited,
    ExactReauthorizationNeeded,
    Text,
)
from portal.exact.client.http import ExactClient
from portal.exact.entities import (
    DELETED_CURSOR,
    DELETED_FIELDS,
    DELETED_PATH,
    ENTITIES,
    SyncEntity,
)
from portal.exact.read_ahead import Read, ReadAhead
from portal.extensions import db
from portal.mail import send_mail_to
from portal.messages import N_, Message
from portal.models import (
    Account,
    AccountModule,
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    ExactRecord,
    LinkStatus,
    PortalLink,
    PortalLinkStatus,
    RunStatus,
    SyncRun,
    SyncState,
    Trigger,
)
from portal.permissions import Action, people_who_may
from portal.queue import after_commit, redis_connection
from portal.urls import external_url

log = logging.getLogger(__name__)
UPSERT_BATCH = 1000  # rows per statement: one page of an Exact sync feed
DIVISION_FIELDS = "Code,Description,VATNumber,ChamberOfCommerceNumber,DivisionMoveDate"


class SyncStopped(Exception):
    """The dossier may not be synced (any more); ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SyncWaiting(Exception):
    """Exact's limits: continue at ``until`` (a re-enqueue, or the next run after the day)."""

    def __init__(self, until: datetime, message: str, daily: bool) -> None:
        super().__init__(message)
        self.until, self.message, self.daily = until, message, daily


def error_message(error: ExactError) -> Message:
    """Exact's error for people, as a message (its template and parameters) that is
    translated again when shown, not frozen in the worker's language."""

    def value(param):
        return Message(param) if isinstance(param, Text) else param

    return Message(error.template, **{key: value(v) for key, v in error.params.items()})


# --- eligibility ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One condition a dossier must meet to sync, as SQL, and why it fails, in words."""

    holds: ColumnElement[bool]
    reason: Callable[[ExactDivisionLink], str]


def _module_off(link: ExactDivisionLink) -> str:
    owner = link.connection.account
    if owner.id == link.account_id:
        return N_("The Exact Online module is off.")
    return N_("The Exact Online module of %(name)s is off.", name=owner.name)


_OWNER_MODULE = aliased(AccountModule)
_OWNER_PORTAL = aliased(PortalLink)

# The rules, in the order a person should hear them; one place for the SQL and the words.
RULES = (
    Rule(
        ExactDivisionLink.status == LinkStatus.ACTIVE,
        lambda link: link.blocked_reason_restored or N_("The link is blocked."),
    ),
    Rule(
        ExactConnection.status == ConnectionStatus.CONNECTED,
        lambda link: (
            wiring.office_connection_notice(link)
            or N_("The Exact Online connection needs to be connected again.")
        ),
    ),
    Rule(_OWNER_MODULE.enabled.is_(True), _module_off),
    Rule(  # the connection is the client's own, or its portal's while the client is in it
        or_(
            ExactConnection.account_id == ExactDivisionLink.account_id,
            _OWNER_PORTAL.id.is_not(None),
        ),
        lambda link: N_(
            "The client no longer gives %(name)s access.", name=link.connection.account.name
        ),
    ),
)


def _rule_joins() -> Select:
    """Links with the rows the rules look at joined in."""
    return (
        select(ExactDivisionLink.account_id)
        .join(ExactConnection, ExactConnection.id == ExactDivisionLink.connection_id)
        .outerjoin(
            _OWNER_MODULE,
            and_(
                _OWNER_MODULE.account_id == ExactConnection.account_id,
                _OWNER_MODULE.key == "exact_online",
            ),
        )
        .outerjoin(
            _OWNER_PORTAL,
            and_(
                _OWNER_PORTAL.client_id == ExactDivisionLink.account_id,
                _OWNER_PORTAL.portal_id == ExactConnection.account_id,
                _OWNER_PORTAL.status == PortalLinkStatus.ACTIVE,
            ),
        )
    )


def eligible_links() -> Select:
    """The dossiers that may sync now (``ExactDivisionLink.account_id``), in one query; add
    columns, joins and conditions of your own (the portal's "Sync all", the fan-out)."""
    return _rule_joins().where(*(rule.holds for rule in RULES))


def eligible_link(account_id: int) -> ExactDivisionLink:
    """The dossier's link if it may be synced now, else ``SyncStopped`` with the reason.

    One query answers every rule at once; the first that fails gives the reason.
    """
    checks = [func.coalesce(rule.holds, False) for rule in RULES]
    row = db.session.execute(
        _rule_joins()
        .add_columns(ExactDivisionLink, *checks)
        .where(ExactDivisionLink.account_id == account_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise SyncStopped(N_("This client account has no linked administration."))
    link, results = row[1], row[2:]
    for rule, holds in zip(RULES, results, strict=True):
        if not holds:
            raise SyncStopped(rule.reason(link))
    return link


# --- progress (live, in Redis) -------------------------------------------------------------


def progress_key(account_id: int) -> str:
    return f"portal:sync:progress:{account_id}"


def set_progress(account_id: int, entity: str, rows: int) -> None:
    key = progress_key(account_id)
    pipe = redis_connection().pipeline(transaction=False)
    pipe.hset(key, mapping={"entity": entity, "rows": rows}).expire(key, 3600).execute()


def get_progress(account_id: int) -> dict | None:
    data = redis_connection().hgetall(progress_key(account_id))
    if not data:
        return None
    return {k.decode(): v.decode() for k, v in data.items()}


def clear_progress(account_id: int) -> None:
    redis_connection().delete(progress_key(account_id))


# --- the run --------------------------------------------------------------------------------


def state_for(account_id: int) -> SyncState:
    state = db.session.scalar(select(SyncState).where(SyncState.account_id == account_id))
    if state is None:
        state = SyncState(account_id=account_id, cursors={})
        db.session.add(state)
        db.session.flush()
    return state


def run_sync(account_id: int, trigger: Trigger, max_wait: float = wiring.JOB_MAX_WAIT) -> SyncRun:
    """Sync the dossier once; returns the finished run (its status says how it ended)."""
    close_interrupted_runs(account_id)
    link = eligible_link(account_id)
    state = state_for(account_id)
    run = SyncRun(
        account_id=account_id, division_code=link.division_code, trigger=trigger, stats={}
    )
    db.session.add(run)
    db.session.commit()
    client = wiring.link_api_client(link, max_wait=max_wait)
    try:
        with _kept_on_commit():
            _check_division(client, link, state)
            starts = _read_starts(account_id, dict(state.cursors or {}))
            with ReadAhead(_reads(client, link.division_code, starts)) as reader:
                for entity in ENTITIES:
                    eligible_link(account_id)
                    _sync_entity(reader, link, state, run, entity)
                _sync_deletions(reader, link, state, run)
        _finish(run, state, RunStatus.SUCCEEDED)
    except SyncStopped as stop:
        db.session.rollback()
        _finish(run, state, RunStatus.STOPPED, stop.reason)
    except SyncWaiting as wait:
        db.session.rollback()
        _wait_for_reset(account_id, trigger, state, wait)
        _finish(run, state, RunStatus.WAITING, wait.message)
    except ExactError as error:
        db.session.rollback()
        _finish(run, state, RunStatus.FAILED, error_message(error))
        if not isinstance(error, ExactReauthorizationNeeded):
            raise
    finally:
        run.api_calls = client.calls_made
        _note_limits(run, client)
        _plan_next_run(account_id, state)
        db.session.commit()
        clear_progress(account_id)
    return run


@contextmanager
def _kept_on_commit() -> Iterator[None]:
    """The run's own objects (its link, state and run) stay loaded across its commits, one a
    page: otherwise each commit expires them and the next touch reloads each one (measured: a
    fifth of an incremental run). Eligibility is still read afresh before every entity
    (``eligible_link`` refreshes the link)."""
    session = db.session()
    kept, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = kept


def _wait_for_reset(account_id: int, trigger: Trigger, state: SyncState, wait: SyncWaiting) -> None:
    """End the run instead of sleeping on a spent limit; every stored page's cursor is
    committed already. A spent minute in the dossier's sync job: its resume is scheduled for
    the reset (RQ's scheduler queues it), so the worker takes other dossiers meanwhile. A
    spent day, or a sync inside another job (an export waits and resumes itself): the
    fan-out starts the dossier again after the reset."""
    from portal.exact import scheduling  # it imports this module

    state.waiting_until = wait.until
    if wait.daily or not scheduling.in_sync_job(account_id):
        state.next_run_at = wait.until
    else:  # queued once the run's end commits
        after_commit(lambda: scheduling.schedule_resume(account_id, trigger, wait.until))


def _plan_next_run(account_id: int, state: SyncState) -> None:
    """A dossier never scheduled yet (its first import, a run by hand) gets its first scheduled
    run an interval from now, so the fan-out does not start it again a minute later."""
    from portal.exact import scheduling  # it imports this module

    if state.next_run_at is None:
        state.next_run_at = scheduling.next_run_at(account_id, state.interval_minutes, clock.now())


def _note_limits(run: SyncRun, client: ExactClient) -> None:
    """Say in the run's history how Exact's limits slowed it down, if they did."""
    waited = round(client.rate_limits.waited_seconds, 1)
    if client.rate_limited_answers or waited:
        run.stats = {
            **(run.stats or {}),
            "_limits": {"429": client.rate_limited_answers, "waited_seconds": waited},
        }


def close_interrupted_runs(account_id: int, run_model: type = SyncRun) -> None:
    """A run still 'running' when a new one starts was killed (worker lost): say so. For the
    dossier's sync runs, and for any run model of the same shape (the export's)."""
    db.session.execute(
        update(run_model)
        .where(run_model.account_id == account_id, run_model.status == RunStatus.RUNNING)
        .values(
            status=RunStatus.INTERRUPTED,
            finished_at=clock.now(),
            error=(
                interrupted := N_(
                    "The worker stopped in the middle of this run; the next run continued "
                    "where it stopped."
                )
            ),
            error_message=messages.stored(interrupted),
        )
    )
    db.session.commit()


def _finish(run: SyncRun, state: SyncState, status: RunStatus, error: str | None = None) -> None:
    run.status, run.error, run.finished_at = status, error, clock.now()
    state.last_status, state.last_error, state.last_run_at = status, error, run.finished_at
    if status == RunStatus.SUCCEEDED:
        state.waiting_until = None
    if status == RunStatus.FAILED:
        _alert_repeated_failures(run)


FAILURES_TO_ALERT = 3  # runs in a row that failed before the office hears by mail


def _alert_repeated_failures(run: SyncRun) -> None:
    """Mail the people who can fix the link once a dossier has failed FAILURES_TO_ALERT runs
    in a row (once: a fourth failure in a row sends nothing more)."""
    db.session.flush()
    recent = db.session.scalars(
        select(SyncRun.status)
        .where(SyncRun.account_id == run.account_id, SyncRun.id <= run.id)
        .order_by(SyncRun.id.desc())
        .limit(FAILURES_TO_ALERT + 1)
    ).all()
    failed = 0
    for status in recent:
        if status != RunStatus.FAILED:
            break
        failed += 1
    client = db.session.get(Account, run.account_id)
    link = wiring.link_of(client) if client else None
    if failed != FAILURES_TO_ALERT or link is None:
        return
    send_mail_to(
        people_who_may(Action.LINK_DOSSIER, link.connection.account_id),
        _l(
            "The sync of %(client)s failed %(num)d times in a row",
            client=client.name,
            num=FAILURES_TO_ALERT,
        ),
        "sync_failing",
        client=client,
        run=run,
        number=FAILURES_TO_ALERT,
        link=external_url("sync.index", account_id=run.account_id),
    )


def _count(run: SyncRun, entity: str, field: str, number: int) -> None:
    stats = dict(run.stats or {})
    entry = dict(stats.get(entity, {"in": 0, "changed": 0, "deleted": 0}))
    entry[field] = entry.get(field, 0) + number
    stats[entity] = entry
    run.stats = stats


def _calls(fn, *args):
    """Turn Exact's limits into a wait for the job (re-enqueue or the next day)."""
    try:
        return fn(*args)
    except ExactRateLimited as error:
        raise SyncWaiting(error.reset_at, error_message(error), daily=False) from error
    except ExactDailyLimitReached as error:
        raise SyncWaiting(error.reset_at, error_message(error), daily=True) from error


# --- division identity and moves ------------------------------------------------------------


def _check_division(client: ExactClient, link: ExactDivisionLink, state: SyncState) -> None:
    rows = _calls(
        lambda: list(
            client.get_all(
                link.division_code,
                "system/Divisions",
                {
                    "$select": DIVISION_FIELDS,
                    "$filter": f"Code eq {link.division_code}",
                },
            )
        ),
    )
    row = next((r for r in rows if int(r.get("Code", 0)) == link.division_code), None)
    if row is not None and not links.check_identity(link, connecting.division_summary(row)):
        db.session.commit()
        raise SyncStopped(link.blocked_reason_restored)
    move_date = str(row.get("DivisionMoveDate")) if row and row.get("DivisionMoveDate") else None
    if state.division_code != link.division_code or state.division_move_date != move_date:
        if state.division_code is not None and state.division_code != link.division_code:
            _retire_other_division(link.account_id, link.division_code)
        if state.division_code is not None or state.division_move_date is not None:
            log.info("division %s moved or changed: full resync", link.division_code)
        state.cursors = {}
        state.division_code, state.division_move_date = link.division_code, move_date
        db.session.commit()


def _retire_other_division(account_id: int, division_code: int) -> None:
    """The link now points at another division (overwritten): the other divisions' rows are
    not this dossier's any more. They are retired as the *previous administration* (kept until
    an admin purges them), never marked deleted in Exact; the new division's rows come in with
    a full resync. A division linked again later gets its retired rows back only as that
    resync reads them from Exact (``upsert_rows``)."""
    db.session.execute(
        update(ExactRecord)
        .where(
            ExactRecord.account_id == account_id,
            ExactRecord.retired_at.is_(None),
            or_(
                ExactRecord.division_code != division_code,
                ExactRecord.division_code.is_(None),
            ),
        )
        .values(retired_at=clock.now())
    )


# --- a dossier's rows: the current division, the previous administration -------------------


def current_rows(link: ExactDivisionLink) -> list[ColumnElement[bool]]:
    """Conditions for the dossier's own rows: its current division's, not retired (deleted
    ones included: add ``ExactRecord.deleted_at.is_(None)`` for the live ones)."""
    return [
        ExactRecord.account_id == link.account_id,
        ExactRecord.division_code == link.division_code,
        ExactRecord.retired_at.is_(None),
    ]


def _previous_rows(link: ExactDivisionLink) -> ColumnElement[bool]:
    """The dossier's rows that are not its current division's: retired, or of a division the
    link left and no run has retired yet."""
    return and_(
        ExactRecord.account_id == link.account_id,
        or_(
            ExactRecord.retired_at.is_not(None),
            ExactRecord.division_code.is_(None),
            ExactRecord.division_code != link.division_code,
        ),
    )


def live_counts(link: ExactDivisionLink) -> dict[str, int]:
    """Live rows of the current division per entity: one grouped query."""
    return dict(
        db.session.execute(
            select(ExactRecord.entity, func.count())
            .where(*current_rows(link), ExactRecord.deleted_at.is_(None))
            .group_by(ExactRecord.entity)
        ).all()
    )


def previous_administration(link: ExactDivisionLink) -> dict[int | None, int]:
    """Rows kept from earlier administrations, per division code (None: unknown)."""
    return dict(
        db.session.execute(
            select(ExactRecord.division_code, func.count())
            .where(_previous_rows(link))
            .group_by(ExactRecord.division_code)
            .order_by(ExactRecord.division_code)
        ).all()
    )


def purge_previous_administration(account: Account, link: ExactDivisionLink, actor=None) -> int:
    """Delete the rows kept from earlier administrations; an audit event says how many.
    The caller checks the right (``Action.LINK_DOSSIER``) and commits."""
    kept = previous_administration(link)
    removed = db.session.execute(delete(ExactRecord).where(_previous_rows(link))).rowcount
    if removed:
        audit.record(
            account,
            "sync.previous_administration_purged",
            target=str(link.division_code),
            actor=actor,
            rows=removed,
            divisions=[code for code in kept if code is not None],
        )
    return removed


# --- entities -------------------------------------------------------------------------------


def _sync_entity(reader: ReadAhead, link, state, run, entity: SyncEntity) -> None:
    if entity.incremental:
        _sync_incremental(reader, link, state, run, entity)
    else:
        _sync_whole_list(reader, link, state, run, entity)


def _reads(client: ExactClient, division: int, starts: dict) -> Iterator[Read]:
    """Every GET of a run after the division check, in the order the run stores them: the
    entities (a sync feed from its stored cursor, a whole list from its start or from the page
    an earlier run stopped before), then ``sync/Deleted``. It runs in the reader's thread:
    plain values only, no ORM object of the job's session."""
    for entity in ENTITIES:
        if entity.incremental:
            yield from _feed(client, division, starts, entity.key, entity.path, entity.fields)
        elif next_url := starts.get(entity.key):
            yield from _pages(client, division, entity.key, next_url, None)
        else:
            params = {"$select": entity.fields}
            yield from _pages(client, division, entity.key, entity.path, params)
    yield from _feed(client, division, starts, DELETED_CURSOR, DELETED_PATH, DELETED_FIELDS)


def _feed(client, division: int, starts: dict, key: str, path: str, fields: str) -> Iterator[Read]:
    """The pages of a ``sync/`` feed above the cursor ``key`` (``Timestamp``), then its end."""
    params = {"$filter": f"Timestamp gt {int(starts.get(key, 1))}L", "$select": fields}
    yield from _pages(client, division, key, path, params)


def _pages(client, division: int, key: str, path: str, params: dict | None) -> Iterator[Read]:
    for rows, next_url in client.iter_pages(division, path, params):
        yield key, rows, next_url
    yield key, None, None


def _read_starts(account_id: int, cursors: dict) -> dict:
    """Where each read of the run begins: the stored cursors, and for a whole list that an
    earlier run stopped in (a spent minute) the link to its next page, as long as the IDs it
    read so far are still known; otherwise the list starts over."""
    starts = dict(cursors)
    lists = [entity.key for entity in ENTITIES if not entity.incremental]
    pipe = redis_connection().pipeline(transaction=False)
    for key in lists:
        pipe.exists(_seen_key(account_id, key))
    known = pipe.execute()
    for key, ids_known in zip(lists, known, strict=True):
        next_url = cursors.get(_list_cursor(key))
        if next_url and ids_known:
            starts[key] = next_url
        elif ids_known:
            pipe.delete(_seen_key(account_id, key))
    pipe.execute()
    return starts


def _cursor_pages(reader: ReadAhead, state: SyncState, key: str) -> Iterator[list[dict]]:
    """The pages of a ``sync/`` feed above the stored Timestamp cursor ``key``.

    Once the caller has stored a page, the cursor moves past it and commits together with it
    (when the next page is asked for), so a killed worker resumes without duplicates or gaps.
    """
    cursor = int((state.cursors or {}).get(key, 1))
    pages = reader.pages(key)
    while (page := _calls(next, pages, None)) is not None:
        rows, _next_url = page
        if not rows:  # nothing changed since the cursor: nothing to store or commit
            continue
        yield rows
        top = max((int(r.get("Timestamp") or 0) for r in rows), default=cursor)
        state.cursors = {**(state.cursors or {}), key: max(cursor, top)}
        db.session.commit()  # the page and its cursor, together


def _sync_incremental(reader: ReadAhead, link, state, run, entity: SyncEntity) -> None:
    """Rows changed since the cursor, page by page."""
    analyze = int((state.cursors or {}).get(entity.key, 1)) <= 1  # a first import
    seen = 0
    for rows in _cursor_pages(reader, state, entity.key):
        if analyze and seen:  # the first page is committed now
            _refresh_planner_statistics()
            analyze = False
        new, changed = upsert_rows(link.account_id, link.division_code, entity, rows)
        _count(run, entity.key, "in", new)
        _count(run, entity.key, "changed", changed)
        seen += len(rows)
        set_progress(link.account_id, entity.key, seen)


def _refresh_planner_statistics() -> None:
    """After a first import's first page, let PostgreSQL see the new rows.

    Without statistics the planner keeps looking rows up through (account, entity) only and
    filters the IDs, so every page of a large first import gets slower than the one before
    (measured: 95 to 771 ms per 1,000 rows over 200 pages; flat at about 10 ms after this).
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE exact_records"))
        db.session.commit()


LIST_IDS_KEPT = 2 * 86400  # seconds Redis keeps the IDs of a whole list read over several runs


def _list_cursor(key: str) -> str:
    return f"{key}:next"


def _seen_key(account_id: int, key: str) -> str:
    return f"portal:sync:list:{account_id}:{key}"


def _sync_whole_list(reader: ReadAhead, link, state: SyncState, run, entity: SyncEntity) -> None:
    """A list without a sync feed (cost centers, periods, ...), stored page by page. Rows gone
    from Exact are marked deleted once the list is whole.

    Such a list has no Timestamp cursor, so the link to its next page is the cursor: it
    commits with each page, and the IDs read so far are kept in Redis. A spent minute in the
    middle ends the run like anywhere else (no job sleeps on it) and the resume goes on from
    that page; a list longer than a minute's calls still finishes, in several runs."""
    cursor_key, seen = _list_cursor(entity.key), _seen_key(link.account_id, entity.key)
    redis = redis_connection()
    pages, read = reader.pages(entity.key), 0
    while (page := _calls(next, pages, None)) is not None:
        rows, next_url = page
        new, changed = upsert_rows(link.account_id, link.division_code, entity, rows)
        if rows:
            redis.pipeline().sadd(seen, *(str(row["ID"]) for row in rows)).expire(
                seen, LIST_IDS_KEPT
            ).execute()
        cursors = {k: v for k, v in (state.cursors or {}).items() if k != cursor_key}
        state.cursors = {**cursors, cursor_key: next_url} if next_url else cursors
        _count(run, entity.key, "in", new)
        _count(run, entity.key, "changed", changed)
        db.session.commit()  # the page and the link to the next one, together
        read += len(rows)
        set_progress(link.account_id, entity.key, read)
    present = {member.decode() for member in redis.smembers(seen)}
    live = db.session.execute(
        select(ExactRecord.id, ExactRecord.exact_id).where(
            *current_rows(link),
            ExactRecord.entity == entity.key,
            ExactRecord.deleted_at.is_(None),
        )
    ).all()
    gone = [row_id for row_id, exact_id in live if exact_id not in present]
    if gone:
        db.session.execute(
            update(ExactRecord).where(ExactRecord.id.in_(gone)).values(deleted_at=clock.now())
        )
    _count(run, entity.key, "deleted", len(gone))
    db.session.commit()
    redis.delete(seen)


def _sync_deletions(reader: ReadAhead, link, state, run) -> None:
    """Rows deleted in Exact (``sync/Deleted``) are marked deleted here."""
    by_type = {e.deleted_type: e for e in ENTITIES if e.deleted_type}
    for rows in _cursor_pages(reader, state, DELETED_CURSOR):
        for row in rows:
            entity = by_type.get(int(row.get("EntityType") or 0))
            if entity is None:
                continue
            marked = db.session.execute(
                update(ExactRecord)
                .where(
                    *current_rows(link),
                    ExactRecord.entity == entity.key,
                    ExactRecord.exact_id == str(row.get("EntityKey")),
                    ExactRecord.deleted_at.is_(None),
                )
                .values(deleted_at=clock.now())
            ).rowcount
            _count(run, entity.key, "deleted", marked)


# --- storing rows ---------------------------------------------------------------------------


def upsert_rows(
    account_id: int, division_code: int, entity: SyncEntity, rows: Iterable[dict]
) -> tuple[int, int]:
    """Insert or update the division's rows by their Exact ID; returns (new, changed).
    Idempotent. A row equal to the stored one is neither written nor counted; a retired or
    deleted row that Exact sends again is current again (changed). A row twice in ``rows``
    counts once, with its later version (a sync feed lists changes oldest first).

    The rows are as the API client returns them: already without ``__metadata``. One
    ``INSERT ... ON CONFLICT DO UPDATE ... WHERE changed`` per batch of ``UPSERT_BATCH`` rows,
    without SQLAlchemy's per-row parameter processing: on PostgreSQL the batch is one JSON
    parameter, encoded once, unpacked by the server (``xmax = 0`` tells inserted rows from
    updated ones); on SQLite the driver's ``executemany`` of plain tuples (measured: a third
    faster than unpacking a JSON page with ``json_each``), counting with one read of the stored
    IDs and the connection's ``total_changes``.
    """
    latest = {str(row["ID"]): row for row in rows}
    if not latest:
        return 0, 0
    values = [_values(entity, exact_id, row) for exact_id, row in latest.items()]
    if db.engine.dialect.name == "postgresql":
        return _upsert_postgres(account_id, division_code, entity.key, values)
    return _upsert_sqlite(account_id, division_code, entity.key, values)


def _upsert_postgres(
    account_id: int, division_code: int, entity_key: str, values: list[list]
) -> tuple[int, int]:
    statement = _upsert_statement(account_id, division_code, entity_key, clock.now())
    new = changed = 0
    for start in range(0, len(values), UPSERT_BATCH):
        page = json.dumps(values[start : start + UPSERT_BATCH])
        if "\\u0000" in page:
            page = _NUL.sub(r"\1", page)
        for row in db.session.execute(statement, {"page": page}):
            new, changed = (new + 1, changed) if row.inserted else (new, changed + 1)
    return new, changed


# JSONB refuses U+0000 in strings (JSON text took it): dropped, unless the backslash is escaped
_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")

# SQLite compares the stored JSON text with the sent one (``_json_text``); a row stored in
# another form (SQLAlchemy's JSON type spaces its text) is compared through ``json()`` before
# it is rewritten, so it is not rewritten (nor counted) for its spacing alone.
_SQLITE_UPSERT = """
INSERT INTO exact_records (account_id, division_code, entity, exact_id, code, description,
    data, row_timestamp, deleted_at, retired_at, synced_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)
ON CONFLICT (account_id, division_code, entity, exact_id) DO UPDATE SET
    code = excluded.code, description = excluded.description, data = excluded.data,
    row_timestamp = excluded.row_timestamp, deleted_at = NULL, retired_at = NULL,
    synced_at = excluded.synced_at
WHERE (exact_records.data IS NOT excluded.data AND json(exact_records.data) != excluded.data)
    OR exact_records.deleted_at IS NOT NULL OR exact_records.retired_at IS NOT NULL
"""
_SQLITE_STORED = """
SELECT count(*) FROM exact_records WHERE account_id = ? AND division_code = ? AND entity = ?
    AND exact_id IN (SELECT value FROM json_each(?))
"""


def _upsert_sqlite(
    account_id: int, division_code: int, entity_key: str, values: list[list]
) -> tuple[int, int]:
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    as_stored = ExactRecord.synced_at.type.bind_processor(connection.dialect)
    synced_at = as_stored(clock.now()) if as_stored else clock.now()
    keys = (account_id, division_code, entity_key)
    new = changed = 0
    for start in range(0, len(values), UPSERT_BATCH):
        batch = values[start : start + UPSERT_BATCH]
        ids = json.dumps([exact_id for exact_id, *_ in batch])
        stored = connection.exec_driver_sql(_SQLITE_STORED, (*keys, ids)).scalar_one()
        before = driver.total_changes
        connection.exec_driver_sql(
            _SQLITE_UPSERT,
            [
                (*keys, exact_id, code, description, _json_text(data), timestamp, synced_at)
                for exact_id, code, description, data, timestamp in batch
            ],
        )
        new += len(batch) - stored
        changed += driver.total_changes - before - (len(batch) - stored)
    return new, changed


def _json_text(data: dict) -> str:
    """A row's JSON as SQLite's ``json()`` renders ``json.dumps``' default text: minified,
    non-ASCII characters escaped."""
    return json.dumps(data, separators=(",", ":"))


def _upsert_statement(
    account_id: int, division_code: int, entity_key: str, now: datetime
) -> Insert:
    """PostgreSQL's upsert of one (client, division, entity), its rows from the JSON array
    ``page`` (of ``_values``). A stored row is written only if it differs (JSONB, by value) or
    was deleted or retired. Returns the IDs written and whether inserted."""
    table = ExactRecord.__table__
    names = ["account_id", "division_code", "entity", "exact_id", "code", "description"]
    names += ["data", "row_timestamp", "deleted_at", "retired_at", "synced_at"]
    rows = _page_rows(account_id, division_code, entity_key, now)
    statement = postgresql.insert(table).from_select(names, rows)
    sent = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["account_id", "division_code", "entity", "exact_id"],
        set_={
            "code": sent.code,
            "description": sent.description,
            "data": sent.data,
            "row_timestamp": sent.row_timestamp,
            "deleted_at": null(),
            "retired_at": null(),
            "synced_at": sent.synced_at,
        },
        where=or_(
            table.c.data.is_distinct_from(sent.data),
            table.c.deleted_at.is_not(None),
            table.c.retired_at.is_not(None),
        ),
    ).returning(table.c.exact_id, literal_column("xmax = 0", Boolean).label("inserted"))


def _page_rows(account_id: int, division_code: int, entity_key: str, now: datetime) -> Select:
    """The rows of the JSON array ``page``, one per element, in ``exact_records``' columns."""
    page = bindparam("page", type_=String)
    item = func.jsonb_array_elements(cast(page, postgresql.JSONB)).table_valued(
        column("value", postgresql.JSONB)
    )
    return select(
        literal(account_id),
        literal(division_code),
        literal(entity_key),
        *(item.c.value[i].astext for i in range(3)),
        item.c.value[3],
        cast(item.c.value[4].astext, BigInteger),
        null(),
        null(),
        literal(now, ExactRecord.synced_at.type),
    )


def _values(entity: SyncEntity, exact_id: str, row: dict) -> list:
    """One row of ``_upsert_statement``'s page: ID, code, description, data, Timestamp."""
    timestamp = row.get("Timestamp")
    return [
        exact_id,
        _short(entity.code(row), 64),
        _short(entity.description(row), 255),
        row,
        int(timestamp) if timestamp is not None else None,
    ]


def _short(value, length: int) -> str | None:
    if value is None:
        return None
    return str(value)[:length]
