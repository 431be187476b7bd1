"""Pairing a bank debit with the receipt or e-invoice of the same payment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.bookkeeping import pairing
from portal.extensions import db
from portal.models import ItemKind
from tests.factories import make_bookkeeping_client, make_item

DAY = date(2026, 3, 14)


@pytest.fixture
def account(app):
    return make_bookkeeping_client()["account"]


def _bank(account, amount="121.00", day=DAY, **fields):
    fields.setdefault("supplier_name", "Kantoor Plus B.V.")
    return make_item(
        account, kind=ItemKind.BANK, amount=Decimal(amount), document_date=day, **fields
    )


def _receipt(account, amount="121.00", day=DAY, kind=ItemKind.RECEIPT, **fields):
    return make_item(account, kind=kind, amount=Decimal(amount), document_date=day, **fields)


def test_same_amount_date_and_supplier_pair_both_ways(account):
    receipt = _receipt(account, supplier_name="Kantoor Plus B.V.")
    item = _bank(account, day=DAY + timedelta(days=2))

    assert pairing.pair_item(item) is receipt
    assert item.paired_item_id == receipt.id and receipt.paired_item_id == item.id


def test_a_receipt_arriving_later_finds_its_bank_item(account):
    item = _bank(account)
    invoice = _receipt(account, kind=ItemKind.EINVOICE, supplier_code="1")
    item.supplier_code = "1"
    assert pairing.pair_item(invoice) is item
    assert item.paired_item_id == invoice.id


def test_the_amount_must_be_equal_to_the_cent(account):
    _receipt(account, amount="121.01")
    assert pairing.pair_item(_bank(account)) is None


@pytest.mark.parametrize(("days", "pairs"), [(4, True), (-4, True), (5, False), (-5, False)])
def test_the_date_window_is_four_days(account, days, pairs):
    receipt = _receipt(account, day=DAY + timedelta(days=days))
    found = pairing.pair_item(_bank(account))
    assert (found is receipt) is pairs


def test_another_counterparty_does_not_pair(account):
    _receipt(account, supplier_name="Tankstation De Snelweg", supplier_iban="NL44RABO0123456789")
    assert pairing.pair_item(_bank(account, supplier_iban="NL91ABNA0417164300")) is None


@pytest.mark.parametrize(
    "receipt_fields",
    [
        {"supplier_code": "1", "supplier_name": "Something else"},
        {"supplier_iban": "NL91 ABNA 0417 1643 00", "supplier_name": "KP"},
        {"supplier_name": "KANTOOR PLUS BV"},
        {"supplier_name": "Kantoor Plus"},
        {},  # a receipt without a supplier yet
    ],
    ids=["code", "iban", "name-case-punctuation", "name-contained", "no-supplier"],
)
def test_the_counterparty_matches_by_code_iban_or_name(account, receipt_fields):
    receipt = _receipt(account, **receipt_fields)
    item = _bank(account, supplier_code="1", supplier_iban="NL91ABNA0417164300")
    assert pairing.pair_item(item) is receipt


def test_the_closest_date_wins(account):
    _receipt(account, day=DAY - timedelta(days=3))
    closest = _receipt(account, day=DAY + timedelta(days=1))
    _receipt(account, day=DAY + timedelta(days=2))
    assert pairing.pair_item(_bank(account)) is closest


def test_an_item_already_paired_is_not_taken(account):
    receipt = _receipt(account)
    first = _bank(account)
    assert pairing.pair_item(first) is receipt
    second = _bank(account)
    assert pairing.pair_item(second) is None
    assert pairing.pair_item(first) is None  # already paired itself


def test_two_receipts_of_the_same_kind_or_another_account_never_pair(account):
    other_account = make_bookkeeping_client()["account"]
    _receipt(other_account)
    _receipt(account, kind=ItemKind.EINVOICE)
    receipt = _receipt(account)
    assert pairing.pair_item(receipt) is None


def test_pair_items_pairs_many_with_one_query(account):
    receipts = [_receipt(account, amount=f"{n}.00", day=DAY) for n in (10, 20, 30)]
    items = [_bank(account, amount=f"{n}.00", day=DAY + timedelta(days=1)) for n in (10, 20, 40)]
    from tests.helpers import sql_statements

    with sql_statements(db.engine) as statements:
        assert pairing.pair_items(items) == 2
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [i.paired_item_id for i in items] == [receipts[0].id, receipts[1].id, None]


def test_unpair_clears_both_sides_and_missing_lists_unpaired_bank_items(account):
    receipt = _receipt(account)
    item = _bank(account)
    lonely = _bank(account, amount="5.00")
    pairing.pair_item(item)
    assert db.session.scalars(pairing.receipt_missing(account.id)).all() == [lonely]
    assert pairing.count_receipt_missing(account.id) == 1

    assert pairing.unpair(item) is receipt
    assert item.paired_item_id is None and receipt.paired_item_id is None
    assert pairing.count_receipt_missing(account.id) == 2
    assert pairing.unpair(item) is None


def test_pairing_by_hand_checks_kinds_and_pairing(account):
    receipt = _receipt(account, amount="99.00", day=DAY - timedelta(days=30))
    item = _bank(account)
    other = _receipt(account, amount="1.00")

    with pytest.raises(pairing.PairingError):
        pairing.pair_by_hand(receipt, other)
    pairing.pair_by_hand(item, receipt)  # amount and date are the person's call
    assert item.paired_item_id == receipt.id and receipt.paired_item_id == item.id
    with pytest.raises(pairing.PairingError) as refused:
        pairing.pair_by_hand(other, item)
    assert "already paired" in str(refused.value.message)


def test_hand_candidates_put_the_same_amount_first(account):
    far_same = _receipt(account, day=DAY - timedelta(days=20))
    near_other = _receipt(account, amount="7.00", day=DAY)
    _receipt(account, day=DAY - timedelta(days=200))  # out of range
    item = _bank(account)
    assert pairing.hand_candidates(item) == [far_same, near_other]
