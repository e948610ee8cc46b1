"""The `report` command."""

from __future__ import annotations

import datetime as dt

import click
from rich.console import Console

from linkwatch.cli_common import open_store, settings_from
from linkwatch.report import render_json, render_table


@click.command("report")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts (a stable contract, see the README).",
)
@click.pass_context
def report_command(ctx: click.Context, fmt: str) -> None:
    """Show every release with its citations and their state.

    Example: linkwatch report --format json
    """
    settings = settings_from(ctx)
    with open_store(settings) as store:
        releases = store.releases_with_citations()
    if fmt == "json":
        click.echo(render_json(releases, dt.datetime.now(dt.UTC)), nl=False)
    else:
        Console(highlight=False).print(render_table(releases))


def register(main: click.Group) -> None:
    main.add_command(report_command)
