"""The command line: a thin shell that parses, calls the library, prints.

Exit codes: 0 success; 1 the command ran but found a problem it was asked to
report (`scan`: a release could not be read); 2 bad usage, configuration or
database (nothing was done).
"""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path
from typing import Any

import click

from linkwatch import __version__
from linkwatch.clock import system_clock
from linkwatch.errors import LinkwatchError
from linkwatch.store.base import store_error

# One module per command, each imported only when its command runs: `report` or
# `scan` do not pay for the daemon's imports (aiohttp, jinja2, APScheduler).
COMMANDS = (
    "archive",
    "check",
    "digest",
    "history",
    "init",
    "mark",
    "notify",
    "report",
    "rewrite",
    "run",
    "scan",
)


class FatalError(click.ClickException):
    """Configuration, database or usage trouble: nothing was done (exit 2)."""

    exit_code = 2


class LinkwatchGroup(click.Group):
    """The command group: finds each command in its module, and turns errors into exit codes.

    A `LinkwatchError` that reaches here becomes one line on stderr and exit 2,
    in this one place: commands never catch errors to decide how to exit.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"linkwatch.cli.{cmd_name}")
        command = getattr(module, f"{cmd_name}_command")
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LinkwatchError as err:
            raise FatalError(str(err)) from err
        except sqlite3.Error as err:  # the database failed mid-run (locked, disk full)
            raise FatalError(str(store_error(err, Path("the database")))) from err


@click.group(cls=LinkwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="linkwatch")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("config.toml"),
    envvar="LINKWATCH_CONFIG",
    show_default=True,
    show_envvar=True,
    help="The configuration file.",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path) -> None:
    """Keep the citations of published press releases alive.

    linkwatch finds every footnote URL in your releases, checks it on a
    schedule, archives it and rewrites rotted footnotes to archived copies.
    """
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj.setdefault("clock", system_clock)  # tests pass their own: main(obj={"clock": ...})
