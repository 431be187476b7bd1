"""The accounting-firm portal: one app factory, nothing happens at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Create the Flask app: config, extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from portal.config import finish_config, load_config

    app.config.update(load_config(app.instance_path))
    app.config.update(overrides or {})
    finish_config(app.config)
    _init_redis(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_template_helpers(app)

    from portal.cli import register_commands

    register_commands(app)
    return app


def _init_redis(app: Flask) -> None:
    from portal.redis_server import resolve_redis_url

    app.config["REDIS_URL"] = resolve_redis_url(app.config.get("REDIS_URL"), app.instance_path)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_storage_uri(app.config["REDIS_URL"]))


def _limiter_storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def _init_extensions(app: Flask) -> None:
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.models import User

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or user.session_token != token:
            return None
        return user


def select_locale() -> str:
    """The user's choice, then the session's choice, then the browser's language."""
    from flask_login import current_user

    from portal.config import LANGUAGES

    if not has_request_context():
        return "en"
    if getattr(current_user, "is_authenticated", False) and current_user.language in LANGUAGES:
        return current_user.language
    if session.get("language") in LANGUAGES:
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _register_blueprints(app: Flask) -> None:
    from portal.blueprints.access import bp as access_bp
    from portal.blueprints.accounts import account_bp
    from portal.blueprints.accounts import bp as accounts_bp
    from portal.blueprints.audit import bp as audit_bp
    from portal.blueprints.auth import bp as auth_bp
    from portal.blueprints.dev import bp as dev_bp
    from portal.blueprints.exact import bp as exact_bp
    from portal.blueprints.exact import oauth_bp as exact_oauth_bp
    from portal.blueprints.invitations import bp as invitations_bp
    from portal.blueprints.modules import bp as modules_bp
    from portal.blueprints.portal import bp as portal_bp
    from portal.blueprints.portal import portals_bp
    from portal.blueprints.sync import bp as sync_bp

    for blueprint in (
        auth_bp,
        accounts_bp,
        account_bp,
        access_bp,
        invitations_bp,
        portals_bp,
        portal_bp,
        modules_bp,
        audit_bp,
        exact_bp,
        exact_oauth_bp,
        sync_bp,
        dev_bp,
    ):
        app.register_blueprint(blueprint)


def _register_errors(app: Flask) -> None:
    from portal.blueprints.errors import register_error_handlers

    register_error_handlers(app)


def _register_template_helpers(app: Flask) -> None:
    from portal.tenancy import navigation_context

    app.context_processor(navigation_context)

    @app.context_processor
    def language_context():
        from flask_babel import get_locale

        return {"current_language": str(get_locale() or "en")}
