"""The rows of a report: citations per release, lines per URL and per host, a summary.

Every renderer formats these alone, so every format shows the same citations
in the same order. A `CitationLine` shares what belongs to its URL (state,
last answer) with every other citation of that URL through `target`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from linkwatch.model import State
from linkwatch.rules import NO_RULE_SET, Rule, RuleSet
from linkwatch.store.reports import ReportUrl
from linkwatch.store.rewrites import WebOutput

if TYPE_CHECKING:
    pass
from linkwatch.report.states import ROTTEN, STATE_ORDER
from linkwatch.text import iso_or_none, plural


class View(StrEnum):
    RELEASE = "release"
    URL = "url"
    HOST = "host"


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True, slots=True)
class Filters:
    """What to keep. Empty means everything; all given filters must hold."""

    states: frozenset[str] = frozenset()
    release_glob: str | None = None
    host: str | None = None  # the host or any subdomain of it
    since: dt.datetime | None = None  # only URLs whose state changed since then

    def keeps_release(self, path: str) -> bool:
        return self.release_glob is None or fnmatch.fnmatchcase(path, self.release_glob)

    def keeps_host(self, host: str) -> bool:
        if self.host is None:
            return True
        wanted = site_of(self.host.strip().lower().rstrip("."))
        return host == wanted or host.endswith("." + wanted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "states": sorted(self.states, key=STATE_ORDER.index),
            "release": self.release_glob,
            "host": self.host,
            "since": iso_or_none(self.since),
        }


NO_FILTERS = Filters()  # every citation


BACKEND_NAMES = ("wayback", "pywb")  # the backends' ids; other archives are named in reports


class CitationLine(NamedTuple):
    """A citation as every view shows it.

    What belongs to the URL (state, last answer, since when) is shared with every
    other citation of it through `target`, not copied: a report may hold 150,000
    citations of 100,000 URLs, and a small tuple is quick to build.
    """

    label: str | None
    url: str  # as written in the release
    target: ReportUrl
    host: str
    archive_url: str | None  # the snapshot chosen for this citation
    archive_timestamp: str | None
    points_at_archive: bool  # the release already links an archived copy next to it
    previous_state: str | None = None  # with Filters.since: the state before the change
    changed_at: str | None = None
    archive: str | None = None  # the archive holding the chosen snapshot
    unwrapped_url: str | None = None  # the target, when `url` is a redirect wrapper
    scheme_assumed: bool = False  # written `//host/path`: checked with `https:` assumed
    drifted: bool | None = None  # the page no longer is its snapshot's document; None: not compared
    drift_similarity: float | None = None  # 0..1, of the last comparison with the snapshot
    excluded: bool = False  # a [[rules]] table excludes the URL: never checked nor archived
    rules: tuple[int, ...] = ()  # the numbers of the [[rules]] tables matching the URL

    @property
    def url_id(self) -> int:
        return self.target.id

    @property
    def other_archive(self) -> str | None:
        """The archive holding the chosen copy when it is not a backend's (`arquivo.pt`)."""
        return None if self.archive in (None, *BACKEND_NAMES) else self.archive

    @property
    def state(self) -> str:
        """Effective: the pin when pinned, else the evidence."""
        return self.target.state

    @property
    def evidence(self) -> str:
        return self.target.evidence

    @property
    def http_status(self) -> int | None:
        return self.target.http_status

    @property
    def final_url(self) -> str | None:
        return self.target.final_url

    @property
    def last_checked(self) -> str | None:
        return self.target.last_checked

    @property
    def pinned(self) -> str | None:
        return self.target.pinned

    @property
    def invalid(self) -> str | None:
        return self.target.invalid

    @property
    def error(self) -> str | None:
        return self.target.error

    @property
    def reason(self) -> str | None:
        return self.target.reason

    @property
    def captures(self) -> int:
        return self.target.captures

    @property
    def archives(self) -> int:
        return self.target.archives

    @property
    def state_since(self) -> str | None:
        return self.target.state_since

    @property
    def shown_state(self) -> str:
        """What a person should read: a URL that cannot be checked is not 'unchecked', nor
        one that a rule excludes."""
        if self.excluded:
            return "excluded"
        return "invalid" if self.target.invalid is not None else self.target.state


@dataclass(frozen=True, slots=True)
class ReleaseSection:
    path: str
    title: str | None
    published: str | None
    date_source: str | None
    citations: tuple[CitationLine, ...]
    # a web page whose edit `rewrite --output` wrote, waiting for a person to apply it
    apply_by_hand: WebOutput | None = None


@dataclass(frozen=True, slots=True)
class UrlLine:
    """One URL however many releases cite it; the archive shown is the earliest chosen."""

    first: CitationLine
    releases: tuple[str, ...]
    citations: int

    @property
    def url(self) -> str:
        return self.first.url

    @property
    def state(self) -> str:
        return self.first.state


@dataclass(frozen=True, slots=True)
class HostLine:
    host: str
    urls: int
    citations: int
    states: Mapping[str, int]  # URLs per effective state

    @property
    def rotten(self) -> int:
        return sum(self.states.get(state, 0) for state in ROTTEN)

    @property
    def checked(self) -> int:
        return self.urls - self.states.get(State.UNCHECKED, 0)

    @property
    def rot_rate(self) -> float | None:
        """Rotten share of the checked URLs; None when none was checked."""
        return self.rotten / self.checked if self.checked else None


@dataclass(frozen=True, slots=True)
class Summary:
    releases: int
    citations: int
    urls: int
    hosts: int
    states: Mapping[str, int]  # citations per effective state
    archived: int  # citations with a chosen snapshot
    rotten_without_archive: int
    drifted: int = 0  # citations whose page now says something else than their snapshot
    preserved: int = 0  # citations whose page an archive holds a verified capture of
    preserved_in_several: int = 0  # ... two archives or more

    @property
    def rotten(self) -> int:
        return sum(self.states.get(state, 0) for state in ROTTEN)

    @property
    def checked(self) -> int:
        return self.citations - self.states.get(State.UNCHECKED, 0)


@dataclass(frozen=True, slots=True)
class RuleLine:
    """A `[[rules]]` table with the reported citations it applies to."""

    rule: Rule
    citations: tuple[tuple[str, CitationLine], ...]  # (release path, citation), report order

    @property
    def urls(self) -> int:
        return len({line.url_id for _, line in self.citations})


@dataclass(eq=False)
class Report:
    """The filtered citations; the per-URL and per-host groupings are made on first use."""

    generated_at: dt.datetime
    view: View
    filters: Filters
    releases: tuple[ReleaseSection, ...]
    store_releases: int  # releases in the store before filtering: tells the empty states apart
    summary: Summary
    rule_set: RuleSet = NO_RULE_SET  # the config's [[rules]], applied to the rows already

    def citations(self) -> Iterator[CitationLine]:
        for release in self.releases:
            yield from release.citations

    @cached_property
    def urls(self) -> tuple[UrlLine, ...]:
        return url_lines(self.releases)

    @cached_property
    def hosts(self) -> tuple[HostLine, ...]:
        return host_lines(self.urls)

    @cached_property
    def rules(self) -> tuple[RuleLine, ...]:
        """Every rule of the config, with the reported citations it matches (none: a rule
        that matches no cited URL, most likely a typo)."""
        affected: dict[int, list[tuple[str, CitationLine]]] = {
            rule.number: [] for rule in self.rule_set.rules
        }
        for release in self.releases:
            for line in release.citations:
                for number in line.rules:
                    affected[number].append((release.path, line))
        return tuple(RuleLine(rule, tuple(affected[rule.number])) for rule in self.rule_set.rules)

    @property
    def empty_message(self) -> str | None:
        """Why there is nothing to show, in words a person can act on; None if there is."""
        if self.store_releases == 0:
            return "No releases in the store yet: run `linkwatch scan`."
        if self.filters.since is not None and not self.summary.citations:
            return f"No citation changed state since {day(self.filters.since)}."
        if not self.summary.citations:
            if self.filters != Filters():
                return "No citation matches these filters."
            return "The releases cite no URLs."
        return None


def site_of(host: str) -> str:
    """Hosts grouped as people name sites: www.osce.org is osce.org."""
    return host[4:] if host.startswith("www.") and host.count(".") > 1 else host


def host_of(url_key: str) -> str:
    """The site of a normalised URL key; plain string work, as urlsplit is 10x slower."""
    start = url_key.find("//") + 2
    if start == 1:
        return ""
    end = url_key.find("/", start)
    host = url_key[start:] if end < 0 else url_key[start:end]
    if "?" in host or "#" in host:
        host = host.partition("?")[0].partition("#")[0]
    if "@" in host:
        host = host.rpartition("@")[2]
    if ":" in host:
        host = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    host = host.lower()
    return host[4:] if host.startswith("www.") and host.count(".") > 1 else host


def day(moment: dt.datetime | str | None) -> str:
    if moment is None:
        return ""
    return moment.isoformat()[:10] if isinstance(moment, dt.datetime) else moment[:10]


def url_lines(sections: Sequence[ReleaseSection]) -> tuple[UrlLine, ...]:
    firsts: dict[int, CitationLine] = {}
    cited_by: dict[int, list[str]] = defaultdict(list)
    counts: Counter[int] = Counter()
    for section in sections:
        for line in section.citations:
            counts[line.url_id] += 1
            paths = cited_by[line.url_id]
            if not paths or paths[-1] != section.path:
                paths.append(section.path)
            known = firsts.get(line.url_id)
            if known is None or _earlier_archive(line, known):
                firsts[line.url_id] = line
    lines = [UrlLine(firsts[uid], tuple(cited_by[uid]), counts[uid]) for uid in firsts]
    lines.sort(key=lambda u: (state_rank(u.state), u.url))
    return tuple(lines)


def _earlier_archive(line: CitationLine, known: CitationLine) -> bool:
    if line.archive_timestamp is None:
        return False
    return known.archive_timestamp is None or line.archive_timestamp < known.archive_timestamp


def state_rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def host_lines(urls: Sequence[UrlLine]) -> tuple[HostLine, ...]:
    states: dict[str, Counter[str]] = defaultdict(Counter)
    citations: Counter[str] = Counter()
    for url in urls:
        states[url.first.host][url.state] += 1
        citations[url.first.host] += url.citations
    lines = [
        HostLine(host, sum(counter.values()), citations[host], dict(counter))
        for host, counter in states.items()
    ]
    lines.sort(key=lambda h: (-h.rotten, -(h.rot_rate or 0.0), -h.urls, h.host))
    return tuple(lines)


def failing(report: Report, states: Iterable[str]) -> int:
    """How many reported citations are in one of `states` (for --fail-on)."""
    wanted = set(states)
    return sum(1 for line in report.citations() if line.state in wanted)


def summary_sentence(summary: Summary) -> str:
    """'11 citations in 1 release: 4 dead, 1 soft404, 6 alive; 6 archived'."""
    if not summary.citations:
        return f"{plural(summary.releases, 'release')}, no citations"
    states = ", ".join(
        f"{count} {state}" for state in STATE_ORDER if (count := summary.states.get(state, 0))
    )
    text = (
        f"{plural(summary.citations, 'citation')} in {plural(summary.releases, 'release')}: "
        f"{states}; {summary.archived} archived"
    )
    if summary.rotten_without_archive:
        text += f", {summary.rotten_without_archive} rotten without any archived copy"
    if summary.drifted:
        text += f"; {summary.drifted} drifted (the page now says something else)"
    return text
