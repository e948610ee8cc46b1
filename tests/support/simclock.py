"""A simulated clock whose sleeps move it on at once: minutes of pacing in milliseconds.

Pass `clock.now` as a run's clock, `clock.sleep` as its sleep, and
`clock.timestamp` as a fake archive's clock, so that the archive stamps each
request's arrival in the same simulated time the run paces by.
"""

from __future__ import annotations

import asyncio
import datetime as dt


class SimClock:
    def __init__(self, start: dt.datetime) -> None:
        self.moment = start
        self.slept: list[float] = []

    def now(self) -> dt.datetime:
        return self.moment

    def timestamp(self) -> float:
        return self.moment.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += dt.timedelta(seconds=max(0.0, seconds))
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would
