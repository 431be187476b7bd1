"""Shared fixtures. Real Redis always: REDIS_URL/TEST_REDIS_URL, else an embedded server."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from tests.helpers import EXACT_REDIRECT_URI, make_test_app


def _worker_number() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw") or 0)


@pytest.fixture(scope="session")
def redis_base_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    if url:
        return url
    from portal.redis_server import start_embedded_redis

    return start_embedded_redis(tmp_path_factory.mktemp("redis"))


@pytest.fixture(scope="session")
def redis_url(redis_base_url) -> str:
    """One logical database per xdist worker, so parallel workers never share keys."""
    conn = redis.Redis.from_url(redis_base_url)
    databases = int(conn.config_get("databases").get("databases", 16))
    db = 1 + _worker_number() % (databases - 1)
    parts = urlsplit(redis_base_url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture
def redis_conn(redis_url):
    """A real Redis connection on an empty database."""
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


# --- database -------------------------------------------------------------------------------


def _run_id() -> str:
    """Shared by the xdist workers of one run, different between runs (two people, one server)."""
    return (os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getpid()))[:8]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """PostgreSQL when TEST_DATABASE_URL/DATABASE_URL names one (a fresh database per xdist
    worker and run, made from it and dropped afterwards), else a SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from portal.config import normalize_database_url

    base = make_url(normalize_database_url(url))
    name = f"{base.database}_pytest_{_run_id()}_{_worker_number()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url, redis_base_url):
    """The test database at the migrations' head, made once per session."""
    from flask_migrate import upgrade

    app = make_test_app(database_url, redis_base_url)
    with app.app_context():
        upgrade()
        from portal.extensions import db

        db.engine.dispose()
    return database_url


@pytest.fixture
def app(migrated_database, redis_url, redis_conn, tmp_path):
    application = make_test_app(migrated_database, redis_url, FILE_STORAGE=str(tmp_path / "files"))
    with application.app_context():
        yield application
        _empty_tables(application)


def _empty_tables(application) -> None:
    from sqlalchemy import text

    from portal.extensions import db

    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    db.engine.dispose()


@pytest.fixture
def db(app):
    from portal.extensions import db as database

    return database


@pytest.fixture
def client(app):
    from tests.helpers import PortalClient

    app.test_client_class = PortalClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    """``login(user)`` logs the test client in through the real login form."""
    from tests.factories import PASSWORD

    def _login(user, password: str = PASSWORD):
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login


# --- the clock ------------------------------------------------------------------------------


@pytest.fixture
def portal_clock():
    """The portal on a clock the test moves ahead (``portal_clock.advance(seconds)``)."""
    from portal import clock

    with clock.use(clock.ShiftedClock()) as shifted:
        yield shifted


# --- the Exact sandbox ----------------------------------------------------------------------


@pytest.fixture
def exact_sandbox_config() -> dict | None:
    """An overlay on the sandbox's default config; a test module may override this fixture."""
    return None


@pytest.fixture
def exact_sandbox(exact_sandbox_config):
    """The Exact sandbox over real HTTP on a free port; its clock frozen at the real now,
    so the portal's and the sandbox's clocks agree until a test moves both."""
    import time

    from exact_sandbox import start_sandbox_in_thread
    from exact_sandbox.clock import SandboxClock

    server = start_sandbox_in_thread(exact_sandbox_config, clock=SandboxClock(time.time(), speed=0))
    yield server
    server.stop()


@pytest.fixture
def exact_app(app, exact_sandbox):
    """The portal app pointed at the sandbox as its Exact Online."""
    from exact_sandbox.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    app.config.update(
        EXACT_BASE_URL=exact_sandbox.url,
        EXACT_CLIENT_ID=DEMO_CLIENT_ID,
        EXACT_CLIENT_SECRET=DEMO_CLIENT_SECRET,
        EXACT_REDIRECT_URI=EXACT_REDIRECT_URI,
    )
    return app
