"""Sync tests: a client dossier with enough rows for several pages, activated via a portal."""

from __future__ import annotations

import pytest

from portal import modules
from tests.exact.portal_helpers import connect
from tests.factories import link_client, make_portal, make_user_with_account

DIVISION = 3001101


@pytest.fixture
def exact_sandbox_config():
    """Pages to walk: 2,500 transaction lines (3 sync pages), 150 accounts; roomy limits."""
    from portal.exact.sandbox.config import default_config

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
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    _u, client_account = make_user_with_account()
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    connect(client, exact_sandbox, portal.id)
    client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate", data={"division": DIVISION}
    )
    return {
        "portal": portal,
        "client": client_account,
        "account_id": client_account.id,
        "portal_id": portal.id,
    }
