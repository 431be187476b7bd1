"""``portal demo``: the whole portal on a laptop, and the demo data it shows.

One command starts an embedded Redis (unless REDIS_URL is set), applies migrations to
the SQLite file under instance/ (unless DATABASE_URL is set), creates demo data, starts
one RQ worker (which also runs the scheduler) and serves the web app.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

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
    from portal.blueprints.auth.views import create_user_with_account, user_by_email

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
        vat_number="NL123456789B01",
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
    for name, vat in (("Café De Hoek", "NL987654321B01"), ("Schilderwerken Jansen", "")):
        portals.create_managed_client(portal, name, vat, "", False, users["office"])


def describe_demo() -> str:
    lines = [f"Demo users (password for each: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<24} {name}" for name, email in DEMO_USERS.values()]
    lines.append(f"The office portal 'Boekhoudkantoor Demo' ({PORTAL_EMAIL}) belongs to")
    lines.append("office@demo.example (owner; staff@demo.example is a bookkeeper there):")
    lines.append("3 active clients, 2 waiting to be added.")
    return "\n".join(lines)


SANDBOX_PORT = 5055


def _prepare_environment(instance: Path, host: str, port: int) -> bool:
    """Embedded Redis and, unless a real Exact app is configured, the Exact sandbox.

    Returns whether the sandbox is to be started.
    """
    os.environ.setdefault("OUTBOX_PAGE", "1")
    os.environ.setdefault("BASE_URL", f"http://{host}:{port}")
    use_sandbox = not os.environ.get("EXACT_CLIENT_ID")
    if use_sandbox:
        from exact_sandbox.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

        os.environ["EXACT_BASE_URL"] = f"http://127.0.0.1:{SANDBOX_PORT}"
        os.environ["EXACT_CLIENT_ID"] = DEMO_CLIENT_ID
        os.environ["EXACT_CLIENT_SECRET"] = DEMO_CLIENT_SECRET
        os.environ["EXACT_REDIRECT_URI"] = f"http://{host}:{port}/exact/callback"
    if not os.environ.get("REDIS_URL"):
        from portal.redis_server import start_embedded_redis

        os.environ["REDIS_URL"] = start_embedded_redis(instance / "redis")
    return use_sandbox


def _start(*command: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "portal.cli", *command], env=os.environ.copy())


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def demo_command(host: str, port: int) -> None:
    """Run the demo: web server, worker + scheduler, embedded Redis, SQLite, demo data."""
    from flask_migrate import upgrade
    from werkzeug.serving import run_simple

    from portal import create_app

    app = create_app()
    use_sandbox = _prepare_environment(Path(app.instance_path), host, port)
    app = create_app()  # again, now that the environment names Redis and Exact for all
    with app.app_context():
        upgrade()
        create_demo_data()
    children = [_start("worker"), _start("scheduler")]
    if use_sandbox:
        children.append(_start("sandbox", "--port", str(SANDBOX_PORT)))
    click.echo("\n" + "=" * 64)
    click.echo(f"Portal:  http://{host}:{port}/")
    click.echo(f"Mail:    http://{host}:{port}/dev/outbox   (kept here, not sent; log in first)")
    click.echo(describe_demo())
    if use_sandbox:
        click.echo(
            f"Exact:   the sandbox on http://127.0.0.1:{SANDBOX_PORT}/ "
            "(Exact login 'accountant' / 'accountant', or 'client' / 'client')"
        )
    click.echo("=" * 64 + "\n")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(timeout=10)
