"""The report the daemon serves at `/`: rendered once per change of the store, shared.

Rendering the HTML report of a large site takes seconds and tens of
megabytes; doing it for every request let a handful of clients multiply the
daemon's memory. So the page is rendered in a thread when the store has
changed since the last rendering (SQLite's `data_version`, which moves with
every commit of another connection: the scan, check, archive and rewrite
jobs) or when it is older than `MAX_AGE` (its "generated" line and its
relative dates age). Requests that arrive while it renders wait for that one
rendering; only the newest page is kept, with its gzip-compressed form (made when a
client first asks for gzip) and an
ETag (a hash of its bytes), so memory holds one page whatever the number of
clients, and a client that has the page gets 304.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
import time
from collections.abc import Awaitable, Callable, Hashable

MAX_AGE = 300.0  # seconds a rendering is served for when the store did not change
_GZIP_LEVEL = 6


class Page:
    """One rendering: its bytes, its ETag and media type, and its gzip form, compressed
    the first time a client that accepts gzip asks (in a thread), not before: the JSON
    report of 100,000 URLs is 76 MB, whose compression would delay every first answer."""

    __slots__ = ("_gzipped", "_lock", "body", "content_type", "etag")

    def __init__(self, body: bytes, etag: str, content_type: str = "text/html") -> None:
        self.body = body
        self.etag = etag  # quoted, as the header carries it
        self.content_type = content_type
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        """The body gzip-compressed, once (callers run it in a thread)."""
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.body, _GZIP_LEVEL, mtime=0)
            return self._gzipped


def make_page(text: str | bytes, content_type: str = "text/html") -> Page:
    """A rendering (HTML as text, or the API's JSON as the bytes orjson wrote) as a Page."""
    body = text.encode("utf-8") if isinstance(text, str) else text
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    return Page(body, f'"{digest}"', content_type)


class ReportPage:
    """The newest rendering, renewed when `version()` changes or it has aged.

    `render` runs in a thread (through `run_in_thread`) and returns the HTML (or the
    API's JSON bytes, with `content_type`); `version` is cheap and called on the loop.
    """

    def __init__(
        self,
        render: Callable[[], str | bytes],
        version: Callable[[], object],
        run_in_thread: Callable[[Callable[[], Page]], Awaitable[Page]],
        *,
        max_age: float = MAX_AGE,
        monotonic: Callable[[], float] = time.monotonic,
        content_type: str = "text/html",
    ) -> None:
        self._render = render
        self._content_type = content_type
        self._version = version
        self._run_in_thread = run_in_thread
        self._max_age = max_age
        self._monotonic = monotonic
        self._page: Page | None = None
        self._page_key: tuple[object, float] | None = None  # (version, rendered at)
        self._pending: asyncio.Task[Page] | None = None
        self._pending_version: object = None
        self.renderings = 0  # how many times the report was rendered (for tests, metrics)

    async def page(self) -> Page:
        version = self._version()
        key = self._page_key
        if (
            self._page is not None
            and key is not None
            and key[0] == version
            and self._monotonic() - key[1] < self._max_age
        ):
            return self._page
        if self._pending is None or self._pending_version != version:
            self._pending_version = version
            self._pending = asyncio.create_task(self._renew(version))
        # shield: one client hanging up must not cancel the rendering others wait for
        return await asyncio.shield(self._pending)

    async def _renew(self, version: object) -> Page:
        started = self._monotonic()
        try:
            page = await self._run_in_thread(lambda: make_page(self._render(), self._content_type))
        finally:
            if self._pending_version == version:
                self._pending = None
        self.renderings += 1
        if self._page_key is None or started >= self._page_key[1]:
            self._page, self._page_key = page, (version, started)
        return page


class Pages:
    """A `ReportPage` per query (the filtered `/`, each API resource and its filters),
    the `MAX_PAGES` asked for last: each is rendered once per change of the store and
    shared by every client asking the same, as `/` alone was."""

    MAX_PAGES = 8

    def __init__(
        self,
        version: Callable[[], object],
        run_in_thread: Callable[[Callable[[], Page]], Awaitable[Page]],
        *,
        max_age: float = MAX_AGE,
    ) -> None:
        self._version = version
        self._run_in_thread = run_in_thread
        self._max_age = max_age
        self._pages: dict[Hashable, ReportPage] = {}

    def get(
        self, key: Hashable, render: Callable[[], str | bytes], content_type: str
    ) -> ReportPage:
        page = self._pages.pop(key, None)
        if page is None:
            page = ReportPage(
                render,
                self._version,
                self._run_in_thread,
                max_age=self._max_age,
                content_type=content_type,
            )
        self._pages[key] = page  # the newest last
        while len(self._pages) > self.MAX_PAGES:
            del self._pages[next(iter(self._pages))]
        return page

    @property
    def renderings(self) -> int:
        return sum(page.renderings for page in self._pages.values())
