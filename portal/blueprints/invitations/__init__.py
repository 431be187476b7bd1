"""Accepting an invitation: log in and accept, or register with the e-mail address fixed."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from portal import user_sessions
from portal.blueprints.invitations.forms import RegisterForm
from portal.clients import access
from portal.clients.errors import AccessError
from portal.clients.users import create_user, user_by_email
from portal.extensions import db

bp = Blueprint("invitations", __name__, url_prefix="/invitations")


def _invitation_or_message(token: str):
    invitation = access.invitation_from_token(token)
    if invitation is None or not invitation.is_open:
        return None, render_template("invitations/invalid.html"), 410
    return invitation, None, None


@bp.route("/<token>", methods=["GET", "POST"])
def show(token: str):
    invitation, page, status = _invitation_or_message(token)
    if invitation is None:
        return page, status
    form = FlaskForm()
    if current_user.is_authenticated and form.validate_on_submit():
        try:
            access.accept_invitation(invitation, current_user._get_current_object())
        except AccessError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("You now have access to %(name)s.", name=invitation.account.name), "success")
            return redirect(url_for("account.dashboard", account_id=invitation.account_id))
    has_user = user_by_email(invitation.email) is not None
    return render_template(
        "invitations/show.html",
        invitation=invitation,
        form=form,
        has_user=has_user,
        token=token,
        next=request.path,
    )


@bp.route("/<token>/register", methods=["GET", "POST"])
def register(token: str):
    invitation, page, status = _invitation_or_message(token)
    if invitation is None:
        return page, status
    if user_by_email(invitation.email) is not None:
        return redirect(url_for("auth.login", next=url_for("invitations.show", token=token)))
    form = RegisterForm()
    if form.validate_on_submit():
        user = create_user(form.name.data.strip(), invitation.email, form.password.data)
        access.accept_invitation(invitation, user)
        db.session.commit()
        user_sessions.log_in(user)
        flash(
            _("Welcome! You now have access to %(name)s.", name=invitation.account.name), "success"
        )
        return redirect(url_for("account.dashboard", account_id=invitation.account_id))
    return render_template("invitations/register.html", form=form, invitation=invitation)
