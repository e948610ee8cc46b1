"""Perma.cc: citation archiving run by the Harvard Law School Library, through its API.

Perma.cc keeps what courts and journals cite, and stays up when the Internet
Archive does not (October 2024), so it is a second home for a citation. Its
REST API (`https://api.perma.cc/v1/`, documented at perma.cc/docs/developer):

* `POST /v1/archives/` with `{"url": ..., "folder": ...}` and
  `Authorization: ApiKey <key>` makes a Perma Link: `201` with the link
  (`guid`, `creation_timestamp`, `captures` whose `primary` one is
  `pending` until the capture worker is done). A refusal is a `400` with the
  reasons by field (`{"url": ["Couldn't load URL."]}`, or
  `{"error": ["Perma can't create this link. You've reached your usage
  limit. ..."]}` when the account's links are used up);
* `GET /v1/archives/<guid>/` tells how the capture went (`success`,
  `failed`), which is how a save is verified;
* `GET /v1/archives/?url=<url>` lists the key owner's links of a URL: the
  look before a save, so that a kill mid-save never makes a second link;
* `GET /v1/user/` answers for a valid key: the reachability check.

A Perma Link is read at `https://perma.cc/<guid>` (`archive.perma_url`).
The key comes from `LINKWATCH_PERMA_API_KEY` only and is registered with
the redaction, so an answer that echoes it never reaches the store or a log.
Links are limited per account (a month's allowance), so a used-up allowance
is a rate limit, never a refusal of the page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from linkwatch.archive.backends.client import (
    ArchiveClient,
    ClientBacked,
    answer_reason,
    json_body,
    retry_after,
)
from linkwatch.archive.choose import closest
from linkwatch.archive.protocol import SaveOptions, SaveOutcome, SaveQuota
from linkwatch.errors import ArchiveError, ArchiveSilent, ArchiveUnreachable
from linkwatch.model import Snapshot
from linkwatch.net.session import NetOptions
from linkwatch.redact import redact, register

__all__ = ["PERMA_KEY_ENV", "PermaCC", "PermaKey"]

PERMA_KEY_ENV = "LINKWATCH_PERMA_API_KEY"
USED_UP_WAIT = 6 * 3600.0  # seconds: the allowance comes back with the month, or a new plan
_USED_UP = re.compile(r"usage limit|links? (?:left|remaining)|needs attention", re.I)
_LIST_LIMIT = 100  # links of one URL per look; a citation never has that many


class PermaKey:
    """The Perma.cc API key; it lives here only, never printed, logged or stored."""

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        self._key = key
        register(key, f"ApiKey {key}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> PermaKey:
        key = environ.get(PERMA_KEY_ENV, "").strip()
        if not key:
            raise ArchiveError(
                f'{PERMA_KEY_ENV} is not set: archive.save_to lists "perma", whose API '
                "needs a key (perma.cc/settings/tools)"
            )
        return cls(key)

    def authorization(self) -> str:
        return f"ApiKey {self._key}"

    def __repr__(self) -> str:
        return "PermaKey(<hidden>)"

    __str__ = __repr__


def _moment(text: object) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _primary_status(link: Mapping[str, Any]) -> str:
    """`pending`, `success` or `failed`: how the capture of the page itself went."""
    for capture in link.get("captures") or []:
        if isinstance(capture, dict) and capture.get("role") == "primary":
            return str(capture.get("status") or "pending")
    return "pending"


def _errors(data: Any) -> str:
    """DRF's errors by field, as one line: `url: Couldn't load URL.`"""
    if isinstance(data, dict):
        parts = []
        for name, value in data.items():
            items = value if isinstance(value, list) else [value]
            text = " ".join(str(item) for item in items)
            parts.append(
                text if name in ("error", "detail", "non_field_errors") else f"{name}: {text}"
            )
        return redact(" ".join(" ".join(parts).split()))[:200]
    return redact(str(data))[:200]


class PermaCC(ClientBacked):
    """Perma Links made, looked for and verified through the Perma.cc API."""

    name = "perma"

    def __init__(
        self,
        api_url: str,
        links_url: str,
        key: PermaKey,
        options: NetOptions,
        *,
        folder: int = 0,
        save_timeout: float = 120.0,
        poll_interval: float = 3.0,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.links_url = links_url.rstrip("/")
        self._client = ArchiveClient(options, self.base)
        self._key = key
        self._folder = folder
        self._save_timeout = save_timeout
        self._poll_interval = poll_interval

    def __repr__(self) -> str:
        return f"PermaCC({self.base!r})"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._key.authorization(), "Accept": "application/json"}

    def link_url(self, guid: str) -> str:
        return f"{self.links_url}/{guid}"

    async def check_reachable(self) -> None:
        try:
            answer = await self._client.request(
                "GET", f"{self.base}/v1/user/", headers=self._headers()
            )
        except ArchiveUnreachable:
            raise
        except ArchiveError as err:  # a timeout: there, but not answering
            raise ArchiveUnreachable(str(err)) from None
        if answer.status >= 500 or answer.status == 429:
            raise ArchiveUnreachable(f"{self.base} answers {answer_reason(answer)}")
        if answer.status in (401, 403):
            raise ArchiveError(
                f"Perma.cc refused the API key ({answer_reason(answer)}): check {PERMA_KEY_ENV}"
            )
        if answer.status != 200:
            raise ArchiveError(
                f"{self.base} does not answer like Perma.cc's API ({answer_reason(answer)})"
            )

    def _snapshot(self, link: Mapping[str, Any]) -> Snapshot | None:
        guid = link.get("guid")
        moment = _moment(link.get("creation_timestamp"))
        if not guid or moment is None or _primary_status(link) != "success":
            return None
        return Snapshot(self.link_url(str(guid)), moment.astimezone(dt.UTC), 200, self.name)

    async def snapshots(self, url: str) -> list[Snapshot]:
        """The key owner's Perma Links of `url` whose capture succeeded, oldest first."""
        answer = await self._client.request(
            "GET",
            f"{self.base}/v1/archives/",
            params={"url": url, "limit": str(_LIST_LIMIT)},
            headers=self._headers(),
        )
        if answer.status != 200:
            raise ArchiveError(f"Perma.cc archives: {answer_reason(answer)}")
        data = json_body(answer)
        objects = data.get("objects") if isinstance(data, dict) else None
        found = [self._snapshot(link) for link in objects or [] if isinstance(link, dict)]
        return sorted((s for s in found if s is not None), key=lambda s: s.timestamp)

    async def lookup(self, url: str, around: dt.datetime) -> Snapshot | None:
        return closest(await self.snapshots(url), around)

    async def quota(self) -> SaveQuota | None:
        return None  # the API does not say what is left; a used-up allowance answers 400

    async def save(self, url: str, options: SaveOptions | None = None) -> SaveOutcome:
        body: dict[str, Any] = {"url": url}
        if self._folder:
            body["folder"] = self._folder
        try:
            answer = await self._client.request(
                "POST",
                f"{self.base}/v1/archives/",
                data=json.dumps(body).encode(),
                headers={**self._headers(), "Content-Type": "application/json"},
            )
        except (ArchiveUnreachable, ArchiveSilent):
            raise  # no answer at all: the run stops, the attempt is settled next time
        except ArchiveError as err:
            return SaveOutcome.failed(str(err))
        if answer.status == 429:
            return SaveOutcome.rate_limited(retry_after(answer), answer_reason(answer))
        if answer.status != 201:
            return self._refusal(answer)
        link = json_body(answer)
        if not isinstance(link, dict) or not link.get("guid"):
            return SaveOutcome.failed(f"Perma.cc: unexpected answer {str(link)[:80]}")
        return await self._poll(str(link["guid"]))

    def _refusal(self, answer: Any) -> SaveOutcome:
        try:
            reason = f"HTTP {answer.status}: {_errors(json_body(answer))}"
        except ArchiveError:
            reason = answer_reason(answer)
        if answer.status == 400 and _USED_UP.search(reason):
            return SaveOutcome.rate_limited(USED_UP_WAIT, reason)
        # A page Perma.cc cannot load today (400 on `url`) may load tomorrow: not final.
        return SaveOutcome.failed(reason, retry_after(answer))

    async def _link(self, guid: str) -> dict[str, Any] | None:
        answer = await self._client.request(
            "GET", f"{self.base}/v1/archives/{guid}/", headers=self._headers()
        )
        if answer.status != 200:
            return None
        data = json_body(answer)
        return data if isinstance(data, dict) else None

    async def _poll(self, guid: str) -> SaveOutcome:
        deadline = time.monotonic() + self._save_timeout
        delay = 1.0
        while True:
            link = await self._link(guid)
            status = _primary_status(link) if link is not None else "pending"
            if link is not None and status == "success":
                snapshot = self._snapshot(link)
                if snapshot is not None:
                    return SaveOutcome.captured(snapshot)
            if status == "failed":
                return SaveOutcome.failed(f"Perma.cc could not capture the page (link {guid})")
            if time.monotonic() >= deadline:
                return SaveOutcome.failed(
                    f"Perma.cc capture {guid} still pending after {self._save_timeout:g}s"
                )
            await asyncio.sleep(min(delay, self._poll_interval))
            delay *= 2

    async def verify(self, snapshot: Snapshot) -> Snapshot | None:
        """The link's capture as Perma.cc reports it now: there only when it succeeded."""
        guid = snapshot.archive_url.rsplit("/", 1)[-1]
        link = await self._link(guid)
        if link is None or _primary_status(link) != "success":
            return None
        return replace(snapshot, status=200)
