"""20 worker processes ask for an expiring access token at once, against a rotating endpoint.

With the Redis lock exactly one refresh happens; without it the refresh token is reused and
the endpoint answers "Old refresh token used.", which breaks the chain at Exact.
"""

import multiprocessing
import time
from collections import Counter

import pytest

from portal.exact.client.tokens import RedisTokenStore
from tests.exact.token_server import (
    CONNECTION_ID,
    RotatingTokenServer,
    expiring_tokens,
    race_worker,
)

WORKERS = 20


@pytest.fixture
def token_server():
    server = RotatingTokenServer(delay=0.3).start()
    yield server
    server.stop()


def _context():
    ctx = multiprocessing.get_context("forkserver")
    # Workers fork from a server that already imported the client: fast start, no shared state.
    ctx.set_forkserver_preload(["tests.exact.token_server", "portal.exact.client.oauth"])
    return ctx


def run_race(redis_url, base_url, use_lock):
    ctx = _context()
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=race_worker, args=(redis_url, base_url, use_lock, barrier, results))
        for _ in range(WORKERS)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=60) for _ in processes]
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
    return outcomes, time.monotonic() - started


def report(label, server, outcomes, seconds, capsys):
    failures = Counter(o[2] for o in outcomes if o[0] == "error")
    with capsys.disabled():
        print(
            f"\n[token race {label}] workers={WORKERS} refresh_calls={server.refresh_calls} "
            f"old_token_answers={server.old_token_failures} "
            f"worker_failures={sum(failures.values())} {dict(failures)} time={seconds:.2f}s"
        )


def test_lock_gives_exactly_one_refresh(redis_conn, redis_url, token_server, capsys):
    store = RedisTokenStore(redis_conn)
    store.save(CONNECTION_ID, expiring_tokens())
    outcomes, seconds = run_race(redis_url, token_server.base_url, use_lock=True)
    report("with lock", token_server, outcomes, seconds, capsys)
    assert token_server.refresh_calls == 1
    assert token_server.old_token_failures == 0
    assert outcomes == [("ok", "access-1")] * WORKERS
    assert store.load(CONNECTION_ID).refresh_token == "refresh-1"
    assert store.needs_reauthorization(CONNECTION_ID) is None


def test_without_lock_the_refresh_token_is_reused(redis_conn, redis_url, token_server, capsys):
    RedisTokenStore(redis_conn).save(CONNECTION_ID, expiring_tokens())
    outcomes, seconds = run_race(redis_url, token_server.base_url, use_lock=False)
    report("WITHOUT lock", token_server, outcomes, seconds, capsys)
    assert token_server.refresh_calls > 1
    assert token_server.old_token_failures >= 1
    assert token_server.refresh_calls == token_server.old_token_failures + 1
