"""Building a report: the store's flat rows -> a filtered `Report`, in one pass."""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from linkwatch.model import State
from linkwatch.rules import NO_RULE_SET, Applied, RuleSet
from linkwatch.store import Store
from linkwatch.store.reports import ReportUrl
from linkwatch.wrappers import is_wrapped

if TYPE_CHECKING:
    pass
from linkwatch.report.rows import (
    NO_FILTERS,
    CitationLine,
    Filters,
    ReleaseSection,
    Report,
    Summary,
    View,
    host_of,
)
from linkwatch.report.states import ROTTEN, STATE_ORDER


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off while a large report is built and written.

    Building 150,000 rows triggers a collection every few hundred allocations,
    and each older-generation pass walks every row built so far. Rows are
    tuples and strings that never form cycles, so reference counting frees
    them all the same. Nested pauses leave the collector to the outermost one,
    which the one-shot `report` command holds until its rows are gone: a
    collection after the pause with the rows still alive would walk them all
    once more (0.6 s).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_report(
    store: Store,
    *,
    now: dt.datetime,
    view: View = View.RELEASE,
    filters: Filters = NO_FILTERS,
    rules: RuleSet = NO_RULE_SET,
) -> Report:
    """Everything the renderers need, filtered, in the order every format shows it.

    `rules` are applied first: a rule's `treat_as` is the state of its URLs (filters
    and counts included) unless a person pinned one, and its excluded URLs are marked.
    """
    with collector_paused():
        return _build_report(store, now, view, filters, rules)


def _ruled_urls(
    urls: dict[int, ReportUrl], rules: RuleSet
) -> tuple[dict[int, ReportUrl], dict[int, Applied]]:
    """The URLs with the rules' `treat_as` applied, and what the rules say of each one."""
    applied: dict[int, Applied] = {}
    if not rules:
        return urls, applied
    for url_id, url in urls.items():
        said = rules.for_url(url.key)
        if not said.rules:
            continue
        applied[url_id] = said
        shown = said.shown_state(url.state, url.pinned)
        if shown != url.state:
            urls[url_id] = url._replace(state=shown)
    return urls, applied


def _build_report(
    store: Store, now: dt.datetime, view: View, filters: Filters, rules: RuleSet
) -> Report:
    """The hot loop of every report: locals and plain tuples, as it may run 150,000 times."""
    releases = store.report_releases()
    kept = {r.id: r.path for r in releases if filters.keeps_release(r.path)}
    urls, ruled = _ruled_urls(store.report_urls(), rules)
    snapshots = store.report_snapshots()
    drifts = store.report_drift()
    changes = {c.url_id: c for c in store.state_changes(filters.since)} if filters.since else None
    states, by_host = filters.states, filters.host is not None
    hosts: dict[int, str] = {}  # of every URL looked at
    reported: dict[int, str] = {}  # host of every URL kept: the summary's counts
    state_counts: dict[str, int] = dict.fromkeys(STATE_ORDER, 0)
    archived = rotten_bare = drifted = preserved = several = 0
    new_line = tuple.__new__  # CitationLine._make without its length check: 16 values, always
    by_release: dict[int, list[CitationLine]] = defaultdict(list)
    for release_id, label, written, url_id, footnote_archive, assumed in store.report_citations():
        path = kept.get(release_id)
        if path is None:
            continue
        url = urls[url_id]
        state = url.state
        if states and state not in states:
            continue
        host = hosts.get(url_id)
        if host is None:
            host = hosts[url_id] = host_of(url.key)
        if by_host and not filters.keeps_host(host):
            continue
        change = None
        if changes is not None:
            change = changes.get(url_id)
            if change is None:
                continue
        snapshot = snapshots.get((path, url.key))
        archive_url, archive_timestamp, archive = snapshot or (None, None, None)
        drift = drifts.get((path, url.key)) if drifts else None
        is_drifted, drift_similarity = drift or (None, None)
        said = ruled.get(url_id) if ruled else None
        line: CitationLine = new_line(
            CitationLine,
            (
                label,
                written,
                url,
                host,
                archive_url,
                archive_timestamp,
                footnote_archive is not None,
                None if change is None else (change.before or State.UNCHECKED.value),
                None if change is None else change.changed_at,
                archive,
                url.key if is_wrapped(written) else None,
                bool(assumed),
                is_drifted,
                drift_similarity,
                said is not None and said.exclude,
                () if said is None else tuple(rule.number for rule in said.rules),
            ),
        )
        by_release[release_id].append(line)
        reported[url_id] = host
        state_counts[state] = state_counts.get(state, 0) + 1  # a state from a newer linkwatch
        if is_drifted:
            drifted += 1
        if archive_url is not None:
            archived += 1
        elif state in ROTTEN and not url.captures:
            rotten_bare += 1
        if url.archives:
            preserved += 1
            several += url.archives > 1
    waiting = store.waiting_web_outputs()
    sections = tuple(
        ReleaseSection(
            r.path,
            r.title,
            r.published,
            r.date_source,
            tuple(by_release[r.id]),
            waiting.get(r.path),
        )
        for r in releases
        if r.id in kept and (by_release[r.id] or not _narrowed(filters))
    )
    summary = Summary(
        releases=len(sections),
        citations=sum(state_counts.values()),
        urls=len(reported),
        hosts=len(set(reported.values())),
        states=state_counts,
        archived=archived,
        rotten_without_archive=rotten_bare,
        drifted=drifted,
        preserved=preserved,
        preserved_in_several=several,
    )
    return Report(now, view, filters, sections, len(releases), summary, rules)


def _narrowed(filters: Filters) -> bool:
    """Filters on citations hide releases left without any; a glob alone keeps them."""
    return bool(filters.states or filters.host or filters.since)
