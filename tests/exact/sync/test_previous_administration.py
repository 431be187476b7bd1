"""Rows belong to a (client, division): after an Overwrite to another division the old rows are
kept as *previous administration* (never "deleted in Exact"), can be purged by an admin, and
each run in the history names its division."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.exact import sync
from portal.exact.entities import ENTITIES, ENTITY_BY_KEY
from portal.models import AuditEvent, ExactRecord, Role, SyncRun
from tests.exact.sync.conftest import DIVISION
from tests.exact.sync_helpers import portal_ids, run_sync_queue, sandbox_ids
from tests.factories import add_member, make_user

OTHER = 3001102


def _overwrite(client, dossier, division: int):
    response = client.post(
        f"/a/{dossier['portal_id']}/exact/clients/{dossier['account_id']}/activate",
        data={"division": division, "overwrite": "1", "confirm": "1"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _rows(db, account_id, *where):
    db.session.expire_all()
    return db.session.scalar(
        select(func.count())
        .select_from(ExactRecord)
        .where(ExactRecord.account_id == account_id, *where)
    )


def _page_counts(client, account_id) -> dict[str, int]:
    page = client.get(f"/a/{account_id}/sync/").get_data(as_text=True)
    return {
        key: int(number)
        for key, number in re.findall(r'data-testid="count-([a-z_]+)">(\d+)<', page)
    }


def _previous_note(client, account_id) -> str:
    page = client.get(f"/a/{account_id}/sync/").get_data(as_text=True)
    found = re.search(r'data-testid="previous-administration".*?</section>', page, re.S)
    return found.group(0) if found else ""


def _synced_then_overwritten(client, dossier):
    run_sync_queue()
    _overwrite(client, dossier, OTHER)
    run_sync_queue()


def test_the_old_division_is_not_shown_as_deleted_in_exact(dossier, db, client, exact_sandbox):
    run_sync_queue()
    old_suppliers = {
        r.description
        for r in db.session.scalars(select(ExactRecord).where(ExactRecord.entity == "accounts"))
    }
    _overwrite(client, dossier, OTHER)
    run_sync_queue()
    new_suppliers = {
        r.description
        for r in db.session.scalars(
            select(ExactRecord).where(
                ExactRecord.entity == "accounts", ExactRecord.division_code == OTHER
            )
        )
    }
    page = client.get(
        f"/a/{dossier['account_id']}/sync/data/accounts", query_string={"deleted": "1"}
    ).get_data(as_text=True)
    assert 'data-testid="deleted-row"' not in page
    only_old = sorted(d for d in old_suppliers - new_suppliers if d)
    assert only_old and not any(name in page for name in only_old)
    # nothing of the old division was marked deleted in Exact
    assert _rows(db, dossier["account_id"], ExactRecord.deleted_at.is_not(None)) == 0


def test_rows_carry_their_division_and_the_pages_count_the_current_one(
    dossier, db, client, exact_sandbox
):
    run_sync_queue()
    old_total = _rows(db, dossier["account_id"])
    assert _rows(db, dossier["account_id"], ExactRecord.division_code == DIVISION) == old_total
    _overwrite(client, dossier, OTHER)
    run_sync_queue()
    assert portal_ids(dossier["account_id"]) == sandbox_ids(exact_sandbox, OTHER)
    expected = {key: len(ids) for key, ids in sandbox_ids(exact_sandbox, OTHER).items()}
    assert _page_counts(client, dossier["account_id"]) == expected
    retired = _rows(
        db,
        dossier["account_id"],
        ExactRecord.division_code == DIVISION,
        ExactRecord.retired_at.is_not(None),
    )
    assert retired == old_total
    note = _previous_note(client, dossier["account_id"])
    assert f"{old_total:,}".replace(",", "") in note.replace(",", "").replace(".", "")
    assert str(DIVISION) in note


def test_history_rows_name_their_division(dossier, db, client, exact_sandbox):
    _synced_then_overwritten(client, dossier)
    page = client.get(f"/a/{dossier['account_id']}/sync/").get_data(as_text=True)
    divisions = re.findall(r'data-testid="run-division">(\d+)<', page)
    assert divisions == [str(OTHER), str(DIVISION)]


def test_an_admin_purges_the_previous_administration(dossier, db, client, exact_sandbox):
    _synced_then_overwritten(client, dossier)
    account_id = dossier["account_id"]
    current = _rows(db, account_id, ExactRecord.retired_at.is_(None))
    url = f"/a/{account_id}/sync/previous/purge"
    assert 'action="' + url + '"' in _previous_note(client, account_id)
    client.post(url)  # not confirmed: nothing happens
    assert _rows(db, account_id, ExactRecord.retired_at.is_not(None)) > 0
    response = client.post(url, data={"confirm": "1"})
    assert response.status_code == 302
    assert _rows(db, account_id, ExactRecord.retired_at.is_not(None)) == 0
    assert _rows(db, account_id) == current  # the current division's rows stay
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "sync.previous_administration_purged")
    )
    assert event is not None and event.account_id == account_id
    assert _previous_note(client, account_id) == ""


def test_a_bookkeeper_may_not_purge(dossier, db, client, login, exact_sandbox):
    _synced_then_overwritten(client, dossier)
    account_id = dossier["account_id"]
    retired = _rows(db, account_id, ExactRecord.retired_at.is_not(None))
    bookkeeper = make_user()
    add_member(dossier["client"], bookkeeper, Role.BOOKKEEPER)
    db.session.commit()
    client.post("/logout")
    login(bookkeeper)
    assert "previous/purge" not in _previous_note(client, account_id)
    response = client.post(f"/a/{account_id}/sync/previous/purge", data={"confirm": "1"})
    assert response.status_code == 403
    assert _rows(db, account_id, ExactRecord.retired_at.is_not(None)) == retired


def test_moving_back_shows_nothing_old_until_a_full_resync(dossier, db, client, exact_sandbox):
    _synced_then_overwritten(client, dossier)
    account_id = dossier["account_id"]
    _overwrite(client, dossier, DIVISION)  # back, queued but not yet synced
    counts = _page_counts(client, account_id)
    assert set(counts.values()) == {0}
    page = client.get(f"/a/{account_id}/sync/data/accounts", query_string={"deleted": "1"})
    assert 'data-testid="deleted-row"' not in page.get_data(as_text=True)
    run_sync_queue()
    assert portal_ids(account_id) == sandbox_ids(exact_sandbox, DIVISION)
    expected = {key: len(ids) for key, ids in sandbox_ids(exact_sandbox, DIVISION).items()}
    assert _page_counts(client, account_id) == expected
    # the 3001102 rows are now the previous administration, the 3001101 ones current again
    assert (
        _rows(db, account_id, ExactRecord.division_code == OTHER, ExactRecord.retired_at.is_(None))
        == 0
    )
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.division_code == DIVISION and run.status == "succeeded"
    assert run.stats["transaction_lines"]["in"] == 0  # revived, not duplicated


def test_the_same_exact_id_in_two_divisions_is_two_rows(dossier, db):
    entity = ENTITY_BY_KEY["cost_units"]
    row = {"ID": "00000000-0000-0000-0000-0000000000aa", "Code": "K1", "Description": "Eén"}
    assert sync.upsert_rows(dossier["account_id"], DIVISION, entity, [row]) == (1, 0)
    assert sync.upsert_rows(dossier["account_id"], OTHER, entity, [row]) == (1, 0)
    assert sync.upsert_rows(dossier["account_id"], OTHER, entity, [row]) == (0, 0)
    db.session.commit()
    assert {
        r.division_code
        for r in db.session.scalars(select(ExactRecord).where(ExactRecord.exact_id == row["ID"]))
    } == {DIVISION, OTHER}
    assert ENTITIES  # the entity list is what the sync walks
