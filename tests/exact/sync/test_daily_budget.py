"""A dossier whose daily API budget is spent waits for the UTC reset, and says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.jobs.sync import enqueue_due_syncs
from portal.models import SyncRun, SyncState
from tests.exact.sync_helpers import run_sync_queue


@pytest.fixture
def exact_sandbox_config():
    """A division whose daily budget is nearly spent."""
    return {"limits": {"minutely": 10000, "daily": 6}}


def test_a_spent_daily_budget_moves_the_next_run_after_the_utc_reset(dossier, db):
    run_sync_queue()
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == "waiting" and "daily limit" in run.error
    state = db.session.scalar(select(SyncState))
    db.session.refresh(state)
    tomorrow = datetime.now(UTC).date().toordinal() + 1
    assert state.next_run_at.date().toordinal() == tomorrow
    assert state.next_run_at.hour == 0 and state.waiting_until == state.next_run_at
    assert enqueue_due_syncs() == 0  # the fan-out waits for the reset
