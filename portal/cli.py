"""The ``portal`` command: Flask's commands plus worker, demo and sandbox."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup, with_appcontext


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Run a stock RQ worker (with the scheduler) on QUEUES, default all."""
    from flask import current_app
    from rq import Worker

    from portal.extensions import db
    from portal.jobs.queues import redis_connection

    names = list(queues) or list(current_app.config["RQ_QUEUES"])
    db.engine.dispose()  # no pooled connection may cross the work-horse fork
    worker = Worker(names, connection=redis_connection())
    worker.work(with_scheduler=True, burst=burst)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the single scheduler that enqueues the periodic jobs (a standby waits)."""
    from portal.jobs.queues import redis_connection
    from portal.jobs.schedule import run_single_scheduler

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
    from portal.demo import create_demo_data, describe_demo

    create_demo_data()
    click.echo(describe_demo())


def register_commands(app) -> None:
    app.cli.add_command(worker_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(rotate_token_key_command)
    app.cli.add_command(create_demo_data_command)


def _cli() -> FlaskGroup:
    from portal import create_app
    from portal.demo import demo_command

    group = FlaskGroup(create_app=create_app, help="The accounting-firm portal.")
    group.add_command(demo_command)
    _add_sandbox_command(group)
    return group


def _add_sandbox_command(group: FlaskGroup) -> None:
    """``portal sandbox``, where the Exact sandbox (a demo and test package) is installed."""
    try:
        from exact_sandbox.cli import sandbox_command
    except ImportError:
        return
    group.add_command(sandbox_command)


def main() -> None:
    _cli()(prog_name="portal")


if __name__ == "__main__":
    main()
