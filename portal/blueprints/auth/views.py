"""Sign-up, login, logout, password reset, profile and language."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from portal import user_sessions
from portal.blueprints.auth import throttle
from portal.blueprints.auth.forms import (
    ChangePasswordForm,
    FinishSignupForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from portal.clients.users import authenticate, create_user_with_account, user_by_email
from portal.config import LANGUAGES
from portal.extensions import db, limiter
from portal.mail import send_mail
from portal.models import User, normalize_email
from portal.urls import safe_next

bp = Blueprint("auth", __name__)

RESET_SALT = "password-reset"
SIGNUP_SALT = "signup"


def _failed(response) -> bool:
    """Only failed attempts count towards the login throttle."""
    return response.status_code != 302


# --- sign-up: the address is proven by a mailed link before a user exists ---------------------


def _signup_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SIGNUP_SALT)


def make_signup_token(email: str, name: str, company: str) -> str:
    return _signup_serializer().dumps({"email": email, "name": name, "company": company})


def signup_from_token(token: str) -> dict | None:
    """The sign-up the signed link carries; None when tampered with or too old."""
    try:
        data = _signup_serializer().loads(
            token, max_age=current_app.config["SIGNUP_LINK_MAX_AGE"]
        )  # SignatureExpired is a BadSignature
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("email", "name", "company")
    ):
        return None
    return data


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        user = user_by_email(email)
        if user is None:
            token = make_signup_token(email, form.name.data.strip(), form.company.data.strip())
            link = url_for("auth.finish_signup", token=token, _external=True)
            send_mail(email, _("Finish signing up"), "signup", link=link)
        else:
            send_mail(
                email,
                _("You already have a user here"),
                "signup_known",
                language=user.language,
                user=user,
                login_link=url_for("auth.login", _external=True),
                reset_link=url_for("auth.reset_request", _external=True),
            )
        db.session.commit()
        # The same answer whether or not the address has a user: no account discovery.
        return render_template("auth/signup_sent.html", email=email)
    return render_template("auth/signup.html", form=form)


@bp.route("/signup/<token>", methods=["GET", "POST"])
def finish_signup(token: str):
    data = signup_from_token(token)
    if data is None:
        flash(_("This sign-up link has expired or is not valid. Please sign up again."), "error")
        return redirect(url_for("auth.signup"))
    if user_by_email(data["email"]) is not None:  # the link worked before: it works once
        flash(_("This e-mail address already has a user. Log in, or reset your password."), "info")
        return redirect(url_for("auth.login"))
    form = FinishSignupForm(data={"name": data["name"], "company": data["company"]})
    if form.validate_on_submit():
        user = create_user_with_account(
            form.name.data.strip(), data["email"], form.password.data, form.company.data.strip()
        )
        user.language = session.get("language")
        try:
            db.session.commit()
        except IntegrityError:  # the same link, pressed twice at once
            db.session.rollback()
            return redirect(url_for("auth.login"))
        user_sessions.log_in(user)
        flash(_("Welcome! Your account is ready."), "success")
        return redirect(url_for("accounts.home"))
    return render_template("auth/finish_signup.html", form=form, email=data["email"])


# --- login and logout ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email, ip = normalize_email(form.email.data), request.remote_addr or ""
        wait = throttle.wait_seconds(email, ip)
        if wait:
            form.password.errors.append(throttle.wait_message(wait))
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = authenticate(email, form.password.data)
        if user is not None:
            throttle.forget_ip(email, ip)
            user_sessions.log_in(user)
            response = redirect(safe_next(request.args.get("next")) or url_for("accounts.home"))
            throttle.remember_device(response, email)
            return response
        throttle.record_failure(email, ip)
        form.password.errors.append(_("This e-mail address and password do not match."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    user_sessions.log_out()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


# --- password reset -----------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    """Signed and expiring; it names the current password, so it works once."""
    return _serializer().dumps({"user": user.id, "password": _password_fingerprint(user)})


def user_from_reset_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        return None
    user = db.session.get(User, data["user"])
    if user is None or _password_fingerprint(user) != data.get("password"):
        return None
    return user


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = user_by_email(form.email.data)
        if user is not None:
            link = url_for("auth.reset_password", token=make_reset_token(user), _external=True)
            send_mail(user.email, _("Reset your password"), "reset_password", user=user, link=link)
            db.session.commit()
        # Same answer whether or not the address is known: no account discovery.
        flash(
            _(
                "If this address has a user, we have sent it a link to choose a new "
                "password. The link works for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = user_from_reset_token(token)
    if user is None:
        flash(_("This reset link has expired or is not valid. Please ask for a new one."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        user_sessions.end_sessions(user)
        db.session.commit()
        throttle.clear(user.email)
        user_sessions.log_in(user)
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("accounts.home"))
    return render_template("auth/reset_password.html", form=form)


# --- settings -----------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    profile = ProfileForm(prefix="profile", obj=current_user)
    password = ChangePasswordForm(prefix="password")
    if request.method == "GET":
        profile.language.data = current_user.language or ""
    if "profile-name" in request.form and profile.validate_on_submit():
        current_user.name = profile.name.data.strip()
        current_user.language = profile.language.data or None
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.settings"))
    if "password-current" in request.form and password.validate_on_submit():
        if not current_user.check_password(password.current.data):
            password.current.errors.append(_("This is not your current password."))
        else:
            current_user.set_password(password.password.data)
            # this session goes on; every other session of the user has ended
            user_sessions.end_sessions(current_user, keep=current_user.login_session_id)
            db.session.commit()
            flash(
                _("Your password has been changed. Other sessions have been logged out."), "success"
            )
            return redirect(url_for("auth.settings"))
    return render_template("auth/settings.html", profile=profile, password=password)


@bp.route("/language", methods=["POST"])
def set_language():
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        language = None
    session["language"] = language
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("accounts.home"))
