"""Walk every route of the app as an outsider, as a member of another account, and with every
role inside the victim's own relationship (its portal's staff and the client's own people).

Outsiders: each route must answer 404, 403 or a redirect to the login page, unless it is on
the short, explicit list of public or user-level routes below. A new route that forgets the
account check, or that is not account-scoped and not listed, makes this test fail.

Roles: every route that changes something declares the action it needs (``ROUTE_ACTIONS``); a
user whose role lacks it gets a 403 or 404 and changes nothing, checked against a snapshot of
every table. A new POST route that declares no action makes this test fail.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import modules
from portal.models import Invitation, Membership, Role
from portal.permissions import Action, authority
from tests.factories import (
    add_member,
    link_client,
    make_division_link,
    make_exact_connection,
    make_master_data,
    make_portal,
    make_synced_dossier,
    make_user,
    make_user_with_account,
)

# Routes anyone may open (login, sign-up, reset, language, static files, invitations by token).
PUBLIC = {
    "static",
    "auth.signup",
    "auth.finish_signup",
    "auth.login",
    "auth.logout",
    "auth.reset_request",
    "auth.reset_password",
    "auth.set_language",
    "accounts.home",
    "invitations.show",
    "invitations.register",
}
# Routes about the signed-in user themselves (their settings, their account list).
USER_LEVEL = {
    "auth.settings",
    "accounts.switch",
    "portals.new",
    "exact_oauth.callback",
    "dev.outbox",  # a signed-in demo user's, and only while the demo turns it on
    "dev.outbox_message",
}
ALLOWED = {302, 403, 404}

# What each account-scoped route needs beyond seeing the account. "client": the right is
# checked in the client account named by ``client_id``, whichever account the URL is under.
ROUTE_ACTIONS: dict[tuple[str, str], tuple[Action, str]] = {
    ("access.index", "POST"): (Action.MANAGE_ACCESS, "url"),
    ("access.change_role", "POST"): (Action.MANAGE_ACCESS, "url"),
    ("access.revoke_member", "POST"): (Action.MANAGE_ACCESS, "url"),
    ("access.revoke_invitation", "POST"): (Action.MANAGE_ACCESS, "url"),
    ("access.change_portal_role", "POST"): (Action.MANAGE_PORTAL_ACCESS, "url"),
    ("access.revoke_portal", "POST"): (Action.MANAGE_PORTAL_ACCESS, "url"),
    ("audit.index", "GET"): (Action.VIEW_AUDIT, "url"),
    ("modules.toggle", "POST"): (Action.MANAGE_MODULES, "url"),
    ("exact.connect", "POST"): (Action.CONNECT_EXACT, "url"),
    ("exact.disconnect", "POST"): (Action.CONNECT_EXACT, "url"),
    ("exact.refresh_divisions", "POST"): (Action.CONNECT_EXACT, "url"),
    ("exact.activate", "POST"): (Action.LINK_DOSSIER, "client"),
    ("exact.confirm_identity", "POST"): (Action.LINK_DOSSIER, "client"),
    ("exact.check_rights", "POST"): (Action.SYNC, "client"),
    ("exact.match_by_vat", "GET"): (Action.LINK_DOSSIER, "url"),
    ("exact.match_by_vat", "POST"): (Action.LINK_DOSSIER, "url"),
    ("sync.now", "POST"): (Action.SYNC, "url"),
    ("sync.purge_previous", "POST"): (Action.LINK_DOSSIER, "url"),
    ("sync.sync_all", "POST"): (Action.SYNC, "url"),
    ("portal.add_client", "POST"): (Action.MANAGE_CLIENTS, "url"),
    ("portal.new_client", "GET"): (Action.MANAGE_CLIENTS, "url"),
    ("portal.new_client", "POST"): (Action.MANAGE_CLIENTS, "url"),
    ("portal.billing", "GET"): (Action.MANAGE_BILLING, "url"),
    ("portal.billing", "POST"): (Action.MANAGE_BILLING, "url"),
    ("bookkeeping.claims", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.add_claim_expense", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.add_claim_mileage", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.update_claim_line", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.delete_claim_line", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.submit_claim", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.approve_claim", "POST"): (Action.APPROVE_CLAIMS, "url"),
    ("bookkeeping.reject_claim", "POST"): (Action.APPROVE_CLAIMS, "url"),
    ("bookkeeping.upload", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.import_statement", "POST"): (Action.UPLOAD, "url"),
    ("bookkeeping.unpair_transaction", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.pair_item", "GET"): (Action.PREPARE, "url"),
    ("bookkeeping.pair_item", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.item", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.back_to_preparing", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.bulk", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.add_category", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.edit_category", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.delete_category", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.add_supplier_rule", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.edit_supplier_rule", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.delete_supplier_rule", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.settings", "POST"): (Action.PREPARE, "url"),
    ("bookkeeping.export", "POST"): (Action.EXPORT, "url"),
    ("bookkeeping.export_retry", "POST"): (Action.EXPORT, "url"),
    ("bookkeeping.export_back", "POST"): (Action.PREPARE, "url"),
}


@pytest.fixture
def victim(db):
    """A portal with a client, objects of every kind in them, and its own users."""
    owner, own_account = make_user_with_account()
    portal = make_portal(owner)
    client_user, client_account = make_user_with_account()
    link = link_client(portal, client_account)
    _pending_user, pending_client = make_user_with_account()
    pending = link_client(portal, pending_client, status="pending")
    invitation = Invitation(account_id=client_account.id, email="x@example.com", role=Role.MEMBER)
    owner_invitation = Invitation(
        account_id=client_account.id, email="y@example.com", role=Role.OWNER
    )
    db.session.add_all([invitation, owner_invitation])
    add_member(client_account, make_user(), Role.MEMBER)
    for account in (portal, client_account):
        modules.set_enabled(account, "exact_online", True)
    connection = make_exact_connection(portal)
    make_division_link(client_account, connection)
    dossier = make_synced_dossier(client_account)
    db.session.commit()
    membership = db.session.query(Membership).filter_by(account_id=client_account.id).first()
    books = _bookkeeping_objects(client_account, client_user)
    return {
        **books,
        "portal": portal,
        "client": client_account,
        "link": link,
        "pending_link": pending,
        "invitation": invitation,
        "owner_invitation": owner_invitation,
        "membership": membership,
        "client_owner": client_user,
        "portal_owner": owner,
        **dossier,
    }


def _bookkeeping_objects(account, owner) -> dict:
    """The client's bookkeeping: an uploaded receipt, a bank statement's item, a submitted
    expense claim of an employee, a category and a supplier rule."""
    from datetime import date
    from decimal import Decimal

    from portal.bookkeeping import bank, claims, intake
    from portal.extensions import db
    from portal.models import BankTransaction, Category, SupplierRule
    from portal.sample_files import camt053_statement, png_receipt

    modules.set_enabled(account, "bookkeeping", True)
    make_master_data(account)
    item = intake.receive(account, owner, "bon.png", png_receipt())
    category = Category(account_id=account.id, name="Lunch", gl_account_code="4500")
    rule = SupplierRule(account_id=account.id, supplier_code="1", gl_account_code="4000")
    db.session.add_all([category, rule])
    employee = make_user()
    add_member(account, employee, Role.MEMBER)
    claim = claims.new_claim(account, employee, "Trip")
    db.session.flush()
    expense = claims.Expense(
        spent_on=date(2026, 3, 2), amount=Decimal("9.50"), category_id=category.id
    )
    line = claims.add_expense(claim, employee, expense, "taxi.png", png_receipt(text="Taxi"))
    claims.submit(claim, employee)
    db.session.commit()
    statement = camt053_statement(entries=[{"amount": Decimal("-12.10"), "name": "Kantoor Plus"}])
    bank.import_statement(account, owner, "bank.xml", statement)
    transaction = db.session.scalar(select(BankTransaction))
    return {
        "item": item,
        "file_id": item.file_id,
        "category": category,
        "supplier_rule": rule,
        "claim": claim,
        "claim_line": line,
        "transaction": transaction,
    }


def _urls(app, victim) -> list[tuple[str, str, str, int]]:
    """(endpoint, method, url, account id) for every rule, filled with the victim's ids."""
    ids = {
        "membership_id": victim["membership"].id,
        "invitation_id": victim["invitation"].id,
        "link_id": victim["pending_link"].id,
        "client_id": victim["client"].id,
        "run_id": victim["run"].id,
        "record_id": victim["record"].id,
        "message_id": 1,
        "token": "x",
        "filename": "css/portal.css",
        "key": "exact_online",
        "entity_key": "gl_accounts",
        "item_id": victim["item"].id,
        "file_id": victim["file_id"],
        "category_id": victim["category"].id,
        "rule_id": victim["supplier_rule"].id,
        "claim_id": victim["claim"].id,
        "line_id": victim["claim_line"].id,
        "transaction_id": victim["transaction"].id,
    }
    urls = []
    for rule in app.url_map.iter_rules():
        for account in (victim["portal"], victim["client"]):
            values = {name: ids.get(name, 1) for name in rule.arguments}
            if "account_id" in rule.arguments:
                values["account_id"] = account.id
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                urls.append((rule.endpoint, method, url, account.id))
    return urls


def _check(client, app, victim, signed_in: bool) -> list[str]:
    problems = []
    for endpoint, method, url, _account_id in _urls(app, victim):
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


# --- roles inside the relationship -----------------------------------------------------------

# (portal role, role the client granted the portal) for the office's staff, and the client's
# own people by role. Owners of the client may do everything and are not walked.
DELEGATED = [
    (Role.OWNER, Role.READ_ONLY),
    (Role.OWNER, Role.MEMBER),
    (Role.OWNER, Role.BOOKKEEPER),
    (Role.OWNER, Role.ADMIN),
    (Role.ADMIN, Role.MEMBER),
    (Role.BOOKKEEPER, Role.ADMIN),
    (Role.MEMBER, Role.ADMIN),
    (Role.READ_ONLY, Role.ADMIN),
]
OWN = [Role.READ_ONLY, Role.MEMBER, Role.BOOKKEEPER, Role.ADMIN]


def _snapshot(db) -> dict:
    """Every row of every table, to prove a refused request changed nothing."""
    rows = {}
    for table in db.metadata.sorted_tables:
        result = db.session.execute(select(table)).all()
        rows[table.name] = sorted(repr(tuple(row)) for row in result)
    return rows


def _needs(endpoint: str, method: str) -> tuple[Action, str]:
    return ROUTE_ACTIONS.get((endpoint, method), (Action.VIEW, "url"))


def _walk_roles(client, app, db, victim, user) -> tuple[int, list[str]]:
    """Try every route the user's role does not allow; (requests tried, problems)."""
    tried, problems = 0, []
    before = _snapshot(db)
    for endpoint, method, url, account_id in _urls(app, victim):
        if endpoint in PUBLIC or endpoint in USER_LEVEL:
            continue
        action, where = _needs(endpoint, method)
        target = victim["client"].id if where == "client" else account_id
        db.session.expire_all()
        if authority(user, target).can(action):
            continue
        tried += 1
        data = {"csrf_token": client.csrf_token()} if method == "POST" else None
        response = client.open(url, method=method, data=data)
        if response.status_code not in (403, 404):
            problems.append(f"{method} {url} ({endpoint}) -> {response.status_code}")
        db.session.expire_all()
        if _snapshot(db) != before:
            problems.append(f"{method} {url} ({endpoint}) changed the database")
            before = _snapshot(db)
    return tried, problems


def test_every_post_route_declares_the_action_it_needs(app):
    undeclared = sorted(
        f"{rule.endpoint} {method}"
        for rule in app.url_map.iter_rules()
        if "account_id" in rule.arguments
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
        if (rule.endpoint, method) not in ROUTE_ACTIONS
    )
    assert undeclared == []


@pytest.mark.parametrize(("portal_role", "granted"), DELEGATED, ids=lambda r: r.value)
def test_the_offices_staff_do_only_what_both_roles_allow(
    app, client, login, victim, db, portal_role, granted
):
    victim["link"].role = granted
    user = make_user()
    if portal_role == Role.OWNER:
        user = victim["portal_owner"]
    else:
        add_member(victim["portal"], user, portal_role)
    db.session.commit()
    login(user)
    tried, problems = _walk_roles(client, app, db, victim, user)
    print(f"role walk: {tried} requests refused as expected")
    assert problems == []
    assert tried > 0


@pytest.mark.parametrize("role", OWN, ids=lambda r: r.value)
def test_the_clients_own_people_do_only_what_their_role_allows(
    app, client, login, victim, db, role
):
    user = make_user()
    add_member(victim["client"], user, role)
    db.session.commit()
    login(user)
    tried, problems = _walk_roles(client, app, db, victim, user)
    print(f"role walk: {tried} requests refused as expected")
    assert problems == []
    assert tried > 0
