"""The app's own commands (``portal worker``, ``scheduler``, ``rotate-token-key``,
``create-demo-data``), registered on every app by ``create_app``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker (with RQ's scheduler) on QUEUES, default all. SIGTERM: finish the
    current job, then exit 0; a second SIGTERM kills it."""
    from flask import current_app

    from portal.extensions import db
    from portal.jobs.worker import PortalWorker
    from portal.queue import redis_connection

    names = list(queues) or list(current_app.config["RQ_QUEUES"])
    db.engine.dispose()  # no pooled connection may cross the work-horse fork
    worker = PortalWorker(names, connection=redis_connection())
    worker.work(with_scheduler=True, burst=burst, logging_level=current_app.config["LOG_LEVEL"])


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the single scheduler that enqueues the periodic jobs (a standby waits)."""
    from portal.jobs.schedule import run_single_scheduler
    from portal.queue import redis_connection

    run_single_scheduler(redis_connection())


@click.command("rotate-token-key")
@with_appcontext
def rotate_token_key_command() -> None:
    """Re-encrypt stored Exact tokens with the first key of TOKEN_ENCRYPTION_KEY."""
    from sqlalchemy import select

    from portal.crypto import rotate
    from portal.extensions import db
    from portal.models import ExactConnection

    count = 0
    for connection in db.session.scalars(select(ExactConnection)):
        if connection.tokens_encrypted:
            connection.tokens_encrypted = rotate(connection.tokens_encrypted)
            count += 1
    db.session.commit()
    click.echo(f"Re-encrypted the tokens of {count} connection(s).")


@click.command("create-demo-data")
@with_appcontext
def create_demo_data_command() -> None:
    """Create the demo users and accounts (idempotent) and print how to log in."""
    from portal.demo_data import create_demo_data, describe_demo

    create_demo_data()
    click.echo(describe_demo())


def register_commands(app: Flask) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(rotate_token_key_command)
    app.cli.add_command(create_demo_data_command)
