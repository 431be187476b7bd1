"""Exact actions on a client's dossier need the right *in the client account*, whichever URL
they come from, and use only a connection that may serve that client (issue: authority)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import modules
from portal.models import AuditEvent, ExactConnection, ExactDivisionLink, PortalLink, Role
from tests.exact.portal_helpers import connect, control
from tests.factories import link_client, make_portal, make_user_with_account

DIVISION = 3001101


def _api_calls(sandbox) -> int:
    """Calls the sandbox answered on its REST API (any division, any app)."""
    return control(sandbox, "GET", "counters")["api_calls_total"]


@pytest.fixture
def own_link(exact_app, db, client, login, exact_sandbox):
    """A client with its own Exact connection and link, and a connected portal it granted
    only the role *member*; nobody logged in afterwards."""
    office_owner, _ = make_user_with_account(email="olga@kantoor.example")
    portal = make_portal(office_owner)
    client_owner, account = make_user_with_account(email="kees@bakkerij.example")
    link_client(portal, account, role=Role.MEMBER)
    modules.set_enabled(portal, "exact_online", True)
    modules.set_enabled(account, "exact_online", True)
    db.session.commit()
    login(client_owner)
    connect(client, exact_sandbox, account.id, username="client")
    client.post(f"/a/{account.id}/exact/clients/{account.id}/activate", data={"division": DIVISION})
    client.post("/logout")
    login(office_owner)
    connect(client, exact_sandbox, portal.id)
    client.post("/logout")
    link = db.session.scalar(select(ExactDivisionLink))
    assert link is not None
    return {
        "portal": portal,
        "client": account,
        "office_owner": office_owner,
        "client_owner": client_owner,
        "link_id": link.id,
        "own_connection_id": link.connection_id,
    }


def test_a_portal_granted_member_cannot_overwrite_the_clients_own_link(own_link, client, db, login):
    login(own_link["office_owner"])
    base = f"/a/{own_link['portal'].id}/exact/clients/{own_link['client'].id}"
    answer = client.post(
        f"{base}/activate", data={"division": DIVISION, "overwrite": "1", "confirm": "1"}
    )
    assert answer.status_code == 403
    db.session.expire_all()
    link = db.session.get(ExactDivisionLink, own_link["link_id"])
    assert link.connection_id == own_link["own_connection_id"]
    page = client.get(base).get_data(as_text=True)
    assert 'data-testid="pick-division"' not in page


def test_a_portal_granted_member_cannot_spend_the_clients_own_tokens(
    own_link, client, db, login, exact_sandbox
):
    login(own_link["office_owner"])
    before = _api_calls(exact_sandbox)
    base = f"/a/{own_link['portal'].id}/exact/clients/{own_link['client'].id}"
    assert client.post(f"{base}/rights").status_code == 403
    assert client.post(f"{base}/confirm").status_code == 403
    assert _api_calls(exact_sandbox) == before


def test_once_the_client_grants_admin_the_office_may_overwrite(own_link, client, db, login):
    """The client raises the office's role without revoking it; the same request then works."""
    login(own_link["client_owner"])
    answer = client.post(f"/a/{own_link['client'].id}/access/portal/role", data={"role": "admin"})
    assert answer.status_code == 302
    client.post("/logout")
    login(own_link["office_owner"])
    base = f"/a/{own_link['portal'].id}/exact/clients/{own_link['client'].id}"
    client.post(f"{base}/activate", data={"division": DIVISION, "overwrite": "1", "confirm": "1"})
    db.session.expire_all()
    link = db.session.get(ExactDivisionLink, own_link["link_id"])
    portal_connection = db.session.scalar(
        select(ExactConnection.id).where(ExactConnection.account_id == own_link["portal"].id)
    )
    assert link.connection_id == portal_connection


def test_a_client_that_revoked_the_portal_cannot_spend_the_portals_tokens(
    exact_app, db, client, login, exact_sandbox
):
    from tests.exact.portal_helpers import activated_dossier

    dossier = activated_dossier(db, client, login, exact_sandbox, DIVISION)
    client.post("/logout")
    account_id = dossier["account_id"]
    modules.set_enabled(dossier["client"], "exact_online", True)
    db.session.commit()
    login(dossier["client_owner"])
    assert client.post(f"/a/{account_id}/access/portal/revoke").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PortalLink)) == 0
    before = _api_calls(exact_sandbox)
    base = f"/a/{account_id}/exact/clients/{account_id}"
    for _ in range(3):
        client.post(f"{base}/rights")
    client.post(f"{base}/confirm")
    assert _api_calls(exact_sandbox) == before
    rights_answer = client.post(f"{base}/rights", follow_redirects=True).get_data(as_text=True)
    assert "may no longer be used for this client account" in rights_answer
    assert _api_calls(exact_sandbox) == before


def test_activating_for_a_client_is_audited_in_both_accounts(own_link, client, db, login):
    """The allowed path still leaves its trace (a regression guard for the checks above)."""
    login(own_link["client_owner"])
    client.post(f"/a/{own_link['client'].id}/access/portal/role", data={"role": "admin"})
    events = set(db.session.scalars(select(AuditEvent.action)))
    assert "access.portal_role_changed" in events
