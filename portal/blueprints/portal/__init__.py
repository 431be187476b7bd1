"""The office portal: create it, its clients (pending and active), billing details."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.blueprints.params import page_number, search_text
from portal.blueprints.portal.forms import BillingForm, ManagedClientForm, PortalForm
from portal.blueprints.scoped import account_blueprint
from portal.clients import portals
from portal.clients.errors import AccessError
from portal.extensions import db
from portal.models import PortalLinkStatus
from portal.permissions import Action, require
from portal.tenancy import require_portal

portals_bp = Blueprint("portals", __name__, url_prefix="/portals")
bp = account_blueprint("portal", __name__, "/portal")


@bp.before_request
def _only_portals():
    require_portal()


def _billing(form: BillingForm) -> portals.BillingDetails:
    return portals.BillingDetails(
        company=form.billing_company.data.strip(),
        vat_number=form.billing_vat_number.data,
        address=form.billing_address.data.strip(),
        email=form.billing_email.data,
    )


@portals_bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = PortalForm()
    if form.validate_on_submit():
        try:
            portal = portals.create_portal(
                current_user._get_current_object(),
                form.name.data.strip(),
                form.portal_email.data,
                _billing(form),
            )
        except AccessError as error:
            form.portal_email.errors.append(error.message)
        else:
            db.session.commit()
            flash(
                _(
                    "Your portal is ready. Ask your clients to grant %(email)s access in their "
                    "access management.",
                    email=portal.portal_email,
                ),
                "success",
            )
            return redirect(url_for("portal.clients", account_id=portal.id))
    return render_template("portal/new.html", form=form)


@bp.route("/clients")
def clients():
    search = search_text()
    page = page_number()
    listing = portals.client_list(
        g.account, search=search, page=page, status=PortalLinkStatus.ACTIVE
    )
    pending = portals.client_list(g.account, status=PortalLinkStatus.PENDING, per_page=200)
    return render_template("portal/clients.html", listing=listing, pending=pending, search=search)


@bp.route("/clients/<int:link_id>/add", methods=["POST"])
def add_client(link_id: int):
    require(Action.MANAGE_CLIENTS)
    try:
        link = portals.add_client(g.account, link_id)
    except AccessError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("%(name)s has been added to the portal.", name=link.client.name), "success")
    return redirect(url_for("portal.clients"))


@bp.route("/clients/new", methods=["GET", "POST"])
def new_client():
    require(Action.MANAGE_CLIENTS)
    form = ManagedClientForm()
    if form.validate_on_submit():
        try:
            client = portals.create_managed_client(
                g.account,
                form.name.data.strip(),
                form.vat_number.data or "",
                form.contact_email.data or "",
                form.invite_owner.data,
                current_user._get_current_object(),
            )
        except AccessError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("The client account %(name)s has been created.", name=client.name), "success")
            return redirect(url_for("portal.clients"))
    return render_template("portal/new_client.html", form=form)


@bp.route("/billing", methods=["GET", "POST"])
def billing():
    require(Action.MANAGE_BILLING)
    form = BillingForm(obj=g.account)
    if form.validate_on_submit():
        portals.set_billing(g.account, _billing(form))
        from portal import audit

        audit.record(g.account, "portal.billing_changed")
        db.session.commit()
        flash(_("The billing details are saved."), "success")
        return redirect(url_for("portal.billing"))
    return render_template("portal/billing.html", form=form)
