"""What one archive run carries from phase to phase, and what it reports."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from linkwatch.archive.protocol import Archive
from linkwatch.config.settings import Settings
from linkwatch.net.polite import Net
from linkwatch.store.writer import AsyncStore


class ArchiveStep(StrEnum):
    """What one URL's turn in a phase came to: counted by the CLI's progress bar."""

    CAPTURES = "captures"  # look-up: captures found
    NO_CAPTURE = "no capture"
    LOOKUP_FAILED = "look-up failed"
    SAVED = "saved"
    FRESH = "already fresh"
    REFUSED = "refused"
    RATE_LIMITED = "rate-limited"
    FAILED = "failed"
    DROPPED = "dropped"
    CHOSEN = "chosen"  # a citation of the URL got a snapshot
    KEPT = "kept"  # judged later: the choice made before stays
    NO_SNAPSHOT = "no snapshot"


class RunProgress(Protocol):
    """What a run reports as it goes: the CLI draws a bar or logs lines from it.

    `detail` says the step in words for a log line ("3 captures"); the step
    itself is what a display counts.
    """

    def phase(self, name: str, total: int) -> None: ...

    def step(self, url: str, step: ArchiveStep, detail: str = "") -> None: ...


class Silent:
    def phase(self, name: str, total: int) -> None:
        pass

    def step(self, url: str, step: ArchiveStep, detail: str = "") -> None:
        pass


@dataclass(slots=True)
class ArchiveRunSummary:
    """What one archive run did, for the CLI to print and the daemon to log."""

    source: str = ""
    disabled: bool = False
    interrupted: bool = False
    looked_up: int = 0
    lookup_errors: int = 0
    lookups_deferred: int = 0  # left for a later run after a long rate limit
    queued: int = 0  # saves newly queued
    saved: int = 0
    fresh: int = 0  # URLs with a recent capture: no save needed
    refused: int = 0
    rate_limited: int = 0
    failed: int = 0  # save attempts that did not work (retried later, up to a limit)
    dropped: int = 0  # queued saves no longer wanted (the URL died meanwhile)
    not_savable: int = 0  # looked up but not saved in their state (dead, unchecked, ...)
    not_by_rule: int = 0  # not saved: a [[rules]] table excludes them or says archive = false
    chosen: int = 0  # citations given a (different) snapshot
    rejected: int = 0  # captures whose replay was not the cited page
    no_snapshot: int = 0  # citations left without a snapshot
    queue_left: int = 0
    paused_until: dt.datetime | None = None
    errors: list[str] = field(default_factory=list)  # a few look-up errors, for the log
    looked_up_in: dict[str, int] = field(default_factory=dict)  # URLs looked up, per archive
    rested: dict[str, str] = field(default_factory=dict)  # archive -> why it was not asked
    asked_others: int = 0  # archives of the look-up list asked besides the backend
    save_to: list[str] = field(default_factory=list)  # the archives saves went to, in order
    saved_in: dict[str, int] = field(default_factory=dict)  # saves made, per archive
    down: dict[str, str] = field(default_factory=dict)  # archive -> why it was skipped this run
    held: dict[str, str] = field(default_factory=dict)  # archive -> why its saves wait (a cap)

    @property
    def unreachable(self) -> str | None:
        """One line: why the backend (the run's look-up archive) could not be reached."""
        return self.down.get(self.source) if self.source else None

    @property
    def all_down(self) -> bool:
        """No archive of the run could be reached: nothing was done, the queues wait."""
        names = {self.source, *self.save_to}
        return self.unreachable is not None and names <= set(self.down)


@dataclass(slots=True)
class Run:
    settings: Settings
    db: AsyncStore
    archive: Archive
    progress: RunProgress
    now: Callable[[], dt.datetime]
    until: dt.datetime | None
    summary: ArchiveRunSummary
    # The checker's session of the run, once open: it vets a URL before an archive is
    # asked to fetch it (`save_queue`), and replays captures (`choose`).
    net: Net | None = None
    looked_up_now: set[int] = field(default_factory=set)  # URL ids looked up in this run
    # How the save phase waits for its pace: tests pass one that moves their clock.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    looks_up: bool = True  # the run looked URLs up in this archive (else it only saves there)

    @property
    def source(self) -> str:
        return self.archive.name

    @property
    def saves_per_minute(self) -> float:
        """This archive's own pace: each archive sets its own limit."""
        if self.archive.name == "perma":
            return self.settings.archive.perma_saves_per_minute
        return self.settings.archive.saves_per_minute
