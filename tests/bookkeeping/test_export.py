"""The export run against the Exact sandbox (real HTTP): what each item becomes, the minimum
calls, never a second entry, "seen in Exact" after the next sync.

The helpers here are shared with ``test_export_faults.py``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal import clock
from portal.bookkeeping import after_sync, entries, export
from portal.bookkeeping.formats import FileType
from portal.bookkeeping.masterdata import GENERAL_JOURNAL, PURCHASE_JOURNAL, MasterData
from portal.exact import sync
from portal.extensions import db
from portal.models import (
    Account,
    BookItem,
    BookkeepingSettings,
    ExportRun,
    ItemKind,
    ItemStatus,
    RunStatus,
    SyncRun,
    Trigger,
)
from tests.exact.portal_helpers import activated_dossier
from tests.exact.sync_helpers import run_sync_queue
from tests.factories import make_item

DIVISION = 3001101
ENTRY_TABLES = ("PurchaseEntries", "GeneralJournalEntries")


@pytest.fixture
def exact_sandbox_config():
    """Roomy limits: the tests that need Exact's limits arm them as faults."""
    return {"limits": {"minutely": 10000, "daily": 100000}}


@pytest.fixture
def dossier(exact_app, db, login, client, exact_sandbox):
    """A client dossier activated on the sandbox's division, its master data synced."""
    found = activated_dossier(db, client, login, exact_sandbox, DIVISION)
    found["owner_id"] = found["owner"].id
    run_sync_queue()  # the first import (the job ends its session: objects by id again)
    found["client"] = db.session.get(Account, found["account_id"])
    found["codes"] = master_codes(found["client"])
    return found


def master_codes(account) -> dict:
    """Codes of the sandbox's own master data, as synced."""
    master = MasterData.of(account)
    suppliers = [o for o in master.all("accounts") if o.data.get("IsSupplier") and not o.blocked]
    costs = [o for o in master.gl_accounts() if o.data.get("BalanceType") == "W"]
    balance = [o for o in master.gl_accounts() if o.data.get("BalanceType") == "B"]
    vat = "4"  # the NL chart's "Inkopen hoog 21%"
    assert len(suppliers) >= 2 and costs and balance
    assert master.vat_percentage(vat) == Decimal("0.21")
    return {
        "suppliers": [o.code for o in suppliers],
        "gl": costs[0].code,
        "employee_gl": balance[0].code,
        "vat": vat,
        "purchase_journal": master.journals(PURCHASE_JOURNAL)[0].code,
        "general_journal": master.journals(GENERAL_JOURNAL)[0].code,
    }


_files = iter(range(10**6))


def receipt(dossier, *, file: bool = False, supplier: int = 0, kind=ItemKind.RECEIPT, **fields):
    """An item requested for export (EXPORTING), prepared with the sandbox's codes."""
    from portal.bookkeeping.files import store_checked

    codes, account = dossier["codes"], dossier["client"]
    today = clock.now().date()
    n = next(_files)
    stored = None
    if file:
        data = b"%PDF-1.4\n% receipt " + str(n).encode() + b"\n%%EOF\n"
        stored = store_checked(account, None, f"bon-{n}.pdf", data, FileType.PDF)
    values = {
        "kind": kind,
        "status": ItemStatus.EXPORTING,
        "supplier_name": f"Leverancier {n}",
        "supplier_code": codes["suppliers"][supplier],
        "invoice_number": f"F-{n}",
        "journal_code": codes["purchase_journal"],
        "entry_date": today,
        "document_date": today,
        "due_date": today + timedelta(days=30),
        "amount": Decimal("121.00"),
        "export_requested_at": clock.now(),
        "export_requested_by_id": dossier["owner_id"],
        "file_id": stored.id if stored else None,
        "lines": [
            {
                "gl_account_code": codes["gl"],
                "vat_code": codes["vat"],
                "vat_percentage": Decimal("0.21"),
                "amount_excl": Decimal("100.00"),
                "vat_amount": Decimal("21.00"),
                "description": "Meel",
            }
        ],
    }
    values.update(fields)
    item = make_item(account, **values)
    db.session.commit()
    return item


def booked(sandbox, item: BookItem) -> list[dict]:
    """The sandbox's entries carrying the item's Description (ours: one, or none): a purchase
    entry's own, a general journal entry's on a line (Exact's header has none)."""
    wanted = entries.description(item)
    with sandbox.state.lock:
        data = sandbox.state.data(DIVISION)
        return [
            dict(row)
            for table in ENTRY_TABLES
            for _index, row in data.tables[table].iter_from()
            if wanted in _descriptions(row)
        ]


def _descriptions(row: dict) -> list:
    lines = row.get("GeneralJournalEntryLines") or []
    return [row.get("Description"), *(line.get("Description") for line in lines)]


def sandbox_rows(sandbox, table: str) -> list[dict]:
    with sandbox.state.lock:
        return [dict(row) for _i, row in sandbox.state.data(DIVISION).tables[table].iter_from()]


def fresh(item: BookItem) -> BookItem:
    db.session.expire_all()
    return db.session.get(BookItem, item.id)


def runs(account_id: int) -> list[ExportRun]:
    db.session.expire_all()
    return db.session.scalars(
        select(ExportRun).where(ExportRun.account_id == account_id).order_by(ExportRun.id)
    ).all()


def assert_exported_once(sandbox, item: BookItem) -> BookItem:
    item = fresh(item)
    assert item.status == ItemStatus.EXPORTED, item.export_error_text
    found = booked(sandbox, item)
    assert len(found) == 1
    assert str(found[0]["EntryID"]) == item.exact_entry_id and item.exact_entry_number
    return item


def assert_not_booked(sandbox, item: BookItem) -> BookItem:
    item = fresh(item)
    assert item.status == ItemStatus.FAILED and item.export_error
    assert booked(sandbox, item) == []
    return item


# --- the tests ----------------------------------------------------------------------------------


def test_a_batch_of_receipts_and_an_e_invoice_with_the_minimum_calls(dossier, exact_sandbox):
    with_file = receipt(dossier, file=True)
    without = receipt(dossier, supplier=1)
    einvoice = receipt(dossier, file=True, kind=ItemKind.EINVOICE)

    run = export.run_export(dossier["account_id"])

    assert (run.status, run.items_exported, run.items_failed) == (RunStatus.SUCCEEDED, 3, 0)
    # the division check, then 3 calls per item with a file (document, attachment, entry), 1
    # without
    assert run.api_calls == 1 + 3 + 1 + 3
    documents = {row["ID"]: row for row in sandbox_rows(exact_sandbox, "Documents")}
    attachments = sandbox_rows(exact_sandbox, "DocumentAttachments")
    for item in (with_file, einvoice):
        item = assert_exported_once(exact_sandbox, item)
        entry = booked(exact_sandbox, item)[0]
        assert entry["Document"] == item.exact_document_id
        assert documents[item.exact_document_id]["Subject"].startswith(item.export_reference)
        assert [a["ID"] for a in attachments if a["Document"] == item.exact_document_id] == [
            item.exact_attachment_id
        ]
        assert item.exported_by_id == dossier["owner_id"] and item.exported_at
    plain = assert_exported_once(exact_sandbox, without)
    assert plain.exact_document_id is None and plain.export_attempts == 1
    assert plain.export_run_id == run.id

    # a second run finds nothing to do and sends nothing again
    again = export.run_export(dossier["account_id"])
    assert again.items_exported == 0 and again.status == RunStatus.SUCCEEDED
    assert all(len(booked(exact_sandbox, i)) == 1 for i in (with_file, without, einvoice))


def claim(dossier) -> BookItem:
    """An approved expense claim of two lines, ready to export (a general journal entry)."""
    codes = dossier["codes"]
    db.session.add(
        BookkeepingSettings(
            account_id=dossier["account_id"],
            mileage_rate=Decimal("0.23"),
            employee_gl_account_code=codes["employee_gl"],
        )
    )
    return receipt(
        dossier,
        kind=ItemKind.CLAIM,
        journal_code=codes["general_journal"],
        supplier_code=None,
        supplier_name=None,
        invoice_number=None,
        amount=Decimal("151.00"),
        source={"claim_id": 1, "title": "Beurs Utrecht", "employee_name": "Piet Bakker"},
        lines=[
            {
                "gl_account_code": codes["gl"],
                "vat_code": codes["vat"],
                "vat_percentage": Decimal("0.21"),
                "amount_excl": Decimal("100.00"),
                "vat_amount": Decimal("21.00"),
            },
            {
                "gl_account_code": codes["gl"],
                "vat_code": codes["vat"],
                "vat_percentage": Decimal("0.21"),
                "amount_excl": Decimal("24.79"),
                "vat_amount": Decimal("5.21"),
            },
        ],
    )


def test_an_approved_claim_is_one_balanced_general_journal_entry(dossier, exact_sandbox):
    codes = dossier["codes"]
    claim_item = claim(dossier)

    run = export.run_export(dossier["account_id"])

    assert (run.items_exported, run.items_failed, run.api_calls) == (1, 0, 2)
    item = assert_exported_once(exact_sandbox, claim_item)
    entry = booked(exact_sandbox, item)[0]
    assert entry["JournalCode"] == codes["general_journal"]
    assert "Piet Bakker" in entry["GeneralJournalEntryLines"][-1]["Description"]
    assert sandbox_rows(exact_sandbox, "PurchaseEntries") == []


def test_an_item_no_longer_valid_fails_with_its_problem_and_sends_nothing(dossier, exact_sandbox):
    gone = receipt(dossier)
    gone.lines[0].gl_account_code = "999999"
    db.session.commit()

    run = export.run_export(dossier["account_id"])

    assert (run.status, run.items_exported, run.items_failed) == (RunStatus.SUCCEEDED, 0, 1)
    assert run.api_calls == 1  # the division check only
    item = assert_not_booked(exact_sandbox, gone)
    assert "999999" in item.export_error_text
    assert item.export_error_field == "lines-0-gl_account_code"
    assert item in db.session.scalars(export.queue_items(dossier["account_id"])).all()


def test_stale_master_data_is_synced_first_in_the_same_job(dossier, exact_sandbox, exact_app):
    exact_app.config["EXPORT_MAX_MASTER_DATA_AGE"] = 0
    item = receipt(dossier)
    syncs_before = len(db.session.scalars(select(SyncRun)).all())

    run = export.run_export(dossier["account_id"])

    assert run.status == RunStatus.SUCCEEDED
    db.session.expire_all()
    synced = db.session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
    assert len(synced) == syncs_before + 1 and synced[-1].status == RunStatus.SUCCEEDED
    assert_exported_once(exact_sandbox, item)


def test_the_next_sync_marks_exported_items_seen_in_exact(dossier, exact_sandbox):
    item = receipt(dossier)
    waiting = receipt(dossier, status=ItemStatus.READY)
    export.run_export(dossier["account_id"])
    assert fresh(item).seen_in_exact_at is None

    sync.run_sync(dossier["account_id"], Trigger.MANUAL)
    after_sync.after_sync(dossier["account_id"])

    assert fresh(item).seen_in_exact_at is not None
    assert fresh(waiting).seen_in_exact_at is None


def test_the_job_exports_and_the_audit_says_so(dossier, exact_sandbox):
    from rq import SimpleWorker

    from portal.models import AuditEvent
    from portal.queue import get_queue, redis_connection

    item_id = receipt(dossier).id
    assert export.enqueue_export(dossier["account_id"])
    assert not export.enqueue_export(dossier["account_id"])  # one job per dossier
    SimpleWorker([get_queue(export.EXPORT_QUEUE)], connection=redis_connection()).work(burst=True)

    assert_exported_once(exact_sandbox, db.session.get(BookItem, item_id))
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "bookkeeping.exported")
    ).one()
    assert event.details["items"] == 1 and event.details["failed"] == 0
    assert export.enqueue_export(dossier["account_id"])  # the finished job left its id free
