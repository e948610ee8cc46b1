"""The `history` command: a URL's status timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from linkwatch.cli.common import (
    open_store,
    settings_from,
    url_key,
)
from linkwatch.paths import shown
from linkwatch.report.words import drift_words
from linkwatch.store.drift import CitationDrift
from linkwatch.text import printable

if TYPE_CHECKING:
    pass


@click.command("history")
@click.argument("url")
@click.pass_context
def history_command(ctx: click.Context, url: str) -> None:
    """Show a URL's status timeline: one line per span of identical outcomes.

    Example: linkwatch history https://euobserver.com/foreign/132858
    """
    from linkwatch.report.states import STATE_STYLES

    settings = settings_from(ctx)
    with open_store(settings, writing=False) as store:
        status = store.url_status(url_key(store, url))
        assert status is not None  # _url_key checked it exists
        spans = store.history(status.id)
        drifts = store.citation_drifts(status.key)
    console = Console(highlight=False)
    state = status.pinned or status.state
    heading = Text(printable(status.url), style="bold")
    heading.append("  now ")
    heading.append(state.value, style=STATE_STYLES.get(state, ""))
    heading.append(" (pinned)" if status.pinned else "")
    console.print(heading)
    if status.reason:  # it quotes what the site said: a title, an error
        console.print(f"  {printable(status.reason)}", markup=False)
    for drift in drifts:
        console.print(Text(f"  {drift_line(drift)}", style="yellow" if drift.drifted else "dim"))
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
            Text(printable(span.error or "")),
        )
    console.print(table)


def drift_line(drift: CitationDrift) -> str:
    """One citation's content drift, as `history` shows it under the state."""
    where = f"{shown(drift.release_path)}, as cited: {drift.archive_url}"
    if drift.drifted:
        since = (drift.drifted_since or drift.compared_at)[:10]
        return printable(f"content drifted since {since}: {drift_words(drift.similarity)}; {where}")
    value = "" if drift.similarity is None else f" (similarity {drift.similarity:.2f})"
    checked = drift.compared_at[:10]
    return printable(f"content as cited{value}, compared {checked}; {where}")
