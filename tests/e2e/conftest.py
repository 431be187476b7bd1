"""Browser tests: the real app on a local port, driven by Debian's Chromium through Playwright.

Fixtures:
  live_server  base URL ("http://127.0.0.1:<port>") of the real app, served by werkzeug in a
               thread on the test database; the tables are emptied after the test (by the
               ``app`` fixture, whose app context the test has: seed data with the factories
               and commit it, the server sees it). An unhandled exception in the server fails
               the test.
  page         a Playwright page in a fresh browser context (own cookies), ``base_url`` set to
               the live server (``page.goto("/signup")``), default timeout 10 s. On failure a
               screenshot ``FAILED-<test>.png`` is saved.
  new_page     ``new_page()`` makes another page in another fresh context: a second user.
  browser      the Chromium browser (one per session and xdist worker).
Helpers (tests/e2e/helpers.py): ``screenshot(page, name)``, ``log_in(page, email, password)``.
Every test under tests/e2e is marked ``browser``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import got_request_exception
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from tests.e2e.helpers import screenshot
from tests.helpers import make_test_app

__all__ = ["screenshot"]

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium tries to reach Google's services, and a
# closed network refuses those connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_call_failed = report.failed
    return report


# --- Playwright ------------------------------------------------------------------------------
#
# Playwright's sync API keeps its asyncio loop marked as running in this thread between calls,
# so asyncio.run() would fail in any later test of this xdist worker. The loop is marked
# running only while a browser test runs (and while the session's browser starts and stops).


@pytest.fixture(scope="session")
def _playwright() -> Iterator[tuple]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/ensure-chromium.sh")
    playwright = sync_playwright().start()
    loop = asyncio._get_running_loop()
    yield playwright, loop
    asyncio._set_running_loop(loop)
    playwright.stop()
    asyncio._set_running_loop(None)


@pytest.fixture(autouse=True)
def _playwright_loop(_playwright) -> Iterator[None]:
    asyncio._set_running_loop(_playwright[1])
    yield
    asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def browser(_playwright) -> Iterator[Browser]:
    playwright, loop = _playwright
    asyncio._set_running_loop(loop)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    asyncio._set_running_loop(loop)
    browser.close()


@pytest.fixture
def new_page(browser, live_server, request) -> Iterator[Callable[[], Page]]:
    contexts = []

    def make() -> Page:
        context = browser.new_context(
            base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 800}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield make
    if getattr(request.node, "e2e_call_failed", False):
        pages = [page for context in contexts for page in context.pages]
        for n, page in enumerate(pages, 1):
            suffix = f"-{n}" if len(pages) > 1 else ""
            with contextlib.suppress(Exception):  # a closed or crashed page: nothing to show
                screenshot(page, f"FAILED-{request.node.name}{suffix}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    return new_page()


# --- the live server -------------------------------------------------------------------------


class _Tracked:
    """The WSGI app, counting the requests in progress. Flask has ended a request's app context
    (and removed its DB session) when it returns the response; sending the body comes after."""

    def __init__(self, app) -> None:
        self.app = app
        self.in_progress = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.in_progress += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.in_progress -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.in_progress == 0, timeout)


@pytest.fixture
def live_server(app, migrated_database, redis_url) -> Iterator[str]:
    """A second app instance on the test's database and Redis, without SERVER_NAME; each
    request gets its own app context in its own thread, never the test's."""
    from portal.extensions import db

    server_app = make_test_app(migrated_database, redis_url, SERVER_NAME=None)
    errors: list[str] = []

    def record(sender, exception, **extra) -> None:
        errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(record, server_app, weak=False)
    tracked = _Tracked(server_app)
    server = make_server("127.0.0.1", 0, tracked, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        # No request may still write when the `app` fixture empties the tables after us.
        if not tracked.wait_idle(10):
            errors.append("a request was still running 10 s after the test")
        got_request_exception.disconnect(record, server_app)
        with server_app.app_context():
            db.engine.dispose()
    if errors:
        pytest.fail("in the live server:\n" + "\n".join(errors), pytrace=False)
