"""One message per pass that found something new: a title that says it all, then each
event's lines grouped by kind, and links to the daemon's report when `run.public_url`
is set. Plain text: every Apprise service shows it as it is."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from linkwatch.notify.kinds import NotifyEvent
from linkwatch.store.notifications import FoundEvent
from linkwatch.text import plural

MAX_PER_KIND = 50  # events listed per kind; the rest are counted (the report has them all)

HEADINGS = {
    NotifyEvent.DEAD: "newly dead",
    NotifyEvent.SOFT404: "newly soft-404",
    NotifyEvent.USURPED: "newly usurped",
    NotifyEvent.DRIFTED: "newly drifted",
    NotifyEvent.SAVE_REFUSED: "refused by the archive for good",
    NotifyEvent.REWRITTEN: "rewritten to archived copies",
    NotifyEvent.REVERTED: "rewrites undone",
}

# How the title counts each kind: (noun, what happened), as in "2 URLs newly dead".
TITLE_WORDS = {
    NotifyEvent.DEAD: ("URL", "newly dead"),
    NotifyEvent.SOFT404: ("URL", "newly soft-404"),
    NotifyEvent.USURPED: ("URL", "newly usurped"),
    NotifyEvent.DRIFTED: ("URL", "newly drifted"),
    NotifyEvent.SAVE_REFUSED: ("save", "refused"),
    NotifyEvent.REWRITTEN: ("release", "rewritten"),
    NotifyEvent.REVERTED: ("rewrite", "undone"),
}


def compose(events: Sequence[FoundEvent], public_url: str) -> tuple[str, str]:
    """The title and body of the message telling `events`."""
    by_kind: dict[NotifyEvent, list[FoundEvent]] = {}
    for event in events:
        by_kind.setdefault(NotifyEvent(event.kind), []).append(event)
    kinds = [kind for kind in NotifyEvent if kind in by_kind]
    parts = []
    for kind in kinds:
        noun, words = TITLE_WORDS[kind]
        parts.append(f"{plural(len(by_kind[kind]), noun)} {words}")
    title = "linkwatch: " + ", ".join(parts)
    lines: list[str] = []
    for kind in kinds:
        listed = by_kind[kind]
        lines.append(f"{HEADINGS[kind].capitalize()} ({len(listed)}):")
        for event in listed[:MAX_PER_KIND]:
            lines.append(f"- {event.lines[0]}")
            lines.extend(f"  {line}" for line in event.lines[1:])
        if len(listed) > MAX_PER_KIND:
            lines.append(f"- and {len(listed) - MAX_PER_KIND} more")
        if public_url and kind.is_state:
            lines.append(f"  {report_link(public_url, kind.value)}")
        lines.append("")
    if public_url:
        lines.append(f"The report: {public_url}/")
    return title, "\n".join(lines).rstrip() + "\n"


def report_link(public_url: str, state: str) -> str:
    """The daemon's report filtered to one state (the filter form's own query)."""
    return f"{public_url}/?{urlencode({'state': state})}"
