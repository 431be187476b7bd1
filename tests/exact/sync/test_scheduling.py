"""Scheduling: the periodic fan-out, the stagger, one job per dossier, the daily budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.exact.scheduling import enqueue_sync, stagger_seconds, sync_job_id
from portal.jobs.sync import enqueue_due_syncs
from portal.models import SyncState
from portal.queue import get_queue
from tests.exact.sync_helpers import run_sync_queue


def test_one_job_per_dossier(dossier, db):
    queue = get_queue("sync-now")  # Activate's first import and Sync now: interactive
    assert queue.job_ids == [sync_job_id(dossier["account_id"])]  # the initial sync
    assert enqueue_sync(dossier["account_id"], "manual") is False  # already queued
    run_sync_queue()
    assert enqueue_sync(dossier["account_id"], "manual") is True  # free again once done
    assert queue.job_ids == [sync_job_id(dossier["account_id"])]


def test_the_first_scheduled_run_is_an_interval_after_the_initial_import(dossier, db):
    run_sync_queue()  # the initial import that Activate queued
    state = db.session.scalar(select(SyncState))
    db.session.refresh(state)
    wait = (state.next_run_at - datetime.now(UTC)).total_seconds()
    expected = state.interval_minutes * 60 + stagger_seconds(dossier["account_id"], 240)
    assert abs(wait - expected) < 30
    assert enqueue_due_syncs() == 0  # not a minute later
    assert get_queue("sync").count == 0


def test_a_linked_dossier_never_run_is_due_at_once(dossier, db):
    get_queue("sync-now").empty()  # the initial import got lost (Redis flushed)
    assert db.session.scalar(select(SyncState)) is None
    assert enqueue_due_syncs() == 1


def test_the_fan_out_queues_due_dossiers_once_and_schedules_the_next_run(dossier, db):
    run_sync_queue()
    state = db.session.scalar(select(SyncState))
    state.next_run_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert enqueue_due_syncs() == 1  # due now
    state = db.session.scalar(select(SyncState))
    db.session.refresh(state)
    wait = (state.next_run_at - datetime.now(UTC)).total_seconds()
    expected = state.interval_minutes * 60 + stagger_seconds(dossier["account_id"], 240)
    assert abs(wait - expected) < 30
    run_sync_queue()
    assert enqueue_due_syncs() == 0  # not due again until next_run_at


def test_the_fan_out_skips_dossiers_that_may_not_sync(dossier, db):
    from portal import modules

    modules.set_enabled(dossier["portal"], "exact_online", False)
    db.session.commit()
    get_queue("sync").empty()
    assert enqueue_due_syncs() == 0
    assert get_queue("sync").count == 0


def test_the_stagger_spreads_a_portals_clients_over_the_interval():
    offsets = [stagger_seconds(account_id, 240) for account_id in range(1, 201)]
    assert all(0 <= o < 240 * 60 // 4 for o in offsets)
    minutes = {o // 60 for o in offsets}
    assert len(minutes) >= 50  # 200 clients do not start in the same few minutes
