"""What there is to tell: the events the store shows now, each under a key told once, ever.

An event's key names what it is about, not when it was seen: `dead:<URL key>`
for a URL that is dead, `save_refused:<archive>:<URL key>`, `rewritten:<rewrite
id>`, `reverted:<rewrite id>`. A URL that dies, recovers and dies again keeps its
key, so nobody hears about the same link twice. Whether a key is new is the
store's to say (`Store.record_notification`); this module only reads.
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import groupby

from linkwatch.notify.kinds import NotifyEvent
from linkwatch.rules import NO_RULE_SET, RuleSet
from linkwatch.store import Store
from linkwatch.store.notifications import FoundEvent, StateCitation
from linkwatch.text import one_line


def find_events(
    store: Store, on: Collection[NotifyEvent], rules: RuleSet = NO_RULE_SET
) -> list[FoundEvent]:
    """Every event of the kinds in `on` that the store shows now, told or not.

    A URL that `[[rules]]` exclude, or show as alive or blocked (`treat_as`, unless a
    person pinned it), is in no state an event watches: nothing is told about it.
    """
    found: list[FoundEvent] = []
    states = sorted(event.value for event in on if event.is_state)
    rows = store.notify_state_citations(states)
    for (url_key, state), group in groupby(rows, key=lambda row: (row.url_key, row.state)):
        citations = list(group)
        said = rules.for_url(url_key)
        if said.exclude or (said.treat_as is not None and not citations[0].pinned):
            continue
        found.append(_state_event(url_key, state, citations))
    if NotifyEvent.SAVE_REFUSED in on:
        for refusal in store.notify_refused_saves():
            reason = f": {one_line(refusal.reason)}" if refusal.reason else ""
            lines = [f"{refusal.url} ({refusal.source}{reason})"]
            lines += [f"  cited by {path}" for path in refusal.releases]
            found.append(
                FoundEvent(
                    f"{NotifyEvent.SAVE_REFUSED.value}:{refusal.source}:{refusal.url_key}",
                    NotifyEvent.SAVE_REFUSED.value,
                    refusal.url,
                    tuple(lines),
                )
            )
    if NotifyEvent.REWRITTEN in on or NotifyEvent.REVERTED in on:
        for entry in store.notify_rewrites():
            if NotifyEvent.REWRITTEN in on:
                line = (
                    f"{entry.path}: {entry.citations} citation(s) now point at their "
                    f"archived copy ({entry.at})"
                )
                found.append(
                    FoundEvent(
                        f"{NotifyEvent.REWRITTEN.value}:{entry.id}",
                        NotifyEvent.REWRITTEN.value,
                        entry.path,
                        (line,),
                    )
                )
            if NotifyEvent.REVERTED in on and entry.undone_at is not None:
                line = f"{entry.path}: the rewrite of {entry.at} was undone ({entry.undone_at})"
                found.append(
                    FoundEvent(
                        f"{NotifyEvent.REVERTED.value}:{entry.id}",
                        NotifyEvent.REVERTED.value,
                        entry.path,
                        (line,),
                    )
                )
    return found


def _state_event(url_key: str, state: str, citations: list[StateCitation]) -> FoundEvent:
    """A URL in a watched state: the URL, then each release and footnote citing it, with
    the archived copy chosen for that citation (or that there is none)."""
    first = citations[0]
    lines = [first.url]
    for citation in citations:
        label = f" [{citation.label}]" if citation.label else ""
        title = f" ({one_line(citation.title)})" if citation.title else ""
        archived = (
            f" archived copy: {citation.archive_url}"
            if citation.archive_url
            else " no archived copy"
        )
        lines.append(f"  {citation.path}{label}{title}:{archived}")
    return FoundEvent(f"{state}:{url_key}", state, first.url, tuple(lines))
