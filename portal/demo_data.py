"""The demo's data: an office portal with active, pending and eigen-beheer clients, and the
people who use them. ``portal create-demo-data`` and ``portal demo`` create it (idempotent)."""

from __future__ import annotations

DEMO_PASSWORD = "demo-password"
DEMO_USERS = {
    "office": ("Olga Office", "office@demo.example"),
    "staff": ("Sam Staff", "staff@demo.example"),
    "client": ("Kees Klant", "client@demo.example"),
    "garage": ("An Peeters", "an@garage.example"),
    "florist": ("Fleur Bloem", "fleur@bloem.example"),
}
PORTAL_EMAIL = "portaal@demo.example"
OWN_ACCOUNTS = {
    "office": "Olga Office (own account)",
    "staff": "Sam Staff (own account)",
    "client": "Bakkerij De Klant",
    "garage": "Garage Peeters",
    "florist": "Bloemenwinkel Fleur",
}


def create_demo_data() -> None:
    """An office portal with active and pending clients; safe to run again."""
    from portal.extensions import db

    users = _demo_users()
    if _demo_portal() is None:
        _create_demo_portal(users)
    db.session.commit()
    _create_demo_bookkeeping(_own_account(users["client"]), users)


def _demo_users() -> dict:
    from portal.clients.users import create_user_with_account, user_by_email

    users = {}
    for key, (name, email) in DEMO_USERS.items():
        users[key] = user_by_email(email) or create_user_with_account(
            name, email, DEMO_PASSWORD, OWN_ACCOUNTS[key]
        )
    return users


def _demo_portal():
    from portal.clients.access import portal_with_email

    return portal_with_email(PORTAL_EMAIL)


def _own_account(user):
    from portal.models import Role

    return next(m.account for m in user.memberships if m.role == Role.OWNER)


def _create_demo_portal(users: dict) -> None:
    from portal import modules
    from portal.clients import access, portals
    from portal.extensions import db
    from portal.models import Membership, Role

    billing = portals.BillingDetails(
        company="Boekhoudkantoor Demo BV",
        vat_number="NL123456782B01",
        address="Kerkstraat 1\n1000 AA Amsterdam",
        email="facturen@demo.example",
    )
    portal = portals.create_portal(users["office"], "Boekhoudkantoor Demo", PORTAL_EMAIL, billing)
    db.session.flush()
    # Staff who book but do not manage: in each client the weaker of this and the client's grant.
    db.session.add(Membership(account_id=portal.id, user=users["staff"], role=Role.BOOKKEEPER))
    # Active: the bakery granted the portal access and the office added it.
    link = access.grant_access(
        _own_account(users["client"]), PORTAL_EMAIL, Role.ADMIN, users["client"]
    )
    db.session.flush()
    portals.add_client(portal, link.id)
    # Pending: these clients granted access; the office has not added them yet. The florist
    # lets the office book, not manage (no Activate, no people, no modules).
    for key, role in (("garage", Role.ADMIN), ("florist", Role.BOOKKEEPER)):
        access.grant_access(_own_account(users[key]), PORTAL_EMAIL, role, users[key])
    modules.set_enabled(portal, "exact_online", True)
    # In eigen beheer: created by the office and billed to it.
    for name, vat in (("Café De Hoek", "NL987654329B01"), ("Schilderwerken Jansen", "")):
        portals.create_managed_client(portal, name, vat, "", False, users["office"])


# The bakery's categories, with codes of the sandbox's Dutch chart (administration 3001101):
# they resolve once the office has activated that administration and its first sync has run.
DEMO_CATEGORIES = (
    ("Kantoorartikelen", "4300", "4", None),
    ("Lunch en representatie", "4500", "5", None),
    ("Brandstof", "4400", "4", None),
    ("Kilometervergoeding", "4400", "0", None),
)


def _create_demo_bookkeeping(bakery, users: dict) -> None:
    """The bakery's bookkeeping waiting to be prepared: receipts, two e-invoices (UBL with its
    PDF, and Factur-X), a bank statement (one payment paired with an invoice, one card payment
    without a receipt) and an employee's expense claim awaiting approval. Once only."""
    from datetime import timedelta
    from decimal import Decimal

    from sqlalchemy import select

    from portal import clock, modules, sample_files
    from portal.bookkeeping import bank, intake
    from portal.extensions import db
    from portal.models import BookItem, BookkeepingSettings, Category

    if db.session.scalar(select(BookItem.id).where(BookItem.account_id == bakery.id).limit(1)):
        return
    owner = users["client"]
    today = clock.now().date()
    modules.set_enabled(bakery, "bookkeeping", True)
    categories = {}
    for name, gl, vat, cost_center in DEMO_CATEGORIES:
        categories[name] = Category(
            account_id=bakery.id,
            name=name,
            gl_account_code=gl,
            vat_code=vat,
            cost_center=cost_center,
        )
    db.session.add_all(categories.values())
    db.session.add(
        BookkeepingSettings(
            account_id=bakery.id,
            purchase_journal_code="60",
            general_journal_code="90",
            employee_gl_account_code="1700",
        )
    )
    db.session.commit()
    invoice_day = today - timedelta(days=6)
    uploads = [
        ("bon-kantoorboekhandel.pdf", sample_files.pdf_receipt("Pen & Papier - Totaal EUR 36,30")),
        ("bon-lunch.png", sample_files.png_receipt("Lunch klant")),
        (
            "molen-factuur.xml",
            sample_files.ubl_invoice(
                number=f"MOL-{invoice_day:%Y}-0117",
                issue_date=invoice_day,
                due_date=invoice_day + timedelta(days=30),
                supplier_name="Meelfabriek De Molen B.V.",
                supplier_vat="NL004495445B01",
                pdf=sample_files.pdf_receipt("Meelfabriek De Molen - factuur MOL-0117"),
                pdf_filename="MOL-0117.pdf",
            ),
        ),
        (
            "verpakkingen-factuur.pdf",
            sample_files.facturx_pdf(
                number=f"VP-{invoice_day:%Y}-88",
                issue_date=invoice_day - timedelta(days=3),
                due_date=invoice_day + timedelta(days=11),
                supplier_name="Verpakkingen Noord B.V.",
                supplier_vat="NL001234567B01",
                lines=[
                    {"description": "Broodzakken", "quantity": "2000", "net": "180.00",
                     "category": "S", "percent": "21"},
                ],
            ),
        ),
    ]  # fmt: skip
    for filename, data in uploads:
        intake.receive(bakery, owner, filename, data)
        db.session.commit()
    # the statement: the mill's invoice paid two days after it came in, and a card payment at
    # a petrol station whose receipt never arrived
    payable = db.session.scalar(
        select(BookItem.amount).where(
            BookItem.account_id == bakery.id, BookItem.invoice_number.like("MOL-%")
        )
    )
    statement = sample_files.camt053_statement(
        entries=[
            {"amount": -payable, "booking_date": invoice_day + timedelta(days=2),
             "name": "Meelfabriek De Molen B.V.", "remittance": "MOL-0117",
             "reference": f"DEMO-{invoice_day:%Y%m%d}-1"},
            {"amount": Decimal("-68.40"), "booking_date": invoice_day + timedelta(days=3),
             "name": "Tankstation De Snelweg", "remittance": "Betaalpas 1234",
             "reference": f"DEMO-{invoice_day:%Y%m%d}-2"},
            {"amount": Decimal("1250.00"), "booking_date": invoice_day + timedelta(days=4),
             "name": "Hotel De Zon", "remittance": "Factuur 2026-31",
             "reference": f"DEMO-{invoice_day:%Y%m%d}-3"},
        ],
        iban="NL20INGB0001234567",
        opening="2500.00",
        statement_id=f"DEMO-{today:%Y%m%d}",
        statement_date=invoice_day + timedelta(days=4),
    )  # fmt: skip
    bank.import_statement(bakery, owner, "ing-afschrift.xml", statement)
    _demo_claim(bakery, owner, categories, today)


def _demo_claim(bakery, employee, categories: dict, today) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from portal import sample_files
    from portal.bookkeeping import claims
    from portal.extensions import db

    claim = claims.new_claim(bakery, employee, "Beurs Bakkerijvak Utrecht")
    db.session.flush()
    lunch = claims.Expense(
        spent_on=today - timedelta(days=3),
        amount=Decimal("23.80"),
        category_id=categories["Lunch en representatie"].id,
        description="Lunch op de beurs",
    )
    claims.add_expense(claim, employee, lunch, "lunch.jpg", sample_files.jpeg_receipt("Beurs"))
    trip = claims.Mileage(
        spent_on=today - timedelta(days=3),
        km=Decimal("84"),
        category_id=categories["Kilometervergoeding"].id,
        description="Heen en terug naar Utrecht",
    )
    claims.add_mileage(claim, employee, trip)
    claims.submit(claim, employee)
    db.session.commit()


def describe_demo() -> str:
    lines = [f"Demo users (password for each: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<24} {name}" for name, email in DEMO_USERS.values()]
    lines.append(f"The office portal 'Boekhoudkantoor Demo' ({PORTAL_EMAIL}) belongs to")
    lines.append("office@demo.example (owner; staff@demo.example is a bookkeeper there):")
    lines.append("3 active clients, 2 waiting to be added.")
    return "\n".join(lines)
