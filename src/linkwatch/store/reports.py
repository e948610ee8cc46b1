"""Read-only queries behind the reports: citations with their state, history, changes.

Every view (per release, per URL, per host) is grouped in Python from one flat
citation query: one pass over an index-ordered join is faster than three
GROUP BY queries, and the filters (glob on the path, host suffix) are easier
to get right in Python than in SQL.

A state *change* is a history span whose state differs from the span before
it (spans also split when only the HTTP status or error kind changes, which is
not news). "Changes since T" compare the state before the first span starting
at or after T with the URL's latest state: a URL that flapped and came back is
not a change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from linkwatch.model import State
from linkwatch.store.base import SAME_ARCHIVE, StoreBase, optional_state, state_of
from linkwatch.store.checks import HistorySpan
from linkwatch.text import iso_utc

_PRESENT = "r.missing = 0 AND r.sha256 IS NOT NULL"
_CHUNK = 500  # bound parameters per IN (...) list


@dataclass(frozen=True, slots=True)
class ReportRelease:
    """A present, readable release, whether or not it cites anything."""

    id: int
    path: str
    title: str | None
    published: str | None
    date_source: str | None
    format: str | None


class ReportUrl(NamedTuple):
    """What the reports say about one URL, however many releases cite it.

    A NamedTuple rather than a dataclass: a report builds one per URL, and a
    tuple is several times cheaper to create.
    """

    id: int
    key: str
    url: str
    state: State  # effective: the pin when pinned, else the evidence
    evidence: State  # what the checks say, pins ignored
    http_status: int | None
    final_url: str | None
    last_checked: str | None
    pinned: State | None
    invalid: str | None
    error: str | None
    reason: str | None
    state_since: str | None  # when the evidence entered its current state
    captures: int  # usable snapshots known for the URL, chosen or not
    archives: int = 0  # archives holding a verified capture of it (replayed, or saved by us)


# (release id, label, URL as checked, URL id, the archived copy the release itself links
# next to it, whether `https:` was assumed for a `//host` link): a plain tuple, unpacked
# in the report's hot loop without a method call.
ReportCitation = tuple[int, str | None, str, int, str | None, int]


@dataclass(frozen=True, slots=True)
class StateChange:
    """A URL whose state at the end of a period differs from its state before it."""

    url_id: int
    before: State | None  # None: the URL had never been checked before the period
    after: State
    changed_at: str  # when the URL entered `after` (its latest change)


@dataclass(frozen=True, slots=True)
class Transition:
    """A URL entering a state (its first check included, with `before` None)."""

    url_id: int
    at: str
    before: State | None
    after: State


# Joined in Python rather than SQL: three sequential scans and dict look-ups beat
# 150,000 random primary-key and text-index probes by a factor of two.
_URLS = (
    "SELECT id, key, url, COALESCE(pinned, state), state, http_status, final_url, "
    "last_checked, pinned, invalid, error, reason, state_since FROM urls"
)
# Usable captures only: an archived error page, or one found not to be the page, is no copy.
_CAPTURES = (
    "SELECT url_id, count(*) FROM snapshots WHERE rejected IS NULL "
    "AND (status IS NULL OR status BETWEEN 200 AND 399) GROUP BY url_id"
)
# A page is preserved in an archive that holds a verified capture of it: replayed and found
# to be the page (verified_at), or saved by linkwatch and replayed before it was recorded.
_ARCHIVES = (
    f"SELECT url_id, count(DISTINCT {SAME_ARCHIVE}) FROM snapshots WHERE rejected IS NULL "
    "AND (status IS NULL OR status BETWEEN 200 AND 399) "
    "AND (verified_at IS NOT NULL OR saved_by_us = 1) GROUP BY url_id"
)
# In document order within each release; which releases are present, and their order,
# the caller knows from `report_releases`: no join, no sort, an index scan.
_CITATIONS = (
    "SELECT release_id, label, url, url_id, archived, scheme_assumed FROM citations "
    "ORDER BY release_id, position"
)

# The span that opens each run of one state; LAG needs SQLite 3.25 (2018).
_TRANSITIONS = (
    "SELECT url_id, first_at, prev, state FROM ("
    "SELECT url_id, first_at, state, "
    "LAG(state) OVER (PARTITION BY url_id ORDER BY id) AS prev FROM history) "
    "WHERE prev IS NULL OR prev != state"
)


class ReportsMixin(StoreBase):
    """Queries of the report concern; SQL stays inside the store package."""

    def report_releases(self) -> list[ReportRelease]:
        """Present, readable releases by path: the order every report lists them in."""
        return [
            ReportRelease(*row)
            for row in self.db.execute(
                "SELECT id, path, title, published, date_source, format FROM releases r "
                f"WHERE {_PRESENT} ORDER BY path"
            )
        ]

    def report_urls(self) -> dict[int, ReportUrl]:
        """Every URL by id, with its effective state and when that state began."""
        captures: dict[int, int] = dict(self.db.execute(_CAPTURES).fetchall())
        archives: dict[int, int] = dict(self.db.execute(_ARCHIVES).fetchall())
        new = tuple.__new__  # ReportUrl._make without its length check
        states = {state.value: state for state in State}
        urls: dict[int, ReportUrl] = {}
        for (
            uid,
            key,
            url,
            state,
            evidence,
            status,
            final,
            checked,
            pinned,
            *rest,
        ) in self.db.execute(_URLS):
            urls[uid] = new(
                ReportUrl,
                (
                    uid,
                    key,
                    url,
                    states[state],
                    states[evidence],
                    status,
                    final,
                    checked,
                    None if pinned is None else states[pinned],
                    *rest,
                    captures.get(uid, 0),
                    archives.get(uid, 0),
                ),
            )
        return urls

    def report_citations(self) -> list[ReportCitation]:
        """Every citation of every release (present or not), in document order per release."""
        rows: list[ReportCitation] = self.db.execute(_CITATIONS).fetchall()
        return rows

    def report_snapshots(self) -> dict[tuple[str, str], tuple[str, str, str | None]]:
        """(release path, URL key) -> (archive URL, capture time, archive) of each choice."""
        return {
            (path, key): (url, stamp, source)
            for path, key, url, stamp, source in self.db.execute(
                "SELECT release_path, url_key, archive_url, timestamp, source "
                "FROM citation_snapshots"
            )
        }

    def transitions(self) -> Iterator[Transition]:
        """Every change of state in the history, oldest first: the rot-over-time chart."""
        for row in self.db.execute(f"{_TRANSITIONS} ORDER BY first_at"):
            yield Transition(row[0], row[1], optional_state(row[2]), state_of(row[3]))

    def histories(self, url_ids: Iterable[int]) -> dict[int, list[HistorySpan]]:
        """The run-length history of each URL asked for, spans oldest first."""
        wanted = sorted(set(url_ids))
        result: dict[int, list[HistorySpan]] = {uid: [] for uid in wanted}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                "SELECT url_id, state, http_status, error, first_at, last_at, count "
                f"FROM history WHERE url_id IN ({marks}) ORDER BY url_id, id",
                chunk,
            ):
                result[row[0]].append(HistorySpan(state_of(row[1]), *row[2:]))
        return result

    def state_changes(self, since: dt.datetime) -> list[StateChange]:
        """URLs whose state changed between `since` and their latest check, by URL id.

        Only spans starting at or after `since` are read (an index on
        history.first_at keeps this fast however long the history is), plus
        the one span before each of them.
        """
        rows = self.db.execute(
            "SELECT h.url_id, h.state, h.first_at, "
            "(SELECT p.state FROM history p WHERE p.url_id = h.url_id AND p.id < h.id "
            "ORDER BY p.id DESC LIMIT 1) "
            "FROM history h WHERE h.first_at >= ? ORDER BY h.url_id, h.id",
            [iso_utc(since)],
        ).fetchall()
        changes: list[StateChange] = []
        current: int | None = None
        before: str | None = None
        after = changed_at = ""
        for url_id, state, first_at, previous in rows:
            if url_id != current:
                if current is not None and before != after:
                    changes.append(_change(current, before, after, changed_at))
                current, before, after, changed_at = url_id, previous, state, first_at
            elif state != after:
                after, changed_at = state, first_at
        if current is not None and before != after:
            changes.append(_change(current, before, after, changed_at))
        return changes


def _change(url_id: int, before: str | None, after: str, changed_at: str) -> StateChange:
    return StateChange(url_id, optional_state(before), state_of(after), changed_at)
