"""The one clock linkwatch reads: injectable, so that nothing depends on the day it runs.

Library functions take either a moment (`now: datetime`) when they decide
once, or a `Clock` when they run long enough for time to pass (a check run,
an archive run, the daemon). Only the command line and the daemon start from
`system_clock`; they hand it down, and tests hand down a fixed or stepping
clock instead. Every moment is timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The wall clock, in UTC."""
    return dt.datetime.now(dt.UTC)


def fixed_clock(moment: dt.datetime) -> Clock:
    """A clock that always says `moment` (which must be timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("a clock's moment must be timezone-aware")

    def clock() -> dt.datetime:
        return moment

    return clock
