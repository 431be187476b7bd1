"""The client list, the dashboard and the switcher cost the same at 20 and at 300 clients:
SQL statements and Redis round trips per request (the latency is measured in
``benchmarks/client_list.py``)."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from redis.connection import AbstractConnection
from sqlalchemy import insert, select

from portal import clock, modules
from portal.models import (
    Account,
    AccountKind,
    ExactDivisionLink,
    PortalLink,
    PortalLinkOrigin,
    PortalLinkStatus,
    Role,
    RunStatus,
    SyncState,
)
from portal.tenancy import SWITCHER_CLIENTS_PER_PORTAL
from tests.factories import make_exact_connection, make_portal, make_user_with_account
from tests.helpers import sql_statements

FIRST_CODE = 7_000_000


@contextmanager
def redis_round_trips():
    """Requests sent to Redis inside the block (a pipeline is one), without MONITOR."""
    send, trips = AbstractConnection.send_packed_command, []

    def counted(conn, command, check_health=True):
        trips.append(command)
        return send(conn, command, check_health)

    AbstractConnection.send_packed_command = counted
    try:
        yield trips
    finally:
        AbstractConnection.send_packed_command = send


def _record(code: int, remaining: int, limit: int = 5000) -> None:
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


def _add_clients(db, portal, connection, start: int, stop: int) -> None:
    """Clients ``start``..``stop`` of the portal (bulk), each linked with a sync state; every
    7th has a nearly spent daily budget, every 11th a failed sync."""
    now, tag = clock.now(), f"scale{portal.id}-"
    db.session.execute(
        insert(Account),
        [
            {
                "kind": AccountKind.CLIENT,
                "name": f"Klant {n:04d}",
                "contact_email": f"{tag}{n}@klant.example",
                "vat_number": f"NL{n:09d}B01",
                "created_at": now,
            }
            for n in range(start, stop)
        ],
    )
    ids = db.session.scalars(
        select(Account.id)
        .where(Account.contact_email.like(f"{tag}%"))
        .order_by(Account.id)
        .offset(start)
    ).all()
    codes = [FIRST_CODE + n for n in range(start, stop)]
    link = {"origin": PortalLinkOrigin.GRANTED, "role": Role.ADMIN, "created_at": now}
    db.session.execute(
        insert(PortalLink),
        [
            {**link, "portal_id": portal.id, "client_id": i, "status": PortalLinkStatus.ACTIVE}
            for i in ids
        ],
    )
    db.session.execute(
        insert(ExactDivisionLink),
        [
            {"account_id": i, "connection_id": connection.id, "division_code": c}
            | {"division_name": f"Administratie {c}"}
            for i, c in zip(ids, codes, strict=True)
        ],
    )
    db.session.execute(
        insert(SyncState),
        [
            {"account_id": i, "division_code": c, "cursors": {}, "last_run_at": now}
            | {"last_status": RunStatus.FAILED if c % 11 == 0 else RunStatus.SUCCEEDED}
            for i, c in zip(ids, codes, strict=True)
        ],
    )
    db.session.commit()
    for code in codes:
        _record(code, 100 if code % 7 == 0 else 4000)


@pytest.fixture
def office(db, login):
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    connection = make_exact_connection(portal)
    db.session.commit()
    login(owner)
    return {"portal": portal, "connection": connection}


def _pages(portal) -> dict[str, str]:
    return {
        "client list": f"/a/{portal.id}/portal/clients",
        "dashboard": f"/a/{portal.id}/",
        "switcher": "/accounts",
    }


def _costs(client, portal) -> dict[str, tuple[int, int]]:
    """Per page: (SQL statements, Redis round trips) of one request."""
    from portal.extensions import db

    costs = {}
    for name, url in _pages(portal).items():
        client.get(url)  # warm: the first request may load caches
        with sql_statements(db.engine) as statements, redis_round_trips() as trips:
            response = client.get(url)
        assert response.status_code == 200
        costs[name] = (len(statements), len(trips))
    return costs


def test_queries_and_redis_round_trips_do_not_grow_with_the_clients(office, client, db):
    portal, connection = office["portal"], office["connection"]
    _add_clients(db, portal, connection, 0, 20)
    at_20 = _costs(client, portal)
    _add_clients(db, portal, connection, 20, 300)
    at_300 = _costs(client, portal)
    assert at_300 == at_20
    assert at_20["client list"][1] == 1  # the budget column: one pipelined read per page
    assert at_20["dashboard"][1] == 2  # the nearly-spent index, then the budgets shown


def test_the_pages_still_show_the_clients_at_300(office, client, db):
    portal = office["portal"]
    _add_clients(db, portal, office["connection"], 0, 300)
    listing = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert "300 clients" in listing
    assert listing.count('data-testid="budget"') == 50
    assert "Klant 0000" in listing and "Klant 0049" in listing and "Klant 0050" not in listing
    last = client.get(f"/a/{portal.id}/portal/clients?page=6").get_data(as_text=True)
    assert "Klant 0299" in last and "Klant 0249" not in last
    dashboard = client.get(f"/a/{portal.id}/").get_data(as_text=True)
    spent = sum(1 for n in range(300) if (FIRST_CODE + n) % 7 == 0)
    assert f'data-testid="attention-budget">{spent} clients' in dashboard
    assert f"and {spent - 10} more" in dashboard
    switcher = client.get("/accounts").get_data(as_text=True)
    assert switcher.count("↳ Klant") == SWITCHER_CLIENTS_PER_PORTAL
    assert "All 300 clients…" in switcher


def test_a_recovered_budget_leaves_the_nearly_spent_index(app):
    from portal.exact.wiring import rate_limits

    with app.app_context():
        _record(FIRST_CODE, 100)
        _record(FIRST_CODE + 1, 4000)
        assert set(rate_limits().low_daily_divisions()) == {FIRST_CODE}
        _record(FIRST_CODE, 4999)  # a new day: the budget is back
        assert rate_limits().low_daily_divisions() == {}


def test_budgets_of_many_divisions_in_one_round_trip(app):
    from portal.exact.wiring import rate_limits

    with app.app_context():
        limits = rate_limits()
        for n in range(5):
            _record(FIRST_CODE + n, 1000 + n)
        codes = [FIRST_CODE + n for n in range(6)]  # the last one has no budget stored
        with redis_round_trips() as trips:
            budgets = limits.budgets(codes)
        assert len(trips) == 1
        assert budgets == {code: limits.budget(code) for code in codes}
        assert budgets[FIRST_CODE + 4].daily_remaining == 1004
        assert budgets[FIRST_CODE + 5].updated_at is None
