"""Access management (Toegangsbeheer) of every account."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.blueprints.access.forms import GrantForm, RoleForm
from portal.blueprints.scoped import account_blueprint
from portal.clients import access
from portal.clients.errors import AccessError
from portal.extensions import db
from portal.models import Invitation, Membership, PortalLink, Role, User
from portal.tenancy import get_for_account, require_admin, scoped

bp = account_blueprint("access", __name__, "/access")


def _page(form: GrantForm):
    members = db.session.execute(
        scoped(Membership).add_columns(User).join(User).order_by(User.name)
    ).all()
    link = access.portal_link_of(g.account) if not g.account.is_portal else None
    return render_template(
        "access/index.html",
        form=form,
        members=members,
        role_form=RoleForm(),
        invitations=access.open_invitations(g.account),
        portal_link=link,
    )


@bp.route("/", methods=["GET", "POST"])
def index():
    form = GrantForm()
    if form.is_submitted():
        require_admin()
    if form.validate_on_submit():
        try:
            granted = access.grant_access(
                g.account,
                form.email.data,
                Role(form.role.data),
                current_user._get_current_object(),
            )
        except AccessError as error:
            form.email.errors.append(error.message)
        else:
            db.session.commit()
            if isinstance(granted, PortalLink):
                flash(
                    _(
                        "The portal %(name)s now has access. It appears in the portal once "
                        "the office adds it.",
                        name=granted.portal.name,
                    ),
                    "success",
                )
            else:
                flash(
                    _("An invitation has been sent to %(email)s.", email=granted.email), "success"
                )
            return redirect(url_for("access.index"))
    return _page(form)


def _act(action, success: str):
    require_admin()
    try:
        action()
    except AccessError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("access.index"))


@bp.route("/members/<int:membership_id>/revoke", methods=["POST"])
def revoke_member(membership_id: int):
    membership = get_for_account(Membership, membership_id)
    return _act(
        lambda: access.revoke_membership(g.account, membership), _("The access has been revoked.")
    )


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
def change_role(membership_id: int):
    require_admin()
    membership = get_for_account(Membership, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a valid role."), "error")
        return redirect(url_for("access.index"))
    return _act(
        lambda: access.change_role(g.account, membership, Role(form.role.data)),
        _("The role has been changed."),
    )


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: int):
    invitation = get_for_account(Invitation, invitation_id)
    return _act(lambda: access.revoke_invitation(invitation), _("The invitation is revoked."))


@bp.route("/portal/revoke", methods=["POST"])
def revoke_portal():
    return _act(
        lambda: access.revoke_portal_access(g.account),
        _("The portal no longer has access to this account."),
    )
