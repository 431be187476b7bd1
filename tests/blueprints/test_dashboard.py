"""The overview pages: "Needs attention" for the office, something useful for a client."""

from __future__ import annotations

import time
from datetime import timedelta

from portal import clock, modules
from portal.extensions import db as _db
from portal.models import ConnectionStatus, LinkStatus, RunStatus, SyncState
from tests.factories import (
    link_client,
    make_account,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user_with_account,
)
from tests.helpers import sql_statements


def _budget(code: int, remaining: int, limit: int = 5000) -> None:
    from portal.exact.wiring import rate_limits

    day_end = int((time.time() + 3600) * 1000)
    rate_limits().record(
        code,
        {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(day_end),
        },
    )


def _office(db, login, **connection_fields):
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    connection = make_exact_connection(portal)
    for name, value in connection_fields.items():
        setattr(connection, name, value)
    db.session.commit()
    login(owner)
    return owner, portal, connection


def _page(client, account) -> str:
    response = client.get(f"/a/{account.id}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_office_overview_lists_what_needs_attention(app, db, login, client):
    _owner, portal, connection = _office(
        db, login, refresh_token_expires_at=clock.now() + timedelta(days=5, hours=1)
    )
    failed = make_account(name="Bakkerij Faal")
    link_client(portal, failed)
    db.session.add(SyncState(account_id=failed.id, cursors={}, last_status=RunStatus.FAILED))
    stopped = make_account(name="Garage Stop")
    link_client(portal, stopped)
    db.session.add(SyncState(account_id=stopped.id, cursors={}, last_status=RunStatus.STOPPED))
    blocked = make_account(name="Slagerij Blok")
    link_client(portal, blocked)
    make_division_link(blocked, connection, 3001102, status=LinkStatus.BLOCKED)
    waiting = make_account(name="Kapper Wacht")
    link_client(portal, waiting, status="pending")
    busy = make_account(name="Drukkerij Druk")
    link_client(portal, busy)
    make_division_link(busy, connection, 3001103)
    calm = make_account(name="Rustig BV")
    link_client(portal, calm)
    make_division_link(calm, connection, 3001104)
    ok = make_account(name="Alles Goed BV")
    link_client(portal, ok)
    db.session.add(SyncState(account_id=ok.id, cursors={}, last_status=RunStatus.SUCCEEDED))
    db.session.commit()
    _budget(3001103, remaining=120)
    _budget(3001104, remaining=4000)

    page = _page(client, portal)
    assert 'data-testid="needs-attention"' in page
    page = page[page.index('data-testid="needs-attention"') :]  # not the account menu
    assert "expires in 5 days unless used; it is kept alive automatically" in page
    assert "2 clients' syncs failed or stopped" in page
    assert "Bakkerij Faal" in page and "Garage Stop" in page
    assert "Exact link is blocked" in page and "Slagerij Blok" in page
    assert "1 client is waiting to be added" in page and "Kapper Wacht" in page
    assert "daily Exact API budget is nearly spent" in page
    assert "Drukkerij Druk" in page and "120 of 5000 calls left" in page
    assert "Rustig BV" not in page and "Alles Goed BV" not in page


def test_a_connection_that_needs_reauthorisation_says_so(app, db, login, client):
    _owner, portal, _connection = _office(db, login, status=ConnectionStatus.NEEDS_REAUTHORIZATION)
    page = _page(client, portal)
    assert 'data-testid="attention-reauthorize"' in page
    assert "needs re-authorisation" in page


def test_a_calm_office_is_told_nothing_needs_attention(app, db, login, client):
    _owner, portal, _connection = _office(
        db, login, refresh_token_expires_at=clock.now() + timedelta(days=60)
    )
    page = _page(client, portal)
    assert "Nothing needs your attention." in page
    assert "expires in" not in page


def test_the_overview_costs_the_same_queries_for_many_clients(app, db, login, client):
    _owner, portal, connection = _office(db, login)

    def queries() -> int:
        with sql_statements(_db.engine) as statements:
            _page(client, portal)
        return len(statements)

    def add_clients(start: int, n: int) -> None:
        for i in range(start, start + n):
            account = make_account(name=f"Klant {i}")
            link_client(portal, account)
            make_division_link(account, connection, 3002000 + i)
            db.session.add(
                SyncState(account_id=account.id, cursors={}, last_status=RunStatus.FAILED)
            )
            link_client(portal, make_account(name=f"Wacht {i}"), status="pending")
        db.session.commit()

    add_clients(0, 2)
    small = queries()
    add_clients(2, 30)
    large = queries()
    assert large == small
    assert "32 clients' syncs failed or stopped" in _page(client, portal)
    assert "and 22 more" in _page(client, portal)


def test_the_client_overview_names_its_office_link_and_last_sync(app, db, login, client):
    owner, portal, connection = _office(db, login)
    client_user, account = make_user_with_account()
    link_client(portal, account)
    make_division_link(account, connection, 3001101, division_name="Bakkerij Jansen")
    db.session.add(
        SyncState(
            account_id=account.id,
            cursors={},
            last_status=RunStatus.SUCCEEDED,
            last_run_at=clock.now() - timedelta(hours=1),
        )
    )
    db.session.commit()
    client.post("/logout")
    login(client_user)
    page = _page(client, account)
    assert f"Your office: {portal.name}" in page
    assert "3001101 Bakkerij Jansen" in page
    assert "Last sync:" in page
    assert 'data-testid="needs-attention"' not in page


def test_a_client_without_a_link_is_told_so(app, db, login, client):
    client_user, account = make_user_with_account()
    login(client_user)
    page = _page(client, account)
    assert "Not linked to an Exact Online administration yet." in page
    assert "No office has access to this account." in page
