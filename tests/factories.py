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


# --- bookkeeping -------------------------------------------------------------------------------
def _exact_date(day) -> str:
    from datetime import UTC, datetime

    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return f"/Date({int(midnight.timestamp() * 1000)})/"


def make_master_data(client: Account, code: int = 3001101, years=(2025, 2026, 2027)) -> dict:
    """A linked client's synced master data as the bookkeeping uses it: GL accounts (one
    blocked), purchase VAT codes 21 % / 9 % / 0 % (one blocked), a purchase and a general
    journal, suppliers (one blocked), cost centers and units, monthly periods, a payment
    condition of 30 days. Needs the client's division link (``make_division_link``).

    Returns {entity: {code: ExactRecord}}."""
    from datetime import date, timedelta

    from portal.models import ExactRecord

    rows: dict[str, list[dict]] = {
        "gl_accounts": [
            {"Code": "4000", "Description": "Kantoorkosten", "BalanceType": "W"},
            {"Code": "4100", "Description": "Autokosten", "BalanceType": "W"},
            {"Code": "4500", "Description": "Reis- en verblijfkosten", "BalanceType": "W"},
            {"Code": "0200", "Description": "Inventaris", "BalanceType": "B"},
            {"Code": "1600", "Description": "Crediteuren", "BalanceType": "B"},
            {"Code": "4999", "Description": "Oude kosten", "BalanceType": "W", "IsBlocked": True},
        ],
        "vat_codes": [
            {
                "Code": "2",
                "Description": "BTW hoog 21%",
                "Percentage": 0.21,
                "VATTransactionType": "P",
                "Type": "E",
            },
            {
                "Code": "1",
                "Description": "BTW laag 9%",
                "Percentage": 0.09,
                "VATTransactionType": "P",
                "Type": "E",
            },
            {
                "Code": "0",
                "Description": "BTW 0%",
                "Percentage": 0,
                "VATTransactionType": "B",
                "Type": "N",
            },
            {
                "Code": "7",
                "Description": "Verlegd",
                "Percentage": 0,
                "VATTransactionType": "P",
                "Type": "N",
                "IsBlocked": True,
            },
        ],
        "journals": [
            {"Code": "70", "Description": "Inkoopboek", "Type": 22},
            {"Code": "90", "Description": "Memoriaal", "Type": 90},
            {"Code": "20", "Description": "Bank", "Type": 12},
        ],
        "accounts": [
            {
                "Code": "                 1",
                "Name": "Kantoor Plus B.V.",
                "IsSupplier": True,
                "VATNumber": "NL001234567B01",
                "PaymentConditionPurchase": "30",
            },
            {
                "Code": "                 2",
                "Name": "Tankstation De Snelweg",
                "IsSupplier": True,
                "VATNumber": "NL002345678B01",
            },
            {
                "Code": "                 3",
                "Name": "Klant Jansen",
                "IsSupplier": False,
                "IsSales": True,
            },
            {
                "Code": "                 4",
                "Name": "Oude Leverancier",
                "IsSupplier": True,
                "Blocked": True,
            },
        ],
        "cost_centers": [
            {"Code": "100", "Description": "Verkoop", "EndDate": None},
            {"Code": "200", "Description": "Productie", "EndDate": "/Date(4102444800000)/"},
            {"Code": "900", "Description": "Opgeheven", "EndDate": "/Date(1577836800000)/"},
        ],
        "cost_units": [{"Code": "P1", "Description": "Project 1"}],
        "payment_conditions": [{"Code": "30", "Description": "30 dagen", "PaymentDays": 30}],
        "financial_periods": [
            {
                "FinYear": year,
                "FinPeriod": month,
                "StartDate": _exact_date(date(year, month, 1)),
                "EndDate": _exact_date(
                    date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
                ),
            }
            for year in years
            for month in range(1, 13)
        ],
    }
    made: dict[str, dict] = {}
    for entity, entries in rows.items():
        for data in entries:
            n = next(_seq)
            if entity == "financial_periods":
                key = f"{data['FinYear']}-{data['FinPeriod']:02d}"
                description = None
            else:
                key = data["Code"]
                description = data.get("Description") or data.get("Name")
            record = ExactRecord(
                account_id=client.id,
                division_code=code,
                entity=entity,
                exact_id=f"00000000-0000-0000-0000-{n:012d}",
                code=key,
                description=description,
                data={"ID": f"00000000-0000-0000-0000-{n:012d}", **data},
            )
            db.session.add(record)
            made.setdefault(entity, {})[key.strip()] = record
    db.session.flush()
    return made


def make_bookkeeping_client(module: bool = True) -> dict:
    """A client account with the bookkeeping module on, its Exact link and master data.

    Returns {"user": owner, "account": client, "link": link, "master": master data rows}."""
    from portal import modules

    user, account = make_user_with_account()
    connection = make_exact_connection(account)
    link = make_division_link(account, connection)
    master = make_master_data(account)
    if module:
        modules.set_enabled(account, "bookkeeping", True)
    db.session.flush()
    return {"user": user, "account": account, "link": link, "master": master}


def make_item(account: Account, **fields):
    """A bookkeeping item (a receipt unless ``kind`` says otherwise), with lines as dicts."""
    from datetime import date
    from decimal import Decimal

    from portal.models import BookItem, ItemKind, ItemLine

    lines = fields.pop("lines", [])
    item = BookItem(
        account_id=account.id,
        kind=fields.pop("kind", ItemKind.RECEIPT),
        document_date=fields.pop("document_date", date(2026, 3, 14)),
        amount=fields.pop("amount", Decimal("121.00")),
        **fields,
    )
    for position, line in enumerate(lines):
        item.lines.append(ItemLine(position=position, **line))
    db.session.add(item)
    db.session.flush()
    return item
