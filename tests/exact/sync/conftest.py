"""Sync tests: a client dossier with enough rows for several pages, activated via a portal."""

from __future__ import annotations

import pytest

from tests.exact.portal_helpers import activated_dossier

DIVISION = 3001101


@pytest.fixture
def exact_sandbox_config():
    """Pages to walk: 2,500 transaction lines (3 sync pages), 150 accounts; roomy limits."""
    from exact_sandbox.config import default_config

    config = default_config()
    for division in config["divisions"]:
        if division["code"] == DIVISION:
            division["volume"] = {
                **division.get("volume", {}),
                "transaction_lines": 2500,
                "accounts": 150,
            }
    return {"divisions": config["divisions"], "limits": {"minutely": 10000, "daily": 100000}}


@pytest.fixture
def dossier(exact_app, db, login, client, exact_sandbox):
    """A portal client whose Exact division is activated through the portal's connection."""
    return activated_dossier(db, client, login, exact_sandbox, DIVISION)
