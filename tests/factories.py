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
    "billing_vat_number": "NL123456789B01",
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
    from portal.models import PortalLink, PortalLinkOrigin, PortalLinkStatus
    from portal.models.base import utcnow

    link = PortalLink(
        portal_id=portal.id,
        client_id=client.id,
        status=PortalLinkStatus(status),
        origin=PortalLinkOrigin.GRANTED,
        role=role,
        activated_at=utcnow() if status == "active" else None,
    )
    db.session.add(link)
    db.session.commit()
    return link
