"""portal.pagination: db.paginate for models and rows, a page beyond the last shows the last."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.models import Account, Membership, User
from portal.pagination import paginate
from tests.factories import make_account, make_user
from tests.helpers import sql_statements


@pytest.fixture
def accounts(db):
    made = [make_account(name=f"Firma {i:02d}", owner=make_user()) for i in range(25)]
    db.session.commit()
    return made


def _by_name():
    return select(Account).order_by(Account.name)


def test_a_select_of_one_model_pages_its_instances(db, accounts):
    page = paginate(_by_name(), 2, 10)
    assert [a.name for a in page.items] == [f"Firma {i:02d}" for i in range(10, 20)]
    assert (page.page, page.pages, page.total, page.per_page) == (2, 3, 25, 10)
    assert (page.has_prev, page.prev_num, page.has_next, page.next_num) == (True, 1, True, 3)


def test_a_select_of_several_columns_pages_rows(db, accounts):
    rows = paginate(
        select(Account, Account.name.label("label")).order_by(Account.name.desc()), 1, 3
    )
    assert [(account.name, label) for account, label in rows.items] == [
        ("Firma 24", "Firma 24"),
        ("Firma 23", "Firma 23"),
        ("Firma 22", "Firma 22"),
    ]
    assert rows.total == 25 and rows.pages == 9


@pytest.mark.parametrize("asked", [4, 99, 100_000])
def test_a_page_beyond_the_last_shows_the_last(db, accounts, asked):
    page = paginate(_by_name(), asked, 10)
    assert page.page == 3 and [a.name for a in page.items] == [
        "Firma 20",
        "Firma 21",
        "Firma 22",
        "Firma 23",
        "Firma 24",
    ]
    assert not page.has_next


@pytest.mark.parametrize("asked", [0, -5])
def test_a_page_below_one_shows_the_first(db, accounts, asked):
    assert paginate(_by_name(), asked, 10).page == 1


def test_an_empty_list_is_page_one_of_none(db):
    page = paginate(_by_name(), 7, 10)
    assert (page.page, page.pages, page.total, page.items) == (1, 0, 0, [])


def test_one_query_for_the_items_and_one_for_the_count(db, accounts):
    members = (
        select(Account, User)
        .join(Membership, Membership.account_id == Account.id)
        .join(User, User.id == Membership.user_id)
        .order_by(Account.name)
    )
    with sql_statements(db.engine) as statements:
        models, rows = paginate(_by_name(), 2, 10), paginate(members, 3, 10)
    assert len(statements) == 4
    assert models.total == rows.total == 25 and rows.items[0] == (
        accounts[20],
        accounts[20].memberships[0].user,
    )
