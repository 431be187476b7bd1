"""The ``portal`` console command: Flask's commands, the app's own (``portal.commands``), the
demo and, where it is installed, the Exact sandbox."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup


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
    from portal.config import ConfigError

    try:
        _cli()(prog_name="portal")
    except ConfigError as error:  # a setting missing or wrong: say which, without a traceback
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
