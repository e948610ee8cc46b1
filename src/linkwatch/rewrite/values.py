"""What a rewrite is asked to do for each citation, and what it did."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from linkwatch.config.settings import RewriteMode
from linkwatch.model import ROTTEN_STATES


class Action(StrEnum):
    """What a rewrite did for one citation."""

    ADDED = "added"  # the archived copy is now linked next to the citation
    REPLACED = "replaced"  # an earlier archive link was swapped for the chosen snapshot
    REVERTED = "reverted"  # the URL recovered: the text added for it was removed
    UNCHANGED = "unchanged"  # the file already links the chosen snapshot
    SKIPPED = "skipped"  # left alone; the outcome says why


@dataclass(frozen=True, slots=True)
class Target:
    """A citation to point at its archived copy.

    `start`/`end` are the byte offsets the scan stored for the URL as written.
    `archived` is the archive link the scan found next to it, if any. With
    `revert`, the text linkwatch added for it is removed instead (its URL
    has recovered, and `rewrite.on_recovery = "revert"`).
    """

    label: str | None
    url: str
    start: int
    end: int
    archive_url: str
    captured: dt.datetime
    archived: str | None = None
    archive_name: str = ""  # the archive holding the copy, when it is not the backend's
    # Robust Links: the other verified copies of the cited page (archive URL, capture time)
    others: tuple[tuple[str, dt.datetime], ...] = ()
    original: str | None = None  # data-originalurl, when not `url` (a wrapper's target)
    revert: bool = False


@dataclass(frozen=True, slots=True)
class CitationRewrite:
    target: Target
    action: Action
    reason: str | None = None

    @property
    def changed(self) -> bool:
        return self.action in (Action.ADDED, Action.REPLACED, Action.REVERTED)


@dataclass(frozen=True, slots=True)
class Splice:
    """Bytes `start:end` of the original replaced by `data` (an insertion when start == end)."""

    start: int
    end: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Rewritten:
    data: bytes
    splices: tuple[Splice, ...]
    outcomes: tuple[CitationRewrite, ...]

    @property
    def changed(self) -> bool:
        return bool(self.splices)


def wants_archive(state: str, mode: RewriteMode) -> bool:
    """Whether a citation in this (effective, pins applied) state gets its archived copy."""
    if mode is RewriteMode.ALL:
        return True
    if mode in (RewriteMode.DEAD, RewriteMode.DRIFTED):
        return state in ROTTEN_STATES  # DRIFTED: drifted citations too, whatever their state
    return False
