"""How fast the Exact sandbox serves a large division over real HTTP.

Starts a sandbox with one big division (default 200,000 transaction lines and 20,000
accounts), connects through the OAuth form, then pages through sync endpoints following
``__next`` and prints a table. Rate limits are raised for the run: this measures serving,
not Exact's throttling. Never fails a build.

    python benchmarks/sandbox_serving.py [--lines 200000] [--accounts 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exact_sandbox import start_sandbox_in_thread  # noqa: E402
from exact_sandbox.testing import connect  # noqa: E402

DIVISION = 900001
TRANSACTION_FIELDS = (
    "ID,EntryID,EntryNumber,LineNumber,Date,JournalCode,GLAccount,GLAccountCode,Account,"
    "AmountDC,VATCode,Description,Timestamp"
)


def config(lines: int, accounts: int) -> dict:
    return {
        "limits": {"minutely": 1_000_000, "daily": 10_000_000},
        "divisions": [
            {
                "code": DIVISION,
                "name": "Benchmark BV",
                "country": "NL",
                "seed": 4242,
                "licence": "bench",
                "volume": {
                    "transaction_lines": lines,
                    "accounts": accounts,
                    "gl_accounts": 300,
                    "documents": 1000,
                },
            }
        ],
        "users": [{"username": "bench", "password": "bench", "divisions": [DIVISION]}],
    }


def time_server(server) -> list[float]:
    """Wrap the app to record how long the sandbox itself spends on each request."""
    spent: list[float] = []
    inner = server.app.wsgi_app

    def timed(environ, start_response):
        started = time.perf_counter()
        result = inner(environ, start_response)
        spent.append(time.perf_counter() - started)
        return result

    server.app.wsgi_app = timed
    return spent


def page_through(url: str, token: str, path: str, params: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    session = requests.Session()
    next_url, rows, timings = f"{url}/api/v1/{DIVISION}/{path}", 0, []
    started = time.perf_counter()
    first = True
    while next_url:
        before = time.perf_counter()
        response = session.get(
            next_url, params=params if first else None, headers=headers, timeout=60
        )
        timings.append(time.perf_counter() - before)
        response.raise_for_status()
        page = response.json()["d"]
        rows += len(page["results"])
        next_url, first = page.get("__next"), False
    seconds = time.perf_counter() - started
    return {"rows": rows, "pages": len(timings), "seconds": seconds, "timings": timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    args = parser.parse_args()

    server = start_sandbox_in_thread(config(args.lines, args.accounts))
    try:
        token = connect(server.url, "bench", "bench")["access_token"]
        server_spent = time_server(server)
        started = time.perf_counter()
        server.state.data(DIVISION)
        generated = time.perf_counter() - started
        sync = {"$filter": "Timestamp gt 1L"}
        scenarios = [
            ("sync/Financial/TransactionLines", {**sync, "$select": TRANSACTION_FIELDS}),
            ("sync/CRM/Accounts", {**sync, "$select": "ID,Code,Name,IsSupplier,VATNumber"}),
            ("bulk/Financial/TransactionLines", {"$select": TRANSACTION_FIELDS}),
        ]
        print(
            f"Sandbox {server.url}: division {DIVISION} with {args.lines:,} transaction lines "
            f"and {args.accounts:,} accounts generated in {generated:.2f} s"
        )
        header = (
            f"{'endpoint':34} {'rows':>8} {'pages':>6} {'seconds':>8} {'rows/s':>9} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'server p50':>10}"
        )
        print(header)
        print("-" * len(header))
        for path, params in scenarios:
            server_spent.clear()
            result = page_through(server.url, token, path, params)
            server_p50 = statistics.median(server_spent) * 1000
            timings = sorted(result["timings"])
            p95 = timings[int(0.95 * (len(timings) - 1))]
            print(
                f"{path:34} {result['rows']:>8,} {result['pages']:>6} "
                f"{result['seconds']:>8.2f} {result['rows'] / result['seconds']:>9,.0f} "
                f"{statistics.median(timings) * 1000:>7.1f} {p95 * 1000:>7.1f} "
                f"{timings[-1] * 1000:>7.1f} {server_p50:>10.1f}"
            )
        print("p50/p95/max: wall time per page at the client; server p50: time inside the app")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
