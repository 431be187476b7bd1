"""The bank pages: importing statements, the transactions list with its filters, pairing and
unpairing by hand; roles and other accounts."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.bookkeeping import bank
from portal.extensions import db
from portal.models import BankStatement, BankTransaction, BookItem, ItemKind, Role, StoredFile
from tests.bookkeeping import samples
from tests.factories import PASSWORD, add_member, make_bookkeeping_client, make_item, make_user
from tests.helpers import PortalClient, count_rows, sql_statements

DAY = date(2025, 3, 14)
KANTOOR_IBAN = "NL91ABNA0417164300"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _flash(response) -> str:
    return " ".join(
        html.unescape(m)
        for m in re.findall(r'<div class="flash [^"]*"[^>]*>(.*?)</div>', _text(response), re.S)
    )


def _as(app, user):
    app.test_client_class = PortalClient
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


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


def _statement(n: int, start: int = 0) -> bytes:
    """A camt.053 of ``n`` debits (every third one a credit)."""
    entries = [
        {
            "amount": f"{'' if k % 3 == 2 else '-'}{10 + k}.00",
            "name": f"Winkel {k}",
            "reference": f"T{k:05d}",
            "remittance": f"Bon {k}",
            "booking_date": DAY - timedelta(days=k % 20),
        }
        for k in range(start, start + n)
    ]
    return samples.camt053_statement(entries, opening="100000.00")


@pytest.fixture
def setup(app):
    made = make_bookkeeping_client()
    db.session.commit()
    return {**made, "base": f"/a/{made['account'].id}/books"}


def _import(browser, setup, *files):
    return browser.post(
        f"{setup['base']}/bank/import",
        data={"files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data",
    )


def test_import_several_files_through_the_page(app, setup):
    browser = _as(app, setup["user"])
    mt940 = samples.mt940_statement([_debit("121.00", "M1"), _debit("5.00", "M2")])
    camt = samples.camt053_statement([_debit("7.50", "C1")], iban="NL02ABNA0123456789")
    response = _import(browser, setup, ("ing.sta", mt940), ("abn.xml", camt))
    assert response.status_code == 302

    page = browser.get(response.headers["Location"])
    messages = _flash(page)
    assert "ing.sta: 2 transactions, 2 new, 0 already imported." in messages
    assert "abn.xml: 1 transaction, 1 new, 0 already imported." in messages
    text = _text(page)
    assert samples.ACCOUNT_IBAN in text and "NL02ABNA0123456789" in text
    assert "3 receipts missing" in text

    again = _import(browser, setup, ("ing.sta", mt940))
    assert "2 transactions, 0 new, 2 already imported" in _flash(
        browser.get(again.headers["Location"])
    )
    assert count_rows(BankTransaction) == 3 and count_rows(BankStatement) == 3


def test_a_bad_file_is_refused_in_words_and_the_good_one_still_imported(app, setup):
    browser = _as(app, setup["user"])
    good = samples.mt940_statement([_debit("1.00", "G1")])
    bad = samples.camt053_statement(closing="1.00")
    response = _import(browser, setup, ("bad.xml", bad), ("good.sta", good), ("x.pdf", b"%PDF-1"))
    assert response.status_code == 400
    messages = _flash(response)
    assert "bad.xml was not imported: The statement's balances do not add up" in messages
    assert "x.pdf was not imported: This file is not an MT940 or camt.053" in messages
    assert "good.sta: 1 transaction, 1 new" in messages
    assert count_rows(BankStatement) == 1 and count_rows(StoredFile) == 1


def test_import_without_a_file_says_so(app, setup):
    browser = _as(app, setup["user"])
    response = browser.post(f"{setup['base']}/bank/import", data={})
    assert response.status_code == 400
    assert "Choose one or more statement files." in _text(response)


def test_a_read_only_member_sees_the_pages_but_may_not_import(app, setup):
    reader = make_user()
    add_member(setup["account"], reader, Role.READ_ONLY)
    db.session.commit()
    browser = _as(app, reader)
    page = browser.get(f"{setup['base']}/bank")
    assert page.status_code == 200 and 'data-testid="import-form"' not in _text(page)
    assert browser.get(f"{setup['base']}/transactions").status_code == 200
    data = samples.mt940_statement()
    assert _import(browser, setup, ("a.sta", data)).status_code == 403
    assert count_rows(BankStatement) == 0 and count_rows(StoredFile) == 0


def test_the_filters_receipt_missing_paired_credits_dates_and_search(app, setup):
    account = setup["account"]
    make_item(account, amount=Decimal("121.00"), document_date=DAY)  # no supplier yet
    data = samples.mt940_statement(
        [
            _debit("121.00", "F1"),
            _debit("33.00", "F2", name="Tankstation De Snelweg", date=DAY - timedelta(days=10)),
            {"amount": "500.00", "name": "Klant Jansen", "bank_reference": "F3"},
        ]
    )
    bank.import_statement(account, setup["user"], "f.sta", data)
    browser = _as(app, setup["user"])
    url = f"{setup['base']}/transactions"

    def shown(**args) -> list[str]:
        page = browser.get(url, query_string=args)
        assert page.status_code == 200
        ids = re.findall(r'data-testid="transaction" data-id="(\d+)"', _text(page))
        return sorted(db.session.get(BankTransaction, int(i)).key for i in ids)

    assert shown() == ["F1", "F2", "F3"]
    assert shown(state="missing") == ["F2"]
    assert shown(state="paired") == ["F1"]
    assert shown(state="credits") == ["F3"]
    assert shown(state="debits") == ["F1", "F2"]
    assert shown(date_from=DAY.isoformat()) == ["F1", "F3"]
    assert shown(date_to=(DAY - timedelta(days=1)).isoformat()) == ["F2"]
    assert shown(q="snelweg") == ["F2"]
    assert shown(q="100%_") == []
    assert shown(bank_account="999999") == ["F1", "F2", "F3"]  # not a choice: left out
    page = _text(browser.get(url, query_string={"date_from": "gisteren", "state": "missing"}))
    assert "Not a valid date value." in page and page.count('data-testid="transaction"') == 1
    missing = _text(browser.get(url, query_string={"state": "missing"}))
    assert "Receipt missing" in missing and "Pair with a receipt" in missing


def test_the_transactions_page_makes_as_many_queries_for_100_rows_as_for_10(app, setup):
    account = setup["account"]
    for n in range(6):
        make_item(account, amount=Decimal(f"{10 + n}.00"), document_date=DAY - timedelta(days=n))
    bank.import_statement(account, setup["user"], "small.xml", _statement(10))
    browser = _as(app, setup["user"])
    url = f"{setup['base']}/transactions"
    browser.get(url)  # warm up (translations, templates)

    with sql_statements(db.engine) as small:
        assert browser.get(url).status_code == 200
    bank.import_statement(account, setup["user"], "big.xml", _statement(90, start=10))
    with sql_statements(db.engine) as big:
        page = browser.get(url)
    assert page.status_code == 200
    assert _text(page).count('data-testid="transaction"') == 50
    assert _text(page).count('data-testid="paired"') >= 1
    assert len(big) == len(small), (len(small), len(big))


def test_pair_by_hand_and_unpair_through_the_pages(app, setup):
    account = setup["account"]
    receipt = make_item(
        account, amount=Decimal("99.00"), document_date=DAY - timedelta(days=20), supplier_name="X"
    )
    bank.import_statement(
        account, setup["user"], "p.sta", samples.mt940_statement([_debit("98.00", "P1")])
    )
    item = db.session.scalars(select(BookItem).where(BookItem.kind == ItemKind.BANK)).one()
    db.session.commit()
    browser = _as(app, setup["user"])

    choices = _text(browser.get(f"{setup['base']}/items/{item.id}/pair"))
    assert f'data-testid="candidate" data-id="{receipt.id}"' in choices
    response = browser.post(
        f"{setup['base']}/items/{item.id}/pair", data={"other_item_id": receipt.id}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(BookItem, item.id).paired_item_id == receipt.id

    again = browser.post(
        f"{setup['base']}/items/{item.id}/pair", data={"other_item_id": receipt.id}
    )
    assert again.status_code == 400 and "already paired" in _flash(again)

    transaction = db.session.scalars(select(BankTransaction)).one()
    response = browser.post(
        f"{setup['base']}/transactions/{transaction.id}/unpair?state=paired&q=x"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/transactions?state=paired&q=x")
    db.session.expire_all()
    assert db.session.get(BookItem, item.id).paired_item_id is None
    assert db.session.get(BookItem, receipt.id).paired_item_id is None


def test_a_member_may_not_pair_or_unpair(app, setup):
    member = make_user()
    add_member(setup["account"], member, Role.MEMBER)
    item = make_item(setup["account"], kind=ItemKind.BANK)
    receipt = make_item(setup["account"])
    db.session.commit()
    browser = _as(app, member)
    base = setup["base"]
    assert browser.get(f"{base}/items/{item.id}/pair").status_code == 403
    assert (
        browser.post(f"{base}/items/{item.id}/pair", data={"other_item_id": receipt.id}).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(BookItem, item.id).paired_item_id is None


def test_another_accounts_transactions_and_items_are_404(app, setup):
    account = setup["account"]
    bank.import_statement(
        account, setup["user"], "v.sta", samples.mt940_statement([_debit("9.00", "VICTIMREF77")])
    )
    victim_item = db.session.scalars(select(BookItem)).one()
    victim_receipt = make_item(account, amount=Decimal("9.00"))
    victim_transaction = db.session.scalars(select(BankTransaction)).one()
    other = make_bookkeeping_client()
    own_item = make_item(other["account"], kind=ItemKind.BANK)
    db.session.commit()
    browser = _as(app, other["user"])
    base = f"/a/{other['account'].id}/books"

    assert browser.post(f"{base}/transactions/{victim_transaction.id}/unpair").status_code == 404
    assert browser.get(f"{base}/items/{victim_item.id}/pair").status_code == 404
    assert (
        browser.post(
            f"{base}/items/{victim_item.id}/pair", data={"other_item_id": victim_receipt.id}
        ).status_code
        == 404
    )
    assert (
        browser.post(
            f"{base}/items/{own_item.id}/pair", data={"other_item_id": victim_receipt.id}
        ).status_code
        == 404
    )
    listing = _text(browser.get(f"{base}/transactions"))
    assert "VICTIMREF77" not in listing and "Kantoor Plus" not in listing
    assert (
        browser.post(f"{setup['base']}/transactions/{victim_transaction.id}/unpair").status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(BookItem, own_item.id).paired_item_id is None
    assert db.session.get(BookItem, victim_receipt.id).paired_item_id is None
