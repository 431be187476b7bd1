"""The dossier sync, seen: per client its state, live progress, run history and the master data
pulled from Exact (read-only: Exact is the source of truth); per portal "Sync all clients".

Client pages live under ``/a/<client_id>/sync/`` and are reached by the client's own users and
by the members of its portal (tenancy derives that access); they are a 404 for an account
without a linked administration. Starting a sync takes the right to sync in the client account.
"""

from __future__ import annotations

from flask import (
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from portal import clock
from portal.blueprints.params import page_number, search_text
from portal.blueprints.scoped import account_blueprint
from portal.blueprints.sync import downloads, helpers
from portal.exact import wiring
from portal.exact.entities import ENTITIES, ENTITY_BY_KEY
from portal.exact.scheduling import enqueue_sync
from portal.exact.sync import (
    SyncStopped,
    current_rows,
    eligible_link,
    live_counts,
    previous_administration,
    purge_previous_administration,
)
from portal.extensions import db
from portal.models import (
    Account,
    ExactDivisionLink,
    ExactRecord,
    PortalLink,
    PortalLinkStatus,
    SyncRun,
    Trigger,
)
from portal.pagination import paginate
from portal.permissions import Action, authority, require, roles_allowing, why_not
from portal.tenancy import require_portal

bp = account_blueprint("sync", __name__, "/sync")
helpers.register_template_helpers(bp)
RUNS_PER_PAGE = 20
ROWS_PER_PAGE = 50
PORTAL_ENDPOINTS = {"sync.sync_all"}


@bp.before_request
def _dossier():
    """Client pages need a linked administration; the portal has only "Sync all clients"."""
    if request.endpoint in PORTAL_ENDPOINTS:
        return
    if g.account.is_portal:
        abort(404)
    g.exact_link = wiring.link_of(g.account)
    if g.exact_link is None:
        abort(404)


@bp.route("/")
def index():
    account_id = g.account.id
    state = helpers.state_of(account_id)
    try:
        eligible_link(account_id)
        stopped = None
    except SyncStopped as stop:
        stopped = stop.reason
    history = paginate(
        select(SyncRun)
        .where(SyncRun.account_id == account_id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc()),
        page_number(),
        RUNS_PER_PAGE,
    )
    return render_template(
        "sync/index.html",
        link=g.exact_link,
        state=state,
        stopped=stopped,
        progress=helpers.progress(account_id, state),
        calls=helpers.calls_left(helpers.division_budget(g.exact_link.division_code)),
        history=history,
        entities=ENTITIES,
        counts=live_counts(g.exact_link),
        previous=previous_administration(g.exact_link),
    )


@bp.route("/previous/purge", methods=["POST"])
def purge_previous():
    """Delete the rows kept from the client's earlier administrations (confirmed)."""
    require(Action.LINK_DOSSIER)
    if request.form.get("confirm") != "1":
        flash(_("Tick the box to confirm that the previous administration's rows go."), "error")
        return redirect(url_for("sync.index"))
    removed = purge_previous_administration(g.account, g.exact_link, current_user)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d row of the previous administration was deleted from the portal.",
            "%(num)d rows of the previous administration were deleted from the portal.",
            removed,
        ),
        "success",
    )
    return redirect(url_for("sync.index"))


@bp.route("/progress.json")
def progress():
    state = helpers.state_of(g.account.id)
    return jsonify(helpers.progress(g.account.id, state))


@bp.route("/now", methods=["POST"])
def now():
    require(Action.SYNC)
    try:
        eligible_link(g.account.id)
    except SyncStopped as stop:
        flash(_("The sync cannot start: %(reason)s", reason=stop.reason), "error")
        return redirect(url_for("sync.index"))
    state = helpers.state_of(g.account.id)
    if helpers.is_waiting(state):
        calls = helpers.calls_left(helpers.division_budget(g.exact_link.division_code))
        flash(_waiting_message(state, calls), "warning")
    elif enqueue_sync(g.account.id, Trigger.MANUAL):
        flash(_("The sync is queued and starts in a moment."), "success")
    else:
        flash(_("A sync of this administration is already queued or running."), "info")
    return redirect(url_for("sync.index"))


def _waiting_message(state, calls) -> str:
    when = helpers.utc_time(state.waiting_until)
    if helpers.is_daily_wait(state, calls):
        return _(
            "Exact's daily limit for this administration is used up; the sync continues "
            "after the UTC reset, at %(when)s.",
            when=when,
        )
    return _("Exact asked to slow down; the sync continues at %(when)s.", when=when)


MAX_DOWNLOAD_ROWS = 100_000
DOWNLOAD_BATCH = 1_000
LINE_FILTERS = ("year", "period", "journal", "gl", "relation")


def _scope(entity_key: str) -> list:
    """The conditions that select the dossier's rows of one entity (pages, names, downloads)."""
    # current_rows: this account's rows of the linked division, not a previous administration's
    return [*current_rows(g.exact_link), ExactRecord.entity == entity_key]


def _line_filters(entity) -> dict[str, str]:
    """The transaction lines' filters from the query string, cleaned (others: none)."""
    if entity.key != "transaction_lines":
        return {}
    found = {}
    for name in LINE_FILTERS:
        value = request.args.get(name, "").strip()[:64]
        if name in ("year", "period"):
            value = value.lstrip("0")
            if not (value.isascii() and value.isdigit() and len(value) <= 4):
                continue
        if value:
            found[name] = value
    return found


def _json_text(field: str):
    return func.trim(ExactRecord.data[field].as_string())


def _conditions(entity, search: str, show_deleted: bool, filters: dict[str, str]) -> list:
    where = _scope(entity.key)
    if not show_deleted:
        where.append(ExactRecord.deleted_at.is_(None))
    if search:
        needle = search.lower()
        matches = [
            func.lower(ExactRecord.code).contains(needle, autoescape=True),
            func.lower(ExactRecord.description).contains(needle, autoescape=True),
        ]
        if entity.key == "transaction_lines":
            for field in ("GLAccountCode", "AccountName", "JournalCode"):
                matches.append(func.lower(_json_text(field)).contains(needle, autoescape=True))
        where.append(or_(*matches))
    if "year" in filters:
        where.append(ExactRecord.data["FinancialYear"].as_integer() == int(filters["year"]))
    if "period" in filters:
        where.append(ExactRecord.data["FinancialPeriod"].as_integer() == int(filters["period"]))
    if "journal" in filters:
        where.append(_json_text("JournalCode") == filters["journal"])
    if "gl" in filters:
        where.append(_json_text("GLAccountCode") == filters["gl"])
    if "relation" in filters:
        where.append(_json_text("AccountCode") == filters["relation"])
    return where


def _records(entity, where: list, what=ExactRecord):
    return (
        select(what)
        .where(*where)
        .order_by(  # numeric codes in number order: by length first
            func.length(ExactRecord.code), ExactRecord.code, ExactRecord.description, ExactRecord.id
        )
    )


def _page_args(entity, search: str, show_deleted: bool, filters: dict[str, str]) -> dict:
    """The query string that shows this list again (pager, downloads, a refused download)."""
    return {"q": search or None, "deleted": "1" if show_deleted else None, **filters}


@bp.route("/data/<entity_key>")
def data(entity_key: str):
    entity = ENTITY_BY_KEY.get(entity_key) or abort(404)
    search = search_text()
    show_deleted = request.args.get("deleted") == "1"
    filters = _line_filters(entity)
    rows = paginate(
        _records(entity, _conditions(entity, search, show_deleted, filters)),
        page_number(),
        ROWS_PER_PAGE,
    )
    names = helpers.reference_names(_scope, entity, (record.data for record in rows.items))
    lines = [
        (record, [helpers.cell(column, record.data or {}, names) for column in entity.columns])
        for record in rows.items
    ]
    options = {}
    if entity.key == "transaction_lines":
        options = {
            "journal": helpers.choices_of(_scope, "journals"),
            "gl": helpers.choices_of(_scope, "gl_accounts"),
        }
    return render_template(
        "sync/data.html",
        link=g.exact_link,
        state=helpers.state_of(g.account.id),
        entity=entity,
        entities=ENTITIES,
        rows=rows,
        lines=lines,
        search=search,
        show_deleted=show_deleted,
        filters=filters,
        options=options,
        page_args=_page_args(entity, search, show_deleted, filters),
        max_download=MAX_DOWNLOAD_ROWS,
    )


@bp.route("/data/<entity_key>/download.csv")
def data_csv(entity_key: str):
    """The list as filtered, every matching row, as CSV Excel opens in the user's language."""
    return _download(entity_key, "csv")


@bp.route("/data/<entity_key>/download.xlsx")
def data_xlsx(entity_key: str):
    """The list as filtered, every matching row, as an Excel workbook."""
    return _download(entity_key, "xlsx")


def _download(entity_key: str, kind: str):
    entity = ENTITY_BY_KEY.get(entity_key) or abort(404)
    search = search_text()
    show_deleted = request.args.get("deleted") == "1"
    filters = _line_filters(entity)
    where = _conditions(entity, search, show_deleted, filters)
    total = db.session.scalar(
        select(func.count()).select_from(select(ExactRecord.id).where(*where).subquery())
    )
    if total > MAX_DOWNLOAD_ROWS:
        flash(
            _(
                "%(count)s rows match: more than the %(max)s one download may hold. Refine "
                "the filters or the search and download again.",
                count=format_number(total),
                max=format_number(MAX_DOWNLOAD_ROWS),
            ),
            "warning",
        )
        args = _page_args(entity, search, show_deleted, filters)
        return redirect(url_for("sync.data", entity_key=entity.key, **args))
    batches = _batches(entity, where)
    name = f"{entity.key}-{g.exact_link.division_code}"
    if kind == "csv":
        return downloads.csv_response(entity, stream_with_context(batches), f"{name}.csv")
    return downloads.xlsx_response(entity, batches, f"{name}.xlsx")


def _batches(entity, where: list):
    """(Exact row, names) batches of every matching row, in the page's order."""
    select_ = _records(entity, where, ExactRecord.data)  # plain values: no identity map growth
    offset = 0
    while True:
        batch = select_.limit(DOWNLOAD_BATCH).offset(offset)
        data = [row or {} for row in db.session.scalars(batch)]
        if not data:
            return
        yield data, helpers.reference_names(_scope, entity, data)
        offset += DOWNLOAD_BATCH


@bp.route("/all", methods=["POST"])
def sync_all():
    """The portal's "Sync all clients": queue every client that may be synced now."""
    require_portal()
    require(Action.SYNC)
    queued = busy = waiting = 0
    queued_or_known: set[int] = set()
    for client_id, waiting_until in helpers.syncable_clients(g.account):
        queued_or_known.add(client_id)
        if waiting_until is not None and waiting_until > clock.now():
            waiting += 1
        elif enqueue_sync(client_id, Trigger.MANUAL):
            queued += 1
        else:
            busy += 1
    if not queued + busy + waiting:
        flash(
            _(
                "No client can be synced now: link their administrations first, and check "
                "that Exact Online is connected."
            ),
            "warning",
        )
    else:
        parts = []
        if queued:
            parts.append(
                ngettext(
                    "Sync queued for %(num)d client.", "Sync queued for %(num)d clients.", queued
                )
            )
        if busy:
            parts.append(
                ngettext(
                    "%(num)d was already queued or running.",
                    "%(num)d were already queued or running.",
                    busy,
                )
            )
        if waiting:
            parts.append(
                ngettext(
                    "%(num)d waits for Exact's limit to reset.",
                    "%(num)d wait for Exact's limit to reset.",
                    waiting,
                )
            )
        flash(" ".join(parts), "success" if queued else "info")
    for name, reason in _skipped_clients(g.account, queued_or_known):
        flash(_("Not synced: %(name)s. %(reason)s", name=name, reason=reason), "warning")
    return redirect(url_for("portal.clients", account_id=g.account.id))


def _skipped_clients(portal, handled: set[int]) -> list[tuple[str, str]]:
    """The portal's linked clients that "Sync all" left out, each with the reason."""
    rows = db.session.execute(
        select(Account, PortalLink.role)
        .join(PortalLink, PortalLink.client_id == Account.id)
        .join(ExactDivisionLink, ExactDivisionLink.account_id == Account.id)
        .where(
            PortalLink.portal_id == portal.id,
            PortalLink.status == PortalLinkStatus.ACTIVE,
            Account.id.not_in(handled),
        )
        .order_by(Account.name)
    ).all()
    skipped = []
    for client, granted in rows:
        if granted not in roles_allowing(Action.SYNC):
            found = authority(current_user, client)
            skipped.append((client.name, why_not(found, Action.SYNC, client)))
            continue
        try:
            eligible_link(client.id)
        except SyncStopped as stop:
            skipped.append((client.name, stop.reason))
    return skipped
