"""The Internet Archive's Wayback Machine, or anything speaking its APIs.

Every URL is built from the configured base (`archive.wayback_url`), never
from a host written here, so a mirror or a test server can stand in.

All four APIs go through aiohttp (`client.py`), none through waybackpy:

* look-ups use the CDX API: concurrent, each under a deadline, answers
  parsed from JSON. waybackpy's CDX client is synchronous `requests` code
  with no timeout and no way to pass a session that has one, it parses the
  space-separated format only, and builds archive URLs on web.archive.org
  whatever its endpoint;
* the availability API answers the reachability check (waybackpy's sleeps
  5 s before every call);
* saves use Save Page Now 1 (`GET /save/<url>`) without keys, and Save Page
  Now 2 (`POST /save`, then `GET /save/status/<job>`) with keys from the
  environment. waybackpy's save client knows only the first, builds its
  request on web.archive.org, finds the capture only in URLs on
  web.archive.org (so against any other base it never finds one), has no
  timeout, and sleeps 5-10 s between its own retries, which would fight the
  queue's pacing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

from linkwatch.archive.backends.client import (
    ArchiveClient,
    ClientBacked,
    answer_reason,
    json_body,
    memento_datetime,
    retry_after,
)
from linkwatch.archive.captures import (
    from_wayback_timestamp,
    original_of,
    raw_replay_url,
    wayback_timestamp,
)
from linkwatch.archive.protocol import SaveOptions, SaveOutcome, SaveQuota
from linkwatch.errors import (
    ArchiveDown,
    ArchiveError,
    ArchiveRateLimited,
    ArchiveSilent,
    ArchiveUnreachable,
)
from linkwatch.model import Snapshot
from linkwatch.net.response import HttpResponse
from linkwatch.net.session import NetOptions
from linkwatch.redact import redact, register

__all__ = ["ACCESS_KEY_ENV", "SECRET_KEY_ENV", "SaveKeys", "WaybackMachine"]

ACCESS_KEY_ENV = "LINKWATCH_WAYBACK_ACCESS_KEY"
SECRET_KEY_ENV = "LINKWATCH_WAYBACK_SECRET_KEY"

CDX_FIELDS = "timestamp,original,statuscode,mimetype"
GOOD_STATUS_FILTER = "statuscode:[23].."
MAX_CAPTURES = 10_000  # per look-up; a cited page rarely has more, a front page may
FRESH_SLACK = 120.0  # seconds: a capture older than the save request by more is a cached one
REPLAY_HOPS = 3

_CAPTURE_PATH = re.compile(r"/web/(\d{14})(?:[a-z]{2}_)?/")
_REFUSAL = re.compile(r"exclud|robots\.txt|blocked site|cannot be archived|not be archived", re.I)
_SPN2_REFUSED = frozenset(
    {
        "error:blocked-url",
        "error:robots",
        "error:no-access",
        "error:invalid-url-syntax",
        "error:method-not-allowed",
        "error:filesize-limit",
        "error:ftp-access-denied",
    }
)
_SPN2_SLOW_DOWN = frozenset(
    {"error:too-many-daily-captures", "error:user-session-limit", "error:too-many-requests"}
)


class SaveKeys:
    """Save Page Now 2 keys. They live here only: never printed, logged or stored."""

    __slots__ = ("_access", "_secret")

    def __init__(self, access: str, secret: str) -> None:
        self._access = access
        self._secret = secret
        # An archive may echo the Authorization header back: hide the keys in every form.
        register(access, secret, f"{access}:{secret}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SaveKeys | None:
        """The keys from the environment, None when neither is set; both or neither."""
        access = environ.get(ACCESS_KEY_ENV, "").strip()
        secret = environ.get(SECRET_KEY_ENV, "").strip()
        if not access and not secret:
            return None
        if not access or not secret:
            missing = ACCESS_KEY_ENV if not access else SECRET_KEY_ENV
            raise ArchiveError(f"{missing} is not set: set both Save Page Now keys, or neither")
        return cls(access, secret)

    def authorization(self) -> str:
        return f"LOW {self._access}:{self._secret}"

    def __repr__(self) -> str:
        return "SaveKeys(<hidden>)"

    __str__ = __repr__


def _cdx_rows(data: Any) -> list[dict[str, str]]:
    """The CDX JSON answer (a header row, then one row per capture) as dicts."""
    if not isinstance(data, list) or not data:
        return []
    header, *rows = data
    if not isinstance(header, list):
        raise ArchiveError(f"unexpected CDX answer: {str(data)[:80]}")
    return [dict(zip(header, row, strict=False)) for row in rows if isinstance(row, list)]


def _status(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


class WaybackMachine(ClientBacked):
    """Look-ups, saves and replays against one Wayback Machine base URL."""

    name = "wayback"

    def __init__(
        self,
        base_url: str,
        options: NetOptions,
        *,
        keys: SaveKeys | None = None,
        save_timeout: float = 120.0,
        poll_interval: float = 3.0,
        verify_wait: float = 10.0,
        if_not_archived_within: dt.timedelta = dt.timedelta(0),
    ) -> None:
        self.base = base_url.rstrip("/")
        self._client = ArchiveClient(options, self.base)
        self._keys = keys
        self._if_not_archived_within = if_not_archived_within
        self._save_timeout = save_timeout
        self._poll_interval = poll_interval
        self._verify_wait = verify_wait

    def __repr__(self) -> str:
        return f"WaybackMachine({self.base!r}, spn2={self._keys is not None})"

    def archive_url(self, timestamp: str, original: str) -> str:
        return f"{self.base}/web/{timestamp}/{original}"

    # look-ups ---------------------------------------------------------------

    async def check_reachable(self) -> None:
        try:
            answer = await self._client.request(
                "GET", f"{self.base}/wayback/available", params={"url": "example.com"}
            )
        except ArchiveUnreachable:
            raise
        except ArchiveError as err:  # a timeout: the archive is there but does not answer
            raise ArchiveUnreachable(str(err)) from None
        if answer.status == 429:
            return  # busy, but there
        if answer.status >= 500:  # down for now (the Internet Archive's 503s): not misconfigured
            raise ArchiveUnreachable(f"{self.base}: {answer_reason(answer)}")
        try:
            data = json_body(answer) if answer.status == 200 else None
        except ArchiveError:
            data = None
        if not isinstance(data, dict) or "archived_snapshots" not in data:
            raise ArchiveError(
                f"{self.base} does not answer like a Wayback Machine "
                f"(availability API: {answer_reason(answer)})"
            )

    async def snapshots(self, url: str) -> list[Snapshot]:
        return await self._cdx(url, {"limit": str(MAX_CAPTURES)})

    async def lookup(self, url: str, around: dt.datetime) -> Snapshot | None:
        stamp = wayback_timestamp(around)
        nearest = {"sort": "closest", "closest": stamp, "limit": "1"}
        before = await self._cdx(url, {**nearest, "to": stamp})
        if before:
            return before[0]
        after = await self._cdx(url, {**nearest, "from": stamp})
        return after[0] if after else None

    async def _cdx(self, url: str, extra: Mapping[str, str]) -> list[Snapshot]:
        params = {"url": url, "output": "json", "fl": CDX_FIELDS, "filter": GOOD_STATUS_FILTER}
        answer = await self._client.request(
            "GET", f"{self.base}/cdx/search/cdx", params={**params, **extra}
        )
        if answer.status == 429:
            raise ArchiveRateLimited("CDX API: HTTP 429", retry_after(answer))
        if answer.status >= 500:
            raise ArchiveDown(f"CDX API: {answer_reason(answer)}")
        if answer.status != 200:
            raise ArchiveError(f"CDX API: {answer_reason(answer, _REFUSAL)}")
        snapshots = [self._snapshot(row) for row in _cdx_rows(json_body(answer))]
        return sorted(
            (s for s in snapshots if s is not None), key=lambda snapshot: snapshot.timestamp
        )

    def _snapshot(self, row: Mapping[str, str]) -> Snapshot | None:
        stamp, original = row.get("timestamp", ""), row.get("original", "")
        try:
            moment = from_wayback_timestamp(stamp)
        except ValueError:
            return None
        if not original:
            return None
        return Snapshot(
            archive_url=self.archive_url(stamp, original),
            timestamp=moment,
            status=_status(row.get("statuscode")),
            source=self.name,
        )

    # saves ------------------------------------------------------------------

    async def save(self, url: str, options: SaveOptions | None = None) -> SaveOutcome:
        started = dt.datetime.now(dt.UTC)
        try:
            if self._keys is not None:
                return await self._save_spn2(url, self._keys, started, options or SaveOptions())
            return await self._save_spn1(url, started)
        except (ArchiveUnreachable, ArchiveSilent):
            raise  # no answer at all: the run stops, the attempt is settled next time
        except ArchiveError as err:
            return SaveOutcome.failed(str(err))

    async def _save_spn1(self, url: str, started: dt.datetime) -> SaveOutcome:
        answer = await self._client.request(
            "GET", f"{self.base}/save/{url}", timeout=self._save_timeout
        )
        location = answer.headers.get("Location") or answer.headers.get("Content-Location") or ""
        match = _CAPTURE_PATH.search(location)
        if answer.status < 400 and match is not None:
            return self._captured(match.group(1), original_of(location) or url, None, started)
        return self._refusal(answer)

    async def quota(self) -> SaveQuota | None:
        """Save Page Now 2's `GET /save/status/user`; None without keys (nothing to read).

        Anonymous saves have no quota to read: the pace alone keeps them under
        the limit. ArchiveError when the answer is not the documented object.
        """
        if self._keys is None:
            return None
        answer = await self._client.request(
            "GET",
            f"{self.base}/save/status/user",
            headers={"Authorization": self._keys.authorization(), "Accept": "application/json"},
        )
        data = json_body(answer) if answer.status == 200 else None
        if not isinstance(data, dict):
            raise ArchiveError(f"Save Page Now 2 user status: {answer_reason(answer)}")
        try:
            return SaveQuota(
                available=int(data["available"]),
                processing=int(data.get("processing") or 0),
                daily_captures=int(data["daily_captures"]),
                daily_captures_limit=int(data["daily_captures_limit"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ArchiveError(
                f"Save Page Now 2 user status: unexpected answer {str(data)[:80]}"
            ) from None

    def _spn2_form(self, url: str, options: SaveOptions) -> dict[str, str]:
        """The capture request: no outlinks (one page per citation), and the options that
        spare a capture (a recent one is kept) or a look (we already asked the CDX API)."""
        form = {"url": url, "capture_outlinks": "0"}
        within = int(self._if_not_archived_within.total_seconds())
        if within > 0:
            form["if_not_archived_within"] = str(within)  # seconds, as the API allows
        if options.looked_up:
            form["skip_first_archive"] = "1"
        return form

    async def _save_spn2(
        self, url: str, keys: SaveKeys, started: dt.datetime, options: SaveOptions
    ) -> SaveOutcome:
        headers = {"Authorization": keys.authorization(), "Accept": "application/json"}
        answer = await self._client.request(
            "POST", f"{self.base}/save", data=self._spn2_form(url, options), headers=headers
        )
        if answer.status != 200:
            return self._refusal(answer)
        job = json_body(answer)
        if not isinstance(job, dict):
            return SaveOutcome.failed(f"Save Page Now 2: unexpected answer {str(job)[:80]}")
        if "job_id" not in job:
            return _spn2_error(job)
        return await self._poll(str(job["job_id"]), url, headers, started)

    async def _poll(
        self, job_id: str, url: str, headers: Mapping[str, str], started: dt.datetime
    ) -> SaveOutcome:
        deadline = time.monotonic() + self._save_timeout
        for poll in itertools.count():
            if time.monotonic() >= deadline:
                break
            # 1 s, 2 s, then every poll_interval: a quick page is done in a second or two
            await asyncio.sleep(min(self._poll_interval, 2.0**poll))
            answer = await self._client.request(
                "GET", f"{self.base}/save/status/{job_id}", headers=headers
            )
            if answer.status == 429:
                continue  # status polls are limited too; the job goes on meanwhile
            state = json_body(answer) if answer.status == 200 else None
            if not isinstance(state, dict):
                return SaveOutcome.failed(f"Save Page Now 2 status: {answer_reason(answer)}")
            if state.get("status") == "success":
                original = str(state.get("original_url") or url)
                status = _status(str(state.get("http_status", "")))
                return self._captured(str(state.get("timestamp", "")), original, status, started)
            if state.get("status") != "pending":
                return _spn2_error(state)
        return SaveOutcome.failed(f"Save Page Now 2 job still pending after {self._save_timeout}s")

    def _captured(
        self, stamp: str, original: str, status: int | None, started: dt.datetime
    ) -> SaveOutcome:
        try:
            moment = from_wayback_timestamp(stamp)
        except ValueError:
            return SaveOutcome.failed(f"Save Page Now answered an unreadable timestamp {stamp!r}")
        snapshot = Snapshot(self.archive_url(stamp, original), moment, status, self.name)
        if (started - moment).total_seconds() > FRESH_SLACK:
            return SaveOutcome.fresh(snapshot)
        return SaveOutcome.captured(snapshot)

    @staticmethod
    def _refusal(answer: HttpResponse) -> SaveOutcome:
        reason = answer_reason(answer, _REFUSAL)
        if answer.status == 429:
            return SaveOutcome.rate_limited(retry_after(answer), reason)
        if _REFUSAL.search(reason) or answer.status in (403, 451):
            return SaveOutcome.refused(reason)
        return SaveOutcome.failed(reason, retry_after(answer))

    # replay -----------------------------------------------------------------

    async def verify(self, snapshot: Snapshot) -> Snapshot | None:
        deadline = time.monotonic() + self._verify_wait
        while True:
            found = await self._replayed(snapshot)
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(1.0)

    async def _replayed(self, snapshot: Snapshot) -> Snapshot | None:
        """HEAD the raw capture; it is there when the archive answers for that very second."""
        url = raw_replay_url(snapshot.archive_url)
        for _ in range(REPLAY_HOPS):
            answer = await self._client.request("HEAD", url)
            memento = memento_datetime(answer)
            if memento is not None:
                return (
                    replace(snapshot, status=answer.status)
                    if memento == snapshot.timestamp
                    else None
                )
            location = answer.headers.get("Location", "")
            match = _CAPTURE_PATH.search(location)
            if answer.status < 300:
                return replace(snapshot, status=answer.status)
            if answer.status >= 400 or match is None:
                return None
            if from_wayback_timestamp(match.group(1)) != snapshot.timestamp:
                return None  # the archive sent us to another capture: this one is not there
            url = urljoin(answer.url, location)
        return None


def _spn2_error(state: Mapping[str, Any]) -> SaveOutcome:
    """Sort a Save Page Now 2 error: final (excluded, robots), slow down, or try later."""
    status_ext = str(state.get("status_ext") or "")
    message = redact(" ".join(str(state.get("message") or "").split()))[:200]  # before the cut
    reason = f"{status_ext}: {message}" if message else status_ext or "error"
    if status_ext in _SPN2_REFUSED or _REFUSAL.search(message):
        return SaveOutcome.refused(reason)
    if status_ext in _SPN2_SLOW_DOWN:
        return SaveOutcome.rate_limited(None, reason)
    return SaveOutcome.failed(reason)
