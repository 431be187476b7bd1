"""Factories for test data: plain functions that add rows and flush."""

from __future__ import annotations

import itertools

from portal.extensions import db
from portal.models import Account, AccountKind, Membership, Role, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(
    email: str | None = None,
    name: str | None = None,
    password: str = PASSWORD,
    language: str | None = None,
) -> User:
    n = next(_seq)
    user = User(
        email=email or f"user{n}@example.com",
        name=name or f"User {n}",
        password=password,
        language=language,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_account(
    name: str | None = None, kind: AccountKind = AccountKind.CLIENT, owner: User | None = None
) -> Account:
    account = Account(name=name or f"Company {next(_seq)}", kind=kind)
    db.session.add(account)
    db.session.flush()
    if owner is not None:
        add_member(account, owner, Role.OWNER)
    return account


def add_member(account: Account, user: User, role: Role = Role.MEMBER) -> Membership:
    membership = Membership(account=account, user=user, role=role)
    db.session.add(membership)
    db.session.flush()
    return membership


def make_user_with_account(**kwargs) -> tuple[User, Account]:
    user = make_user(**kwargs)
    account = make_account(owner=user)
    db.session.commit()
    return user, account


BILLING = {
    "billing_company": "Kantoor BV",
    "billing_vat_number": "NL123456782B01",
    "billing_address": "Kerkstraat 1, 1000 AA Amsterdam",
    "billing_email": "facturen@kantoor.example",
}


def make_portal(
    owner: User, name: str = "Kantoor Portaal", email: str | None = None, billing: bool = True
) -> Account:
    """A portal with its owner (and complete billing details unless ``billing=False``)."""
    from portal.clients.portals import BillingDetails, create_portal

    details = BillingDetails(
        company=BILLING["billing_company"],
        vat_number=BILLING["billing_vat_number"],
        address=BILLING["billing_address"],
        email=BILLING["billing_email"],
    )
    portal = create_portal(owner, name, email or f"portal{next(_seq)}@kantoor.example", details)
    if not billing:
        portal.billing_company = None
    db.session.commit()
    return portal


def link_client(portal: Account, client: Account, status: str = "active", role: Role = Role.ADMIN):
    from portal import clock
    from portal.models import PortalLink, PortalLinkOrigin, PortalLinkStatus

    link = PortalLink(
        portal_id=portal.id,
        client_id=client.id,
        status=PortalLinkStatus(status),
        origin=PortalLinkOrigin.GRANTED,
        role=role,
        activated_at=clock.now() if status == "active" else None,
    )
    db.session.add(link)
    db.session.commit()
    return link


def make_exact_connection(account: Account, divisions: list[dict] | None = None):
    """An Exact connection row (no tokens: nothing here calls Exact)."""
    from portal.models import ConnectionStatus, ExactConnection

    connection = ExactConnection(
        account_id=account.id,
        country="nl",
        base_url="http://exact.invalid",
        status=ConnectionStatus.CONNECTED,
        exact_user_name="Accountant",
        divisions=divisions
        if divisions is not None
        else [
            {
                "code": 3001101,
                "name": "Bakkerij",
                "customer": "",
                "vat": "",
                "kvk": "",
                "country": "NL",
                "status": 1,
            }
        ],
    )
    db.session.add(connection)
    db.session.flush()
    return connection


def make_division_link(client: Account, connection, code: int = 3001101, **fields):
    """A client account's link to a division of the connection."""
    from portal.models import ExactDivisionLink

    link = ExactDivisionLink(
        account_id=client.id,
        connection_id=connection.id,
        division_code=code,
        division_name=fields.pop("division_name", f"Administration {code}"),
        **fields,
    )
    db.session.add(link)
    db.session.flush()
    return link


def make_synced_dossier(client: Account, code: int = 3001101) -> dict:
    """Rows a synced dossier has: its state, a finished run and a master-data record."""
    from portal import clock
    from portal.models import ExactRecord, SyncRun, SyncState

    state = SyncState(account_id=client.id, division_code=code, cursors={}, last_status="succeeded")
    run = SyncRun(
        account_id=client.id, division_code=code, trigger="manual", status="succeeded", stats={}
    )
    run.finished_at = clock.now()
    record = ExactRecord(
        account_id=client.id,
        division_code=code,
        entity="gl_accounts",
        exact_id="00000000-0000-0000-0000-000000000001",
        code="4000",
        description="Kantoorkosten",
        data={"Code": "4000"},
    )
    db.session.add_all([state, run, record])
    db.session.flush()
    return {"state": state, "run": run, "record": record}
