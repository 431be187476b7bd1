"""The item lists: tabs, filters, search, paging, and a constant number of queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.bookkeeping import lists
from portal.extensions import db
from portal.models import ItemKind, ItemStatus
from tests.factories import make_bookkeeping_client, make_item
from tests.helpers import sql_statements


def _ids(account, **filters) -> list[int]:
    query = lists.items_query(account.id, lists.ItemFilters(**filters))
    return [item.id for item in db.session.scalars(query)]


def test_tabs_hold_their_states_and_count_them(app):
    account = make_bookkeeping_client()["account"]
    new = make_item(account)
    prepared = make_item(account, status=ItemStatus.PREPARED)
    ready = make_item(account, status=ItemStatus.READY)
    make_item(make_bookkeeping_client()["account"])  # another account's
    assert set(_ids(account)) == {new.id, prepared.id}
    assert _ids(account, tab="ready") == [ready.id]
    assert _ids(account, tab="exported") == []
    assert _ids(account, tab="prepare", status=ItemStatus.PREPARED) == [prepared.id]
    assert _ids(account, tab="ready", status=ItemStatus.NEW) == []  # not of this tab
    assert lists.tab_counts(account.id) == {"prepare": 2, "ready": 1, "exported": 0, "failed": 0}


def test_filters_and_search(app):
    account = make_bookkeeping_client()["account"]
    a = make_item(
        account,
        supplier_name="Kantoor Plus B.V.",
        supplier_code="1",
        invoice_number="F-2026-001",
        document_date=date(2026, 3, 1),
    )
    b = make_item(
        account,
        kind=ItemKind.BANK,
        supplier_name="Tankstation De Snelweg",
        description="Diesel 50% korting",
        document_date=date(2026, 3, 20),
    )
    assert _ids(account) == [b.id, a.id]  # newest document first
    assert _ids(account, kind=ItemKind.BANK) == [b.id]
    assert _ids(account, date_from=date(2026, 3, 10)) == [b.id]
    assert _ids(account, date_to=date(2026, 3, 10)) == [a.id]
    assert _ids(account, supplier="kantoor") == [a.id]
    assert _ids(account, supplier="1") == [a.id]
    assert _ids(account, search="2026-001") == [a.id]
    assert _ids(account, search="diesel") == [b.id]
    assert _ids(account, search="snelweg") == [b.id]
    assert _ids(account, search="50%") == [b.id]
    assert _ids(account, search="%") == [b.id]  # a literal percent sign, not a wildcard
    assert _ids(account, search="nothing like it") == []


def test_paging_and_the_query_args_of_its_links(app):
    account = make_bookkeeping_client()["account"]
    for n in range(7):
        make_item(account, invoice_number=f"N{n}", amount=Decimal(n))
    page = lists.page_of(account.id, lists.ItemFilters(), 2, per_page=5)
    assert page.total == 7 and len(page.items) == 2
    filters = lists.ItemFilters(tab="ready", kind=ItemKind.RECEIPT, search="x")
    assert filters.query_args() == {"tab": "ready", "kind": "receipt", "q": "x"}


def _page_queries(account) -> int:
    db.session.expire_all()
    with sql_statements(db.engine) as statements:
        page = lists.page_of(account.id, lists.ItemFilters(), 1, per_page=50)
        for item in page.items:
            [line.gl_account_code for line in item.lines]
        lists.tab_counts(account.id)
    return len(statements)


def test_the_list_costs_the_same_queries_for_10_and_200_items(app):
    few, many = make_bookkeeping_client()["account"], make_bookkeeping_client()["account"]
    for account, count in ((few, 10), (many, 200)):
        for n in range(count):
            make_item(account, lines=[{"gl_account_code": "4000", "amount_excl": Decimal(n)}])
    db.session.commit()
    assert _page_queries(few) == _page_queries(many) <= 5
