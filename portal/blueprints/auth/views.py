"""Sign-up, login, logout, password reset, profile and language."""

from __future__ import annotations

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
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from portal import audit
from portal.blueprints.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    ProfileForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignupForm,
)
from portal.config import LANGUAGES
from portal.extensions import db, limiter
from portal.mail import send_mail
from portal.models import Account, AccountKind, Membership, Role, User, normalize_email

bp = Blueprint("auth", __name__)

RESET_SALT = "password-reset"


def _login_email_key() -> str:
    return "login-email:" + normalize_email(request.form.get("email", ""))


def _failed(response) -> bool:
    """Only failed attempts count towards the login throttle."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user_with_account(name: str, email: str, password: str, company: str) -> User:
    """A new user and their own client account, of which they are the owner."""
    user = User(name=name, email=email, password=password)
    account = Account(kind=AccountKind.CLIENT, name=company)
    db.session.add_all([user, account])
    db.session.flush()
    db.session.add(Membership(user=user, account=account, role=Role.OWNER))
    audit.record(account, "account.created", target=company, actor=user)
    return user


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        if user_by_email(form.email.data):
            form.email.errors.append(
                _(
                    "There is already a user with this e-mail address. "
                    "Log in, or reset your password."
                )
            )
        else:
            user = create_user_with_account(
                form.name.data.strip(),
                form.email.data,
                form.password.data,
                form.company.data.strip(),
            )
            user.language = session.get("language")
            db.session.commit()
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("accounts.home"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_EMAIL"],
    methods=["POST"],
    key_func=_login_email_key,
    deduct_when=_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = user_by_email(form.email.data)
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("accounts.home"))
        form.password.errors.append(_("This e-mail address and password do not match."))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def make_reset_token(user: User) -> str:
    """Signed and expiring; it names the session token, so it works once."""
    return _serializer().dumps({"user": user.id, "session": user.session_token})


def user_from_reset_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or user.session_token != data.get("session"):
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
        db.session.commit()
        login_user(user)
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("accounts.home"))
    return render_template("auth/reset_password.html", form=form)


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
            db.session.commit()
            # this session goes on with the new token; every other session has ended
            login_user(current_user._get_current_object())
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
    return redirect(_safe_next(request.form.get("next")) or url_for("accounts.home"))
