"""Digest weeks: ISO weeks in `digest.timezone`, and when `digest.schedule` fires in one."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from linkwatch.config.settings import (
    DigestSettings,
)
from linkwatch.digest.schedule import cron_trigger


def iso_week(moment: dt.datetime, timezone: str) -> str:
    """'2026-W48': the ISO week of `moment` as seen in `timezone`."""
    year, week, _weekday = moment.astimezone(zoneinfo.ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(moment: dt.datetime, timezone: str) -> dt.datetime:
    """Monday 00:00 of the ISO week of `moment`, in `timezone`."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    monday = local.date() - dt.timedelta(days=local.weekday())
    return dt.datetime.combine(monday, dt.time(), tzinfo=zoneinfo.ZoneInfo(timezone))


def scheduled_in_week(settings: DigestSettings, moment: dt.datetime) -> dt.datetime | None:
    """The first time `digest.schedule` fires in the week of `moment`; None if it never does."""
    start = week_start(moment, settings.timezone)
    trigger = cron_trigger(settings.schedule, settings.timezone)
    fire: dt.datetime | None = trigger.get_next_fire_time(None, start)
    if fire is None or fire >= start + dt.timedelta(days=7):
        return None
    return fire
