"""The scan: releases on disk -> citations in the store.

One function serves the CLI's `scan` and the daemon's scan job. A file whose
bytes hash the same as at its last scan is not parsed again, so a rescan of
an unchanged tree costs a read and a hash per file. A file that cannot be
read is reported in one line and skipped; what the store already holds for it
is kept. A file that vanished is flagged missing, never deleted: its
citations carry history that outlives the file.

Parsing is pure CPU work (markdown-it, html.parser, linkify), so when many
files changed it runs in a pool of worker processes while this process does
the writing; releases are stored in batches, one transaction per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fnmatch
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from linkwatch.config.settings import Settings
from linkwatch.content import main_content_citations
from linkwatch.errors import ReleaseReadError
from linkwatch.extract import document_citations, extract_citations
from linkwatch.model import Citation, Format, ReleaseMeta
from linkwatch.paths import key_of, shown
from linkwatch.pool import default_workers, map_in_pool, mtime_of
from linkwatch.sources.decoding import decode_release
from linkwatch.sources.documents import document_format, read_document
from linkwatch.sources.files import find_releases, read_bytes
from linkwatch.sources.meta import document_meta, release_meta
from linkwatch.sources.web import is_web_key
from linkwatch.store import ParsedRelease, Store, WebPageState
from linkwatch.urls import InvalidURL, normalise_url
from linkwatch.wrappers import unwrap

if TYPE_CHECKING:
    from linkwatch.sources.web.collect import WebPage

# A press release cites tens of pages; a file citing thousands is a link dump, and
# parsing it costs superlinear time (a 10 MB one-line release of 80,000 links took
# minutes). More than this many links, and the file is refused before it is parsed.
DEFAULT_MAX_CITATIONS = 2000
BATCH = 200  # releases per transaction: large enough to amortise commits, small enough to stream
POOL_THRESHOLD = 64  # fewer changed files than this are parsed in-process (a pool costs ~0.3 s)


@dataclass(slots=True)
class ScanSummary:
    """What one scan did, for the CLI to print and the daemon to log."""

    releases: int = 0  # files found by sources.paths
    parsed: int = 0  # new or changed, parsed and stored
    unchanged: int = 0  # same hash as last scan: not parsed
    citations: int = 0  # citations found in the parsed files
    new_urls: int = 0  # URLs the store had never seen
    errors: list[str] = field(default_factory=list)  # one line per unreadable release
    warnings: list[str] = field(default_factory=list)  # globs matching nothing, odd encodings
    missing: list[str] = field(default_factory=list)  # releases whose files vanished
    pages: int = 0  # web pages listed by the web sources (counted in `releases` too)
    page_requests: int = 0  # pages asked for (listings not counted); the others cost nothing

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class ParseJob:
    """One changed file to parse; small and picklable, for a worker process."""

    path: Path
    key: str
    data: bytes
    sha256: str
    published: dt.date | None  # configured override
    mtime: float | None
    max_citations: int = DEFAULT_MAX_CITATIONS
    url: str | None = None  # a web page's URL (its dates may be in it)
    title: str | None = None  # what a feed or an API says of it
    declared: dt.date | None = None
    selector: str | None = None  # sources.content_selector for it
    fragment: bool = False  # an article alone (an API's content): never cut


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    key: str
    release: ParsedRelease | None
    notice: str | None  # worth a warning (a legacy encoding was guessed)
    error: str | None  # why the release could not be read


def release_key(path: Path, base_dir: Path) -> str:
    """The name a release is stored under (see `paths`: lossless for any file name)."""
    return key_of(path, base_dir)


def date_override(settings: Settings, key: str) -> dt.date | None:
    """The configured publication date for a release, matched by path or glob."""
    for pattern, day in settings.sources.dates:
        if key == pattern or fnmatch.fnmatchcase(key, pattern):
            return day
    return None


def parse_release(job: ParseJob) -> ParseOutcome:
    """Decode, date and extract one release. Never raises for a bad file."""
    links = job.data.count(b"//")  # every URL has one: a cheap upper bound, before parsing
    if links > 3 * job.max_citations:
        return ParseOutcome(job.key, None, None, _too_many(links, job.max_citations))
    try:
        release = _read(job)
    except ReleaseReadError as err:
        return ParseOutcome(job.key, None, None, err.reason)
    except (RecursionError, MemoryError) as err:
        return ParseOutcome(job.key, None, None, f"cannot parse: {_too_deep(err)}")
    except Exception as err:  # a parser's bug must cost this release, not the scan
        return ParseOutcome(job.key, None, None, f"cannot parse: {type(err).__name__}: {err}")
    fmt, encoding, meta, citations, notice = release
    if len(citations) > job.max_citations:
        return ParseOutcome(job.key, None, None, _too_many(len(citations), job.max_citations))
    keys: list[str] = []
    invalid: list[str | None] = []
    for citation in citations:
        try:
            keys.append(normalise_url(unwrap(citation.url)))  # a wrapper is judged as its target
            invalid.append(None)
        except InvalidURL as err:
            keys.append(citation.url)  # kept as written, so the report can show it
            invalid.append(str(err))
    parsed = ParsedRelease(
        path=job.key,
        sha256=job.sha256,
        size=len(job.data),
        format=fmt,
        encoding=encoding,
        meta=meta,
        citations=citations,
        url_keys=keys,
        invalid=invalid,
    )
    return ParseOutcome(job.key, parsed, notice, None)


def _read(job: ParseJob) -> tuple[Format, str, ReleaseMeta, list[Citation], str | None]:
    """(format, encoding, meta, citations, notice) of one release; a Word or PDF
    release is read through its plain-text rendition (its encoding: that of the
    rendition, UTF-8)."""
    if document_format(job.path) is not None:
        document = read_document(job.path, job.data)
        meta = document_meta(document, override=job.published, mtime=job.mtime)
        return document.format, "utf-8", meta, document_citations(document), None
    release = decode_release(job.path, job.data)
    meta = release_meta(
        release,
        override=job.published,
        mtime=job.mtime,
        url=job.url,
        title=job.title,
        declared=job.declared,
    )
    citations = extract_citations(
        release.text,
        release.format,
        encoding=release.encoding,
        bom=release.bom,
        site_links=bool(job.selector) and not job.fragment,
    )
    if not job.fragment:
        citations = main_content_citations(release, citations, selector=job.selector, url=job.url)
    return release.format, release.encoding, meta, citations, release.notice


def _too_many(links: int, limit: int) -> str:
    return f"{links} links, more than sources.max_citations ({limit}) allows: not read"


def _too_deep(err: BaseException) -> str:
    if isinstance(err, RecursionError):
        return "nested too deeply"
    return "too large to parse"


def scan(
    settings: Settings,
    store: Store,
    *,
    now: dt.datetime | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> ScanSummary:
    """Bring the store in line with the releases on disk."""
    moment = now or dt.datetime.now(dt.UTC)
    summary = ScanSummary()
    paths, summary.warnings = find_releases(settings.sources.paths, settings.base_dir)
    summary.releases = len(paths)
    known = store.known_releases()
    unchanged: list[str] = []
    jobs: list[ParseJob] = []
    for path in paths:
        key = release_key(path, settings.base_dir)
        try:
            data = read_bytes(path, max_size=settings.sources.max_size)
        except ReleaseReadError as err:
            summary.errors.append(f"{shown(key)}: {err.reason}")
            store.record_read_error(key, err.reason, moment)
            continue
        digest = hashlib.sha256(data).hexdigest()
        previous = known.get(key)
        if previous is not None and previous.sha256 == digest:
            unchanged.append(key)
            continue
        override, mtime = date_override(settings, key), mtime_of(path)
        limit = settings.sources.max_citations
        jobs.append(ParseJob(path, key, data, digest, override, mtime, limit))
    seen = [release_key(p, settings.base_dir) for p in paths]
    states: dict[str, WebPageState] = {}  # validators of changed pages, kept once stored
    if settings.sources.has_web:
        web_jobs, web_seen = _web_jobs(settings, store, moment, summary, unchanged, states)
        jobs += web_jobs
        seen += web_seen
    store.mark_scanned(unchanged, moment)
    summary.unchanged = len(unchanged)

    batch: list[ParsedRelease] = []
    pool_size = workers if workers is not None else default_workers()
    parsed = map_in_pool(parse_release, jobs, workers=pool_size, threshold=POOL_THRESHOLD)
    for outcome in parsed:
        if progress is not None:
            progress(outcome.key)
        if outcome.release is None:
            states.pop(outcome.key, None)
            summary.errors.append(f"{shown(outcome.key)}: {outcome.error}")
            store.record_read_error(outcome.key, outcome.error or "unreadable", moment)
            continue
        if outcome.notice:
            summary.warnings.append(f"{shown(outcome.key)}: {outcome.notice}")
        batch.append(outcome.release)
        summary.parsed += 1
        summary.citations += len(outcome.release.citations)
        if len(batch) >= BATCH:
            summary.new_urls += _save(store, batch, moment, summary, states)
            batch = []
    summary.new_urls += _save(store, batch, moment, summary, states)
    store.save_web_pages(list(states.values()), moment)
    summary.missing = store.mark_missing(seen, moment)
    return summary


def _web_jobs(
    settings: Settings,
    store: Store,
    moment: dt.datetime,
    summary: ScanSummary,
    unchanged: list[str],
    states: dict[str, WebPageState],
) -> tuple[list[ParseJob], list[str]]:
    """The web sources' pages that changed, as parse jobs; and every page still listed.

    Each page's validators are stored now for unchanged pages, and with the release for
    changed ones (`_save`), so a page that fails to parse is asked again next time.
    """
    from linkwatch.sources.web.collect import collect_pages  # the network stack, when needed

    known = store.web_pages()
    found = asyncio.run(collect_pages(settings, known, now=moment))
    summary.errors += found.errors
    summary.pages = len(found.listed)
    summary.releases += len(found.listed)
    summary.page_requests = found.requests
    for url, reason in found.failed:
        summary.errors.append(f"{url}: {reason}")
        store.record_read_error(url, reason, moment)
    jobs: list[ParseJob] = []
    same: list[WebPage] = []
    for page in found.pages:
        digest = hashlib.sha256(page.data).hexdigest()
        if page.state.sha256 == digest:
            same.append(page)
            continue
        jobs.append(_web_job(settings, page, digest))
        states[page.key] = page.state
    unchanged += [p.path for p in found.unchanged] + [p.key for p in same]
    store.save_web_pages(list(found.unchanged) + [p.state for p in same], moment)
    seen = list(found.listed)
    if not found.complete:  # a listing could not be read: none of its pages is gone
        seen += [key for key in store.known_releases() if is_web_key(key)]
    return jobs, seen


def _web_job(settings: Settings, page: WebPage, digest: str) -> ParseJob:
    return ParseJob(
        path=page.file,
        key=page.key,
        data=page.data,
        sha256=digest,
        published=date_override(settings, page.key),
        mtime=page.mtime,
        max_citations=settings.sources.max_citations,
        url=page.key,
        title=page.title,
        declared=page.published,
        selector=page.selector,
        fragment=page.fragment,
    )


def _save(
    store: Store,
    batch: Sequence[ParsedRelease],
    moment: dt.datetime,
    summary: ScanSummary,
    states: dict[str, WebPageState],
) -> int:
    """Store a batch; a release the store refuses is one error line, the rest are stored."""

    def failed(release: ParsedRelease, err: Exception) -> None:
        states.pop(release.path, None)  # asked again next time
        summary.parsed -= 1
        summary.citations -= len(release.citations)
        reason = f"cannot store: {type(err).__name__}: {err}"
        summary.errors.append(f"{shown(release.path)}: {reason}")
        with contextlib.suppress(Exception):  # what cannot be stored may not be noted either
            store.record_read_error(release.path, reason, moment)

    return store.save_releases(batch, moment, on_failure=failed)
