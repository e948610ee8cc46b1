"""Look-ups in any archive that speaks Memento (RFC 7089): TimeMaps, TimeGates, CDX.

One `MementoArchive` per entry of the look-up list (`archive.archives`), each
with a session of its own: its own concurrency and deadline, and the guard
trusting that archive's endpoints only (host and port), so a memento URL or a
redirect elsewhere is vetted like any other request.

* `snapshots` reads the TimeMap (`timemap` + URL, link format), every page
  of it, or the CDX API where the entry names one (the Internet Archive's:
  it gives each capture's HTTP status, so captured errors are known
  before any replay). A TimeMap gives no status: its captures are judged by
  replaying them, as every candidate is.
* `lookup` asks the TimeGate (`timegate` + URL) with `Accept-Datetime`,
  and reads the memento's time from the `Link` header of the redirect, or
  from `Memento-Datetime` when the TimeGate answers with the memento itself.

An answer that says the archive as a whole is failing (5xx, no answer in
time) raises `ArchiveDown`, so the run rests that archive instead of asking
it again for every URL; a refused connection raises `ArchiveUnreachable`.
A TimeMap's 404 means "no captures", as RFC 7089 says.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from linkwatch.archive.archives import ArchiveSpec
from linkwatch.archive.backends.client import (
    ArchiveClient,
    ClientBacked,
    answer_reason,
    json_body,
    memento_datetime,
    retry_after,
)
from linkwatch.archive.captures import from_wayback_timestamp
from linkwatch.archive.timemap import parse_http_date, parse_link_format, read_timemap
from linkwatch.errors import ArchiveDown, ArchiveError, ArchiveRateLimited
from linkwatch.model import Snapshot
from linkwatch.net.response import HttpResponse
from linkwatch.net.session import NetOptions, endpoint_of

__all__ = ["MAX_PAGES", "MementoArchive"]

MAX_PAGES = 50  # TimeMap pages read per look-up: a page is often 10,000 captures
_LINK_FORMAT = "application/link-format"
_CDX_FIELDS = "timestamp,original,statuscode"


class MementoArchive(ClientBacked):
    """Look-ups in one archive of the list. It saves nothing: saves go to the backend."""

    def __init__(self, spec: ArchiveSpec, options: NetOptions) -> None:
        self.spec = spec
        self.name = spec.id
        options = dataclasses.replace(
            options,
            timeout=spec.timeout,
            read_timeout=spec.timeout,
            concurrency=spec.concurrency,
            per_host=spec.concurrency,
            trusted=options.trusted | {endpoint_of(url) for url in spec.endpoints},
        )
        self._client = ArchiveClient(options, spec.timemap)

    def __repr__(self) -> str:
        return f"MementoArchive({self.spec.id!r})"

    async def snapshots(self, url: str) -> list[Snapshot]:
        """Every capture the archive lists, oldest first; [] when it has none."""
        if self.spec.cdx:
            return await self._cdx(url)
        return await self._timemap(url)

    async def _timemap(self, url: str) -> list[Snapshot]:
        pages = [self.spec.timemap + url]
        seen: set[str] = set()
        found: dict[str, Snapshot] = {}
        while pages and len(seen) < MAX_PAGES:
            page = pages.pop(0)
            if page in seen:
                continue
            seen.add(page)
            answer = await self._client.request("GET", page, headers={"Accept": _LINK_FORMAT})
            if answer.status == 404:
                continue  # RFC 7089: no mementos of this URL (on this page)
            self._raise_for(answer, "TimeMap")
            timemap = read_timemap(answer.body.decode("utf-8", "replace"), answer.url)
            for memento, moment in timemap.mementos:
                found.setdefault(memento, Snapshot(memento, moment, None, self.name))
            pages.extend(timemap.next_pages)
        return sorted(found.values(), key=lambda snapshot: snapshot.timestamp)

    async def _cdx(self, url: str) -> list[Snapshot]:
        assert self.spec.cdx is not None
        params = {"url": url, "output": "json", "fl": _CDX_FIELDS, "filter": "statuscode:[23].."}
        answer = await self._client.request("GET", self.spec.cdx, params=params)
        self._raise_for(answer, "CDX API")
        snapshots: list[Snapshot] = []
        for row in _cdx_rows(json_body(answer)):
            stamp, original, status = (
                row.get(key, "") for key in ("timestamp", "original", "statuscode")
            )
            try:
                moment = from_wayback_timestamp(stamp)
            except ValueError:
                continue
            if original:
                snapshots.append(
                    Snapshot(
                        f"{self.spec.timegate}{stamp}/{original}",
                        moment,
                        int(status) if status.isdigit() else None,
                        self.name,
                    )
                )
        return sorted(snapshots, key=lambda snapshot: snapshot.timestamp)

    async def lookup(self, url: str, around: dt.datetime) -> Snapshot | None:
        """The memento the TimeGate gives for `around` (the archive's nearest), or None."""
        accept = email.utils.format_datetime(around.astimezone(dt.UTC), usegmt=True)
        answer = await self._client.request(
            "GET", self.spec.timegate + url, headers={"Accept-Datetime": accept}
        )
        if answer.status == 404:
            return None
        if answer.status in (200, 203) and (moment := memento_datetime(answer)) is not None:
            where = answer.headers.get("Content-Location") or answer.url
            return Snapshot(urljoin(answer.url, where), moment, answer.status, self.name)
        if answer.status in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
            memento = urljoin(answer.url, answer.headers["Location"])
            moment = _linked_datetime(answer, memento)
            if moment is None:
                head = await self._client.request("HEAD", memento)
                moment = memento_datetime(head)
            return None if moment is None else Snapshot(memento, moment, None, self.name)
        self._raise_for(answer, "TimeGate")
        return None

    def _raise_for(self, answer: HttpResponse, api: str) -> None:
        """Nothing for a 200; else the error that says whose fault it is."""
        if answer.status == 200:
            return
        what = f"{self.spec.name} {api}: {answer_reason(answer)}"
        if answer.status == 429:
            raise ArchiveRateLimited(what, retry_after(answer))
        if answer.status >= 500:
            raise ArchiveDown(what)
        raise ArchiveError(what)


def _linked_datetime(answer: HttpResponse, memento: str) -> dt.datetime | None:
    """The memento's time as the TimeGate's `Link` header gives it (RFC 7089 4.1.1)."""
    for link in parse_link_format(answer.headers.get("Link", "")):
        if "memento" in link.rels and urljoin(answer.url, link.uri) == memento:
            return parse_http_date(link.attributes.get("datetime"))
    return None


def _cdx_rows(data: Any) -> list[Mapping[str, str]]:
    """The CDX JSON answer (a header row, then a row per capture) as mappings."""
    if not isinstance(data, list) or not data or not isinstance(data[0], list):
        return []
    header, *rows = data
    return [dict(zip(header, row, strict=False)) for row in rows if isinstance(row, list)]
