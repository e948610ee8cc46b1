"""The `report` command."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from rich.console import Console

from linkwatch.cli.common import clock_from, open_store, settings_from, warn_unmatched_rules
from linkwatch.config.settings import Settings
from linkwatch.config.values import parse_duration
from linkwatch.model import State
from linkwatch.report.build import build_report, collector_paused
from linkwatch.report.render import render
from linkwatch.report.rows import Filters, OutputFormat, View, failing
from linkwatch.report.states import STATE_ORDER

STATES = tuple(state.value for state in State)


def parse_states(value: str | None) -> frozenset[str]:
    """'dead,soft404' -> the set of states; any unknown name is a usage error."""
    if not value:
        return frozenset()
    names = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in STATES]
    if unknown:
        raise click.BadParameter(
            f"unknown state {', '.join(unknown)}; states are {', '.join(STATES)}"
        )
    return frozenset(names)


def parse_since(value: str, now: dt.datetime) -> dt.datetime:
    """'7d', '12h', '2w' (back from now) or a date '2026-11-01' (midnight UTC)."""
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a duration like 7d nor a date like 2026-11-01"
        ) from None
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _states_option(ctx: click.Context, param: click.Parameter, value: str | None) -> frozenset[str]:
    return parse_states(value)


@click.command("report")
@click.option(
    "--by",
    "view",
    type=click.Choice([v.value for v in View]),
    default=View.RELEASE.value,
    show_default=True,
    help="release: each release with its citations; url: each URL once; host: which sites rot.",
)
@click.option(
    "--since",
    metavar="WHEN",
    help="Only URLs whose state changed since then: a duration back (7d, 12h) or a date.",
)
@click.option(
    "--state",
    "states",
    metavar="STATES",
    callback=_states_option,
    help="Only citations in these states, comma-separated (dead,soft404).",
)
@click.option("--release", "release_glob", metavar="GLOB", help="Only releases whose path matches.")
@click.option("--host", metavar="HOST", help="Only URLs on this host or its subdomains.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in OutputFormat]),
    default=OutputFormat.TABLE.value,
    show_default=True,
    help="table for people; json (a stable contract, see the README), csv, markdown, html.",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
@click.option(
    "--fail-on",
    metavar="STATES",
    callback=_states_option,
    help="Exit 1 when any reported citation is in these states (dead,soft404), as in CI.",
)
@click.pass_context
def report_command(
    ctx: click.Context,
    view: str,
    since: str | None,
    states: frozenset[str],
    release_glob: str | None,
    host: str | None,
    fmt: str,
    output: Path | None,
    fail_on: frozenset[str],
) -> None:
    """Show releases, URLs or sites with the state of their citations.

    Exits 1 with --fail-on when a reported citation is in one of those states.

    Example: linkwatch report --state dead,soft404 --format html --output report.html
    """
    settings = settings_from(ctx)
    now = clock_from(ctx)()
    filters = Filters(
        states=states,
        release_glob=release_glob,
        host=host,
        since=parse_since(since, now) if since else None,
    )
    with collector_paused():  # held until the rows are freed: see collector_paused
        count = _write_report(
            settings, now, View(view), filters, OutputFormat(fmt), output, fail_on
        )
    if count:
        named = " or ".join(sorted(fail_on, key=STATE_ORDER.index))
        click.echo(f"{count} {'citation is' if count == 1 else 'citations are'} {named}", err=True)
        sys.exit(1)


def _write_report(
    settings: Settings,
    now: dt.datetime,
    view: View,
    filters: Filters,
    output_format: OutputFormat,
    output: Path | None,
    fail_on: frozenset[str],
) -> int:
    """Build, render and write the report; the number of citations failing `fail_on`."""
    with open_store(settings, writing=False) as store:
        warn_unmatched_rules(settings, store)
        report = build_report(store, now=now, view=view, filters=filters, rules=settings.rules)
        rendered = render(report, output_format, store)
    if rendered.data is not None:
        _emit(rendered.data, output)
    elif output is not None:
        with output.open("w", encoding="utf-8") as handle:
            Console(file=handle, width=80, color_system=None).print(rendered.table)
    else:
        Console(highlight=False).print(rendered.table)
    return failing(report, fail_on) if fail_on else 0


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        click.echo(data, nl=False)
        return
    try:
        output.write_bytes(data)
    except OSError as err:
        raise click.FileError(str(output), hint=err.strerror) from err
