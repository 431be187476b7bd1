"""Driving the portal's Exact pages in tests: connect through the sandbox's consent form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from exact_sandbox.testing import authorize

from tests.helpers import EXACT_REDIRECT_URI


def start_connect(client, account_id: int, force_login: bool = False) -> str:
    """Press Connect; returns the ``state`` the portal put in Exact's authorize URL."""
    data = {"country": "nl", **({"force_login": "y"} if force_login else {})}
    response = client.post(f"/a/{account_id}/exact/connect", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == [EXACT_REDIRECT_URI]
    return query["state"][0]


def connect(
    client,
    sandbox,
    account_id: int,
    username: str = "accountant",
    divisions: list[int] | None = None,
    force_login: bool = False,
):
    """The whole OAuth dance; returns the portal's answer to Exact's redirect."""
    state = start_connect(client, account_id, force_login)
    code = authorize(
        sandbox.url,
        redirect_uri=EXACT_REDIRECT_URI,
        username=username,
        password=username,
        divisions=divisions,
        state=state,
        force_login=force_login,
    )
    return client.get("/exact/callback", query_string={"code": code, "state": state})


def control(sandbox, method: str, endpoint: str, **json):
    """Call the sandbox's control API (``/_sandbox/<endpoint>``) with a JSON body."""
    response = requests.request(
        method, f"{sandbox.url}/_sandbox/{endpoint.lstrip('/')}", json=json or None, timeout=10
    )
    assert response.status_code < 400, response.text
    return response.json()


def activated_dossier(db, client, login, sandbox, division: int) -> dict:
    """A portal (Exact module on, connected) with one client whose division is activated,
    which queues its first import. The portal's owner is logged in."""
    from portal import modules
    from tests.factories import link_client, make_portal, make_user_with_account

    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    client_owner, client_account = make_user_with_account()
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    connect(client, sandbox, portal.id)
    client.post(
        f"/a/{portal.id}/exact/clients/{client_account.id}/activate", data={"division": division}
    )
    return {
        "portal": portal,
        "client": client_account,
        "account_id": client_account.id,
        "portal_id": portal.id,
        "owner": owner,
        "client_owner": client_owner,
    }
