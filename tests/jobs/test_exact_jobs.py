"""Keep-alive of Exact connections, alerts to admins, the one scheduler, token-key rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from exact_sandbox.testing import DEMO_CLIENT_ID
from rq import SimpleWorker
from sqlalchemy import select

from portal import modules
from portal.crypto import decrypt
from portal.jobs.exact import keep_connections_alive
from portal.jobs.schedule import LOCK_NAME, PERIODIC_JOBS, build_scheduler
from portal.models import ConnectionStatus, ExactConnection, OutboxMessage, User
from portal.queue import get_queue, redis_connection
from tests.exact.portal_helpers import connect, control
from tests.factories import make_portal, make_user_with_account


@pytest.fixture
def connected(exact_app, db, login, client, exact_sandbox):
    owner, _own = make_user_with_account(email="olga@kantoor.example")
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    connect(client, exact_sandbox, portal.id)
    db.session.expire_all()
    connection = db.session.scalar(select(ExactConnection))
    return portal, connection


def _age_everything(portal_clock, sandbox, seconds: int) -> None:
    """Move the portal's and the sandbox's clocks forward together."""
    portal_clock.advance(seconds)
    control(sandbox, "POST", "clock", advance=seconds)


def _run_default_queue() -> None:
    assert SimpleWorker([get_queue("default")], connection=redis_connection()).work(burst=True)


def test_keep_alive_refreshes_a_connection_near_its_30_day_limit(
    connected, db, portal_clock, exact_sandbox
):
    _portal, connection = connected
    connection_id, old_expiry = connection.id, connection.refresh_token_expires_at
    _age_everything(portal_clock, exact_sandbox, 25 * 24 * 3600)  # 25 days unused
    control(exact_sandbox, "POST", "counters/reset")
    get_queue("default").enqueue(keep_connections_alive)
    _run_default_queue()
    db.session.expire_all()
    refreshed = db.session.get(ExactConnection, connection_id)
    assert refreshed.refresh_token_expires_at > old_expiry + timedelta(days=20)
    assert control(exact_sandbox, "GET", "counters")["refreshes_total"] == 1


def test_keep_alive_leaves_fresh_connections_alone(connected, db, exact_sandbox):
    control(exact_sandbox, "POST", "counters/reset")
    assert keep_connections_alive() == {"refreshed": 0, "failed": 0, "alerted": 0}
    assert control(exact_sandbox, "GET", "counters")["refreshes_total"] == 0


def test_a_broken_connection_alerts_the_admins_once_and_shows_on_the_dashboard(
    connected, db, client, login, portal_clock, exact_sandbox
):
    portal, connection = connected
    portal_id, connection_id = portal.id, connection.id
    control(
        exact_sandbox, "POST", "consents/revoke", client_id=DEMO_CLIENT_ID, username="accountant"
    )
    _age_everything(portal_clock, exact_sandbox, 25 * 24 * 3600)
    first = keep_connections_alive()
    second = keep_connections_alive()
    assert first["failed"] == 1 and first["alerted"] == 1 and second["alerted"] == 0
    db.session.expire_all()
    assert db.session.get(ExactConnection, connection_id).status == (
        ConnectionStatus.NEEDS_REAUTHORIZATION
    )
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in mails] == ["olga@kantoor.example"]
    assert "stopped working" in mails[0].subject and "revoked" in mails[0].body_text
    # 25 days later the office's browser session has ended too (the whole portal aged)
    assert client.get(f"/a/{portal_id}/").status_code == 302
    login(db.session.scalar(select(User).where(User.email == "olga@kantoor.example")))
    page = client.get(f"/a/{portal_id}/").get_data(as_text=True)
    assert 'data-testid="exact-alert"' in page and "revoked" in page
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "revoked" not in title


def test_the_scheduler_declares_the_keep_alive_and_enqueues_it(app, redis_conn):
    declared = {job.func for job in PERIODIC_JOBS}
    assert {
        "portal.jobs.exact.keep_connections_alive",
        "portal.jobs.sync.enqueue_due_syncs",
    } <= declared
    scheduler = build_scheduler(redis_connection())
    enqueued = scheduler.enqueue_jobs()
    assert sorted(job.func.__name__ for job in enqueued) == [
        "enqueue_due_syncs",
        "keep_connections_alive",
    ]
    assert get_queue("default").count == 2


def test_only_one_scheduler_holds_the_lock(app, redis_conn):
    first = redis_connection().lock(LOCK_NAME, timeout=30)
    second = redis_connection().lock(LOCK_NAME, timeout=30)
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)
    first.release()
    assert second.acquire(blocking=False)


def test_rotate_token_key_reencrypts_with_the_new_key(connected, app, db, runner):
    _portal, connection = connected
    old_key = app.config["TOKEN_ENCRYPTION_KEY"]
    new_key = Fernet.generate_key().decode()
    app.config["TOKEN_ENCRYPTION_KEY"] = f"{new_key},{old_key}"
    result = runner.invoke(args=["rotate-token-key"])
    assert "1 connection" in result.output
    app.config["TOKEN_ENCRYPTION_KEY"] = new_key  # the old key is gone now
    db.session.expire_all()
    stored = db.session.get(ExactConnection, connection.id).tokens_encrypted
    assert "access_token" in decrypt(stored)
