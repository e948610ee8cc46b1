"""Reports: rows from the store -> renderers.

The JSON shape is a contract that scripts and CI pipelines rely on (see the
README): keys are only ever added, never renamed or removed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from linkwatch.model import State
from linkwatch.store import ReleaseRow

STATE_STYLES: dict[str, str] = {
    State.UNCHECKED: "dim",
    State.ALIVE: "green",
    State.MOVED: "cyan",
    State.TRANSIENT: "yellow",
    State.BLOCKED: "magenta",
    State.SOFT404: "red",
    State.DEAD: "bold red",
}


def report_dict(releases: list[ReleaseRow], generated_at: dt.datetime) -> dict[str, Any]:
    """The JSON report contract, as a plain dict."""
    return {
        "generated_at": generated_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "releases": [
            {
                "path": release.path,
                "title": release.title,
                "published": release.published,
                "date_source": release.date_source,
                "citations": [
                    {
                        "label": citation.label,
                        "url": citation.url,
                        "state": citation.state,
                        "http_status": citation.http_status,
                        "final_url": citation.final_url,
                        "last_checked": citation.last_checked,
                        "archive_url": citation.archive_url,
                        "archive_timestamp": citation.archive_timestamp,
                        "pinned": citation.pinned,
                        "invalid": citation.invalid,
                    }
                    for citation in release.citations
                ],
            }
            for release in releases
        ],
    }


def render_json(releases: list[ReleaseRow], generated_at: dt.datetime) -> str:
    return json.dumps(report_dict(releases, generated_at), indent=2, ensure_ascii=False) + "\n"


def render_table(releases: list[ReleaseRow]) -> RenderableType:
    """One table per release, sized for an 80-column terminal (URLs fold, never cut)."""
    if not releases:
        return Text("No releases in the store yet: run `linkwatch scan`.", style="dim")
    parts: list[RenderableType] = []
    for release in releases:
        heading = Text(release.path, style="bold")
        if release.title:
            heading.append(f"  {release.title}", style="italic")
        if release.published:
            heading.append(f"  ({release.published})", style="dim")
        parts.append(heading)
        if not release.citations:
            parts.append(Text("  no citations found", style="dim"))
            continue
        table = Table(show_edge=False, pad_edge=False, expand=False)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("url", overflow="fold")
        for citation in release.citations:
            state = citation.state if citation.invalid is None else "invalid"
            table.add_row(
                citation.label or "",
                Text(state, style=STATE_STYLES.get(citation.state, "")),
                citation.url,
            )
        parts.append(table)
        parts.append(Text(""))
    return Group(*parts)
