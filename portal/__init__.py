"""The accounting-firm portal: one app factory, nothing happens at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from sqlalchemy import Engine, event

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

    app.config.update(load_config())
    app.config.update(overrides or {})
    finish_config(app.config, app.instance_path)
    from portal import observability

    observability.init_app(app)  # logging, request ids, Sentry: before any other hook
    _init_proxies(app)
    _init_redis(app)
    _init_extensions(app)
    _init_security_headers(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_template_helpers(app)

    from portal.commands import register_commands

    register_commands(app)
    return app


def _init_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's IP address and scheme from
    their X-Forwarded headers (the login throttle counts per IP address)."""
    count = app.config.get("TRUSTED_PROXIES", 0)
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


# No inline script or style anywhere: a script injected into a page cannot run.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}


def _init_security_headers(app: Flask) -> None:
    """Security headers on every answer; HTTPS-only settings when PRODUCTION is set.

    One Talisman per app (it keeps its app and settings on itself), so several apps in one
    process (the tests) never share settings.
    """
    from flask_talisman import Talisman

    config = app.config
    app.extensions["talisman"] = Talisman(
        app,
        force_https=config["FORCE_HTTPS"],
        strict_transport_security=config["PRODUCTION"],
        session_cookie_secure=config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=config["SESSION_COOKIE_SAMESITE"],
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_xss_protection=False,  # obsolete; the CSP does this job
    )


def _init_redis(app: Flask) -> None:
    from portal.redis_server import resolve_redis_url

    app.config["REDIS_URL"] = resolve_redis_url(app.config.get("REDIS_URL"), app.instance_path)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_storage_uri(app.config["REDIS_URL"]))


def _limiter_storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def _sqlite_pragmas(engine: Engine) -> None:
    """SQLite (a laptop): a write-ahead log, so the web server reads while a worker writes, and
    commits without an fsync each. A killed process loses nothing committed; a power cut may lose
    the last commits, never the file's consistency (SQLite's documented trade of
    ``synchronous=NORMAL`` in WAL mode). The log is copied back every 10,000 pages (40 MB)
    instead of every 1,000: a first sync's commits (1.5 MB a page of lines) no longer checkpoint
    every third page (measured: 13 ms a commit, 7 ms after)."""
    if engine.dialect.name != "sqlite":
        return

    def pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()

    event.listen(engine, "connect", pragmas)


def _init_extensions(app: Flask) -> None:
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        _sqlite_pragmas(db.engine)
    from portal import queue
    from portal.exact import texts

    queue.init_app(app)
    texts.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    from portal import user_sessions

    login_manager.user_loader(user_sessions.load_user)
    app.before_request(user_sessions.keep_alive)


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
    from portal.blueprints.bookkeeping import bp as bookkeeping_bp
    from portal.blueprints.dev import bp as dev_bp
    from portal.blueprints.exact import bp as exact_bp
    from portal.blueprints.exact import oauth_bp as exact_oauth_bp
    from portal.blueprints.invitations import bp as invitations_bp
    from portal.blueprints.modules import bp as modules_bp
    from portal.blueprints.portal import bp as portal_bp
    from portal.blueprints.portal import portals_bp
    from portal.blueprints.sync import bp as sync_bp
    from portal.urls import IdConverter

    # Every <int:...> of the app: a number above the database's range is a 404, not a 500.
    app.url_map.converters["int"] = IdConverter  # before any rule is added
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
        bookkeeping_bp,
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
