"""The `scan` command: releases in, citations out, stored."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from linkwatch.cli.common import (
    clock_from,
    open_store,
    settings_from,
    stderr_console,
)
from linkwatch.store.lock import hold_state_lock

if TYPE_CHECKING:
    pass


@click.command("scan")
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
    with hold_state_lock(settings.state.dir), open_store(settings) as store:
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
    if summary.pages:
        click.echo(
            f"{summary.pages} of them web pages: {summary.page_requests} asked, the others "
            "unchanged by their listed date"
        )
    if not summary.ok:
        sys.exit(1)
