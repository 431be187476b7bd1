"""The dossier sync, seen: per client its state, live progress, run history and the master data
pulled from Exact (read-only: Exact is the source of truth); per portal "Sync all clients".

Client pages live under ``/a/<client_id>/sync/`` and are reached by the client's own users and
by the members of its portal (tenancy derives that access); they are a 404 for an account
without a linked administration. Starting a sync takes the right to sync in the client account.
"""

from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from portal import clock
from portal.blueprints.params import page_number, search_text
from portal.blueprints.scoped import account_blueprint
from portal.blueprints.sync import helpers
from portal.exact import wiring
from portal.exact.entities import ENTITIES, ENTITY_BY_KEY
from portal.exact.scheduling import enqueue_sync
from portal.exact.sync import SyncStopped, eligible_link
from portal.models import ExactRecord, SyncRun, Trigger
from portal.pagination import paginate
from portal.permissions import Action, require
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
        counts=helpers.record_counts(account_id),
    )


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


@bp.route("/data/<entity_key>")
def data(entity_key: str):
    entity = ENTITY_BY_KEY.get(entity_key) or abort(404)
    search = search_text()
    show_deleted = request.args.get("deleted") == "1"
    where = [ExactRecord.account_id == g.account.id, ExactRecord.entity == entity.key]
    if not show_deleted:
        where.append(ExactRecord.deleted_at.is_(None))
    if search:
        needle = search.lower()
        where.append(
            or_(
                func.lower(ExactRecord.code).contains(needle, autoescape=True),
                func.lower(ExactRecord.description).contains(needle, autoescape=True),
            )
        )
    rows = paginate(
        select(ExactRecord)
        .where(*where)
        .order_by(  # numeric codes in number order: by length first
            func.length(ExactRecord.code), ExactRecord.code, ExactRecord.description, ExactRecord.id
        ),
        page_number(),
        ROWS_PER_PAGE,
    )
    return render_template(
        "sync/data.html",
        link=g.exact_link,
        state=helpers.state_of(g.account.id),
        entity=entity,
        entities=ENTITIES,
        rows=rows,
        search=search,
        show_deleted=show_deleted,
    )


@bp.route("/all", methods=["POST"])
def sync_all():
    """The portal's "Sync all clients": queue every client that may be synced now."""
    require_portal()
    require(Action.SYNC)
    queued = busy = waiting = 0
    for client_id, waiting_until in helpers.syncable_clients(g.account):
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
    return redirect(url_for("portal.clients", account_id=g.account.id))
