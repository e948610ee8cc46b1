"""When to save a page, how fast, and how long to wait after a failure. Pure functions.

Saving captures whatever the URL answers at that moment, so only URLs that
serve people a page are saved: `alive`, `moved` and `blocked` (a bot wall
stops robots, not readers, and Save Page Now may well get through). `dead`,
`soft404` and `usurped` URLs are never saved: that would archive the error page, and a
capture of it could later be offered to readers. `unchecked` and
`transient` URLs are looked up but not saved yet, for the same reason: until
a check has seen the page answer, a save may capture an error. The next
archive run after a check that finds them alive queues them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from enum import StrEnum

from linkwatch.archive.protocol import SaveQuota
from linkwatch.model import QueueStatus, State

__all__ = [
    "DAILY_MARGIN",
    "MAX_ATTEMPTS",
    "QUOTA_BATCH",
    "SAVABLE_STATES",
    "QuotaVerdict",
    "SaveDecision",
    "backoff",
    "decide_save",
    "next_save_at",
    "next_utc_day",
    "quota_room",
]

SAVABLE_STATES = frozenset({State.ALIVE, State.MOVED, State.BLOCKED})
MAX_ATTEMPTS = 6  # failed attempts (not refusals, not rate limits) before a save is given up
BACKOFF_BASE = 60.0  # seconds after the first failure; doubles with each one
BACKOFF_CAP = 6 * 3600.0
WINDOW = 60.0  # seconds: a minute
# The archive counts arrivals, not our starts; network jitter can bring two starts a
# few milliseconds closer on its side, so the window we keep is a little wider.
WINDOW_MARGIN = 0.5


# With keys, the quota is read again after this many saves: other clients of the same
# account use it too, so a figure read once at the start of a long run goes stale.
QUOTA_BATCH = 10
# Saves left unused of the daily cap: the count is read between saves, and a capture
# another client of the account starts meanwhile must not be the one refused.
DAILY_MARGIN = 5


class QuotaVerdict(StrEnum):
    """What the quota read before a batch allows."""

    GO = "go"
    BUSY = "busy"  # every capture session is in use: wait for a later run
    DAILY_CAP = "daily cap"  # the day's captures are (nearly) used up: wait for the next UTC day


def quota_room(quota: SaveQuota | None) -> tuple[QuotaVerdict, int]:
    """How many saves the next batch may make, from what the archive said is left.

    Stops `DAILY_MARGIN` short of the daily cap, so that linkwatch never runs
    into it (a refused capture costs the archive a capture attempt all the same).
    """
    if quota is None:
        return QuotaVerdict.GO, QUOTA_BATCH
    left_today = quota.daily_captures_limit - quota.daily_captures - DAILY_MARGIN
    if left_today <= 0:
        return QuotaVerdict.DAILY_CAP, 0
    if quota.available <= 0:
        return QuotaVerdict.BUSY, 0
    return QuotaVerdict.GO, min(QUOTA_BATCH, left_today)


def next_utc_day(now: dt.datetime) -> dt.datetime:
    """Midnight UTC after `now`: when a daily capture count starts again."""
    day = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)


class SaveDecision(StrEnum):
    """What the policy says about one URL; only QUEUE leads to a save."""

    QUEUE = "queue"
    QUEUED = "already queued"
    FRESH = "already fresh"
    NOT_SAVABLE = "not saved in this state"
    REFUSED = "refused before"
    TRIED_RECENTLY = "tried recently"


def decide_save(
    state: State,
    newest_capture: dt.datetime | None,
    queue_status: QueueStatus | None,
    queue_done_at: dt.datetime | None,
    now: dt.datetime,
    fresh_within: dt.timedelta,
) -> SaveDecision:
    """Whether a URL needs a save now, given its state, captures and queue entry.

    A refusal is final: an excluded site stays excluded, and asking again in
    a loop is what gets a client blocked. A finished save (or a given-up
    one) is not asked again before `fresh_within` has passed.
    """
    if queue_status is QueueStatus.REFUSED:
        return SaveDecision.REFUSED
    if queue_status is QueueStatus.QUEUED:
        return SaveDecision.QUEUED
    if newest_capture is not None and now - newest_capture <= fresh_within:
        return SaveDecision.FRESH
    if state not in SAVABLE_STATES:
        return SaveDecision.NOT_SAVABLE
    if queue_done_at is not None and now - queue_done_at <= fresh_within:
        return SaveDecision.TRIED_RECENTLY
    return SaveDecision.QUEUE


def next_save_at(recent_starts: Sequence[float], now: float, per_minute: float) -> float:
    """The earliest moment (epoch seconds) the next save may start.

    Two rules, both needed: starts are spaced `60 / per_minute` apart (no
    burst, however the queue fills), and no 60-second window holds more than
    `per_minute` starts (a fractional rate such as 2.5 would otherwise allow
    3 in some window). `recent_starts` are earlier starts, in any order,
    from the store, so the pace holds across restarts.
    """
    spacing = WINDOW / per_minute
    window = WINDOW + WINDOW_MARGIN
    allowed = max(1, math.floor(per_minute))
    starts = sorted(start for start in recent_starts if start > now - max(window, spacing))
    earliest = now
    if starts:
        earliest = max(earliest, starts[-1] + spacing)
    in_window = [start for start in starts if start > earliest - window]
    if len(in_window) >= allowed:
        earliest = max(earliest, in_window[len(in_window) - allowed] + window)
    return earliest


def backoff(failures: int, retry_after: float | None) -> float:
    """Seconds to wait after the `failures`-th failure in a row: doubling, capped.

    Retry-After is honoured as a floor, not a replacement: a server that says
    "1 second" every time would otherwise be asked every second, forever.
    """
    doubling = BACKOFF_BASE * 2.0 ** max(0, failures - 1)
    return min(max(doubling, retry_after or 0.0), BACKOFF_CAP)
