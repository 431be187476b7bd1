"""Fixtures for the sandbox's tests. ``sandbox`` and ``make_sandbox`` live in the package's
pytest plugin so the portal's tests can use the same ones."""

from __future__ import annotations

import pytest
from exact_sandbox import SandboxServer
from exact_sandbox.pytest_plugin import make_sandbox, sandbox

from .helpers import Api, api_for

__all__ = ["api", "make_sandbox", "sandbox"]


@pytest.fixture
def api(sandbox: SandboxServer) -> Api:
    """The accountant connected to the default sandbox with every division granted."""
    return api_for(sandbox)
