"""The item pages: the lists with their tabs, filters and bulk action; the item page's form
(VAT computed, a correction within a cent, mark ready, optimistic locking); who may do what."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.models import BookItem, ItemKind, ItemStatus, Role
from tests.factories import PASSWORD, add_member, make_bookkeeping_client, make_item, make_user
from tests.helpers import PortalClient, sql_statements

D = Decimal


def _text(response) -> str:
    page = response.get_data(as_text=True).split("<main>", 1)[1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def books(app, login):
    client = make_bookkeeping_client()
    db.session.commit()
    login(client["user"])
    client["base"] = f"/a/{client['account'].id}/books"
    return client


def _form(item, action="save", **fields) -> dict:
    data = {
        "version": str(item.version),
        "supplier_code": "1",
        "journal_code": "70",
        "entry_date": "2026-03-14",
        "due_date": "",
        "description": "Papier",
        "amount": "",
        "action": action,
        "lines-0-gl_account_code": "4000",
        "lines-0-vat_code": "2",
        "lines-0-amount": "121,00",
        "lines-0-vat_mode": "incl",
        "lines-0-vat_amount": "",
        "lines-0-cost_center": "100",
        "lines-0-cost_unit": "",
        "lines-0-description": "",
    }
    data.update(fields)
    return data


def _item(item_id) -> BookItem:
    db.session.expire_all()
    return db.session.get(BookItem, item_id)


def test_the_list_shows_the_tabs_and_a_bank_debit_without_receipt(client, books):
    account = books["account"]
    make_item(account, supplier_name="Kantoor Plus B.V.", invoice_number="F-1")
    make_item(account, kind=ItemKind.BANK, supplier_name="Tankstation De Snelweg")
    make_item(account, supplier_name="Klaar B.V.", status=ItemStatus.READY)
    db.session.commit()
    page = client.get(f"{books['base']}/")
    assert page.status_code == 200
    text = _text(page)
    assert "To prepare 2" in text and "Ready to export 1" in text
    assert "Kantoor Plus B.V." in text and "Receipt missing" in text
    assert "Klaar B.V." not in text
    assert "Klaar B.V." in _text(client.get(f"{books['base']}/?tab=ready"))
    searched = _text(client.get(f"{books['base']}/?q=F-1"))
    assert "Kantoor Plus B.V." in searched and "Tankstation" not in searched
    filtered = _text(client.get(f"{books['base']}/?kind=bank&date_from=2026-01-01&date_to=x"))
    assert "Tankstation" in filtered and "Kantoor Plus" not in filtered


def test_the_item_page_saves_with_vat_computed(client, books):
    item = make_item(books["account"], supplier_name="Kantoor Plus B.V.")
    db.session.commit()
    page = client.get(f"{books['base']}/items/{item.id}")
    assert page.status_code == 200
    text = _text(page)
    assert "What arrived" in text and "Choose the supplier" in text
    assert (
        "4000 Kantoorkosten · Profit and loss" in text and "0200 Inventaris · Balance sheet" in text
    )
    assert "2 BTW hoog 21% (21%)" in text
    response = client.post(f"{books['base']}/items/{item.id}", data=_form(item))
    assert response.status_code == 302
    saved = _item(item.id)
    assert saved.status == ItemStatus.PREPARED and saved.description == "Papier"
    assert [(line.amount_excl, line.vat_amount) for line in saved.lines] == [
        (D("100.00"), D("21.00"))
    ]
    assert saved.due_date == date(2026, 4, 13)


def test_a_vat_correction_of_two_cents_is_a_form_error_and_nothing_is_saved(client, books):
    item = make_item(books["account"])
    db.session.commit()
    response = client.post(
        f"{books['base']}/items/{item.id}", data=_form(item, **{"lines-0-vat_amount": "21,02"})
    )
    assert response.status_code == 400
    assert "The VAT may differ at most a cent from the computed 21.00." in _text(response)
    assert _item(item.id).status == ItemStatus.NEW and _item(item.id).lines == []
    ok = client.post(
        f"{books['base']}/items/{item.id}", data=_form(item, **{"lines-0-vat_amount": "21,01"})
    )
    assert ok.status_code == 302
    assert _item(item.id).lines[0].vat_amount == D("21.01")


def test_bad_amounts_are_form_errors(client, books):
    item = make_item(books["account"])
    db.session.commit()
    response = client.post(
        f"{books['base']}/items/{item.id}", data=_form(item, **{"lines-0-amount": "12.3456"})
    )
    assert response.status_code == 400 and "Use at most two decimals." in _text(response)
    response = client.post(
        f"{books['base']}/items/{item.id}", data=_form(item, supplier_code="Niemand")
    )
    assert "No supplier “Niemand” in Exact Online." in _text(response)
    assert _item(item.id).status == ItemStatus.NEW


def test_save_and_mark_ready_or_say_what_is_missing(client, books):
    item = make_item(books["account"])
    db.session.commit()
    refused = client.post(
        f"{books['base']}/items/{item.id}",
        data=_form(item, "ready", **{"lines-0-gl_account_code": ""}),
    )
    assert refused.status_code == 200
    assert "Line 1: choose a GL account" in _text(refused)
    assert _item(item.id).status == ItemStatus.PREPARED  # what was filled in is kept
    fresh = _item(item.id)
    ready = client.post(f"{books['base']}/items/{item.id}", data=_form(fresh, "ready"))
    assert ready.status_code == 302
    assert _item(item.id).status == ItemStatus.READY
    back = client.post(f"{books['base']}/items/{item.id}/back", data={})
    assert back.status_code == 302 and _item(item.id).status == ItemStatus.PREPARED


def test_the_second_of_two_saves_is_refused_and_the_first_kept(client, books):
    item = make_item(books["account"])
    other = make_user(name="Bea Boekhouder")
    add_member(books["account"], other, Role.BOOKKEEPER)
    db.session.commit()
    seen = _form(item)  # both opened the page at this version
    second = PortalClient(client.application, client.response_wrapper, use_cookies=True)
    assert second.post("/login", data={"email": other.email, "password": PASSWORD})
    assert second.post(f"{books['base']}/items/{item.id}", data={**seen, "description": "Bea"})
    response = client.post(f"{books['base']}/items/{item.id}", data={**seen, "description": "Mine"})
    assert response.status_code == 409
    assert "Someone else (Bea Boekhouder) changed this item at" in _text(response)
    assert _item(item.id).description == "Bea"


def test_bulk_assign_then_mark_ready(client, books):
    account = books["account"]
    a = make_item(account, supplier_code="1", journal_code="70", entry_date=date(2026, 3, 14))
    b = make_item(account, supplier_code="2", journal_code="70", entry_date=date(2026, 3, 14))
    c = make_item(account)  # no supplier: stays
    theirs = make_item(make_bookkeeping_client()["account"])
    db.session.commit()
    ids = [str(a.id), str(b.id), str(c.id), str(theirs.id)]
    assigned = client.post(
        f"{books['base']}/bulk",
        data={"item_id": ids, "action": "assign", "gl_account_code": "4000", "vat_code": "2"},
    )
    assert assigned.status_code == 302
    line = _item(a.id).lines[0]
    assert (line.gl_account_code, line.vat_code, line.amount_incl) == ("4000", "2", D("121.00"))
    assert _item(theirs.id).lines == [] and _item(theirs.id).status == ItemStatus.NEW
    marked = client.post(
        f"{books['base']}/bulk", data={"item_id": ids, "action": "ready"}, follow_redirects=True
    )
    text = _text(marked)
    assert "2 items marked ready to export." in text
    assert f"Not ready: #{c.id} — Choose the supplier" in text
    assert [_item(i.id).status for i in (a, b, c)] == [
        ItemStatus.READY,
        ItemStatus.READY,
        ItemStatus.PREPARED,
    ]
    nothing = client.post(f"{books['base']}/bulk", data={"action": "ready"}, follow_redirects=True)
    assert "Select at least one item." in _text(nothing)


def test_supplier_search_answers_json(client, books):
    found = client.get(f"{books['base']}/suppliers?q=tank").get_json()
    assert found == [{"code": "2", "name": "Tankstation De Snelweg"}]


def test_another_accounts_item_is_a_404(client, books):
    theirs = make_item(make_bookkeeping_client()["account"])
    db.session.commit()
    assert client.get(f"{books['base']}/items/{theirs.id}").status_code == 404
    assert client.post(f"{books['base']}/items/{theirs.id}", data=_form(theirs)).status_code == 404


def test_read_only_sees_but_may_not_prepare(client, app, login, books):
    item = make_item(books["account"])
    reader = make_user()
    add_member(books["account"], reader, Role.READ_ONLY)
    db.session.commit()
    client.post("/logout")
    login(reader)
    page = client.get(f"{books['base']}/items/{item.id}")
    assert page.status_code == 200 and 'data-testid="item-form"' not in page.get_data(True)
    assert "bulk-form" in client.get(f"{books['base']}/").get_data(True)  # the list form
    assert 'name="item_id"' not in client.get(f"{books['base']}/").get_data(True)
    assert client.post(f"{books['base']}/items/{item.id}", data=_form(item)).status_code == 403
    assert client.post(f"{books['base']}/items/{item.id}/back").status_code == 403
    assert (
        client.post(
            f"{books['base']}/bulk", data={"item_id": [str(item.id)], "action": "ready"}
        ).status_code
        == 403
    )
    assert _item(item.id).status == ItemStatus.NEW


def test_the_list_page_costs_the_same_queries_for_10_and_200_items(client, books):
    other = make_bookkeeping_client()
    add_member(other["account"], books["user"], Role.OWNER)
    for account, count in ((books["account"], 10), (other["account"], 200)):
        for n in range(count):
            make_item(account, lines=[{"gl_account_code": "4000", "amount_excl": D(n)}])
    db.session.commit()

    few, many = (f"/a/{account.id}/books/" for account in (books["account"], other["account"]))

    def queries(url) -> int:
        with sql_statements(db.engine) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    queries(few)  # warm up (session, language)
    assert queries(few) == queries(many)


def test_an_exported_item_is_read_only(client, books):
    item = make_item(books["account"], status=ItemStatus.EXPORTED, description="Geboekt")
    db.session.commit()
    page = client.get(f"{books['base']}/items/{item.id}")
    assert "Exported to Exact Online: this item can no longer be changed." in _text(page)
    assert 'data-testid="item-form"' not in page.get_data(True)
    refused = client.post(
        f"{books['base']}/items/{item.id}", data=_form(item), follow_redirects=True
    )
    assert "can no longer be changed" in _text(refused)
    assert _item(item.id).description == "Geboekt"


def test_a_ready_item_offers_back_to_preparing(client, books):
    item = make_item(books["account"], status=ItemStatus.READY)
    db.session.commit()
    page = client.get(f"{books['base']}/items/{item.id}")
    assert "Back to preparing" in _text(page)
