"""Walk every route of the app as an outsider and as a member of another account.

Each route must answer 404, 403 or a redirect to the login page, unless it is on the short,
explicit list of public or user-level routes below. A new route that forgets the account
check, or that is not account-scoped and not listed, makes this test fail.
"""

from __future__ import annotations

import pytest

from portal.models import Invitation, Membership, Role
from tests.factories import add_member, link_client, make_portal, make_user, make_user_with_account

# Routes anyone may open (login, sign-up, reset, language, static files, invitations by token).
PUBLIC = {
    "static",
    "auth.signup",
    "auth.login",
    "auth.logout",
    "auth.reset_request",
    "auth.reset_password",
    "auth.set_language",
    "accounts.home",
    "invitations.show",
    "invitations.register",
    "dev.outbox",
    "dev.outbox_message",
}
# Routes about the signed-in user themselves (their settings, their account list).
USER_LEVEL = {"auth.settings", "accounts.switch", "portals.new"}
ALLOWED = {302, 403, 404}


@pytest.fixture
def victim(db):
    """A portal with a client, objects of every kind in them, and its own users."""
    owner, own_account = make_user_with_account()
    portal = make_portal(owner)
    client_user, client_account = make_user_with_account()
    link = link_client(portal, client_account)
    invitation = Invitation(account_id=client_account.id, email="x@example.com", role=Role.MEMBER)
    db.session.add(invitation)
    add_member(client_account, make_user(), Role.MEMBER)
    db.session.commit()
    membership = db.session.query(Membership).filter_by(account_id=client_account.id).first()
    return {
        "portal": portal,
        "client": client_account,
        "link": link,
        "invitation": invitation,
        "membership": membership,
    }


def _urls(app, victim) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule, filled with the victim's ids."""
    ids = {
        "membership_id": victim["membership"].id,
        "invitation_id": victim["invitation"].id,
        "link_id": victim["link"].id,
        "message_id": 1,
        "token": "x",
        "filename": "css/portal.css",
        "key": "exact_online",
        "entity_key": "gl_accounts",
    }
    urls = []
    for rule in app.url_map.iter_rules():
        for account in (victim["portal"], victim["client"]):
            values = {name: ids.get(name, 1) for name in rule.arguments}
            if "account_id" in rule.arguments:
                values["account_id"] = account.id
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                urls.append((rule.endpoint, method, url))
    return urls


def _check(client, app, victim, signed_in: bool) -> list[str]:
    problems = []
    for endpoint, method, url in _urls(app, victim):
        if endpoint in PUBLIC or (signed_in and endpoint in USER_LEVEL):
            continue
        response = client.open(
            url,
            method=method,
            data={"csrf_token": client.csrf_token()} if method == "POST" else None,
        )
        location = response.headers.get("Location", "")
        if response.status_code not in ALLOWED or (
            response.status_code == 302 and "/login" not in location
        ):
            problems.append(f"{method} {url} ({endpoint}) -> {response.status_code} {location}")
    return problems


def test_every_route_refuses_an_anonymous_visitor(app, client, victim):
    assert _check(client, app, victim, signed_in=False) == []


def test_every_route_refuses_a_member_of_another_account(app, client, login, victim, db):
    outsider, _own = make_user_with_account()
    other_portal = make_portal(outsider)
    _u, other_client = make_user_with_account()
    link_client(other_portal, other_client)
    login(outsider)
    assert _check(client, app, victim, signed_in=True) == []


def test_the_walk_catches_a_route_that_forgets_the_check(app, client, login, victim, db):
    """Proof that the walk can fail: a route without the account check is reported."""
    from flask import Blueprint

    leaky = Blueprint("leaky", __name__)
    leaky.add_url_rule("/a/<int:account_id>/leak", "leak", lambda account_id: "secret")
    app.register_blueprint(leaky)
    outsider, _own = make_user_with_account()
    login(outsider)
    problems = _check(client, app, victim, signed_in=True)
    assert any("leaky.leak" in p for p in problems)
