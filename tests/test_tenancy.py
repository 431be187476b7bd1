"""Account switching, the switcher, and the 404 for foreign accounts and rows."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from portal import audit
from portal.models import AccountKind, AuditEvent, Role
from portal.tenancy import accessible_accounts, enter_account, get_for_account, scoped
from tests.factories import add_member, make_account, make_user, make_user_with_account


def test_switcher_lists_every_account_the_user_may_enter(login, client, db):
    user, own = make_user_with_account(name="Piet")
    office = make_account(name="Kantoor Portaal", kind=AccountKind.PORTAL)
    add_member(office, user, Role.ADMIN)
    make_user_with_account()  # someone else's account
    db.session.commit()
    login(user)
    html = client.get(f"/a/{own.id}/").get_data(as_text=True)
    assert 'data-testid="account-switcher"' in html
    assert f'href="/a/{office.id}/"' in html and f'href="/a/{own.id}/"' in html
    assert html.count('<li><a href="/a/') == 2
    # switching: the portal is entered from the switcher link
    page = client.get(f"/a/{office.id}/").get_data(as_text=True)
    assert "Kantoor Portaal" in page and "Office portal" in page


def test_home_goes_straight_into_the_only_account(login, client, db):
    user, own = make_user_with_account()
    login(user)
    response = client.get("/")
    assert response.headers["Location"].endswith(f"/a/{own.id}/")


def test_home_offers_a_choice_with_several_accounts(login, client, db):
    user, own = make_user_with_account()
    add_member(make_account(name="Second"), user)
    db.session.commit()
    login(user)
    assert client.get("/").headers["Location"].endswith("/accounts")
    assert b"Second" in client.get("/accounts").data


def test_foreign_account_is_a_404(login, client, db):
    user, _own = make_user_with_account()
    _other_user, other = make_user_with_account()
    login(user)
    assert client.get(f"/a/{other.id}/").status_code == 404
    assert client.get("/a/999999/").status_code == 404


def test_anonymous_visitor_is_sent_to_login(client, db):
    _user, account = make_user_with_account()
    response = client.get(f"/a/{account.id}/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_scoped_helpers_never_return_another_accounts_rows(app, db):
    user_a, account_a = make_user_with_account()
    user_b, account_b = make_user_with_account()
    own = audit.record(account_a, "test.own", actor=user_a)
    foreign = audit.record(account_b, "test.foreign", actor=user_b)
    db.session.commit()
    assert get_for_account(AuditEvent, own.id, account_a).action == "test.own"
    with pytest.raises(NotFound):
        get_for_account(AuditEvent, foreign.id, account_a)
    rows = db.session.scalars(scoped(AuditEvent, account_a)).all()
    assert {r.account_id for r in rows} == {account_a.id}


def test_enter_account_requires_membership(app, db):
    user, account = make_user_with_account()
    stranger = make_user()
    db.session.commit()
    from flask_login import login_user

    with app.test_request_context():
        login_user(stranger)
        with pytest.raises(NotFound):
            enter_account(account.id)
        login_user(user)
        assert enter_account(account.id).id == account.id


def test_accessible_accounts_lists_portals_first(db):
    user, own = make_user_with_account()
    office = make_account(name="Office", kind=AccountKind.PORTAL)
    add_member(office, user, Role.MEMBER)
    db.session.commit()
    kinds = [acc.kind for acc, _role in accessible_accounts(user)]
    assert kinds == [AccountKind.PORTAL, AccountKind.CLIENT]


def test_switcher_lists_a_portals_first_clients_and_their_number(db):
    from portal.tenancy import portal_clients_for_switcher
    from tests.factories import link_client, make_portal

    user, _own = make_user_with_account()
    portal = make_portal(user)
    for name in ["C", "A", "B", "D"]:
        link_client(portal, make_account(name=name))
    link_client(portal, make_account(name="Pending"), status="pending")
    clients, total = portal_clients_for_switcher(user, limit=3)[portal.id]
    assert [c.name for c in clients] == ["A", "B", "C"] and total == 4
