"""The export pages, as seed 004's users know them: *Ready to export* → select → *Export to
Exact Online*; a failure waits in the **Export queue** with Exact's reason (retry it after fixing,
or take it back to preparing); a success is in the **Export history** with its entry number.

The work is ``portal.bookkeeping.export``'s: these views read the selection, ask the service,
commit (the export job is queued once the commit is done) and say what happened.
"""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.blueprints.bookkeeping import bp
from portal.blueprints.bookkeeping.exports_forms import field_anchor, selected_ids
from portal.blueprints.params import page_number
from portal.bookkeeping import export
from portal.extensions import db
from portal.models import BookItem
from portal.pagination import paginate
from portal.permissions import Action, require

QUEUE_PER_PAGE = 50
HISTORY_PER_PAGE = 50
RUNS_SHOWN = 20


# --- the selection -------------------------------------------------------------------------------


def _posted_ids() -> list[int]:
    """The posted item ids; any that is not this account's item makes the request a 404 (as an
    item's own page would be), so nothing tells whether another account's item exists."""
    ids = selected_ids(request.form.getlist("item_id"))
    if not ids:
        return []
    own = set(
        db.session.scalars(
            select(BookItem.id).where(BookItem.account_id == g.account.id, BookItem.id.in_(ids))
        )
    )
    if own != set(ids):
        abort(404)
    return ids


def _failed_ids() -> list[int]:
    """Every item of the export queue (for *Retry all*)."""
    return list(db.session.scalars(export.queue_items(g.account.id).with_only_columns(BookItem.id)))


# --- export, retry, back to preparing ------------------------------------------------------------


@bp.route("/export", methods=["POST"], endpoint="export")
def export_items():
    """*Export to Exact Online* for the selected ready items."""
    require(Action.EXPORT)
    ids = _posted_ids()
    if not ids:
        flash(_("Select at least one item."), "error")
        return redirect(url_for("bookkeeping.items", tab="ready"))
    taken = export.request_export(g.account, current_user, ids)
    if not taken:
        flash(_("None of the selected items is ready to export."), "error")
        return redirect(url_for("bookkeeping.items", tab="ready"))
    db.session.commit()  # the export job is queued once this is committed
    flash(
        ngettext(
            "%(num)d item is being exported to Exact Online.",
            "%(num)d items are being exported to Exact Online.",
            taken,
        ),
        "success",
    )
    return redirect(url_for("bookkeeping.export_queue"))


@bp.route("/exports/retry", methods=["POST"])
def export_retry():
    """*Retry* one or the selected failed items, or *Retry all* (``all=1``)."""
    require(Action.EXPORT)
    ids = _failed_ids() if request.form.get("all") == "1" else _posted_ids()
    if not ids:
        flash(_("Select at least one item."), "error")
        return redirect(url_for("bookkeeping.export_queue"))
    taken = export.retry(g.account, current_user, ids)
    db.session.commit()
    if taken:
        flash(
            ngettext(
                "%(num)d item is being exported to Exact Online again.",
                "%(num)d items are being exported to Exact Online again.",
                taken,
            ),
            "success",
        )
    else:
        flash(_("None of the selected items is in the export queue any more."), "info")
    return redirect(url_for("bookkeeping.export_queue"))


@bp.route("/exports/back", methods=["POST"])
def export_back():
    """Failed items back to preparing, to be changed (their reason stays on the item page)."""
    require(Action.PREPARE)
    ids = _posted_ids()
    if not ids:
        flash(_("Select at least one item."), "error")
        return redirect(url_for("bookkeeping.export_queue"))
    moved = export.back_to_preparing(g.account, current_user, ids)
    db.session.commit()
    if moved:
        flash(
            ngettext(
                "%(num)d item is back to preparing.", "%(num)d items are back to preparing.", moved
            ),
            "success",
        )
    else:
        flash(_("None of the selected items is in the export queue any more."), "info")
    return redirect(url_for("bookkeeping.export_queue"))


# --- the pages -----------------------------------------------------------------------------------


def fix_url(item: BookItem) -> str:
    """The item's page, at the field the failure concerns when Exact said which."""
    anchor = field_anchor(item.export_error_field)
    return url_for("bookkeeping.item", item_id=item.id, _anchor=anchor)


@bp.route("/exports/queue")
def export_queue():
    """The failed items with Exact's reason and what to do; the export under way."""
    account_id = g.account.id
    page = paginate(
        export.queue_items(account_id).options(selectinload(BookItem.export_requested_by)),
        page_number(),
        QUEUE_PER_PAGE,
    )
    return render_template(
        "bookkeeping/export_queue.html",
        page=page,
        exporting=export.exporting_count(account_id),
        waiting=export.waiting_run(account_id),
        fix_url=fix_url,
        may_export=g.authority.can(Action.EXPORT),
        may_prepare=g.authority.can(Action.PREPARE),
    )


@bp.route("/exports/history")
def export_history():
    """The exported items (entry number, date, who, attachment, seen in Exact) and the runs."""
    account_id = g.account.id
    page = paginate(
        export.history_items(account_id).options(
            selectinload(BookItem.exported_by),
            selectinload(BookItem.export_requested_by),
            selectinload(BookItem.file),
        ),
        page_number(),
        HISTORY_PER_PAGE,
    )
    return render_template(
        "bookkeeping/export_history.html",
        page=page,
        runs=list(db.session.scalars(export.runs(account_id).limit(RUNS_SHOWN))),
        exporting=export.exporting_count(account_id),
    )
