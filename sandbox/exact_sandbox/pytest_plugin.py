"""pytest fixtures for tests that need a running sandbox (pytest itself is a test dependency).

Use them anywhere with ``pytest_plugins = ["exact_sandbox.pytest_plugin"]`` in the root
``conftest.py``; the sandbox's own tests import them in their conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .app import SandboxServer, start_sandbox_in_thread
from .testing import frozen_clock


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """The default demo sandbox on a free port, its clock frozen at ``testing.TEST_START``.

    Time moves only when a test moves it (``testing.advance_clock``), so token lifetimes and
    rate-limit minutes are exact and nothing sleeps.
    """
    server = start_sandbox_in_thread(clock=frozen_clock())
    yield server
    server.stop()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with a config overlay (frozen clock); all are stopped afterwards."""
    servers: list[SandboxServer] = []

    def start(config: dict | None = None) -> SandboxServer:
        server = start_sandbox_in_thread(config, clock=frozen_clock())
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
