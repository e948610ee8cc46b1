"""Reports: queries (in the store) -> rows -> renderers.

`build_report` turns the store's flat citation rows into a `Report`: sections
per release, lines per URL and per host, a summary, all filtered alike. Each
renderer (table, json, csv, markdown, html) only formats a `Report`, so every
format shows the same citations in the same order.

The JSON shape is a contract that scripts and CI pipelines rely on (see the
README and `schema/report.schema.json`): keys are only ever added, never
renamed or removed. `state` is always the effective state: a human's pin wins
over the evidence, which is kept in `evidence_state`.

Whether a footnote already points at an archived copy is what the scan found
in the release file: the archive link `rewrite` adds right after a citation.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import gc
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

import orjson
from markupsafe import Markup, escape
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from linkwatch.model import ROTTEN_STATES, State
from linkwatch.store import HistorySpan, Store
from linkwatch.store.reports import ReportUrl, Transition

if TYPE_CHECKING:
    import jinja2

STATE_STYLES: dict[str, str] = {
    State.UNCHECKED: "dim",
    State.ALIVE: "green",
    State.MOVED: "cyan",
    State.TRANSIENT: "yellow",
    State.BLOCKED: "magenta",
    State.SOFT404: "red",
    State.DEAD: "bold red",
}
# For HTML and SVG: readable on white, distinguishable for the common colour blindnesses
# (red/orange/amber differ in lightness as well as hue).
STATE_COLOURS: dict[str, str] = {
    State.UNCHECKED: "#9aa0a6",
    State.ALIVE: "#2e8b57",
    State.MOVED: "#2f72b8",
    State.TRANSIENT: "#d4a017",
    State.BLOCKED: "#8a5cb8",
    State.SOFT404: "#e8743b",
    State.DEAD: "#b3261e",
}
# Worst first: the order of summaries, charts and the per-URL view. Plain strings, as
# they key the JSON report's counts.
STATE_ORDER: tuple[str, ...] = tuple(
    state.value
    for state in (
        State.DEAD,
        State.SOFT404,
        State.TRANSIENT,
        State.BLOCKED,
        State.MOVED,
        State.ALIVE,
        State.UNCHECKED,
    )
)
ROTTEN: frozenset[str] = ROTTEN_STATES


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


# --------------------------------------------------------------------------- rows


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
            "since": _iso(self.since),
        }


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

    @property
    def url_id(self) -> int:
        return self.target.id

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
    def state_since(self) -> str | None:
        return self.target.state_since

    @property
    def shown_state(self) -> str:
        """What a person should read: a URL that cannot be checked is not 'unchecked'."""
        return "invalid" if self.target.invalid is not None else self.target.state


@dataclass(frozen=True, slots=True)
class ReleaseSection:
    path: str
    title: str | None
    published: str | None
    date_source: str | None
    citations: tuple[CitationLine, ...]


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

    @property
    def rotten(self) -> int:
        return sum(self.states.get(state, 0) for state in ROTTEN)

    @property
    def checked(self) -> int:
        return self.citations - self.states.get(State.UNCHECKED, 0)


@dataclass(eq=False)
class Report:
    """The filtered citations; the per-URL and per-host groupings are made on first use."""

    generated_at: dt.datetime
    view: View
    filters: Filters
    releases: tuple[ReleaseSection, ...]
    store_releases: int  # releases in the store before filtering: tells the empty states apart
    summary: Summary

    def citations(self) -> Iterator[CitationLine]:
        for release in self.releases:
            yield from release.citations

    @cached_property
    def urls(self) -> tuple[UrlLine, ...]:
        return _url_lines(self.releases)

    @cached_property
    def hosts(self) -> tuple[HostLine, ...]:
        return _host_lines(self.urls)

    @property
    def empty_message(self) -> str | None:
        """Why there is nothing to show, in words a person can act on; None if there is."""
        if self.store_releases == 0:
            return "No releases in the store yet: run `linkwatch scan`."
        if self.filters.since is not None and not self.summary.citations:
            return f"No citation changed state since {_day(self.filters.since)}."
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


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _day(moment: dt.datetime | str | None) -> str:
    if moment is None:
        return ""
    return moment.isoformat()[:10] if isinstance(moment, dt.datetime) else moment[:10]


# --------------------------------------------------------------------------- building


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
    filters: Filters = Filters(),
) -> Report:
    """Everything the renderers need, filtered, in the order every format shows it."""
    with collector_paused():
        return _build_report(store, now, view, filters)


def _build_report(store: Store, now: dt.datetime, view: View, filters: Filters) -> Report:
    """The hot loop of every report: locals and plain tuples, as it may run 150,000 times."""
    releases = store.report_releases()
    kept = {r.id: r.path for r in releases if filters.keeps_release(r.path)}
    urls = store.report_urls()
    snapshots = store.report_snapshots()
    changes = {c.url_id: c for c in store.state_changes(filters.since)} if filters.since else None
    states, by_host = filters.states, filters.host is not None
    hosts: dict[int, str] = {}  # of every URL looked at
    reported: dict[int, str] = {}  # host of every URL kept: the summary's counts
    state_counts: dict[str, int] = dict.fromkeys(STATE_ORDER, 0)
    archived = rotten_bare = 0
    new_line = tuple.__new__  # CitationLine._make without its length check: 9 values, always
    by_release: dict[int, list[CitationLine]] = defaultdict(list)
    for release_id, label, written, url_id, footnote_archive in store.report_citations():
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
        archive_url, archive_timestamp = snapshot or (None, None)
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
            ),
        )
        by_release[release_id].append(line)
        reported[url_id] = host
        state_counts[state] = state_counts.get(state, 0) + 1  # a state from a newer linkwatch
        if archive_url is not None:
            archived += 1
        elif state in ROTTEN and not url.captures:
            rotten_bare += 1
    sections = tuple(
        ReleaseSection(r.path, r.title, r.published, r.date_source, tuple(by_release[r.id]))
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
    )
    return Report(now, view, filters, sections, len(releases), summary)


def _narrowed(filters: Filters) -> bool:
    """Filters on citations hide releases left without any; a glob alone keeps them."""
    return bool(filters.states or filters.host or filters.since)


def _url_lines(sections: Sequence[ReleaseSection]) -> tuple[UrlLine, ...]:
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
    lines.sort(key=lambda u: (_rank(u.state), u.url))
    return tuple(lines)


def _earlier_archive(line: CitationLine, known: CitationLine) -> bool:
    if line.archive_timestamp is None:
        return False
    return known.archive_timestamp is None or line.archive_timestamp < known.archive_timestamp


def _rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def _host_lines(urls: Sequence[UrlLine]) -> tuple[HostLine, ...]:
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
        return f"{_plural(summary.releases, 'release')}, no citations"
    states = ", ".join(
        f"{count} {state}" for state in STATE_ORDER if (count := summary.states.get(state, 0))
    )
    text = (
        f"{_plural(summary.citations, 'citation')} in {_plural(summary.releases, 'release')}: "
        f"{states}; {summary.archived} archived"
    )
    if summary.rotten_without_archive:
        text += f", {summary.rotten_without_archive} rotten without any archived copy"
    return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --------------------------------------------------------------------------- json


def _citation_dict(line: CitationLine) -> dict[str, Any]:
    """The contract's citation object; unpacked, not read through properties: it runs
    once per citation, 150,000 times in a large report."""
    label, url, target, host, archive_url, archive_timestamp, points, previous, changed = line
    return {
        "label": label,
        "url": url,
        "state": target.state,
        "http_status": target.http_status,
        "final_url": target.final_url,
        "last_checked": target.last_checked,
        "archive_url": archive_url,
        "archive_timestamp": archive_timestamp,
        "pinned": target.pinned,
        "invalid": target.invalid,
        "host": host,
        "evidence_state": target.evidence,
        "error": target.error,
        "state_since": target.state_since,
        "points_at_archive": points,
        "previous_state": previous,
        "changed_at": changed,
    }


def _url_dict(url: UrlLine) -> dict[str, Any]:
    line = url.first
    data = {
        key: value
        for key, value in _citation_dict(line).items()
        if key not in ("label", "points_at_archive")
    }
    data["citations"] = url.citations
    data["releases"] = list(url.releases)
    return data


def _host_dict(host: HostLine) -> dict[str, Any]:
    return {
        "host": host.host,
        "urls": host.urls,
        "citations": host.citations,
        "rotten": host.rotten,
        "rot_rate": None if host.rot_rate is None else round(host.rot_rate, 4),
        "states": {state: host.states.get(state, 0) for state in STATE_ORDER},
    }


def report_dict(report: Report, *, with_lists: bool = True) -> dict[str, Any]:
    """The JSON report contract, as a plain dict; the view decides the list it carries."""
    summary = report.summary
    data: dict[str, Any] = {
        "generated_at": _iso(report.generated_at),
        "view": report.view.value,
        "filters": report.filters.as_dict(),
        "summary": {
            "releases": summary.releases,
            "citations": summary.citations,
            "urls": summary.urls,
            "hosts": summary.hosts,
            "states": dict(summary.states),
            "archived": summary.archived,
            "rotten": summary.rotten,
            "rotten_without_archive": summary.rotten_without_archive,
        },
    }
    if not with_lists:
        return data
    if report.view is View.URL:
        data["urls"] = [_url_dict(url) for url in report.urls]
    elif report.view is View.HOST:
        data["hosts"] = [_host_dict(host) for host in report.hosts]
    else:
        data["releases"] = [
            _release_dict(release, [_citation_dict(line) for line in release.citations])
            for release in report.releases
        ]
    return data


def _release_dict(release: ReleaseSection, citations: Sequence[Any]) -> dict[str, Any]:
    return {
        "path": release.path,
        "title": release.title,
        "published": release.published,
        "date_source": release.date_source,
        "citations": citations,
    }


def _json_default(value: object) -> dict[str, Any]:
    """orjson's hook for the report's own types: each becomes a dict only as it is written."""
    if isinstance(value, CitationLine):
        return _citation_dict(value)
    if isinstance(value, ReleaseSection):
        return _release_dict(value, value.citations)
    raise TypeError(f"{type(value).__name__} is not part of the JSON report")


_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE


def render_json(report: Report) -> bytes:
    """`report_dict` as one line of compact UTF-8 JSON; pipe through `jq` to read.

    orjson, because it writes 150,000 citations several times faster than
    the standard library; in the release view it takes the rows themselves
    and turns each into a dict only as it reaches it (`_json_default`), so
    the dicts never pile up.
    """
    with collector_paused():
        if report.view is View.RELEASE:
            data = report_dict(report, with_lists=False)
            data["releases"] = report.releases
        else:
            data = report_dict(report)
        return orjson.dumps(data, default=_json_default, option=_JSON_OPTIONS)


# --------------------------------------------------------------------------- csv

RELEASE_COLUMNS = (
    "release",
    "title",
    "published",
    "label",
    "url",
    "host",
    "state",
    "state_since",
    "evidence_state",
    "http_status",
    "final_url",
    "last_checked",
    "pinned",
    "invalid",
    "archive_url",
    "archive_timestamp",
    "points_at_archive",
    "previous_state",
    "changed_at",
)
URL_COLUMNS = (
    "url",
    "host",
    "state",
    "state_since",
    "evidence_state",
    "http_status",
    "final_url",
    "last_checked",
    "pinned",
    "invalid",
    "archive_url",
    "archive_timestamp",
    "previous_state",
    "changed_at",
    "citations",
    "releases",
)
HOST_COLUMNS = ("host", "urls", "citations", "rotten", "rot_rate", *STATE_ORDER)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_csv(report: Report) -> str:
    """One header row, then one row per citation, URL or host (RFC 4180, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out)
    if report.view is View.HOST:
        writer.writerow(HOST_COLUMNS)
        for host in report.hosts:
            row = _host_dict(host)
            writer.writerow(
                [_cell(row[c]) for c in HOST_COLUMNS[:5]]
                + [str(row["states"][s]) for s in STATE_ORDER]
            )
    elif report.view is View.URL:
        writer.writerow(URL_COLUMNS)
        for url in report.urls:
            row = _url_dict(url)
            row["releases"] = " ".join(url.releases)
            writer.writerow([_cell(row[c]) for c in URL_COLUMNS])
    else:
        writer.writerow(RELEASE_COLUMNS)
        for release in report.releases:
            for line in release.citations:
                row = _citation_dict(line) | {
                    "release": release.path,
                    "title": release.title,
                    "published": release.published,
                }
                writer.writerow([_cell(row[c]) for c in RELEASE_COLUMNS])
    return out.getvalue()


# --------------------------------------------------------------------------- markdown

MD_LINK_TEXT = 72  # characters of a URL shown as link text; the link itself is always whole
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~&"})


def _md_text(text: str) -> str:
    """Literal text in Markdown: specials escaped, whitespace runs (line breaks too) one space."""
    return " ".join(text.split()).translate(_MD_SPECIAL)


def _md_link(text: str, url: str) -> str:
    """A link whose destination survives any URL: <...> form, brackets and spaces encoded."""
    target = quote(url, safe="".join(chr(c) for c in range(33, 127) if chr(c) not in "<>\\|"))
    return f"[{_md_text(text)}](<{target}>)"


def _md_code(text: str) -> str:
    """A path as code; a backtick inside would end the span, so it becomes a quote."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell or " " for cell in cells) + " |"


def _md_state(line: CitationLine) -> str:
    state = line.shown_state
    text = f"**{state}**" if state in ROTTEN else state
    if line.pinned:
        text += f" (pinned; checks say {line.evidence})"
    if line.previous_state is not None:
        text = f"{line.previous_state} → {text}"
    return text


def _md_archive(line: CitationLine) -> str:
    if line.archive_url is None:
        return "—"
    text = _md_link(_day(line.archive_timestamp) or "archived copy", line.archive_url)
    if line.points_at_archive:
        text += " (in the footnote)"
    return text


def render_markdown(report: Report) -> str:
    parts = [
        "# linkwatch report",
        "",
        f"Generated {_when(report.generated_at)}. {_md_text(summary_sentence(report.summary))}.",
        "",
    ]
    if report.filters != Filters():
        parts += [f"Filters: {_md_text(_filters_text(report.filters))}.", ""]
    if report.empty_message is not None and report.view is View.RELEASE:
        parts += [f"_{report.empty_message}_", ""]  # our own words: its `code` stays code
    if report.view is View.HOST:
        parts += _md_hosts(report)
    elif report.view is View.URL:
        parts += _md_urls(report)
    else:
        for release in report.releases:
            parts += _md_release(release)
    return "\n".join(parts).rstrip("\n") + "\n"


def _md_release(release: ReleaseSection) -> list[str]:
    lines = [f"## {_md_text(release.title or release.path)}", ""]
    facts = [_md_code(release.path)]
    if release.published:
        facts.append(f"published {release.published}")
    lines += [" · ".join(facts), ""]
    if not release.citations:
        return [*lines, "_No citations found._", ""]
    changes = any(line.previous_state is not None for line in release.citations)
    lines += [
        _md_row(["#", "state", "changed" if changes else "since", "URL", "archived copy"]),
        _md_row(["---"] * 5),
    ]
    for line in release.citations:
        when = line.changed_at if changes else line.state_since
        lines.append(
            _md_row(
                [
                    _md_text(line.label or ""),
                    _md_state(line),
                    _day(when),
                    _md_link(_shorten(line.url, MD_LINK_TEXT), line.url),
                    _md_archive(line),
                ]
            )
        )
    return [*lines, ""]


def _md_urls(report: Report) -> list[str]:
    if not report.urls:
        return [f"_{report.empty_message or 'No URLs.'}_", ""]
    lines = [
        _md_row(["state", "since", "URL", "cited by", "archived copy"]),
        _md_row(["---"] * 5),
    ]
    for url in report.urls:
        cited = ", ".join(_md_code(path) for path in url.releases)
        lines.append(
            _md_row(
                [
                    _md_state(url.first),
                    _day(url.first.state_since),
                    _md_link(_shorten(url.url, MD_LINK_TEXT), url.url),
                    cited,
                    _md_archive(url.first),
                ]
            )
        )
    return [*lines, ""]


def _md_hosts(report: Report) -> list[str]:
    if not report.hosts:
        return [f"_{report.empty_message or 'No hosts.'}_", ""]
    lines = [
        _md_row(["host", "URLs", "citations", "dead", "soft404", "rotten share"]),
        _md_row(["---", "---:", "---:", "---:", "---:", "---:"]),
    ]
    for host in report.hosts:
        lines.append(
            _md_row(
                [
                    _md_text(host.host),
                    str(host.urls),
                    str(host.citations),
                    str(host.states.get(State.DEAD, 0)),
                    str(host.states.get(State.SOFT404, 0)),
                    _percent(host.rot_rate),
                ]
            )
        )
    return [*lines, ""]


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _filters_text(filters: Filters) -> str:
    parts = []
    if filters.states:
        parts.append("state " + ", ".join(sorted(filters.states, key=_rank)))
    if filters.release_glob:
        parts.append(f"releases matching {filters.release_glob}")
    if filters.host:
        parts.append(f"host {filters.host}")
    if filters.since:
        parts.append(f"changed since {_day(filters.since)}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- table


def _state_text(line: CitationLine) -> Text:
    text = Text()
    if line.previous_state is not None:
        text.append(line.previous_state, style=STATE_STYLES.get(line.previous_state, ""))
        text.append("→")
    text.append(line.shown_state, style=STATE_STYLES.get(line.state, ""))
    if line.pinned:
        text.append("*", style="bold")
    return text


def _archive_text(line: CitationLine) -> Text:
    if line.points_at_archive:
        return Text("linked", style="green")
    if line.archive_url:
        return Text("yes", style="green")
    if line.captures:
        return Text("found")
    return Text("no", style="red" if line.state in ROTTEN else "dim")


def render_table(report: Report) -> RenderableType:
    """Tables sized for an 80-column terminal: URLs fold onto more lines, never cut."""
    parts: list[RenderableType] = []
    if report.view is View.HOST:
        parts.append(_host_table(report))
    elif report.view is View.URL:
        parts.append(_url_table(report))
    else:
        for release in report.releases:
            parts += _release_table(release)
    if report.empty_message is not None:
        parts.append(Text(report.empty_message, style="dim"))
    parts.append(_summary_text(report))
    if any(line.pinned for line in report.citations()):
        parts.append(Text("* pinned by a person: `linkwatch mark URL --unpin` undoes it", "dim"))
    return Group(*parts)


def _summary_text(report: Report) -> Text:
    summary = report.summary
    text = Text(
        f"{_plural(summary.citations, 'citation')} in {_plural(summary.releases, 'release')}"
    )
    counted = [(state, summary.states.get(state, 0)) for state in STATE_ORDER]
    counted = [(state, count) for state, count in counted if count]
    if counted:
        text.append(": ")
    for index, (state, count) in enumerate(counted):
        text.append(f"{count} {state}", style=STATE_STYLES.get(state, ""))
        if index < len(counted) - 1:
            text.append(", ")
    if summary.citations:
        text.append(f"; {summary.archived} archived")
    if summary.rotten_without_archive:
        text.append(f", {summary.rotten_without_archive} rotten without a copy", style="red")
    return text


def _new_table(*columns: tuple[str, dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, expand=False, header_style="bold")
    for name, options in columns:
        table.add_column(name, **options)
    return table


def _release_table(release: ReleaseSection) -> list[RenderableType]:
    heading = Text(release.path, style="bold")
    if release.published:
        heading.append(f"  {release.published}", style="dim")
    parts: list[RenderableType] = [heading]
    if release.title:
        parts.append(Text(_shorten(release.title, 78), style="italic"))
    if not release.citations:
        return [*parts, Text("  no citations found", style="dim"), Text("")]
    changes = any(line.previous_state is not None for line in release.citations)
    table = _new_table(
        ("#", {"justify": "right", "no_wrap": True}),
        ("state", {"no_wrap": True}),
        ("changed" if changes else "since", {"no_wrap": True}),
        ("url", {"overflow": "fold"}),
        ("archive", {"no_wrap": True}),
    )
    for line in release.citations:
        table.add_row(
            line.label or "",
            _state_text(line),
            _day(line.changed_at if changes else line.state_since),
            line.url,
            _archive_text(line),
        )
    return [*parts, table, Text("")]


def _url_table(report: Report) -> Table:
    table = _new_table(
        ("state", {"no_wrap": True}),
        ("since", {"no_wrap": True}),
        ("cites", {"justify": "right", "no_wrap": True}),
        ("url", {"overflow": "fold"}),
        ("archive", {"no_wrap": True}),
    )
    for url in report.urls:
        when = url.first.changed_at or url.first.state_since
        table.add_row(
            _state_text(url.first),
            _day(when),
            str(url.citations),
            url.url,
            _archive_text(url.first),
        )
    return table


def _host_table(report: Report) -> Table:
    table = _new_table(
        ("host", {"overflow": "fold"}),
        ("urls", {"justify": "right"}),
        ("dead", {"justify": "right", "style": STATE_STYLES[State.DEAD]}),
        ("soft404", {"justify": "right", "style": STATE_STYLES[State.SOFT404]}),
        ("ok", {"justify": "right", "style": STATE_STYLES[State.ALIVE]}),
        ("rotten", {"justify": "right", "no_wrap": True}),
    )
    for host in report.hosts:
        ok = sum(host.states.get(s, 0) for s in (State.ALIVE, State.MOVED, State.BLOCKED))
        table.add_row(
            host.host,
            str(host.urls),
            str(host.states.get(State.DEAD, 0)),
            str(host.states.get(State.SOFT404, 0)),
            str(ok),
            _bar(host.rot_rate),
        )
    return table


def _bar(rate: float | None, width: int = 10) -> Text:
    if rate is None:
        return Text("unchecked", style="dim")
    filled = round(rate * width)
    text = Text("█" * filled, style="red")
    text.append("░" * (width - filled), style="dim")
    text.append(f" {_percent(rate):>4}")
    return text


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------- html


@dataclass(frozen=True, slots=True)
class Segment:
    """A coloured piece of a timeline strip (x and width in per cent of the strip)."""

    x: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    """A column of the rot-over-time chart: one rectangle per state, stacked."""

    x: float
    width: float
    rects: tuple[tuple[float, float, str, str], ...]  # y, height, colour, tooltip


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class RotChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    y_max: int
    y_ticks: tuple[tuple[float, int], ...]  # y, value


@dataclass(frozen=True, slots=True)
class HostBar:
    host: str
    segments: tuple[tuple[float, float, str, str], ...]  # x, width, colour, tooltip
    label: str


@dataclass(frozen=True, slots=True)
class HtmlExtras:
    """What only the HTML report shows: timelines and charts from the status history."""

    timelines: Mapping[int, tuple[Segment, ...]]
    timeline_start: str | None
    timeline_end: str
    rot: RotChart | None
    hosts: tuple[HostBar, ...]


CHART_WIDTH, CHART_HEIGHT = 560, 180
MIN_SEGMENT = 4.0  # per cent of a timeline strip: even a one-day span shows
HOST_BARS = 12


def load_html_extras(store: Store, report: Report) -> HtmlExtras:
    """Read the history behind the HTML report's timelines and charts."""
    url_ids = {url.first.url_id for url in report.urls}
    histories = store.histories(url_ids)
    starts = [spans[0].first_at for spans in histories.values() if spans]
    end = report.generated_at
    start = min(starts) if starts else None
    timelines = {
        uid: _segments(spans, start, end) for uid, spans in histories.items() if start and spans
    }
    transitions = [t for t in store.transitions() if t.url_id in url_ids]
    return HtmlExtras(
        timelines=timelines,
        timeline_start=_day(start),
        timeline_end=_day(end),
        rot=_rot_chart(transitions, end),
        hosts=_host_bars(report.hosts),
    )


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _segments(
    spans: Sequence[HistorySpan], start_text: str, end: dt.datetime
) -> tuple[Segment, ...]:
    """Each span lasts until the next one starts (the last until now): no gaps, no overlap."""
    start = _moment(start_text)
    total = max((end - start).total_seconds(), 1.0)
    result = []
    for index, span in enumerate(spans):
        begin = _moment(span.first_at)
        until = _moment(spans[index + 1].first_at) if index + 1 < len(spans) else end
        x = max(0.0, (begin - start).total_seconds() / total * 100)
        width = max(MIN_SEGMENT, (until - begin).total_seconds() / total * 100)
        x = min(x, 100 - width)  # a change of last week stays visible at the right end
        detail = " ".join(part for part in (str(span.http_status or ""), span.error or "") if part)
        title = (
            f"{span.state} {span.first_at[:10]} → {span.last_at[:10]}, "
            f"{_plural(span.count, 'check')}" + (f" ({detail})" if detail else "")
        )
        result.append(Segment(round(x, 2), round(width, 2), _colour(span.state), title))
    return tuple(result)


def _colour(state: str) -> str:
    return STATE_COLOURS.get(state, STATE_COLOURS[State.UNCHECKED])


_STEPS_DAYS = (1, 7, 14, 30, 91, 182, 365)


def _rot_chart(transitions: Sequence[Transition], end: dt.datetime) -> RotChart | None:
    """URLs per state over time, sampled at up to 60 evenly spaced moments."""
    if not transitions:
        return None
    start = _moment(transitions[0].at)
    span_days = max((end - start).total_seconds() / 86400, 1.0)
    step = next((s for s in _STEPS_DAYS if span_days / s <= 60), 365)
    moments = [
        start + dt.timedelta(days=step * (i + 1)) for i in range(math.ceil(span_days / step))
    ]
    moments[-1] = end
    samples = _sample_states(transitions, moments)
    y_max = max((sum(sample.values()) for sample in samples), default=0) or 1
    y_max = _nice_ceiling(y_max)
    left, bottom, top = 34, 22, 8
    plot_w, plot_h = CHART_WIDTH - left - 6, CHART_HEIGHT - bottom - top
    slot = plot_w / len(samples)
    bars = []
    for index, (moment, sample) in enumerate(zip(moments, samples, strict=True)):
        y = float(top + plot_h)
        rects = []
        for state in reversed(STATE_ORDER[:-1]):
            count = sample.get(state, 0)
            if not count:
                continue
            height = count / y_max * plot_h
            y -= height
            tip = f"{_day(moment)}: {count} {state}"
            rects.append((round(y, 2), round(height, 2), _colour(state), tip))
        bars.append(
            Bar(round(left + index * slot + slot * 0.12, 2), round(slot * 0.76, 2), tuple(rects))
        )
    ticks = _time_ticks(moments, left, slot)
    y_ticks = tuple(
        (round(top + plot_h - plot_h * f, 2), round(y_max * f)) for f in (0.0, 0.5, 1.0)
    )
    return RotChart(CHART_WIDTH, CHART_HEIGHT, tuple(bars), ticks, y_max, y_ticks)


def _sample_states(
    transitions: Sequence[Transition], moments: Sequence[dt.datetime]
) -> list[dict[str, int]]:
    current: dict[int, str] = {}
    counts: Counter[str] = Counter()
    samples = []
    index = 0
    for moment in moments:
        stamp = moment.astimezone(dt.UTC).isoformat(timespec="seconds")
        while index < len(transitions) and transitions[index].at <= stamp:
            change = transitions[index]
            previous = current.get(change.url_id)
            if previous is not None:
                counts[previous] -= 1
            counts[change.after] += 1
            current[change.url_id] = change.after
            index += 1
        samples.append({state: count for state, count in counts.items() if count})
    return samples


def _nice_ceiling(value: int) -> int:
    magnitude: int = 10 ** max(len(str(value)) - 1, 0)
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value


def _time_ticks(moments: Sequence[dt.datetime], left: float, slot: float) -> tuple[Tick, ...]:
    """A label at each new year (or month, for short histories), at most seven of them."""
    yearly = moments[-1] - moments[0] > dt.timedelta(days=400)
    ticks: list[Tick] = []
    previous = ""
    for index, moment in enumerate(moments):
        label = str(moment.year) if yearly else moment.strftime("%b %Y")
        if label != previous:
            ticks.append(Tick(round(left + index * slot + slot / 2, 2), label))
            previous = label
    keep = max(1, math.ceil(len(ticks) / 7))
    return tuple(ticks[::keep])


def _host_bars(hosts: Sequence[HostLine]) -> tuple[HostBar, ...]:
    """The hosts with most rotten URLs; bar length in per cent of the largest host shown."""
    shown = [h for h in hosts if h.checked][:HOST_BARS]
    widest = max((h.urls for h in shown), default=0)
    bars = []
    for host in shown:
        x = 0.0
        segments = []
        for state in STATE_ORDER:
            count = host.states.get(state, 0)
            if not count:
                continue
            width = count / widest * 100
            segments.append((round(x, 2), round(width, 2), _colour(state), f"{count} {state}"))
            x += width
        label = f"{host.rotten}/{host.urls} rotten"
        bars.append(HostBar(host.host, tuple(segments), label))
    return tuple(bars)


ERROR_WORDS: dict[str, str] = {
    "invalid_url": "not a valid URL",
    "private_address": "a private address (not checked)",
    "dns": "no such host (DNS)",
    "refused": "connection refused",
    "unreachable": "host unreachable",
    "reset": "connection reset",
    "timeout": "timed out",
    "tls": "bad TLS certificate",
    "too_many_redirects": "too many redirects",
    "redirect_loop": "redirect loop",
    "protocol": "broken HTTP answer",
}


def answer_text(line: CitationLine) -> str:
    """The last check's answer in words: 'HTTP 404', 'no such host (DNS)'."""
    if line.error:
        return ERROR_WORDS.get(line.error, line.error)
    return f"HTTP {line.http_status}" if line.http_status else "no answer"


def _href(url: str | None) -> str:
    """Only web links become links: a stored URL is data, never a javascript: door."""
    scheme, colon, _rest = (url or "").partition(":")
    return url if url and colon and scheme.lower() in ("http", "https") else "#"


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _code_spans(text: str) -> Markup:
    """`command` in linkwatch's own messages becomes <code>, everything else escaped."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


def template_environment() -> jinja2.Environment:
    """The report and digest templates; autoescaping is on for everything but .txt."""
    import jinja2  # only the HTML report and the digest need templates

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("linkwatch", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = _day
    env.filters["colour"] = _colour
    env.filters["plural"] = _plural
    env.filters["percent"] = _percent
    env.filters["href"] = _href
    env.filters["answer"] = answer_text
    env.filters["code_spans"] = _code_spans
    env.globals["STATE_ORDER"] = STATE_ORDER
    env.globals["STATE_COLOURS"] = STATE_COLOURS
    env.globals["ROTTEN"] = ROTTEN
    return env


def render_html(report: Report, extras: HtmlExtras) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, no fetched assets."""
    template = template_environment().get_template("report/report.html")
    return template.render(
        report=report,
        extras=extras,
        summary=report.summary,
        sentence=summary_sentence(report.summary),
        generated=_when(report.generated_at),
        filters_text=_filters_text(report.filters),
        View=View,
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered report: UTF-8 bytes for a file or a pipe, or a rich renderable for a terminal.

    Bytes, because the JSON of a large report is 80 MB that orjson already wrote as
    bytes: decoding it to text only to encode it again costs a tenth of the command.
    """

    data: bytes | None = None
    table: RenderableType | None = field(default=None)


def render(report: Report, fmt: OutputFormat, store: Store | None = None) -> Rendered:
    """Dispatch to a renderer; HTML needs the store again for the history."""
    if fmt is OutputFormat.TABLE:
        return Rendered(table=render_table(report))
    if fmt is OutputFormat.JSON:
        return Rendered(data=render_json(report))
    if fmt is OutputFormat.CSV:
        text = render_csv(report)
    elif fmt is OutputFormat.MARKDOWN:
        text = render_markdown(report)
    elif store is None:
        raise ValueError("the HTML report reads the history: pass the store")
    else:
        text = render_html(report, load_html_extras(store, report))
    return Rendered(data=text.encode())
