"""The `rewrite` command."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from linkwatch.cli.common import (
    clock_from,
    notify_after,
    open_store,
    settings_from,
    stderr_console,
)
from linkwatch.config.settings import RewriteMode
from linkwatch.errors import RewriteError
from linkwatch.rewrite.run import RewriteSummary, rewrite_releases
from linkwatch.rewrite.undo import undo_rewrite
from linkwatch.rewrite.values import CitationRewrite
from linkwatch.store.lock import hold_state_lock


@click.command("rewrite")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in RewriteMode]),
    help="Which citations to point at archived copies this time (default: rewrite.mode).",
)
@click.option("--dry-run", is_flag=True, help="Print a unified diff of the changes; write nothing.")
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write rewritten copies under this folder (same relative paths); releases stay as is.",
)
@click.option("--undo", is_flag=True, help="Put each PATH back as it was before its last rewrite.")
@click.option(
    "--refresh",
    is_flag=True,
    help="Read every release, so that text added earlier takes the current templates' wording.",
)
@click.option("-v", "--verbose", is_flag=True, help="One line per citation: what was done and why.")
@click.pass_context
def rewrite_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    mode: str | None,
    dry_run: bool,
    output: Path | None,
    undo: bool,
    refresh: bool,
    verbose: bool,
) -> None:
    """Point rotted citations at their archived copies; the original URL stays.

    Only citations with a chosen snapshot are rewritten: with rewrite.mode
    "dead", those that are dead, soft404 or usurped (pins count); with "all", every one.
    With rewrite.on_recovery "revert", a citation whose URL has recovered loses
    the archive link linkwatch added for it, byte for byte.
    A release edited since the last scan is skipped. Each replaced file is
    backed up under <state.dir>/backups/ first; --undo restores the last
    backup. Exits 1 if a release was skipped.

    Example: linkwatch rewrite --dry-run releases/2016-04-07-juncker-kazakhstan.md
    """
    if undo:
        if dry_run or output is not None or mode is not None or refresh:
            raise click.UsageError("--undo takes only PATHs")
        if not paths:
            raise click.UsageError("--undo needs the PATH of each release to restore")
        _undo(ctx, paths)
        return
    settings = settings_from(ctx)
    chosen = RewriteMode(mode) if mode else settings.rewrite.mode
    if chosen is RewriteMode.OFF:
        click.echo("rewrite.mode is off: nothing rewritten (use --mode dead or --mode all)")
        return
    with hold_state_lock(settings.state.dir), open_store(settings) as store:
        summary = rewrite_releases(
            settings,
            store,
            paths=list(paths) or None,
            mode=chosen,
            dry_run=dry_run,
            output=output,
            refresh=refresh,
            now=clock_from(ctx)(),
        )
        if not dry_run and output is None:
            notify_after(settings, clock_from(ctx))
    _print(summary, verbose)
    if not summary.ok:
        sys.exit(1)


def _undo(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    settings = settings_from(ctx)
    err = stderr_console()
    failed = False
    with hold_state_lock(settings.state.dir), open_store(settings) as store:
        for path in paths:
            try:
                result = undo_rewrite(settings, store, path, now=clock_from(ctx)())
            except RewriteError as error:
                err.print(f"[red]error:[/] {error}", highlight=False)
                failed = True
                continue
            click.echo(
                f"restored {result.path} as it was before the rewrite of {result.rewritten_at}"
            )
        notify_after(settings, clock_from(ctx))
    if failed:
        sys.exit(1)


def _print(summary: RewriteSummary, verbose: bool) -> None:
    err = stderr_console()
    for diff in summary.diffs:
        click.echo(diff, nl=False)
    if verbose:
        for path, outcomes in summary.outcomes.items():
            for outcome in outcomes:
                click.echo(_describe(path, outcome))
    for line in summary.skipped:
        err.print(f"[yellow]skipped:[/] {line}", highlight=False)
    for line in summary.documents:
        err.print(line, highlight=False, markup=False)
    if not verbose:
        for line in summary.skipped_citations:
            err.print(f"[yellow]not rewritten:[/] {line}", highlight=False)
    verb = "would change" if summary.dry_run else "changed"
    line = (
        f"{verb} {len(summary.changed)} files: {summary.rewritten} citations now point at "
        f"their archived copy ({summary.added} added, {summary.replaced} replaced), "
        f"{summary.unchanged} already did, {len(summary.skipped_citations)} not rewritten, "
        f"{len(summary.skipped)} files skipped"
    )
    if summary.excluded:
        line += f", {summary.excluded} citations left alone as [[rules]] exclude them"
    if summary.reverted:
        line += f"; {summary.reverted} archive links removed, their URLs alive again"
    if summary.dry_run:
        err.print(line, highlight=False, markup=False)
    else:
        click.echo(line)
    if verbose:
        for written in summary.written:
            click.echo(f"wrote {written}")
    _print_by_hand(summary)


def _print_by_hand(summary: RewriteSummary) -> None:
    """Web releases: what a person must apply in the CMS, or how to get it."""
    if not summary.by_hand:
        return
    err = stderr_console()
    if summary.written and not summary.dry_run:
        err.print(
            f"{len(summary.by_hand)} web pages need a person to apply them in their CMS "
            "(linkwatch cannot write to a website); each edited page is written under "
            "the output folder as <host>/<path> (`linkwatch report` marks each page until a "
            "scan finds it changed):",
            highlight=False,
            markup=False,
        )
        for url in summary.by_hand:
            err.print(f"  {url}", highlight=False, markup=False)
    else:
        err.print(
            f"{len(summary.by_hand)} web pages need a person to apply the rewrite in their CMS "
            "(linkwatch cannot write to a website): `linkwatch rewrite --output DIR` writes "
            "each edited page under DIR/<host>/<path>:",
            highlight=False,
            markup=False,
        )
        for url in summary.by_hand:
            err.print(f"  {url}", highlight=False, markup=False)


def _describe(path: str, outcome: CitationRewrite) -> str:
    target = outcome.target
    label = f"[{target.label}] " if target.label else ""
    what = outcome.action.value
    if outcome.reason:
        what = f"{what}: {outcome.reason}"
    return f"{path} {label}{target.url}: {what} -> {target.archive_url}"
