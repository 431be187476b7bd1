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


def describe_demo() -> str:
    lines = [f"Demo users (password for each: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<24} {name}" for name, email in DEMO_USERS.values()]
    lines.append(f"The office portal 'Boekhoudkantoor Demo' ({PORTAL_EMAIL}) belongs to")
    lines.append("office@demo.example (owner; staff@demo.example is a bookkeeper there):")
    lines.append("3 active clients, 2 waiting to be added.")
    return "\n".join(lines)
