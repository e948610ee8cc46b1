"""The command line: a thin shell that parses, calls the library, prints.

Exit codes: 0 success; 1 the command ran but found a problem it was asked to
report (`scan`: a release could not be read); 2 bad usage, configuration or
database (nothing was done).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from linkwatch import __version__
from linkwatch.cli_common import (
    FatalError,
    clock_from,
    exclusive_state,
    open_store,
    run_until_signal,
    settings_from,
    stderr_console,
    url_key,
)
from linkwatch.clock import system_clock
from linkwatch.config import ConfigError, write_starter_config
from linkwatch.model import CheckResult, State
from linkwatch.verdict import classify, describe

if TYPE_CHECKING:
    from linkwatch.store import UrlToCheck

T = TypeVar("T")
PINNABLE = (State.ALIVE.value, State.DEAD.value, State.BLOCKED.value)


# Commands whose modules pull in heavy libraries (aiohttp, jinja2, APScheduler) are
# imported only when run, so that `scan` or `report` do not pay for the daemon's imports.
LAZY_COMMANDS = {
    "archive": "linkwatch.cli_archive:archive_command",
    "digest": "linkwatch.cli_digest:digest_command",
    "report": "linkwatch.cli_report:report_command",
    "rewrite": "linkwatch.cli_rewrite:rewrite_command",
    "run": "linkwatch.cli_run:run_command",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from linkwatch.scan import scan  # the parsers: only the commands that read releases pay

    settings = settings_from(ctx)
    err = stderr_console()
    with exclusive_state(settings), open_store(settings) as store:
        summary = scan(settings, store, now=clock_from(ctx)())
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


@main.command("check")
@click.argument("urls", nargs=-1)
@click.option("--all", "check_all", is_flag=True, help="Check every cited URL, due or not.")
@click.pass_context
def check_command(ctx: click.Context, urls: tuple[str, ...], check_all: bool) -> None:
    """Check cited URLs that are due (or the URLs given, or --all) and judge them.

    A URL is dead only after policy.dead_after_failures failed checks spanning
    policy.dead_after_days; blocked and inconclusive answers never make it dead.
    Ctrl-C or SIGTERM stop the run; results already received are saved.

    Example: linkwatch check --all
    """
    from linkwatch.checkrun import check_urls  # aiohttp: only when checking

    settings = settings_from(ctx)
    err = stderr_console()
    with exclusive_state(settings), open_store(settings) as store:
        if urls:
            keys = [url_key(store, url) for url in urls]
            targets = [t for t in (store.url_to_check(k) for k in keys) if t is not None]
        else:
            targets = store.urls_to_check(None if check_all else clock_from(ctx)())
        if not targets:
            click.echo("nothing due: every URL was checked recently (use --all to force)")
            return
        if err.is_terminal:
            progress = Progress(
                TextColumn("checking"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=err,
                transient=True,
            )
            counts: dict[str, int] = {}
            task = progress.add_task("", total=len(targets))

            def on_result(target: UrlToCheck, result: CheckResult) -> None:
                outcome = classify(result).value
                counts[outcome] = counts.get(outcome, 0) + 1
                progress.update(
                    task,
                    advance=1,
                    description=" ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                )

            with progress:
                summary = run_until_signal(
                    check_urls(settings, store, targets, on_result=on_result, now=clock_from(ctx))
                )
        else:

            def log_line(target: UrlToCheck, result: CheckResult) -> None:
                # print, not the rich console: one line per URL, thousands a minute
                print(f"checked {target.url}: {describe(result)}", file=sys.stderr)

            summary = run_until_signal(
                check_urls(settings, store, targets, on_result=log_line, now=clock_from(ctx))
            )
    for line in summary.outage:
        err.print(f"[yellow]warning:[/] {line}")
    states = ", ".join(f"{count} {state}" for state, count in sorted(summary.states.items()))
    click.echo(f"checked {summary.checked} URLs: {states or 'none'}")
    if summary.interrupted:
        click.echo("interrupted: results received so far are saved")
        sys.exit(130)


@main.command("history")
@click.argument("url")
@click.pass_context
def history_command(ctx: click.Context, url: str) -> None:
    """Show a URL's status timeline: one line per span of identical outcomes.

    Example: linkwatch history https://euobserver.com/foreign/132858
    """
    from linkwatch.report import STATE_STYLES  # jinja2 and friends: only when needed

    settings = settings_from(ctx)
    with open_store(settings) as store:
        status = store.url_status(url_key(store, url))
        assert status is not None  # _url_key checked it exists
        spans = store.history(status.id)
    console = Console(highlight=False)
    state = status.pinned or status.state
    console.print(
        f"[bold]{status.url}[/]  now [{STATE_STYLES.get(state, '')}]{state}[/]"
        + (" (pinned)" if status.pinned else "")
    )
    if status.reason:
        console.print(f"  {status.reason}", markup=False)
    if not spans:
        console.print("  never checked", style="dim")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("from", "to", "checks", "state", "status", "error"):
        table.add_column(column)
    for span in spans:
        table.add_row(
            span.first_at[:16].replace("T", " "),
            span.last_at[:16].replace("T", " "),
            str(span.count),
            f"[{STATE_STYLES.get(span.state, '')}]{span.state}[/]",
            "" if span.http_status is None else str(span.http_status),
            span.error or "",
        )
    console.print(table)


@main.command("mark")
@click.argument("url")
@click.argument("state", required=False, type=click.Choice(PINNABLE))
@click.option("--unpin", is_flag=True, help="Remove the pin; the evidence decides again.")
@click.pass_context
def mark_command(ctx: click.Context, url: str, state: str | None, unpin: bool) -> None:
    """Pin a URL's state (a human's verdict that checks never change), or unpin it.

    Example: linkwatch mark http://example.org/page alive
    """
    if (state is None) == (not unpin):
        raise click.UsageError("give a STATE to pin, or --unpin")
    settings = settings_from(ctx)
    with open_store(settings) as store:
        status = store.url_status(url_key(store, url))
        assert status is not None
        store.set_pin(status.id, None if unpin else State(str(state)))
    click.echo(f"{status.url}: " + ("unpinned" if unpin else f"pinned {state}"))
