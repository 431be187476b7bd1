"""20 worker processes share one portal connection across an expiry, against the sandbox.

This is the portal's real path: the database token store (encrypted), the Redis lock, the
sandbox's rotating refresh tokens. With the lock: exactly one refresh and no failure. Without
it the same race refreshes more than once and Exact answers "Old refresh token used.".
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import modules
from portal.crypto import decrypt, encrypt
from portal.exact.client.tokens import TokenSet
from portal.models import ConnectionStatus, ExactConnection
from tests.exact.portal_helpers import connect, control
from tests.exact.sandbox_race import race_worker
from tests.factories import make_portal, make_user_with_account

WORKERS = 20


@pytest.fixture
def expiring_connection(exact_app, db, login, client, exact_sandbox):
    """A portal connection whose access token has 20 s left (issued 580 s ago)."""
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    connect(client, exact_sandbox, portal.id)
    db.session.expire_all()
    connection = db.session.scalar(select(ExactConnection))
    tokens = TokenSet.from_dict(json.loads(decrypt(connection.tokens_encrypted)))
    aged = TokenSet(
        tokens.access_token,
        tokens.refresh_token,
        access_expires_at=tokens.access_expires_at - timedelta(seconds=580),
        issued_at=tokens.issued_at - timedelta(seconds=580),
        refreshed_at=None,
        refresh_token_expires_at=tokens.refresh_token_expires_at,
    )
    connection.tokens_encrypted = encrypt(json.dumps(aged.to_dict()))
    db.session.commit()
    control(exact_sandbox, "POST", "clock", advance=580)
    control(exact_sandbox, "POST", "counters/reset")
    # a slow token endpoint, so that racers without the lock really overlap
    control(exact_sandbox, "POST", "faults", kind="slow", path="oauth2/token", delay=0.3, count=100)
    return connection.id


def _race(app, connection_id: int, use_lock: bool):
    keys = (
        "SQLALCHEMY_DATABASE_URI",
        "REDIS_URL",
        "TOKEN_ENCRYPTION_KEY",
        "SECRET_KEY",
        "EXACT_BASE_URL",
        "EXACT_CLIENT_ID",
        "EXACT_CLIENT_SECRET",
        "EXACT_REDIRECT_URI",
        "PASSWORD_HASH_METHOD",
    )
    config = {key: app.config[key] for key in keys}
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["tests.exact.sandbox_race", "portal", "portal.exact.wiring"])
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    processes = [
        ctx.Process(target=race_worker, args=(config, connection_id, use_lock, barrier, results))
        for _ in range(WORKERS)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(20)
            if process.is_alive():
                process.terminate()
    return outcomes, time.monotonic() - started


def _report(label, counters, outcomes, seconds, capsys):
    failures = Counter(o[2] for o in outcomes if o[0] == "error")
    with capsys.disabled():
        print(
            f"\n[sandbox token race {label}] workers={WORKERS} "
            f"token_calls={counters['token_calls_total']} "
            f"refreshes={counters['refreshes_total']} "
            f"worker_failures={sum(failures.values())} {dict(failures)} time={seconds:.1f}s"
        )


def test_twenty_processes_one_refresh_no_failure(
    exact_app, db, exact_sandbox, expiring_connection, capsys
):
    outcomes, seconds = _race(exact_app, expiring_connection, use_lock=True)
    counters = control(exact_sandbox, "GET", "counters")
    _report("with lock", counters, outcomes, seconds, capsys)
    assert counters["token_calls_total"] == 1 and counters["refreshes_total"] == 1
    assert [o[0] for o in outcomes] == ["ok"] * WORKERS
    assert len({o[1] for o in outcomes}) == 1  # everyone got the one new access token
    db.session.expire_all()
    assert db.session.get(ExactConnection, expiring_connection).status == (
        ConnectionStatus.CONNECTED
    )


def test_without_the_lock_the_same_race_breaks(
    exact_app, db, exact_sandbox, expiring_connection, capsys
):
    outcomes, seconds = _race(exact_app, expiring_connection, use_lock=False)
    counters = control(exact_sandbox, "GET", "counters")
    _report("WITHOUT lock", counters, outcomes, seconds, capsys)
    assert counters["token_calls_total"] > 1  # refresh tokens were reused
    assert counters["token_calls_total"] > counters["refreshes_total"]  # some were refused
