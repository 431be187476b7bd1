"""Bookkeeping views: the item lists, the item page (prepare, mark ready, back to preparing),
the bulk action and the supplier search the item form uses."""

from __future__ import annotations

from datetime import date

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal import audit
from portal.blueprints.bookkeeping import bp
from portal.blueprints.bookkeeping.items_forms import (
    BulkForm,
    Choices,
    ItemForm,
    item_form_data,
)
from portal.blueprints.params import MAX_SEARCH, page_number, search_text
from portal.bookkeeping import lists, preparing, rules
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.models import BookItem, ItemKind, ItemStatus
from portal.permissions import Action, require
from portal.tenancy import get_for_account
from portal.urls import safe_next

SUPPLIERS_FOUND = 20


# --- the lists -----------------------------------------------------------------------------------


def _enum_arg(enum, name: str):
    try:
        return enum(request.args.get(name, ""))
    except ValueError:
        return None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> lists.ItemFilters:
    tab = request.args.get("tab", lists.DEFAULT_TAB)
    return lists.ItemFilters(
        tab=tab if tab in lists.TABS else lists.DEFAULT_TAB,
        kind=_enum_arg(ItemKind, "kind"),
        status=_enum_arg(ItemStatus, "status"),
        date_from=_date_arg("date_from"),
        date_to=_date_arg("date_to"),
        supplier=request.args.get("supplier", "").strip()[:MAX_SEARCH],
        search=search_text(),
    )


@bp.route("/")
def items():
    """To prepare, ready to export, exported, failed: filtered, searched and paged."""
    filters = _filters()
    may_prepare = g.authority.can(Action.PREPARE)
    master = MasterData.of(g.account)
    bulk = None
    if may_prepare and filters.tab in ("prepare", "ready"):
        bulk = BulkForm(formdata=None)
        bulk.fill_choices(Choices(master))
    return render_template(
        "bookkeeping/items.html",
        filters=filters,
        page=lists.page_of(g.account.id, filters, page_number()),
        counts=lists.tab_counts(g.account.id),
        tabs=lists.TABS,
        kinds=list(ItemKind),
        statuses=lists.TABS[filters.tab],
        bulk=bulk,
        unresolved=rules.unresolved_rules(g.account, master) if may_prepare else [],
        linked=master.linked,
    )


@bp.route("/suppliers")
def suppliers():
    """Exact's suppliers whose name or code holds ``q`` (for the supplier field's list)."""
    found = MasterData.of(g.account).suppliers(search_text(), limit=SUPPLIERS_FOUND)
    return jsonify([{"code": o.code, "name": o.name} for o in found])


# --- one item ------------------------------------------------------------------------------------


def _render_item(item, form, master, settings, *, problems=None, conflict=None, status=200):
    return (
        render_template(
            "bookkeeping/item.html",
            item=item,
            form=form,
            problems=problems
            if problems is not None
            else preparing.problems(item, master, settings),
            conflict=conflict,
            supplier=master.find("accounts", form.supplier_code.data or item.supplier_code),
            suppliers=master.suppliers(limit=SUPPLIERS_FOUND),
            may_prepare=g.authority.can(Action.PREPARE),
            editable=item.status in preparing.EDITABLE,
            amount_editable=preparing.amount_editable(item),
            file_url=_file_url(item),
            pair_url=url_for("bookkeeping.pair_item", item_id=item.id)
            if "bookkeeping.pair_item" in _endpoints()
            else None,
            linked=master.linked,
        ),
        status,
    )


def _file_url(item: BookItem) -> str | None:
    """The document's address (the uploads' file route), when the item has a file."""
    if item.file_id is None or "bookkeeping.file" not in _endpoints():
        return None
    return url_for("bookkeeping.file", file_id=item.file_id)


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


def _fresh_form(item, master, settings) -> ItemForm:
    form = ItemForm(
        formdata=None,
        data=item_form_data(item, rules.default_journal(item, master, settings)),
    )
    form.fill_choices(Choices(master), item)
    return form


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
def item(item_id: int):
    """The document, what arrived with it, and the form to prepare it."""
    found = get_for_account(BookItem, item_id)
    master = MasterData.of(g.account)
    settings = book_settings.of(g.account.id)
    if request.method == "GET":
        return _render_item(found, _fresh_form(found, master, settings), master, settings)
    require(Action.PREPARE)
    return _save(found, master, settings)


def _save(item: BookItem, master: MasterData, settings):
    if item.locked:
        flash(_("This item was exported to Exact Online and can no longer be changed."), "error")
        return redirect(url_for("bookkeeping.item", item_id=item.id))
    form = ItemForm()
    form.fill_choices(Choices(master), item)
    if not form.validate():
        return _render_item(item, form, master, settings, status=400)
    supplier = preparing.find_supplier(master, form.supplier_code.data)
    if form.supplier_code.data and supplier is None:
        form.supplier_code.errors.append(
            _("No supplier “%(text)s” in Exact Online.", text=form.supplier_code.data)
        )
        return _render_item(item, form, master, settings, status=400)
    data = form.to_input(master)
    if data is None:
        return _render_item(item, form, master, settings, status=400)
    data.supplier_code = supplier.code if supplier else None
    try:
        version = int(form.version.data or 0)
        preparing.save(item, data, master, current_user, version)
    except preparing.Conflict as conflict:
        db.session.rollback()
        item = db.session.get(BookItem, item.id)
        return _render_item(item, form, master, settings, conflict=conflict.message, status=409)
    except preparing.Locked as locked:
        db.session.rollback()
        flash(locked.message, "error")
        return redirect(url_for("bookkeeping.item", item_id=item.id))
    if request.form.get("action") != "ready":
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("bookkeeping.item", item_id=item.id))
    return _ready(item, master, settings)


def _ready(item: BookItem, master: MasterData, settings):
    try:
        preparing.mark_ready(item, master, settings, current_user)
    except preparing.NotReady as not_ready:
        db.session.commit()  # what was filled in is kept, as prepared
        flash(_("Saved, but not ready yet: see what is missing."), "error")
        form = _fresh_form(item, master, settings)
        return _render_item(item, form, master, settings, problems=not_ready.problems)
    audit.record(g.account, "bookkeeping.item_ready", str(item.id))
    db.session.commit()
    flash(_("Marked ready to export."), "success")
    return redirect(url_for("bookkeeping.items"))


@bp.route("/items/<int:item_id>/back", methods=["POST"])
def back_to_preparing(item_id: int):
    """A ready item goes back to preparing, to be changed."""
    require(Action.PREPARE)
    found = get_for_account(BookItem, item_id)
    try:
        version = int(request.form.get("version") or 0) or None
        preparing.back_to_preparing(found, current_user, version)
    except (preparing.Conflict, preparing.Locked) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for("bookkeeping.item", item_id=item_id))
    except ValueError:
        flash(_("Reload the page and try again."), "error")
        return redirect(url_for("bookkeeping.item", item_id=item_id))
    audit.record(g.account, "bookkeeping.item_back_to_preparing", str(item_id))
    db.session.commit()
    flash(_("Back to preparing."), "success")
    return redirect(url_for("bookkeeping.item", item_id=item_id))


# --- bulk ----------------------------------------------------------------------------------------


def _selected_ids() -> list[int]:
    ids = []
    for value in request.form.getlist("item_id"):
        if value.isascii() and value.isdigit() and len(value) < 10:
            ids.append(int(value))
    return ids


@bp.route("/bulk", methods=["POST"])
def bulk():
    """Assign pre-accounting values to the selected items, or mark them ready."""
    require(Action.PREPARE)
    back = safe_next(request.form.get("next")) or url_for("bookkeeping.items")
    if not back.startswith(url_for("bookkeeping.items")):
        back = url_for("bookkeeping.items")
    selected = preparing.selected_items(g.account.id, _selected_ids())
    if not selected:
        flash(_("Select at least one item."), "error")
        return redirect(back)
    master = MasterData.of(g.account)
    if request.form.get("action") == "ready":
        _bulk_ready(selected, master)
    else:
        _bulk_assign(selected, master)
    return redirect(back)


def _bulk_assign(selected: list[BookItem], master: MasterData) -> None:
    form = BulkForm()
    form.fill_choices(Choices(master))
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return
    supplier = preparing.find_supplier(master, form.supplier_code.data)
    if form.supplier_code.data and supplier is None:
        flash(_("No supplier “%(text)s” in Exact Online.", text=form.supplier_code.data), "error")
        return
    values = form.values(supplier.code if supplier else None)
    if values.empty():
        flash(_("Fill in at least one value to assign."), "error")
        return
    changed = preparing.bulk_assign(selected, values, master, current_user)
    audit.record(g.account, "bookkeeping.bulk_assign", None, items=[i.id for i in changed])
    db.session.commit()
    flash(
        ngettext(
            "Values assigned to %(num)d item.", "Values assigned to %(num)d items.", len(changed)
        ),
        "success",
    )


def _bulk_ready(selected: list[BookItem], master: MasterData) -> None:
    settings = book_settings.of(g.account.id)
    ready, refused = preparing.bulk_mark_ready(selected, master, settings, current_user)
    if ready:
        audit.record(g.account, "bookkeeping.bulk_ready", None, items=[i.id for i in ready])
    db.session.commit()
    if ready:
        flash(
            ngettext(
                "%(num)d item marked ready to export.",
                "%(num)d items marked ready to export.",
                len(ready),
            ),
            "success",
        )
    for item, problems in refused:
        flash(
            _(
                "Not ready: %(item)s — %(problems)s",
                item=_item_name(item),
                problems="; ".join(str(p) for p in problems),
            ),
            "error",
        )


def _item_name(item: BookItem) -> str:
    parts = [f"#{item.id}", item.supplier_name or "", item.invoice_number or ""]
    return " ".join(part for part in parts if part)
