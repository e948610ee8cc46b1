"""The daemon's schedules: interval and cron jobs with linkwatch's defaults.

Every job has an explicit id, `replace_existing=True`, `max_instances=1` (a
slow run is never joined by a second one) and `coalesce=True` (runs missed
while the process was paused or the clock jumped collapse into one). Interval
jobs allow a run to be late by up to one interval: with coalescing the one
catch-up run is always within an interval of its slot. The digest may be
late by any amount: a week's digest sent late beats one never sent, and the
digest itself knows whether its week is already done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.job import Job  # type: ignore[import-untyped]
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

JOB_DEFAULTS: dict[str, Any] = {"replace_existing": True, "max_instances": 1, "coalesce": True}


def add_interval_job(
    scheduler: AsyncIOScheduler,
    job_id: str,
    func: Callable[[], Awaitable[None]],
    every: dt.timedelta,
    *,
    first_run: dt.datetime | None = None,
) -> Job:
    """An interval job with linkwatch's defaults; `first_run` None waits one interval."""
    seconds = max(every.total_seconds(), 0.001)
    extra: dict[str, Any] = {} if first_run is None else {"next_run_time": first_run}
    return scheduler.add_job(
        func,
        IntervalTrigger(seconds=seconds, timezone=dt.UTC),
        id=job_id,
        name=job_id,
        misfire_grace_time=max(1, int(seconds)),
        **JOB_DEFAULTS,
        **extra,
    )


def add_cron_job(
    scheduler: AsyncIOScheduler,
    job_id: str,
    func: Callable[[], Awaitable[None]],
    trigger: CronTrigger,
) -> Job:
    """A cron job with linkwatch's defaults; however late, a missed run still runs once."""
    return scheduler.add_job(
        func, trigger, id=job_id, name=job_id, misfire_grace_time=None, **JOB_DEFAULTS
    )
