"""After a sync the bookkeeping finds suppliers that were unknown and re-resolves its rules."""

from __future__ import annotations

from portal.bookkeeping.after_sync import after_sync
from portal.extensions import db
from portal.models import BookItem, ExactRecord, ItemStatus, SupplierRule
from tests.factories import make_bookkeeping_client, make_item


def _new_supplier(account, code: str, name: str, vat: str) -> None:
    db.session.add(
        ExactRecord(
            account_id=account.id,
            division_code=3001101,
            entity="accounts",
            exact_id=f"00000000-0000-0000-0000-9999{code:0>8}",
            code=f"{code:>18}",
            description=name,
            data={"Code": f"{code:>18}", "Name": name, "IsSupplier": True, "VATNumber": vat},
        )
    )


def test_an_unknown_supplier_is_found_once_the_sync_brought_it_in(app):
    client = make_bookkeeping_client()
    account = client["account"]
    unknown = make_item(
        account, supplier_name="Nieuw B.V.", supplier_vat="NL005555555B01", supplier_unknown=True
    )
    exported = make_item(
        account,
        supplier_name="Nieuw B.V.",
        supplier_vat="NL005555555B01",
        supplier_unknown=True,
        status=ItemStatus.EXPORTED,
    )
    db.session.add(SupplierRule(account_id=account.id, supplier_code="77", gl_account_code="4100"))
    db.session.commit()
    assert after_sync(account.id) == 0  # not in Exact yet: still unknown

    _new_supplier(account, "77", "Nieuw BV", "NL005555555B01")
    db.session.commit()
    assert after_sync(account.id) == 1
    item = db.session.get(BookItem, unknown.id)
    assert (item.supplier_code, item.supplier_unknown) == ("77", False)
    assert [line.gl_account_code for line in item.lines] == ["4100"]  # the rule proposed it
    assert "Supplier rule" in item.proposed_by_text
    assert db.session.get(BookItem, exported.id).supplier_code is None  # exported: untouched
    rule = db.session.scalar(db.select(SupplierRule))
    assert rule.supplier_exact_id == "00000000-0000-0000-0000-999900000077"


def test_lines_that_arrived_before_the_vat_codes_get_the_code_of_their_rate(app):
    from decimal import Decimal

    client = make_bookkeeping_client()
    account = client["account"]
    item = make_item(
        account,
        lines=[
            {"vat_percentage": Decimal("0.09"), "amount_excl": Decimal("10.00")},
            {"vat_percentage": Decimal("0.06"), "amount_excl": Decimal("5.00")},  # no such code
        ],
    )
    db.session.commit()
    after_sync(account.id)
    assert [line.vat_code for line in db.session.get(BookItem, item.id).lines] == ["1", None]


def test_items_that_arrived_before_the_journals_get_the_default_journal(app):
    from portal.models import ItemKind

    client = make_bookkeeping_client()
    account = client["account"]
    receipt = make_item(account)
    claim = make_item(account, kind=ItemKind.CLAIM)
    db.session.commit()
    after_sync(account.id)
    assert db.session.get(BookItem, receipt.id).journal_code == "70"  # the only purchase one
    assert db.session.get(BookItem, claim.id).journal_code == "90"  # the only general one
    assert db.session.get(BookItem, receipt.id).entry_date == receipt.document_date
