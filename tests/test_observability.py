"""Log lines (plain or JSON) that name their web request or RQ job; request ids; Sentry only
when SENTRY_DSN is set."""

from __future__ import annotations

import json
import logging
import re
import sys
import types

import pytest
from rq import Queue, SimpleWorker

from portal import observability
from portal.config import ConfigError
from tests.helpers import make_test_app


@pytest.fixture
def logging_app(migrated_database, redis_url, redis_conn):
    """``logging_app(**config)``: an app with a page that logs two lines through two loggers."""

    def make(**overrides):
        app = make_test_app(migrated_database, redis_url, **overrides)

        @app.get("/_log")
        def log_two_lines():
            logging.getLogger("portal.test").info("first line")
            logging.getLogger("elsewhere").warning("second line")
            return "ok"

        return app

    yield make
    observability.configure_logging("plain", "INFO")  # as every other test's app has it


def _lines(capsys, text: str) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if text in line]


def test_every_line_of_a_request_names_the_request_id_it_answers_with(logging_app, capsys):
    app = logging_app()
    response = app.test_client().get("/_log", headers={"X-Request-ID": "proxy-id.42"})
    assert response.headers["X-Request-ID"] == "proxy-id.42"
    lines = _lines(capsys, " line")
    assert len(lines) == 2
    assert all("[request_id=proxy-id.42]" in line for line in lines)
    assert "INFO portal.test [request_id=proxy-id.42] first line" in lines[0]


def test_json_lines_carry_the_request_id_as_a_field(logging_app, capsys):
    app = logging_app(LOG_FORMAT="json")
    app.test_client().get("/_log", headers={"X-Request-ID": "abc"})
    entries = [json.loads(line) for line in _lines(capsys, " line")]
    assert [(e["logger"], e["level"], e["message"], e["request_id"]) for e in entries] == [
        ("portal.test", "INFO", "first line", "abc"),
        ("elsewhere", "WARNING", "second line", "abc"),
    ]
    assert "job_id" not in entries[0] and entries[0]["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "sent", [None, "", "has space", "x" * 129, "-starts-with-a-dash", "ünïcode", "a;b"]
)
def test_a_missing_or_odd_request_id_is_replaced_by_a_new_one(logging_app, sent):
    client = logging_app().test_client()
    headers = {} if sent is None else {"X-Request-ID": sent}
    ids = {client.get("/_log", headers=headers).headers["X-Request-ID"] for _ in range(2)}
    assert len(ids) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)


def test_every_line_of_a_job_names_the_job(app, redis_conn, capsys):
    queue = Queue("default", connection=redis_conn)
    job = queue.enqueue("tests.jobs.jobs_for_tests.logged_job")
    logging.getLogger("portal.test").warning("outside any job")
    SimpleWorker([queue], connection=redis_conn).work(burst=True)
    assert job.get_status(refresh=True) == "finished"
    err = capsys.readouterr().err.splitlines()
    job_lines = [line for line in err if "test job" in line]
    assert len(job_lines) == 2 and all(f"[job_id={job.id}]" in line for line in job_lines)
    (outside,) = [line for line in err if "outside any job" in line]
    assert "job_id" not in outside


def test_the_line_outside_a_request_or_job_has_no_ids(app, capsys):
    logging.getLogger("portal.test").warning("nothing around")
    (line,) = _lines(capsys, "nothing around")
    assert line.endswith("WARNING portal.test nothing around")


def test_logging_is_set_up_once_per_process(logging_app):
    logging_app()
    logging_app(LOG_FORMAT="json")
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "portal"]
    assert len(ours) == 1 and isinstance(ours[0].formatter, observability.JsonFormatter)


def test_an_unknown_log_format_refuses_to_start(migrated_database, redis_url):
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        make_test_app(migrated_database, redis_url, LOG_FORMAT="xml")


# --- Sentry ------------------------------------------------------------------------------------


@pytest.fixture
def sentry_calls(monkeypatch):
    """A stand-in ``sentry_sdk`` that records what the portal asks of it (no network)."""
    calls: list[tuple] = []
    module = types.ModuleType("sentry_sdk")
    module.init = lambda **options: calls.append(("init", options))
    module.set_tag = lambda key, value: calls.append(("tag", key, value))
    monkeypatch.setitem(sys.modules, "sentry_sdk", module)
    monkeypatch.setattr(observability, "_sentry", {})
    return calls


def test_without_a_dsn_sentry_is_never_imported(monkeypatch, logging_app):
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # any `import sentry_sdk` would fail
    monkeypatch.setattr(observability, "_sentry", {})
    assert logging_app().test_client().get("/_log").status_code == 200


def test_without_a_dsn_sentry_is_not_started(sentry_calls, logging_app):
    logging_app().test_client().get("/_log")
    assert sentry_calls == []


def test_with_a_dsn_sentry_is_started_once_and_told_the_request_id(sentry_calls, logging_app):
    dsn = "https://public@sentry.example/1"
    app = logging_app(SENTRY_DSN=dsn)
    logging_app(SENTRY_DSN=dsn)  # a second app in the same process
    app.test_client().get("/_log", headers={"X-Request-ID": "r-1"})
    assert sentry_calls == [
        ("init", {"dsn": dsn, "environment": "development", "send_default_pii": False}),
        ("tag", "request_id", "r-1"),
    ]


def test_a_dsn_without_sentry_sdk_installed_refuses_to_start(
    monkeypatch, migrated_database, redis_url
):
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)
    monkeypatch.setattr(observability, "_sentry", {})
    with pytest.raises(ConfigError, match=r"sentry-sdk is not installed.*\[sentry\]"):
        make_test_app(migrated_database, redis_url, SENTRY_DSN="https://public@sentry.example/1")
