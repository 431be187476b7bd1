"""Access management (Toegangsbeheer) of every account.

The views only check that the user manages access at all; which roles they may give, and to
whom, the service decides with ``portal.permissions`` (one place for the rules).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.blueprints.access.forms import GrantForm, RoleForm, role_choices
from portal.blueprints.scoped import account_blueprint
from portal.clients import access
from portal.clients.errors import AccessError
from portal.extensions import db
from portal.models import Invitation, Membership, PortalLink, Role, User
from portal.permissions import (
    ROLES,
    Action,
    grantable_roles,
    may_manage,
    portal_roles,
    require,
)
from portal.tenancy import get_for_account, scoped

bp = account_blueprint("access", __name__, "/access")


def _user() -> User:
    return current_user._get_current_object()


def _grant_choices() -> list[Role]:
    """People's roles this user may give, and (in a client account) the portal's."""
    offered = set(grantable_roles(g.authority, g.account))
    if not g.account.is_portal:
        offered |= set(portal_roles(g.authority))
    return [role for role in ROLES if role in offered]


def _page(form: GrantForm):
    members = db.session.execute(
        scoped(Membership).add_columns(User).join(User).order_by(User.name)
    ).all()
    link = access.portal_link_of(g.account) if not g.account.is_portal else None
    invitations = access.open_invitations(g.account)
    manages = g.authority.can(Action.MANAGE_ACCESS)
    return render_template(
        "access/index.html",
        form=form,
        members=members,
        manageable={m.id for m, _u in members if manages and may_manage(g.authority, m.role)},
        revocable={i.id for i in invitations if manages and may_manage(g.authority, i.role)},
        role_choices=role_choices(grantable_roles(g.authority, g.account)),
        portal_role_choices=role_choices(portal_roles(g.authority)),
        invitations=invitations,
        portal_link=link,
    )


def _grant_form() -> GrantForm:
    form = GrantForm()
    form.role.choices = role_choices(_grant_choices())
    return form


@bp.route("/", methods=["GET", "POST"])
def index():
    form = _grant_form()
    if form.is_submitted() and not (
        g.authority.can(Action.MANAGE_ACCESS) or g.authority.can(Action.MANAGE_PORTAL_ACCESS)
    ):
        require(Action.MANAGE_ACCESS)
    if form.validate_on_submit():
        try:
            granted = access.grant_access(g.account, form.email.data, Role(form.role.data), _user())
        except AccessError as error:
            db.session.rollback()
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
    try:
        action()
    except AccessError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(success, "success")
    return redirect(url_for("access.index"))


def _chosen_role() -> Role | None:
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a valid role."), "error")
        return None
    return Role(form.role.data)


@bp.route("/members/<int:membership_id>/revoke", methods=["POST"])
def revoke_member(membership_id: int):
    require(Action.MANAGE_ACCESS)
    membership = get_for_account(Membership, membership_id)
    return _act(
        lambda: access.revoke_membership(g.account, membership, _user()),
        _("The access has been revoked."),
    )


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
def change_role(membership_id: int):
    require(Action.MANAGE_ACCESS)
    membership = get_for_account(Membership, membership_id)
    role = _chosen_role()
    if role is None:
        return redirect(url_for("access.index"))
    return _act(
        lambda: access.change_role(g.account, membership, role, _user()),
        _("The role has been changed."),
    )


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: int):
    require(Action.MANAGE_ACCESS)
    invitation = get_for_account(Invitation, invitation_id)
    return _act(
        lambda: access.revoke_invitation(invitation, _user()), _("The invitation is revoked.")
    )


@bp.route("/portal/role", methods=["POST"])
def change_portal_role():
    require(Action.MANAGE_PORTAL_ACCESS)
    role = _chosen_role()
    if role is None:
        return redirect(url_for("access.index"))
    return _act(
        lambda: access.change_portal_role(g.account, role, _user()),
        _("The office's role has been changed."),
    )


@bp.route("/portal/revoke", methods=["POST"])
def revoke_portal():
    require(Action.MANAGE_PORTAL_ACCESS)
    return _act(
        lambda: access.revoke_portal_access(g.account, _user()),
        _("The portal no longer has access to this account."),
    )
