"""The sync's store path: one INSERT ... ON CONFLICT DO UPDATE per page, on the dialect in use
(SQLite here; PostgreSQL with TEST_DATABASE_URL), with the semantics the sync relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.exact import sync
from portal.exact.entities import ENTITY_BY_KEY
from portal.extensions import db as database
from portal.models import ExactRecord
from tests.factories import make_account
from tests.helpers import sql_statements

DIVISION = 3001101
LINES = ENTITY_BY_KEY["transaction_lines"]


def _line(number: int, **fields) -> dict:
    return {
        "ID": f"00000000-0000-0000-0000-{number:012d}",
        "Timestamp": 1000 + number,
        "Description": f"Regel {number} – één",
        "AmountDC": number / 4,
        "GLAccountCode": "8000",
        **fields,
    }


@pytest.fixture
def account_id(db) -> int:
    account = make_account()
    db.session.commit()
    return account.id


def _upsert(account_id: int, rows: list[dict]) -> tuple[int, int]:
    result = sync.upsert_rows(account_id, DIVISION, LINES, rows)
    database.session.commit()
    return result


def _stored(db, account_id: int) -> dict[str, ExactRecord]:
    db.session.expire_all()
    records = db.session.scalars(select(ExactRecord).where(ExactRecord.account_id == account_id))
    return {record.exact_id: record for record in records}


def test_new_rows_are_inserted_with_their_data_and_columns(db, account_id):
    rows = [_line(n) for n in range(3)]
    assert _upsert(account_id, rows) == (3, 0)
    stored = _stored(db, account_id)
    assert {exact_id: record.data for exact_id, record in stored.items()} == {
        row["ID"]: row for row in rows
    }
    record = stored[rows[1]["ID"]]
    assert (record.division_code, record.entity, record.row_timestamp) == (
        DIVISION,
        "transaction_lines",
        1001,
    )
    assert record.description == LINES.description(rows[1])
    assert record.synced_at is not None and record.deleted_at is record.retired_at is None


def test_an_unchanged_row_is_neither_counted_nor_written(db, account_id, portal_clock):
    rows = [_line(n) for n in range(3)]
    _upsert(account_id, rows)
    synced = {k: r.synced_at for k, r in _stored(db, account_id).items()}
    portal_clock.advance(3600)
    assert _upsert(account_id, [dict(row) for row in rows]) == (0, 0)
    assert {k: r.synced_at for k, r in _stored(db, account_id).items()} == synced


def test_a_changed_row_is_updated_and_counted_with_a_new_synced_at(db, account_id, portal_clock):
    rows = [_line(n) for n in range(3)]
    _upsert(account_id, rows)
    before = _stored(db, account_id)[rows[2]["ID"]].synced_at
    portal_clock.advance(3600)
    changed = _line(2, Description="Gewijzigd", Timestamp=5000)
    assert _upsert(account_id, [rows[0], changed, rows[1]]) == (0, 1)
    record = _stored(db, account_id)[changed["ID"]]
    assert record.data == changed and record.description == "Gewijzigd"
    assert record.row_timestamp == 5000
    assert record.synced_at - before >= timedelta(seconds=3500)


def test_new_and_changed_rows_on_one_page_are_told_apart(db, account_id):
    _upsert(account_id, [_line(n) for n in range(4)])
    page = [_line(n, AmountDC=99.5) for n in (1, 3)] + [_line(n) for n in (0, 2, 7, 8)]
    assert _upsert(account_id, page) == (2, 2)
    assert len(_stored(db, account_id)) == 6


def test_a_retired_or_deleted_row_sent_again_is_current_again(db, account_id):
    rows = [_line(n) for n in range(3)]
    _upsert(account_id, rows)
    stored = _stored(db, account_id)
    stored[rows[0]["ID"]].retired_at = clock.now()
    stored[rows[1]["ID"]].deleted_at = clock.now()
    db.session.commit()
    assert _upsert(account_id, rows) == (0, 2)
    assert all(
        r.retired_at is None and r.deleted_at is None for r in _stored(db, account_id).values()
    )


def test_a_row_twice_on_one_page_counts_once_with_its_later_version(db, account_id):
    first, later = _line(1), _line(1, Description="Later", Timestamp=2000)
    assert _upsert(account_id, [first, _line(2), later]) == (2, 0)
    assert _stored(db, account_id)[first["ID"]].data == later
    again = _line(1, Description="Nog later", Timestamp=3000)
    assert _upsert(account_id, [first, again, _line(2)]) == (0, 1)
    assert _stored(db, account_id)[first["ID"]].data == again


def test_rows_stored_through_the_json_type_compare_equal(db, account_id):
    """Rows written before this path (the ORM, SQLAlchemy's JSON encoding) are not rewritten."""
    row = _line(1, Notes='quotes " and \\ and ë', Nested={"b": [1, 2.5, None], "a": True})
    db.session.add(
        ExactRecord(
            account_id=account_id,
            division_code=DIVISION,
            entity=LINES.key,
            exact_id=row["ID"],
            data=row,
        )
    )
    db.session.commit()
    assert _upsert(account_id, [dict(row)]) == (0, 0)
    changed = {**row, "Nested": {"b": [1, 2.5, None], "a": False}}
    assert _upsert(account_id, [changed]) == (0, 1)
    assert _stored(db, account_id)[row["ID"]].data == changed


def test_the_same_id_in_another_entity_or_division_is_another_row(db, account_id):
    row = _line(1)
    assert _upsert(account_id, [row]) == (1, 0)
    assert sync.upsert_rows(account_id, DIVISION + 1, LINES, [row]) == (1, 0)
    assert sync.upsert_rows(account_id, DIVISION, ENTITY_BY_KEY["cost_units"], [row]) == (1, 0)
    db.session.commit()
    assert len(db.session.scalars(select(ExactRecord)).all()) == 3


@pytest.mark.parametrize("size", [10, sync.UPSERT_BATCH])
def test_a_page_is_one_read_and_one_write_whatever_its_size(db, account_id, size):
    """PostgreSQL tells inserts from updates in the write (xmax): no read at all there."""
    _upsert(account_id, [_line(n) for n in range(size // 2)])
    page = [_line(n, AmountDC=-1) for n in range(size)]  # half changed, half new
    with sql_statements(db.engine) as statements:
        assert sync.upsert_rows(account_id, DIVISION, LINES, page) == (size - size // 2, size // 2)
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0].upper()
    assert len(reads) == (0 if db.engine.dialect.name == "postgresql" else 1)
    assert len(statements) == len(writes) + len(reads)


def test_more_rows_than_a_batch_take_one_write_per_batch(db, account_id):
    rows = [_line(n) for n in range(sync.UPSERT_BATCH * 2 + 5)]
    with sql_statements(db.engine) as statements:
        assert _upsert(account_id, rows) == (len(rows), 0)
    assert sum(s.lstrip().upper().startswith("INSERT") for s in statements) == 3
    assert len(_stored(db, account_id)) == len(rows)


def test_a_nul_character_does_not_fail_the_page(db, account_id):
    """JSONB (PostgreSQL) refuses U+0000: dropped there; an escaped backslash stays as sent."""
    row = _line(1, Description="a\x00b", Notes="c\\u0000")
    assert _upsert(account_id, [row, _line(2)]) == (2, 0)
    data = _stored(db, account_id)[row["ID"]].data
    assert data["Notes"] == "c\\u0000"
    assert data["Description"] == ("ab" if db.engine.dialect.name == "postgresql" else "a\x00b")
