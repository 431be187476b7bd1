"""The connection status follows Exact's last real answer, and what follows from it: a refused
fresh token marks the connection at once, a reconnect starts the dossiers it unblocked (their
stale error gone), and a client reads that it is the office's connection that needs attention.
"""

from __future__ import annotations

import pytest
from exact_sandbox.testing import DEMO_CLIENT_ID
from rq.job import Job, JobStatus
from sqlalchemy import select

from portal.exact.scheduling import sync_job_id
from portal.models import ConnectionStatus, ExactConnection, RunStatus, SyncRun, SyncState
from portal.queue import get_queue, redis_connection
from tests.exact.portal_helpers import activated_dossier, connect, control
from tests.exact.sync_helpers import run_sync_queue

DIVISION = 3001101


@pytest.fixture
def dossier(exact_app, db, login, client, exact_sandbox):
    """A portal client whose division is activated and imported through the portal's
    connection; the portal's owner is logged in."""
    dossier = activated_dossier(db, client, login, exact_sandbox, DIVISION)
    run_sync_queue()
    return dossier


def _revoke(sandbox) -> None:
    control(sandbox, "POST", "consents/revoke", client_id=DEMO_CLIENT_ID, username="accountant")


def _connection(db) -> ExactConnection:
    db.session.expire_all()
    return db.session.scalar(select(ExactConnection))


def _state(db, account_id) -> SyncState:
    db.session.expire_all()
    return db.session.scalar(select(SyncState).where(SyncState.account_id == account_id))


def _last_run(db, account_id) -> SyncRun:
    db.session.expire_all()
    return db.session.scalars(
        select(SyncRun).where(SyncRun.account_id == account_id).order_by(SyncRun.id.desc())
    ).first()


def test_a_revoked_consent_shows_at_the_first_refused_call(dossier, db, client, exact_sandbox):
    """No clock moves: the access token is minutes old, too young to refresh; before, the page
    said "connected" until the next refresh, ten minutes later, while every call failed."""
    portal_id = dossier["portal_id"]
    assert _connection(db).status == ConnectionStatus.CONNECTED
    _revoke(exact_sandbox)
    response = client.post(f"/a/{portal_id}/exact/divisions/refresh", follow_redirects=True)
    assert b"connect it again" in response.data
    connection = _connection(db)
    assert connection.status == ConnectionStatus.NEEDS_REAUTHORIZATION
    assert "consent" in connection.status_reason  # a reason in words
    page = client.get(f"/a/{portal_id}/exact/").get_data(as_text=True)
    assert "needs re-authorisation" in page and ">connected<" not in page
    assert "consent for this app was withdrawn" in page
    # the office's admins are told at once, not at the next keep-alive round hours later
    assert "portal.jobs.exact.alert_broken" in [
        job.func_name for job in get_queue("default").get_jobs()
    ]


def test_a_sync_after_a_revoked_consent_marks_the_connection_and_does_not_retry(
    dossier, db, exact_sandbox
):
    account_id = dossier["account_id"]
    _revoke(exact_sandbox)
    get_queue("sync").enqueue(
        "portal.jobs.sync.sync_dossier", account_id, "manual", job_id=sync_job_id(account_id)
    )
    run_sync_queue()
    run = _last_run(db, account_id)
    assert run.status == RunStatus.FAILED and "connect it again" in run.error
    assert _connection(db).status == ConnectionStatus.NEEDS_REAUTHORIZATION
    assert get_queue("sync").scheduled_job_registry.get_job_ids() == []


def test_reconnect_requeues_the_dossiers_it_unblocks_and_clears_their_stale_error(
    dossier, db, client, exact_sandbox
):
    account_id = dossier["account_id"]
    _revoke(exact_sandbox)
    client.post(f"/a/{dossier['portal_id']}/exact/divisions/refresh")
    get_queue("sync").enqueue(
        "portal.jobs.sync.sync_dossier", account_id, "manual", job_id=sync_job_id(account_id)
    )
    run_sync_queue()
    assert _state(db, account_id).last_status == RunStatus.STOPPED
    assert _state(db, account_id).last_error
    connect(client, exact_sandbox, dossier["portal_id"])  # a new consent
    assert _connection(db).status == ConnectionStatus.CONNECTED
    state = _state(db, account_id)
    assert state.last_status is None and state.last_error is None
    job = Job.fetch(sync_job_id(account_id), connection=redis_connection())
    assert job.get_status() == JobStatus.QUEUED
    sync_page = client.get(f"/a/{account_id}/sync/").get_data(as_text=True)
    assert 'data-testid="last-error"' not in sync_page
    run_sync_queue()
    run = _last_run(db, account_id)
    assert run.status == RunStatus.SUCCEEDED and run.trigger == "resume"


def test_the_client_reads_that_the_office_connection_needs_attention(
    dossier, db, client, login, exact_sandbox
):
    from portal import modules
    from portal.models import Account, Membership, User

    _revoke(exact_sandbox)
    client.post(f"/a/{dossier['portal_id']}/exact/divisions/refresh")
    client_account = db.session.get(Account, dossier["account_id"])
    modules.set_enabled(client_account, "exact_online", True)
    db.session.commit()
    login(
        db.session.scalar(
            select(User).join(Membership).where(Membership.account_id == client_account.id)
        )
    )
    notice = (
        "The Exact Online connection of Kantoor Portaal needs attention; Kantoor Portaal has "
        "been notified."
    )
    sync_page = client.get(f"/a/{client_account.id}/sync/").get_data(as_text=True)
    assert notice in sync_page
    assert "needs to be connected again" not in sync_page
    exact_page = client.get(f"/a/{client_account.id}/exact/").get_data(as_text=True)
    assert notice in exact_page and 'data-testid="office-connection"' in exact_page
