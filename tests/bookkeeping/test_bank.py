"""Importing bank and card statements: MT940 and camt.053, no duplicates, all or nothing."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.bookkeeping import bank
from portal.bookkeeping.formats import FormatError
from portal.extensions import db
from portal.models import (
    BankAccount,
    BankStatement,
    BankTransaction,
    BookItem,
    ItemKind,
    StoredFile,
    SupplierRule,
)
from tests.bookkeeping import samples
from tests.factories import make_bookkeeping_client, make_item
from tests.helpers import count_rows, stored_paths

DAY = date(2025, 3, 14)
KANTOOR_IBAN = "NL91ABNA0417164300"


def _counts() -> dict[str, int]:
    return {
        model.__tablename__: count_rows(model)
        for model in (BankAccount, BankStatement, BankTransaction, BookItem, StoredFile)
    }


def _mt940(*transactions, **kwargs) -> bytes:
    return samples.mt940_statement(list(transactions), **kwargs)


def _camt(*entries, **kwargs) -> bytes:
    return samples.camt053_statement(list(entries), **kwargs)


def _debit(amount: str, ref: str, **fields) -> dict:
    return {
        "amount": f"-{amount}",
        "name": "Kantoor Plus B.V.",
        "iban": KANTOOR_IBAN,
        "remittance": f"Factuur {ref}",
        "bank_reference": ref,
        "reference": ref,
        **fields,
    }


def test_mt940_debits_become_items_credits_stay_transactions(app):
    client = make_bookkeeping_client()
    account, user = client["account"], client["user"]
    data = _mt940(
        _debit("121.00", "R1"),
        {
            "amount": "250.00",
            "name": "Klant B.V.",
            "remittance": "Factuur 1",
            "bank_reference": "R2",
        },
        _debit("60.50", "R3", name="Onbekende Winkel", iban=None),
    )
    result = bank.import_statement(account, user, "ing.sta", data)

    assert (result.statements, result.lines_total, result.lines_new, result.duplicates) == (
        1,
        3,
        3,
        0,
    )
    assert result.items_new == 2
    assert result.summary == "3 transactions, 3 new, 0 already imported"
    rows = db.session.scalars(select(BankTransaction).order_by(BankTransaction.id)).all()
    assert [r.amount for r in rows] == [Decimal("-121.00"), Decimal("250.00"), Decimal("-60.50")]
    assert rows[1].item_id is None  # a credit is no item
    item = db.session.get(BookItem, rows[0].item_id)
    assert item.kind == ItemKind.BANK
    assert item.amount == Decimal("121.00")  # the amount paid, positive
    assert item.document_date == DAY
    assert item.supplier_name == "Kantoor Plus B.V."
    assert item.supplier_iban == KANTOOR_IBAN
    assert item.supplier_code == "1" and not item.supplier_unknown
    assert item.description == "Factuur R1"
    assert item.source["amount"] == "-121.00" and item.source["bank_reference"] == "R1"
    assert item.created_by_id == user.id
    unknown = db.session.get(BookItem, rows[2].item_id)
    assert unknown.supplier_code is None and unknown.supplier_unknown
    statement = db.session.scalars(select(BankStatement)).one()
    assert (statement.lines_total, statement.lines_new, statement.format) == (3, 3, "mt940")
    assert statement.bank_account.iban == samples.ACCOUNT_IBAN
    assert statement.file_id is not None


def test_reimporting_the_same_file_adds_nothing_and_reuses_the_file(app):
    client = make_bookkeeping_client()
    data = _camt(_debit("10.00", "A1"), _debit("20.00", "A2"))
    bank.import_statement(client["account"], client["user"], "a.xml", data)
    before = _counts()

    again = bank.import_statement(client["account"], client["user"], "a.xml", data)

    assert (again.lines_total, again.lines_new, again.duplicates) == (2, 0, 2)
    assert again.summary == "2 transactions, 0 new, 2 already imported"
    after = _counts()
    assert after["bank_statements"] == before["bank_statements"] + 1
    assert {k: v for k, v in after.items() if k != "bank_statements"} == {
        k: v for k, v in before.items() if k != "bank_statements"
    }
    files = {s.file_id for s in db.session.scalars(select(BankStatement))}
    assert len(files) == 1


def test_an_overlapping_statement_adds_only_the_new_lines(app):
    client = make_bookkeeping_client()
    first = _mt940(
        _debit("10.00", "B1", date=DAY - timedelta(days=1)),
        _debit("11.00", "B2"),
        opening="500.00",
    )
    second = _mt940(
        _debit("11.00", "B2"),
        _debit("12.00", "B3", date=DAY + timedelta(days=1)),
        opening="490.00",
        statement_id="P2",
        statement_date=DAY + timedelta(days=1),
    )
    bank.import_statement(client["account"], client["user"], "1.sta", first)
    result = bank.import_statement(client["account"], client["user"], "2.sta", second)

    assert (result.lines_total, result.lines_new, result.items_new) == (2, 1, 1)
    keys = db.session.scalars(select(BankTransaction.key).order_by(BankTransaction.key)).all()
    assert keys == ["B1", "B2", "B3"]
    assert count_rows(BookItem) == 3
    assert count_rows(BankAccount) == 1


def test_lines_without_a_bank_reference_are_keyed_by_what_identifies_them(app):
    client = make_bookkeeping_client()
    data = _camt(
        _debit("9.99", None, reference=None, end_to_end="E1"),
        _debit("9.99", None, reference=None, end_to_end="E1"),  # twice the same payment
    )
    first = bank.import_statement(client["account"], client["user"], "x.xml", data)
    again = bank.import_statement(client["account"], client["user"], "x.xml", data)
    assert (first.lines_new, again.lines_new) == (2, 0)
    assert count_rows(BankTransaction) == 2


@pytest.mark.parametrize("version", ["001.02", "001.04", "001.08"])
def test_camt053_versions_with_a_batch_entry(app, version):
    client = make_bookkeeping_client()
    batch = {
        "amount": "-300.00",
        "reference": "BATCH-1",
        "batch": [
            {"amount": "-100.00", "name": "Kantoor Plus B.V.", "iban": KANTOOR_IBAN},
            {"amount": "-200.00", "name": "Tankstation De Snelweg", "remittance": "Diesel"},
        ],
    }
    data = _camt(batch, {"amount": "50.00", "name": "Klant", "reference": "C1"}, version=version)
    result = bank.import_statement(client["account"], client["user"], "camt.xml", data)

    assert (result.lines_total, result.lines_new, result.items_new) == (3, 3, 2)
    items = db.session.scalars(select(BookItem).order_by(BookItem.amount)).all()
    assert [(i.amount, i.supplier_code) for i in items] == [
        (Decimal("100.00"), "1"),
        (Decimal("200.00"), "2"),
    ]
    assert items[1].description == "Diesel"
    statement = db.session.scalars(select(BankStatement)).one()
    assert statement.format == "camt053"


def test_a_reversal_is_kept_but_is_no_purchase(app):
    client = make_bookkeeping_client()
    data = _mt940(
        _debit("40.00", "V1"),
        {"amount": "-25.00", "name": "Klant", "bank_reference": "V2", "reversal": True},
    )
    result = bank.import_statement(client["account"], client["user"], "r.sta", data)
    assert (result.lines_new, result.items_new) == (2, 1)
    reversed_line = db.session.scalars(
        select(BankTransaction).where(BankTransaction.key == "V2")
    ).one()
    assert reversed_line.item_id is None


def test_a_supplier_rule_proposes_and_a_waiting_receipt_is_paired(app):
    client = make_bookkeeping_client()
    account = client["account"]
    db.session.add(
        SupplierRule(
            account_id=account.id,
            supplier_code="1",
            supplier_name="Kantoor Plus B.V.",
            gl_account_code="4000",
            vat_code="2",
        )
    )
    receipt = make_item(account, amount=Decimal("121.00"), document_date=DAY - timedelta(days=2))
    result = bank.import_statement(account, client["user"], "p.sta", _mt940(_debit("121.00", "P1")))

    assert result.paired == 1
    item = db.session.scalars(select(BookItem).where(BookItem.kind == ItemKind.BANK)).one()
    assert item.paired_item_id == receipt.id and receipt.paired_item_id == item.id
    assert item.lines[0].gl_account_code == "4000" and item.lines[0].vat_code == "2"
    assert item.proposed_by["p"]["supplier"] == "Kantoor Plus B.V."


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-1.7 not a statement",
        b"<?xml version='1.0'?><Invoice xmlns='urn:x'/>",
        b":20:X\r\n:25:NOTANIBAN\r\n:60F:C250313EUR1,00\r\n",
        samples.mt940_statement(closing="1.00"),  # balances that do not add up
        samples.camt053_statement(closing="1.00"),
    ],
    ids=["empty", "pdf", "other-xml", "bad-iban", "mt940-balance", "camt-balance"],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(app, data):
    client = make_bookkeeping_client()
    before, files_before = _counts(), stored_paths(app)
    with pytest.raises(FormatError) as refused:
        bank.import_statement(client["account"], client["user"], "bad", data)
    assert str(refused.value)
    assert _counts() == before
    assert stored_paths(app) == files_before


def test_a_file_over_the_size_limit_is_refused_before_reading_it(app):
    client = make_bookkeeping_client()
    app.config["MAX_FILE_SIZE"] = 100
    with pytest.raises(FormatError) as refused:
        bank.import_statement(
            client["account"], client["user"], "big.sta", _mt940(_debit("1", "S"))
        )
    assert "too large" in str(refused.value)
    assert count_rows(BankStatement) == 0 and stored_paths(app) == []


def test_a_failure_after_the_file_was_written_leaves_nothing(app, monkeypatch):
    client = make_bookkeeping_client()
    before = _counts()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bank.pairing, "pair_items", broken)
    with pytest.raises(RuntimeError):
        bank.import_statement(
            client["account"], client["user"], "a.sta", _mt940(_debit("1.00", "F"))
        )
    assert _counts() == before
    assert stored_paths(app) == []


def test_ten_thousand_lines_import_in_seconds(app):
    client = make_bookkeeping_client()
    entries = [
        {
            "amount": f"-{1 + n % 500}.{n % 100:02d}",
            "name": "Kantoor Plus B.V." if n % 3 else f"Winkel {n % 40}",
            "iban": KANTOOR_IBAN,
            "remittance": f"Bon {n}",
            "reference": f"REF{n:06d}",
            "booking_date": DAY - timedelta(days=n % 60),
        }
        for n in range(10_000)
    ]
    data = samples.camt053_statement(entries, opening="1000000.00")
    started = time.perf_counter()
    result = bank.import_statement(client["account"], client["user"], "big.xml", data)
    elapsed = time.perf_counter() - started

    assert (result.lines_new, result.items_new) == (10_000, 10_000)
    assert elapsed < 30, elapsed
    started = time.perf_counter()
    again = bank.import_statement(client["account"], client["user"], "big.xml", data)
    assert again.lines_new == 0
    assert time.perf_counter() - started < 15
