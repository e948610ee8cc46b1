"""The command line: a thin shell that parses, calls the library, prints.

Exit codes: 0 success; 1 the command ran but found a problem it was asked to
report (`scan`: a release could not be read); 2 bad usage, configuration or
database (nothing was done).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

from linkwatch import __version__
from linkwatch.config import ConfigError, Settings, load_settings, write_starter_config
from linkwatch.report import render_json, render_table
from linkwatch.scan import scan
from linkwatch.store import Store, StoreError


class FatalError(click.ClickException):
    """Configuration or database trouble: nothing was done."""

    exit_code = 2


def _settings(ctx: click.Context) -> Settings:
    path: Path = ctx.obj["config_path"]
    try:
        return load_settings(path)
    except ConfigError as err:
        raise FatalError(str(err)) from err


@contextmanager
def _open_store(settings: Settings) -> Iterator[Store]:
    try:
        store = Store.open(settings.state.dir)
    except StoreError as err:
        raise FatalError(str(err)) from err
    try:
        yield store
    finally:
        store.close()


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@main.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init(ctx: click.Context, path: Path | None, force: bool) -> None:
    """Write a commented starter configuration.

    PATH defaults to the --config path (./config.toml).

    Example: linkwatch init config.toml
    """
    target = path or ctx.obj["config_path"]
    try:
        write_starter_config(target, force=force)
    except ConfigError as err:
        raise FatalError(str(err)) from err
    click.echo(f"wrote {target}")


@main.command("scan")
@click.pass_context
def scan_command(ctx: click.Context) -> None:
    """Find releases and their citations and store them.

    Unchanged files (same content hash) are not parsed again; vanished files
    are marked missing, never deleted. Exits 1 if any release could not be read.

    Example: linkwatch scan
    """
    settings = _settings(ctx)
    err = _stderr()
    with _open_store(settings) as store:
        summary = scan(settings, store)
    for line in summary.warnings:
        err.print(f"[yellow]warning:[/] {line}", markup=True, highlight=False)
    for line in summary.errors:
        err.print(f"[red]error:[/] {line}", markup=True, highlight=False)
    for path in summary.missing:
        err.print(f"[yellow]missing:[/] {path} (kept in the store)", markup=True)
    click.echo(
        f"{summary.releases} releases ({summary.parsed} parsed, {summary.unchanged} unchanged), "
        f"{summary.citations} citations in parsed releases, {summary.new_urls} new URLs, "
        f"{len(summary.errors)} files with errors"
    )
    if not summary.ok:
        sys.exit(1)


@main.command("report")
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
    settings = _settings(ctx)
    with _open_store(settings) as store:
        releases = store.releases_with_citations()
    if fmt == "json":
        click.echo(render_json(releases, dt.datetime.now(dt.UTC)), nl=False)
    else:
        Console(highlight=False).print(render_table(releases))
