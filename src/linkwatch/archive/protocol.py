"""What every archive backend offers, and how a save request ends.

An `Archive` looks captures up, lists them and asks for new ones. Methods raise
`ArchiveError` (see `linkwatch.errors`) when the archive gives no answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Protocol

from linkwatch.model import Snapshot


class SaveStatus(StrEnum):
    """How a save request ended."""

    CAPTURED = "captured"  # a new capture exists
    FRESH = "fresh"  # the archive already had a recent capture and kept it
    RATE_LIMITED = "rate_limited"  # asked to slow down; try again after `retry_after`
    REFUSED = "refused"  # never capturable here (excluded site, robots.txt): do not retry
    FAILED = "failed"  # did not work this time; retrying later may


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


@dataclass(frozen=True, slots=True)
class SaveQuota:
    """What an archive says is left of our captures (Save Page Now 2's `/save/status/user`).

    `available` is how many more capture sessions may run at once, `processing`
    how many run now; the daily count and cap are per account and UTC day.
    """

    available: int
    processing: int
    daily_captures: int
    daily_captures_limit: int


@dataclass(frozen=True, slots=True)
class SaveOptions:
    """What the run knows that can spare an archive work.

    `looked_up`: this archive was asked for the URL's captures, so it need not
    check whether this is the first capture (SPN2's `skip_first_archive`).
    """

    looked_up: bool = False


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

    async def save(self, url: str, options: SaveOptions | None = None) -> SaveOutcome:
        """Ask for a capture of `url` now. Never raises for an answer the archive gave."""
        ...

    async def quota(self) -> SaveQuota | None:
        """What is left of our captures, read before each batch; None: no quota to read."""
        ...

    async def verify(self, snapshot: Snapshot) -> Snapshot | None:
        """The capture as the archive replays it (status filled in), or None when it does not.

        Called after a save, before the capture is recorded: an archive may
        answer a save with a capture that never becomes replayable.
        """
        ...
