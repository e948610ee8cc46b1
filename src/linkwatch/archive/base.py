"""What every archive backend offers, and the values they answer with.

An `Archive` looks captures up, lists them and asks for new ones. Backends
speak the Wayback URL scheme (`<base>/<timestamp>/<url>` for a replay,
`<timestamp>id_` for the raw capture), which the Internet Archive and pywb
share; the functions here read and write it without knowing any host.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Protocol

__all__ = [
    "Archive",
    "ArchiveError",
    "ArchiveRateLimited",
    "ArchiveUnreachable",
    "SaveOutcome",
    "SaveStatus",
    "Snapshot",
    "from_wayback_timestamp",
    "is_good_capture_status",
    "original_of",
    "raw_replay_url",
    "replay_prefix",
    "wayback_timestamp",
]

# `/20160407101500/`, `/20160407101500id_/`, `/20160407101500mp_/` in a replay URL.
_REPLAY_STAMP = re.compile(r"/(\d{14})([a-z]{2}_)?/")


class ArchiveError(Exception):
    """An archive request got no usable answer; str() is one line without secrets."""


class ArchiveUnreachable(ArchiveError):
    """The archive cannot be reached at all (no network, DNS fails, nothing listens)."""


class ArchiveRateLimited(ArchiveError):
    """The archive asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SaveStatus(StrEnum):
    """How a save request ended."""

    CAPTURED = "captured"  # a new capture exists
    FRESH = "fresh"  # the archive already had a recent capture and kept it
    RATE_LIMITED = "rate_limited"  # asked to slow down; try again after `retry_after`
    REFUSED = "refused"  # never capturable here (excluded site, robots.txt): do not retry
    FAILED = "failed"  # did not work this time; retrying later may


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One capture of a URL, as the archive recorded it."""

    archive_url: str  # the replay URL a reader follows
    timestamp: dt.datetime  # capture time, UTC
    status: int | None  # HTTP status the archive recorded, None when it did not say
    source: str  # backend name: "wayback" or "pywb"


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """What a save request achieved; `snapshot` is set for CAPTURED and FRESH."""

    status: SaveStatus
    snapshot: Snapshot | None = None
    retry_after: float | None = None  # seconds, for RATE_LIMITED and some FAILED
    reason: str | None = None  # one line, for REFUSED and FAILED

    @classmethod
    def captured(cls, snapshot: Snapshot) -> SaveOutcome:
        return cls(SaveStatus.CAPTURED, snapshot=snapshot)

    @classmethod
    def fresh(cls, snapshot: Snapshot) -> SaveOutcome:
        return cls(SaveStatus.FRESH, snapshot=snapshot)

    @classmethod
    def rate_limited(cls, retry_after: float | None, reason: str) -> SaveOutcome:
        return cls(SaveStatus.RATE_LIMITED, retry_after=retry_after, reason=reason)

    @classmethod
    def refused(cls, reason: str) -> SaveOutcome:
        return cls(SaveStatus.REFUSED, reason=reason)

    @classmethod
    def failed(cls, reason: str, retry_after: float | None = None) -> SaveOutcome:
        return cls(SaveStatus.FAILED, retry_after=retry_after, reason=reason)


class Archive(Protocol):
    """A Wayback-compatible archive. Methods raise `ArchiveError` when it gives no answer."""

    name: str

    async def __aenter__(self) -> Archive: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def check_reachable(self) -> None:
        """Raise `ArchiveUnreachable` unless the archive answers like one."""
        ...

    async def lookup(self, url: str, around: dt.datetime) -> Snapshot | None:
        """The good capture closest to `around`: the nearest before it, else after it.

        Good means archived with a 2xx status, or a 3xx one; whether a 3xx
        leads to a real page is for the replay check to say.
        """
        ...

    async def snapshots(self, url: str) -> list[Snapshot]:
        """Every good capture of `url`, oldest first."""
        ...

    async def save(self, url: str) -> SaveOutcome:
        """Ask for a capture of `url` now. Never raises for an answer the archive gave."""
        ...

    async def verify(self, snapshot: Snapshot) -> Snapshot | None:
        """The capture as the archive replays it (status filled in), or None when it does not.

        Called after a save, before the capture is recorded: an archive may
        answer a save with a capture that never becomes replayable.
        """
        ...


def is_good_capture_status(status: int | None) -> bool:
    """A capture of the page itself (2xx) or of a redirect (3xx), not of an error."""
    return status is not None and 200 <= status < 400


def wayback_timestamp(moment: dt.datetime) -> str:
    """The 14-digit UTC timestamp of the Wayback URL scheme."""
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def from_wayback_timestamp(text: str) -> dt.datetime:
    """Parse a Wayback timestamp; shorter ones (`2016`, `201604`) mean their first moment."""
    stamp = text.strip()
    if not 4 <= len(stamp) <= 14 or not stamp.isdigit():
        raise ValueError(f"not a Wayback timestamp: {text!r}")
    digits = stamp + "00000101000000"[len(stamp) :]
    return dt.datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def raw_replay_url(archive_url: str) -> str:
    """The capture as it was recorded (`id_`): no banner, no rewritten links."""
    return _REPLAY_STAMP.sub(lambda m: f"/{m.group(1)}id_/", archive_url, count=1)


def replay_prefix(replay_url: str) -> str | None:
    """What comes before the timestamp: `https://web.archive.org/web`, `http://pywb/coll`."""
    match = _REPLAY_STAMP.search(replay_url)
    return None if match is None else replay_url[: match.start()]


def original_of(replay_url: str) -> str | None:
    """The archived URL inside a replay URL, or None when it is not one."""
    match = _REPLAY_STAMP.search(replay_url)
    if match is None:
        return None
    original = replay_url[match.end() :]
    return original if original.startswith(("http://", "https://")) else None
