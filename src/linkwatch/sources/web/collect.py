"""One scan's web work: list every source's pages, ask for those that may have changed.

A page whose listing gives the same date as at the last scan is not asked at all
(sitemap `lastmod`, feed `updated`, WordPress `modified_gmt`), so an unchanged
rescan costs the listings only. A page without such a date is asked with the
validators of its last answer (If-None-Match, If-Modified-Since): unchanged, it
costs a 304. A page that cannot be had is one line naming its URL; the others go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email.utils
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from linkwatch.check.run import net_options
from linkwatch.config.settings import Settings, SourcesSettings, WebSource
from linkwatch.errors import WebSourceError
from linkwatch.net.polite import Net, NetOptions
from linkwatch.sources.dates import parse_date_text
from linkwatch.sources.web.fetch import Validators, get
from linkwatch.sources.web.listing import (
    MAX_LISTING,
    Listed,
    Listing,
    list_feed,
    list_sitemap,
    list_wordpress,
    listed_urls,
    read_url_file,
)
from linkwatch.sources.web.pages import body_file, keep_body
from linkwatch.sources.web.patterns import wanted
from linkwatch.store.web import WebPageState


@dataclass(frozen=True, slots=True)
class WebPage:
    """A page to parse: its body changed (or is new) since the last scan."""

    key: str  # its URL
    file: Path  # where its body is kept (state.dir/pages)
    data: bytes
    state: WebPageState  # validators to remember once it is stored
    title: str | None  # what the listing says (feed entry, API post), if anything
    published: dt.date | None
    mtime: float | None  # Last-Modified or the listed date: the date of last resort
    selector: str | None  # sources.content_selector for it
    fragment: bool  # the body is an article alone (API content): never cut


@dataclass(slots=True)
class WebCollection:
    pages: list[WebPage] = field(default_factory=list)
    unchanged: list[WebPageState] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    errors: list[str] = field(default_factory=list)  # listings that could not be read
    listed: list[str] = field(default_factory=list)  # every page URL found, for `missing`
    requests: int = 0  # page requests made (listings not counted)

    @property
    def complete(self) -> bool:
        """Every listing was read: a page absent from them is really gone."""
        return not self.errors


def web_net_options(settings: Settings) -> NetOptions:
    """The checker's politeness and guard, with a body cap fit for whole pages and sitemaps."""
    options = net_options(settings)
    return dataclasses.replace(
        options, max_body=max(settings.sources.max_size, MAX_LISTING), accept=options.accept
    )


def selector_for(url: str, source: WebSource, sources: SourcesSettings) -> str | None:
    """The source's own selector, else one for its source URL, its host, or every page."""
    if source.content_selector:
        return source.content_selector
    host = (urlsplit(url).hostname or "").lower()
    scoped = dict(sources.content_selector)
    for scope in (source.url, host, host.removeprefix("www."), "*"):
        if scope in scoped:
            return scoped[scope]
    return None


async def _listings(net: Net, sources: SourcesSettings) -> list[Listing]:
    jobs = [list_sitemap(net, s) for s in sources.sitemaps]
    jobs += [list_feed(net, s) for s in sources.feeds]
    jobs += [list_wordpress(net, s) for s in sources.wordpress]
    found = list(await asyncio.gather(*jobs))
    pages = listed_urls(sources.urls.urls)
    errors: list[str] = []
    if sources.urls.file is not None:
        urls, errors = read_url_file(sources.urls.file)
        pages += listed_urls([WebSource(url) for url in urls])
    found.append(Listing(pages, errors))
    return found


async def collect_pages(
    settings: Settings,
    known: dict[str, WebPageState],
    *,
    now: dt.datetime,
    net_factory: Callable[[NetOptions], Net] = Net,
) -> WebCollection:
    sources = settings.sources
    result = WebCollection()
    async with net_factory(web_net_options(settings)) as net:
        chosen: dict[str, Listed] = {}
        for listing in await _listings(net, sources):
            result.errors += listing.errors
            for page in listing.pages:
                if page.url not in chosen and wanted(page.url, page.source, sources):
                    chosen[page.url] = page
        result.listed = list(chosen)
        asks = [
            _one(net, settings, page, known.get(page.url), now, result) for page in chosen.values()
        ]
        await asyncio.gather(*asks)
    result.pages.sort(key=lambda page: page.key)
    return result


async def _one(
    net: Net,
    settings: Settings,
    page: Listed,
    prior: WebPageState | None,
    now: dt.datetime,
    result: WebCollection,
) -> None:
    stored = prior is not None and prior.stored
    sha256 = None if prior is None else prior.sha256
    state = WebPageState(page.url, page.source.url, None, None, page.lastmod, stored, sha256)
    if stored and prior is not None and page.lastmod and prior.lastmod == page.lastmod:
        result.unchanged.append(
            dataclasses.replace(state, etag=prior.etag, last_modified=prior.last_modified)
        )
        return
    if page.body is not None:
        _take(settings, page, state, page.body, None, now, result)
        return
    validators = Validators(prior.etag, prior.last_modified) if stored and prior else Validators()
    result.requests += 1
    try:
        answer = await get(
            net, page.url, limit=settings.sources.max_size, headers=validators.headers()
        )
    except WebSourceError as err:
        result.failed.append((page.url, err.reason))
        return
    etag = answer.headers.get("ETag")
    modified = answer.headers.get("Last-Modified")
    if answer.status == 304 and prior is not None:
        result.unchanged.append(
            dataclasses.replace(
                state, etag=etag or prior.etag, last_modified=modified or prior.last_modified
            )
        )
        return
    state = dataclasses.replace(state, etag=etag, last_modified=modified)
    _take(settings, page, state, answer.body, modified, now, result)


def _take(
    settings: Settings,
    page: Listed,
    state: WebPageState,
    data: bytes,
    modified: str | None,
    now: dt.datetime,
    result: WebCollection,
) -> None:
    try:
        file = keep_body(settings.state.dir, page.url, data)
    except OSError as err:
        result.failed.append((page.url, f"cannot keep its body: {err.strerror or err}"))
        return
    result.pages.append(
        WebPage(
            key=page.url,
            file=file,
            data=data,
            state=state,
            title=page.title,
            published=page.published,
            mtime=_last_resort(modified, page.lastmod, now),
            selector=selector_for(page.url, page.source, settings.sources),
            fragment=page.body is not None,
        )
    )


def _last_resort(modified: str | None, lastmod: str | None, now: dt.datetime) -> float:
    """When a page says nothing of its date: its Last-Modified, its listed date, or now."""
    if modified:
        try:
            return email.utils.parsedate_to_datetime(modified).timestamp()
        except (TypeError, ValueError):
            pass
    if lastmod:
        day = parse_date_text(lastmod)
        if day is not None:
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
    return now.timestamp()


def body_path(settings: Settings, key: str) -> Path:
    return body_file(settings.state.dir, key)


__all__: Sequence[str] = ("WebCollection", "WebPage", "collect_pages")
