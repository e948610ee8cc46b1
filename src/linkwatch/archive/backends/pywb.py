"""A self-hosted pywb collection, for pages the Internet Archive will not keep.

pywb runs as its own process (`wayback --record --live -a`): it patches the
standard library with gevent when imported, so linkwatch only ever talks to
it over HTTP. What it offers, and how it differs from the Wayback Machine:

* a capture is made by fetching `/<coll>/record/id_/<url>`; pywb fetches
  the live page, stores it and answers with it, the capture's timestamp in
  `Content-Location`. It captures whatever the page answers (a 404 too),
  and answers 400 when it cannot fetch the page at all;
* its index picks up a capture a moment later (`--auto-interval`), so a
  new capture is verified by polling the CDX API until it shows up;
* its CDX API answers newline-delimited JSON objects (`timestamp`, `url`,
  `status`, `mime`), not the Wayback Machine's array of arrays; filtering
  by status is done here. It has no availability API and no rate limit,
  but the save queue keeps its pace all the same.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Mapping
from dataclasses import replace

from linkwatch.archive.backends.client import (
    ArchiveClient,
    ClientBacked,
    answer_reason,
)
from linkwatch.archive.captures import from_wayback_timestamp, is_good_capture_status
from linkwatch.archive.choose import closest
from linkwatch.archive.protocol import SaveOptions, SaveOutcome, SaveQuota
from linkwatch.errors import ArchiveError, ArchiveSilent, ArchiveUnreachable
from linkwatch.model import Snapshot
from linkwatch.net.session import NetOptions

__all__ = ["Pywb"]

_CAPTURE_PATH = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")
POLL_INTERVAL = 0.25  # seconds between index polls after a capture


def _cdx_objects(body: bytes) -> list[dict[str, str]]:
    rows = []
    for line in body.decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            raise ArchiveError(f"pywb CDX: not JSON lines: {line[:80]!r}") from err
        if isinstance(row, dict):
            rows.append({str(k): str(v) for k, v in row.items()})
    return rows


class Pywb(ClientBacked):
    """Look-ups, captures and replays in one collection of a pywb server."""

    name = "pywb"

    def __init__(
        self,
        base_url: str,
        collection: str,
        options: NetOptions,
        *,
        save_timeout: float = 60.0,
        index_wait: float = 15.0,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.collection = collection
        self.collection_url = f"{self.base}/{collection}"
        self._client = ArchiveClient(options, self.base)
        self._save_timeout = save_timeout
        self._index_wait = index_wait

    def __repr__(self) -> str:
        return f"Pywb({self.collection_url!r})"

    def archive_url(self, timestamp: str, original: str) -> str:
        return f"{self.collection_url}/{timestamp}/{original}"

    async def check_reachable(self) -> None:
        try:  # the collection's own page: its CDX API answers even for unknown collections
            answer = await self._client.request("GET", f"{self.collection_url}/")
        except ArchiveUnreachable:
            raise
        except ArchiveError as err:
            raise ArchiveUnreachable(str(err)) from None
        if answer.status >= 500:  # down, not misconfigured
            raise ArchiveUnreachable(f"{self.base} answers {answer_reason(answer)}")
        if answer.status != 200:
            raise ArchiveError(
                f"{self.base} has no pywb collection {self.collection!r} "
                f"({answer_reason(answer)}); create it with `wb-manager init {self.collection}`"
            )

    async def _captures(self, url: str, extra: Mapping[str, str] | None = None) -> list[Snapshot]:
        """Every capture of `url`, error captures included, oldest first."""
        answer = await self._client.request(
            "GET",
            f"{self.collection_url}/cdx",
            params={"url": url, "output": "json", **(extra or {})},
        )
        if answer.status != 200:
            raise ArchiveError(f"pywb CDX: {answer_reason(answer)}")
        snapshots = []
        for row in _cdx_objects(answer.body):
            try:
                moment = from_wayback_timestamp(row.get("timestamp", ""))
            except ValueError:
                continue
            status = row.get("status", "")
            snapshots.append(
                Snapshot(
                    archive_url=self.archive_url(row["timestamp"], row.get("url") or url),
                    timestamp=moment,
                    status=int(status) if status.isdigit() else None,
                    source=self.name,
                )
            )
        return sorted(snapshots, key=lambda snapshot: snapshot.timestamp)

    async def snapshots(self, url: str) -> list[Snapshot]:
        return [s for s in await self._captures(url) if is_good_capture_status(s.status)]

    async def lookup(self, url: str, around: dt.datetime) -> Snapshot | None:
        return closest(await self.snapshots(url), around)

    async def quota(self) -> SaveQuota | None:
        return None  # our own server: no quota but the pace

    async def save(self, url: str, options: SaveOptions | None = None) -> SaveOutcome:
        try:
            answer = await self._client.request(
                "GET", f"{self.collection_url}/record/id_/{url}", timeout=self._save_timeout
            )
        except (ArchiveUnreachable, ArchiveSilent):
            raise  # no answer at all: the run stops, the attempt is settled next time
        except ArchiveError as err:
            return SaveOutcome.failed(str(err))
        match = _CAPTURE_PATH.search(answer.headers.get("Content-Location", ""))
        if match is None:
            return SaveOutcome.failed(f"pywb could not capture the page ({answer_reason(answer)})")
        stamp = match.group(1)
        snapshot = Snapshot(
            self.archive_url(stamp, url), from_wayback_timestamp(stamp), answer.status, self.name
        )
        return SaveOutcome.captured(snapshot)

    async def verify(self, snapshot: Snapshot) -> Snapshot | None:
        """Poll the index until the capture shows up: pywb indexes new captures a moment later."""
        deadline = time.monotonic() + self._index_wait
        stamp = f"{snapshot.timestamp:%Y%m%d%H%M%S}"
        original = snapshot.archive_url.split(f"/{stamp}/", 1)[-1]
        while True:
            for capture in await self._captures(original, {"closest": stamp, "sort": "closest"}):
                if capture.timestamp == snapshot.timestamp:
                    return replace(snapshot, status=capture.status)
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_INTERVAL)
