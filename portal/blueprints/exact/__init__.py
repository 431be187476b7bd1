"""The Exact Online module: connect once, then activate or overwrite per client account."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from portal.blueprints.exact.forms import ActivateForm, ConnectForm
from portal.blueprints.scoped import account_blueprint
from portal.clients.portals import portal_client
from portal.exact import connecting, links, wiring
from portal.exact.client.errors import ExactError
from portal.exact.scheduling import cancel_sync, enqueue_sync
from portal.exact.wiring import ConnectError
from portal.extensions import db
from portal.models import Account, LinkStatus, Trigger
from portal.modules import require_module
from portal.permissions import Action, can, require
from portal.urls import safe_next

bp = account_blueprint("exact", __name__, "/exact")
oauth_bp = Blueprint("exact_oauth", __name__, url_prefix="/exact")


@bp.before_request
def _module_on():
    require_module(g.account, "exact_online")


def _user():
    return current_user._get_current_object()


@bp.route("/")
def overview():
    connection = wiring.connection_of(g.account)
    own_link = None if g.account.is_portal else wiring.link_of(g.account)
    return render_template(
        "exact/overview.html",
        connection=connection,
        form=ConnectForm(),
        own_link=own_link,
        division_clients=links.division_clients(connection) if connection else {},
        # a reason the portal wrote is stored as its English source text: shown translated
        reauth_reason=(
            _(connection.status_reason) if connection and connection.status_reason else None
        ),
        office_notice=wiring.office_connection_notice(own_link) if own_link else None,
    )


@bp.route("/connect", methods=["POST"])
def connect():
    require(Action.CONNECT_EXACT)
    form = ConnectForm()
    if not form.validate_on_submit():
        flash(_("Choose the country of your Exact Online."), "error")
        return redirect(url_for("exact.overview"))
    try:
        url = connecting.start_authorization(g.account, form.country.data, form.force_login.data)
    except ConnectError as error:
        flash(error.message, "error")
        return redirect(url_for("exact.overview"))
    return redirect(url)


@oauth_bp.route("/callback")
@login_required
def callback():
    """Exact sends the person back here with ``code`` and ``state`` (or ``error``)."""
    pending = connecting.pending_account_id()
    if pending is None:
        return _callback_error(connecting.not_started_here())
    # The person must still be allowed to connect Exact for the account that started it.
    if not can(current_user, Action.CONNECT_EXACT, pending):
        abort(404)
    try:
        account_id, result = connecting.finish_authorization(request.args, _user())
    except ConnectError as error:
        db.session.rollback()
        if error.status == 403:
            return _callback_error(error)
        flash(error.message, "error")
        return redirect(url_for("exact.overview", account_id=pending))
    db.session.commit()
    if result.reconnected:
        flash(
            _(
                "Exact Online is connected again as %(user)s. Every client link is kept.",
                user=result.connection.exact_user_name,
            ),
            "success",
        )
    else:
        flash(
            _("Exact Online is connected as %(user)s.", user=result.connection.exact_user_name),
            "success",
        )
    if result.unreachable_clients:
        flash(
            _(
                "This Exact user cannot reach the administrations of: %(names)s. Grant them in "
                "Exact Online or reconnect as another user.",
                names=", ".join(result.unreachable_clients),
            ),
            "warning",
        )
    return redirect(url_for("exact.overview", account_id=account_id))


def _callback_error(error: ConnectError):
    return render_template(
        "errors/error.html", code=error.status, message=error.message
    ), error.status


@bp.route("/disconnect", methods=["POST"])
def disconnect():
    require(Action.CONNECT_EXACT)
    connection = wiring.connection_of(g.account) or abort(404)
    connecting.disconnect(connection)
    db.session.commit()
    flash(
        _("Exact Online is disconnected. The client links are kept for when you connect again."),
        "success",
    )
    return redirect(url_for("exact.overview"))


@bp.route("/divisions/refresh", methods=["POST"])
def refresh_divisions():
    require(Action.CONNECT_EXACT)
    connection = wiring.connection_of(g.account) or abort(404)
    try:
        result = connecting.refresh_division_list(connection)
    except ExactError as error:
        db.session.rollback()
        flash(error.user_message, "error")
    else:
        db.session.commit()
        _flash_refresh(result)
    return redirect(safe_next(request.form.get("next")) or url_for("exact.overview"))


def _flash_refresh(result: connecting.RefreshResult) -> None:
    """Name what the refresh changed: the administrations that appeared and vanished."""

    def names(divisions: list[dict]) -> str:
        return ", ".join(f"{d['code']} {d['name']}".strip() for d in divisions)

    if not result.added and not result.removed:
        flash(_("The list of administrations is up to date. Nothing changed."), "success")
        return
    if result.added:
        flash(
            ngettext(
                "New administration: %(names)s.",
                "%(num)d new administrations: %(names)s.",
                len(result.added),
                names=names(result.added),
            ),
            "success",
        )
    if result.removed:
        flash(
            ngettext(
                "No longer reachable: %(names)s.",
                "%(num)d administrations no longer reachable: %(names)s.",
                len(result.removed),
                names=names(result.removed),
            ),
            "warning",
        )


def _target_client(client_id: int, action: Action = Action.VIEW) -> Account:
    """A client account this account may link (a client of the portal, or itself), and the
    user's right to the action *in the client account*, whichever URL the request came from:
    through a portal that is the weaker of their portal role and the role the client granted.
    """
    if g.account.is_portal:
        client = portal_client(g.account, client_id)
    elif client_id != g.account.id:
        abort(404)
    else:
        client = g.account
    require(action, client)
    return client


@bp.route("/clients/<int:client_id>")
def client_link(client_id: int):
    client = _target_client(client_id)
    connection = wiring.connection_of(g.account)
    link = wiring.link_of(client)
    chosen = request.args.get("division", type=int)
    chosen_division = wiring.division_by_code(connection, chosen) if connection and chosen else None
    # division code -> the other client that has it through this connection
    taken = (
        {
            code: held.account
            for code, held in links.holders(connection).items()
            if held.account_id != client.id
        }
        if connection
        else {}
    )
    suggested = links.suggest_division(connection, client) if connection else None
    return render_template(
        "exact/client_link.html",
        client=client,
        connection=connection,
        link=link,
        form=ActivateForm(),
        chosen=chosen,
        chosen_division=chosen_division,
        chosen_holder=taken.get(chosen) if chosen_division else None,
        taken=taken,
        # never suggest a division another client has (picking it would move it)
        suggested=None if suggested in taken else suggested,
    )


@bp.route("/clients/<int:client_id>/activate", methods=["POST"])
def activate(client_id: int):
    client = _target_client(client_id, Action.LINK_DOSSIER)
    connection = wiring.connection_of(g.account)
    if connection is None or not connection.is_usable:
        flash(_("Connect Exact Online first."), "error")
        return redirect(url_for("exact.overview"))
    form = ActivateForm()
    if not form.validate_on_submit():
        flash(_("Choose an administration."), "error")
        return redirect(url_for("exact.client_link", client_id=client.id))
    code = form.division.data
    overwrite, move = form.overwrite.data == "1", form.move.data == "1"
    holder = links.holder_of(connection, code)
    moving_from = holder.account if holder and holder.account_id != client.id else None
    if form.confirm.data != "1" and (overwrite or moving_from):
        # overwriting a link, or taking a division from another client: confirm first
        return redirect(url_for("exact.client_link", client_id=client.id, division=code))
    try:
        link = links.activate(client, connection, code, _user(), overwrite, move)
        db.session.flush()
        links.probe_rights(link)
    except IntegrityError:
        # another request linked the division meanwhile: the database refuses a second link
        db.session.rollback()
        holder = links.holder_of(connection, code)
        flash(
            links.taken_message(code, holder.account)
            if holder
            else _("The link changed meanwhile. Try again."),
            "error",
        )
        return redirect(url_for("exact.client_link", client_id=client.id))
    except (ConnectError, ExactError) as error:
        db.session.rollback()
        flash(error.message if isinstance(error, ConnectError) else error.user_message, "error")
        return redirect(url_for("exact.client_link", client_id=client.id))
    moved_name = moving_from.name if moving_from is not None else None
    moved_id = moving_from.id if moving_from is not None else None
    db.session.commit()
    if moved_id is not None:
        cancel_sync(moved_id)  # a running sync stops at its next check
    enqueue_sync(client.id, Trigger.INITIAL)
    if moved_name:
        flash(
            _(
                "Administration %(code)s (%(name)s) is moved from %(previous)s to %(client)s. "
                "%(previous)s keeps its data but has no linked administration now.",
                code=link.division_code,
                name=link.division_name,
                client=client.name,
                previous=moved_name,
            ),
            "success",
        )
    else:
        flash(
            _(
                "%(client)s is linked to administration %(code)s (%(name)s).",
                client=client.name,
                code=link.division_code,
                name=link.division_name,
            ),
            "success",
        )
    return redirect(url_for("exact.client_link", client_id=client.id))


@bp.route("/match", methods=["GET", "POST"])
def match_by_vat():
    """Link every client without a link to the free division with its VAT number: a preview
    (GET), then the links (POST), with what was linked and what was skipped and why."""
    if not g.account.is_portal:
        abort(404)
    require(Action.LINK_DOSSIER)
    connection = wiring.connection_of(g.account)
    if connection is None or not connection.is_usable:
        flash(_("Connect Exact Online first."), "error")
        return redirect(url_for("exact.overview"))
    if request.method == "GET":
        plan = links.plan_vat_matches(connection, _user())
        return render_template("exact/match.html", plan=plan, done=False)
    try:
        plan = links.link_vat_matches(connection, _user())
    except (ConnectError, IntegrityError) as error:
        # a client or division changed meanwhile: nothing is linked, the preview is fresh
        db.session.rollback()
        message = error.message if isinstance(error, ConnectError) else ""
        flash(message or _("The links changed meanwhile. Check the list and try again."), "error")
        return redirect(url_for("exact.match_by_vat"))
    linked_ids = [m.client.id for m in plan.matches]
    db.session.commit()
    for account_id in linked_ids:
        enqueue_sync(account_id, Trigger.INITIAL)
    return render_template("exact/match.html", plan=plan, done=True)


@bp.route("/clients/<int:client_id>/confirm", methods=["POST"])
def confirm_identity(client_id: int):
    client = _target_client(client_id, Action.LINK_DOSSIER)
    link = wiring.link_of(client)
    if link is None or link.status != LinkStatus.BLOCKED:
        abort(404)
    try:
        links.confirm_identity(link, _user())
    except ConnectError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The administration's new details are confirmed; the link works again."), "success")
    return redirect(url_for("exact.client_link", client_id=client.id))


@bp.route("/clients/<int:client_id>/rights", methods=["POST"])
def check_rights(client_id: int):
    client = _target_client(client_id, Action.SYNC)
    link = wiring.link_of(client) or abort(404)
    try:
        links.probe_rights(link)
    except ConnectError as error:
        db.session.rollback()
        flash(error.message, "error")
    except ExactError as error:
        db.session.rollback()
        flash(error.user_message, "error")
    else:
        db.session.commit()
    return redirect(url_for("exact.client_link", client_id=client.id))
