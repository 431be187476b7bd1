"""Dossier sync against the sandbox with a real RQ worker and real Redis."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import modules
from portal.exact import sync
from portal.exact.scheduling import enqueue_sync, sync_job_id
from portal.models import ExactRecord, SyncState
from tests.exact.portal_helpers import control
from tests.exact.sync.conftest import DIVISION
from tests.exact.sync_helpers import (
    after_first_page,
    portal_ids,
    run_sync_queue,
    sandbox_ids,
    sync_runs,
)


def test_activation_queues_an_initial_sync_that_brings_everything_in(dossier, db, exact_sandbox):
    from portal.queue import get_queue

    assert sync_job_id(dossier["account_id"]) in get_queue("sync-now").job_ids  # interactive
    run_sync_queue()
    assert portal_ids(dossier["account_id"]) == sandbox_ids(exact_sandbox, DIVISION)
    run = sync_runs(dossier["account_id"])[-1]
    assert run.status == "succeeded" and run.trigger == "initial"
    assert run.stats["transaction_lines"]["in"] == 2500
    assert run.api_calls >= 14  # 1 division + 3 TL pages + lists + deleted
    record = db.session.scalar(select(ExactRecord).where(ExactRecord.entity == "gl_accounts"))
    assert record.data["BalanceType"] in ("B", "W") and record.code


def test_a_second_run_is_incremental_and_idempotent(dossier, db, exact_sandbox):
    run_sync_queue()
    count = db.session.scalar(select(func.count()).select_from(ExactRecord))
    enqueue_sync(dossier["account_id"], "manual")
    run_sync_queue()
    run = sync_runs(dossier["account_id"])[-1]
    assert run.status == "succeeded"
    assert db.session.scalar(select(func.count()).select_from(ExactRecord)) == count
    assert all(s["in"] == 0 and s["changed"] == 0 for s in run.stats.values())


def test_changes_and_deletions_in_exact_arrive(dossier, db, exact_sandbox):
    run_sync_queue()
    ids = sandbox_ids(exact_sandbox, DIVISION)
    gl_key = sorted(ids["gl_accounts"])[0]
    account_key = sorted(ids["accounts"])[0]
    center_key = sorted(ids["cost_centers"])[0]
    control(
        exact_sandbox,
        "PATCH",
        f"divisions/{DIVISION}/records/GLAccounts/{gl_key}",
        fields={"Description": "Omzet gewijzigd"},
    )
    control(exact_sandbox, "DELETE", f"divisions/{DIVISION}/records/Accounts/{account_key}")
    control(exact_sandbox, "DELETE", f"divisions/{DIVISION}/records/Costcenters/{center_key}")
    added = control(
        exact_sandbox,
        "POST",
        f"divisions/{DIVISION}/records/Costunits",
        fields={"Code": "NEW1", "Description": "Nieuwe kostendrager"},
    )
    enqueue_sync(dossier["account_id"], "manual")
    run_sync_queue()
    assert portal_ids(dossier["account_id"]) == sandbox_ids(exact_sandbox, DIVISION)
    gl = db.session.scalar(select(ExactRecord).where(ExactRecord.exact_id == gl_key))
    assert gl.description == "Omzet gewijzigd"
    gone = db.session.scalar(select(ExactRecord).where(ExactRecord.exact_id == account_key))
    assert gone.deleted_at is not None  # kept, marked deleted
    assert (
        db.session.scalar(select(ExactRecord).where(ExactRecord.exact_id == center_key)).deleted_at
        is not None
    )
    stats = sync_runs(dossier["account_id"])[-1].stats
    assert stats["gl_accounts"]["changed"] == 1 and stats["accounts"]["deleted"] == 1
    assert stats["cost_centers"]["deleted"] == 1 and stats["cost_units"]["in"] == 1
    assert added["ID"] in portal_ids(dossier["account_id"])["cost_units"]


def test_a_moved_division_is_synced_again_from_the_start(dossier, db, exact_sandbox):
    run_sync_queue()
    control(exact_sandbox, "POST", f"divisions/{DIVISION}/move")
    enqueue_sync(dossier["account_id"], "manual")
    run_sync_queue()
    run = sync_runs(dossier["account_id"])[-1]
    assert run.status == "succeeded"
    # every row came again (new Timestamps), none was duplicated
    assert run.stats["transaction_lines"] == {"in": 0, "changed": 2500, "deleted": 0}
    state = db.session.scalar(select(SyncState))
    assert state.division_move_date is not None
    assert portal_ids(dossier["account_id"]) == sandbox_ids(exact_sandbox, DIVISION)


def test_revoking_portal_access_stops_queued_and_future_runs(dossier, db, client, login):
    from portal.clients.access import revoke_portal_access
    from portal.queue import get_queue

    revoke_portal_access(dossier["client"], dossier["client_owner"])
    db.session.commit()
    for name in ("sync-now", "sync"):
        assert sync_job_id(dossier["account_id"]) not in get_queue(name).job_ids
    with pytest.raises(sync.SyncStopped):
        sync.eligible_link(dossier["account_id"])


def test_switching_the_module_off_stops_the_sync(dossier, db):
    modules.set_enabled(dossier["portal"], "exact_online", False)
    db.session.commit()
    run_sync_queue()
    state = db.session.scalar(select(SyncState))
    assert state.last_status == "stopped" and "module" in state.last_error
    assert db.session.scalar(select(func.count()).select_from(ExactRecord)) == 0


def test_rows_deleted_in_exact_between_pages(dossier, db, exact_sandbox, monkeypatch):
    """Deletions made while the run is paging (on a stored page and on a page still to come)
    are in the portal at the end of the same run."""
    ids = sorted(sandbox_ids(exact_sandbox, DIVISION)["transaction_lines"])
    deleted = []

    def delete_ids():
        for key in (ids[0], ids[-1]):
            control(exact_sandbox, "DELETE", f"divisions/{DIVISION}/records/TransactionLines/{key}")
            deleted.append(key)

    after_first_page(monkeypatch, "transaction_lines", delete_ids)
    run_sync_queue()
    assert len(deleted) == 2
    assert portal_ids(dossier["account_id"]) == sandbox_ids(exact_sandbox, DIVISION)
    assert not set(deleted) & portal_ids(dossier["account_id"])["transaction_lines"]


def test_an_overwritten_link_syncs_the_new_division_and_retires_the_old_rows(
    dossier, db, client, exact_sandbox
):
    run_sync_queue()
    old_ids = set().union(*portal_ids(dossier["account_id"]).values())
    client.post(
        f"/a/{dossier['portal_id']}/exact/clients/{dossier['account_id']}/activate",
        data={"division": 3001102, "overwrite": "1", "confirm": "1"},
    )
    run_sync_queue()
    assert portal_ids(dossier["account_id"]) == sandbox_ids(exact_sandbox, 3001102)
    # the old division's rows are kept as the previous administration, never "deleted"
    old_rows = db.session.scalars(
        select(ExactRecord).where(ExactRecord.division_code == DIVISION)
    ).all()
    assert {row.exact_id for row in old_rows} == old_ids
    assert all(row.retired_at is not None and row.deleted_at is None for row in old_rows)
