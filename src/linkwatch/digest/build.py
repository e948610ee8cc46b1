"""What a digest says: what changed since the last one, and what needs a person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from linkwatch.config.settings import (
    RewriteMode,
    Settings,
)
from linkwatch.digest.weeks import iso_week
from linkwatch.model import QueueStatus, State
from linkwatch.paths import shown
from linkwatch.report.build import build_report
from linkwatch.report.rows import CitationLine, Report, Summary, UrlLine
from linkwatch.report.states import ROTTEN
from linkwatch.sources.web import is_web_key
from linkwatch.store import Store
from linkwatch.store.archive import ArchiveEvent
from linkwatch.store.reports import StateChange
from linkwatch.store.rewrites import Revert
from linkwatch.text import iso_utc, plural

LIST_LIMIT = 40  # items per digest list; the rest is counted and left to `linkwatch report`


@dataclass(frozen=True, slots=True)
class ChangedUrl:
    """A URL whose state changed in the period, with the releases that cite it."""

    url: str
    before: str | None
    after: str
    changed_at: str
    pinned: str | None
    final_url: str | None
    archive_url: str | None
    releases: tuple[str, ...]
    citations: int


@dataclass(frozen=True, slots=True)
class NeedsCopy:
    url: str
    state: str
    since: str | None
    releases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pinned:
    url: str
    pinned: str
    evidence: str
    releases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToRewrite:
    path: str
    title: str | None
    citations: int  # citations with a chosen copy whose footnote does not link it yet
    # a web page: linkwatch cannot write to the website, a person applies the edited page
    # that `rewrite --output DIR` writes
    by_hand: bool = False
    written: str | None = None  # the edited page `rewrite --output` wrote, waiting to be applied


@dataclass(frozen=True, slots=True)
class DriftedPage:
    """A cited page found, in the period, to say something else than its snapshot."""

    url: str
    similarity: float | None
    since: str
    archive_url: str
    releases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one digest says; both the text and the HTML part render this."""

    week: str
    period_start: dt.datetime
    period_end: dt.datetime
    timezone: str
    newly_dead: tuple[ChangedUrl, ...]
    newly_soft404: tuple[ChangedUrl, ...]
    moved: tuple[ChangedUrl, ...]
    recovered: tuple[ChangedUrl, ...]
    archived: tuple[ArchiveEvent, ...]
    refused: tuple[ArchiveEvent, ...]
    reverted: tuple[Revert, ...]  # archive links removed: their URLs recovered
    without_copy: tuple[NeedsCopy, ...]
    pinned: tuple[Pinned, ...]
    to_rewrite: tuple[ToRewrite, ...]
    rewrite_mode: str
    totals: Summary
    drifted: tuple[DriftedPage, ...] = ()

    @property
    def changed(self) -> bool:
        return any(
            (
                self.newly_dead,
                self.newly_soft404,
                self.moved,
                self.recovered,
                self.archived,
                self.refused,
                self.drifted,
                self.reverted,
            )
        )

    @property
    def counts(self) -> dict[str, int]:
        """The figures of the subject line, also stored with the digest."""
        return {
            "died": sum(c.citations for c in (*self.newly_dead, *self.newly_soft404)),
            "recovered": len(self.recovered),
            "moved": len(self.moved),
            "saved": len(self.archived),
            "refused": len(self.refused),
            "reverted": len(self.reverted),
            "without_copy": len(self.without_copy),
            "drifted": len(self.drifted),
        }

    @property
    def headline(self) -> str:
        """'3 citations died, 2 saved', or 'nothing changed'."""
        counts = self.counts
        parts = []
        if counts["died"]:
            parts.append(plural(counts["died"], "citation") + " died")
        for key, words in (
            ("recovered", "recovered"),
            ("moved", "moved"),
            ("saved", "saved"),
            ("refused", "refused by the archive"),
            ("reverted", "archive links reverted"),
        ):
            if counts[key]:
                parts.append(f"{counts[key]} {words}")
        if counts["drifted"]:
            pages = "cited page now says" if counts["drifted"] == 1 else "cited pages now say"
            parts.append(f"{counts['drifted']} {pages} something else")
        return ", ".join(parts) or "nothing changed"

    @property
    def subject(self) -> str:
        """'linkwatch: 3 citations died, 2 saved — week 2026-W48'."""
        return f"linkwatch: {self.headline} — week {self.week}"


def build_digest(
    settings: Settings,
    store: Store,
    *,
    period_start: dt.datetime,
    now: dt.datetime,
) -> Digest:
    """Collect what changed between `period_start` and `now`, and what needs a person."""
    report = build_report(store, now=now, rules=settings.rules)
    urls = {url.first.url_id: url for url in report.urls}
    changes = [c for c in store.state_changes(period_start) if c.url_id in urls]
    events = store.archive_events(period_start)

    def changed(test: Iterable[StateChange]) -> tuple[ChangedUrl, ...]:
        return tuple(_changed_url(urls[c.url_id], c) for c in test)

    return Digest(
        week=iso_week(now, settings.digest.timezone),
        period_start=period_start,
        period_end=now,
        timezone=settings.digest.timezone,
        newly_dead=changed(c for c in changes if _entered(c, State.DEAD)),
        newly_soft404=changed(
            c for c in changes if _entered(c, State.SOFT404) or _entered(c, State.USURPED)
        ),
        moved=changed(c for c in changes if _entered(c, State.MOVED) and c.before not in ROTTEN),
        recovered=changed(
            c for c in changes if c.before in ROTTEN and c.after in (State.ALIVE, State.MOVED)
        ),
        archived=tuple(e for e in events if e.kind is QueueStatus.SAVED),
        refused=tuple(e for e in events if e.kind is QueueStatus.REFUSED),
        reverted=tuple(store.reverts_since(period_start)),
        without_copy=_without_copy(report),
        pinned=tuple(
            Pinned(u.url, u.first.pinned, u.first.evidence, u.releases)
            for u in report.urls
            if u.first.pinned
        ),
        to_rewrite=_to_rewrite(report, settings.rewrite.mode),
        rewrite_mode=settings.rewrite.mode.value,
        totals=report.summary,
        drifted=_drifted(store, period_start, urls.values()),
    )


def _drifted(
    store: Store, period_start: dt.datetime, urls: Iterable[UrlLine]
) -> tuple[DriftedPage, ...]:
    """Pages whose drift began in the period, once each, with the releases citing them."""
    cited_by = {url.first.target.key: url.releases for url in urls}
    start = iso_utc(period_start)
    pages: dict[str, DriftedPage] = {}
    for drift in store.citation_drifts():
        if not drift.drifted or drift.drifted_since is None or drift.drifted_since < start:
            continue
        if drift.url_key in cited_by and drift.url_key not in pages:
            pages[drift.url_key] = DriftedPage(
                drift.url,
                drift.similarity,
                drift.drifted_since,
                drift.archive_url,
                cited_by[drift.url_key],
            )
    return tuple(pages.values())


def _entered(change: StateChange, state: State) -> bool:
    """Moved into `state`; dead -> soft404 (or back) is no news: the link was rotten already."""
    if change.after != state:
        return False
    return not (state in ROTTEN and change.before in ROTTEN)


def _changed_url(url: UrlLine, change: StateChange) -> ChangedUrl:
    line = url.first
    return ChangedUrl(
        url=url.url,
        before=change.before,
        after=change.after,
        changed_at=change.changed_at,
        pinned=line.pinned,
        final_url=line.final_url,
        archive_url=line.archive_url,
        releases=url.releases,
        citations=url.citations,
    )


def _without_copy(report: Report) -> tuple[NeedsCopy, ...]:
    """Rotten URLs none of whose citations has a chosen copy, and with no capture known."""
    with_copy = {line.url_id for line in report.citations() if line.archive_url or line.captures}
    return tuple(
        NeedsCopy(u.url, u.state, u.first.state_since, u.releases)
        for u in report.urls
        if u.state in ROTTEN and u.first.url_id not in with_copy
    )


def _to_rewrite(report: Report, mode: RewriteMode) -> tuple[ToRewrite, ...]:
    """Releases with citations `rewrite` would point at a copy but has not yet."""
    if mode is RewriteMode.OFF:
        return ()

    def pending(line: CitationLine) -> bool:
        wanted = mode is RewriteMode.ALL or line.state in ROTTEN
        if mode is RewriteMode.DRIFTED and line.drifted and line.pinned is None:
            wanted = True
        return wanted and line.archive_url is not None and not line.points_at_archive

    result = []
    for release in report.releases:
        count = sum(1 for line in release.citations if pending(line))
        if count:
            web = is_web_key(release.path)
            waiting = release.apply_by_hand
            result.append(
                ToRewrite(
                    shown(release.path),
                    release.title,
                    count,
                    by_hand=web,
                    written=None if waiting is None else waiting.output,
                )
            )
    return tuple(result)
