"""The `check` command: the URLs that are due (or those given), checked and judged."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from linkwatch.check.verdict import classify, describe
from linkwatch.cli.common import (
    clock_from,
    notify_after,
    run_until_signal,
    settings_from,
    stderr_console,
    url_key,
    warn_unmatched_rules,
)
from linkwatch.model import CheckResult
from linkwatch.store.lock import hold_state_lock
from linkwatch.store.writer import AsyncStore
from linkwatch.text import plural, printable

if TYPE_CHECKING:
    from linkwatch.store import UrlToCheck


@click.command("check")
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
    from linkwatch.check.run import check_urls

    settings = settings_from(ctx)
    err = stderr_console()
    with hold_state_lock(settings.state.dir), AsyncStore.open(settings.state.dir) as db:
        warn_unmatched_rules(settings, db.read)
        if urls:
            keys = [url_key(db.read, url) for url in urls]
            targets = [t for t in (db.read.url_to_check(k) for k in keys) if t is not None]
        else:
            targets = db.read.urls_to_check(None if check_all else clock_from(ctx)())
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
                    check_urls(settings, db, targets, on_result=on_result, now=clock_from(ctx))
                )
        else:

            def log_line(target: UrlToCheck, result: CheckResult) -> None:
                # print, not the rich console: one line per URL, thousands a minute
                line = f"checked {target.url}: {describe(result)}"
                print(printable(line), file=sys.stderr)

            summary = run_until_signal(
                check_urls(settings, db, targets, on_result=log_line, now=clock_from(ctx))
            )
        if not summary.interrupted:
            notify_after(settings, clock_from(ctx), db)
    for line in summary.outage:
        err.print(f"[yellow]warning:[/] {line}")
    states = ", ".join(f"{count} {state}" for state, count in sorted(summary.states.items()))
    click.echo(f"checked {summary.checked} URLs: {states or 'none'}")
    if summary.excluded:
        click.echo(f"excluded by [[rules]]: {plural(summary.excluded, 'URL')}, not asked")
    if summary.drifted:
        click.echo(
            f"content drift: {plural(summary.drifted, 'citation')} now say something else "
            "than their snapshot (states unchanged; linkwatch report shows them)"
        )
    if summary.interrupted:
        click.echo("interrupted: results received so far are saved")
        sys.exit(130)
