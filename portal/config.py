"""Settings from the environment, with embedded defaults for a laptop.

Secrets come only from the environment. On a laptop (no SECRET_KEY set) a random key
is generated and kept in the instance folder, so sessions survive a restart but the
key is never in the repository. In production (``PRODUCTION``) nothing is generated or
started locally: every machine must be given the same database, Redis and keys.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

LANGUAGES = ("en", "nl")
# What every machine of a production deployment must share; never made up on one machine.
PRODUCTION_REQUIRED = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL": "REDIS_URL",
    "SECRET_KEY": "SECRET_KEY",
    "TOKEN_ENCRYPTION_KEY": "TOKEN_ENCRYPTION_KEY",
}
LOG_FORMATS = ("plain", "json")


class ConfigError(ValueError):
    """The settings cannot work: the app refuses to start, saying why."""


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: str, filename: str, make) -> str:
    """A secret generated once per laptop and kept under instance/ (never committed)."""
    path = Path(instance_path) / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def normalize_database_url(url: str) -> str:
    """PostgreSQL URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def finish_config(config: dict, instance_path: str) -> None:
    """Settings that follow from others, applied after the caller's overrides.

    In production a missing DATABASE_URL, REDIS_URL, SECRET_KEY or TOKEN_ENCRYPTION_KEY is an
    error; on a laptop they default to a SQLite file and keys kept under ``instance_path``
    (the embedded Redis is started later, by ``redis_server.resolve_redis_url``).
    """
    if config.get("PRODUCTION"):
        _check_production(config)
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
    else:
        _laptop_defaults(config, instance_path)
    if config.get("LOG_FORMAT") not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT is 'plain' or 'json', not {config.get('LOG_FORMAT')!r}")
    if config.get("FORCE_HTTPS") is None:
        config["FORCE_HTTPS"] = bool(config.get("PRODUCTION"))
    url = normalize_database_url(config["SQLALCHEMY_DATABASE_URI"])
    config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # The web server and the worker share the file: wait for a lock instead of failing.
        options = {"connect_args": {"timeout": 30}}
    else:
        options = {"pool_pre_ping": True}
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)


def _check_production(config: dict) -> None:
    missing = [name for name, key in PRODUCTION_REQUIRED.items() if not config.get(key)]
    if missing:
        raise ConfigError(
            "PRODUCTION is set, so these must be set in the environment (the same on every "
            f"machine): {', '.join(missing)} missing. Nothing is generated or started locally "
            "in production: see the README's 'Production' section."
        )
    if config.get("OUTBOX_PAGE"):
        raise ConfigError("OUTBOX_PAGE shows every mail to any user: never in production")


def _laptop_defaults(config: dict, instance_path: str) -> None:
    """A laptop's defaults: a SQLite file and keys generated once under the instance folder."""
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(instance_path) / 'portal.db'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(
            instance_path, "secret_key", lambda: secrets.token_hex(32)
        )
    if not config.get("TOKEN_ENCRYPTION_KEY"):
        config["TOKEN_ENCRYPTION_KEY"] = _instance_secret(
            instance_path, "token_encryption_key", _new_fernet_key
        )


def load_config() -> dict:
    """Build the settings dict from the environment; nothing here connects anywhere, and
    nothing is generated (``finish_config`` fills a laptop's defaults)."""
    env = os.environ
    mail_server = env.get("MAIL_SERVER")
    return {
        # Production: HTTPS only (HSTS, Secure cookies) and no demo pages.
        "PRODUCTION": _bool("PRODUCTION", False),
        # Redirect plain HTTP to HTTPS; None: as PRODUCTION (finish_config decides).
        "FORCE_HTTPS": _bool("FORCE_HTTPS", False) if "FORCE_HTTPS" in env else None,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are to be believed.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        # Required in production; on a laptop generated once under instance/ (finish_config).
        "SECRET_KEY": env.get("SECRET_KEY"),
        "TOKEN_ENCRYPTION_KEY": env.get("TOKEN_ENCRYPTION_KEY"),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL"),
        "REDIS_URL": env.get("REDIS_URL"),
        # Uploaded files: a folder (default instance/files); never inside the database.
        "FILE_STORAGE": env.get("FILE_STORAGE"),
        # One upload per file; a request may carry several files of up to 20 MB each.
        "MAX_FILE_SIZE": int(env.get("MAX_FILE_SIZE", str(20 * 1024 * 1024))),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_UPLOAD_REQUEST", str(100 * 1024 * 1024))),
        # Log lines on stderr: "plain" or "json"; each names its request id or job id.
        "LOG_FORMAT": env.get("LOG_FORMAT", "plain").strip().lower(),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").strip().upper(),
        # Errors to Sentry when set (needs the `sentry` extra).
        "SENTRY_DSN": env.get("SENTRY_DSN"),
        "SENTRY_ENVIRONMENT": env.get("SENTRY_ENVIRONMENT"),
        # Where the portal is reached; for links in mails sent outside a request.
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_SERVER": mail_server,
        "MAIL_PORT": int(env.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "portal@localhost"),
        # The outbox page shows every stored mail in the browser: for the demo only.
        "OUTBOX_PAGE": _bool("OUTBOX_PAGE", False),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", "3600")),
        "SIGNUP_LINK_MAX_AGE": int(env.get("SIGNUP_LINK_MAX_AGE", "86400")),
        # Failed logins: per e-mail address and IP, and per IP (see auth/throttle.py).
        "LOGIN_LIMIT_PER_EMAIL_IP": env.get("LOGIN_LIMIT_PER_EMAIL_IP", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_IP": env.get("LOGIN_LIMIT_PER_IP", "30 per 5 minutes"),
        "BABEL_DEFAULT_LOCALE": "en",
        # The time zone times are shown in (master data, last sync): an IANA name.
        "BABEL_DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Europe/Amsterdam").strip(),
        "LANGUAGES": LANGUAGES,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "EXACT_BASE_URL": env.get("EXACT_BASE_URL"),
        "EXACT_CLIENT_ID": env.get("EXACT_CLIENT_ID"),
        "EXACT_CLIENT_SECRET": env.get("EXACT_CLIENT_SECRET"),
        "EXACT_REDIRECT_URI": env.get("EXACT_REDIRECT_URI"),
        "RQ_QUEUES": ("mail", "default", "export", "sync-now", "sync"),
        # An export syncs the dossier first when its master data is older than this (seconds).
        "EXPORT_MAX_MASTER_DATA_AGE": int(env.get("EXPORT_MAX_MASTER_DATA_AGE", str(24 * 3600))),
    }
