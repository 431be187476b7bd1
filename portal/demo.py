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
    "client": ("Kees Klant", "client@demo.example"),
}


def create_demo_data() -> None:
    """Demo users with their own accounts; safe to run again."""
    from portal.blueprints.auth.views import create_user_with_account, user_by_email
    from portal.extensions import db

    companies = {"office": "Boekhoudkantoor Demo (own account)", "client": "Bakkerij De Klant"}
    for key, (name, email) in DEMO_USERS.items():
        if user_by_email(email) is None:
            create_user_with_account(name, email, DEMO_PASSWORD, companies[key])
    db.session.commit()


def describe_demo() -> str:
    lines = [f"Demo users (password for each: {DEMO_PASSWORD}):"]
    lines += [f"  {email:<24} {name}" for name, email in DEMO_USERS.values()]
    return "\n".join(lines)


def _prepare_environment(instance: Path) -> None:
    os.environ.setdefault("OUTBOX_PAGE", "1")
    if not os.environ.get("REDIS_URL"):
        from portal.redis_server import start_embedded_redis

        os.environ["REDIS_URL"] = start_embedded_redis(instance / "redis")


def _start_worker() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "portal.cli", "worker"], env=os.environ.copy())


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def demo_command(host: str, port: int) -> None:
    """Run the demo: web server, worker + scheduler, embedded Redis, SQLite, demo data."""
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app()
    _prepare_environment(Path(app.instance_path))
    app = create_app()  # again, now that the environment names Redis for every process
    with app.app_context():
        upgrade()
        create_demo_data()
    children = [_start_worker()]
    click.echo("\n" + "=" * 64)
    click.echo(f"Portal:  http://{host}:{port}/")
    click.echo(f"Mail:    http://{host}:{port}/dev/outbox   (mail is kept here, not sent)")
    click.echo(describe_demo())
    click.echo("=" * 64 + "\n")
    try:
        app.run(host=host, port=port, use_reloader=False, threaded=True)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(timeout=10)
