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

from portal.demo_data import create_demo_data, describe_demo

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
