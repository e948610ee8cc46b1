"""Crontab lines as APScheduler 3 triggers, read the way cron reads them.

The daemon schedules the digest with it and the digest module asks it whether
this week's digest is due: both must read `digest.schedule` the same way.
"""

from __future__ import annotations

import zoneinfo

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_day_part(part: str) -> str:
    """One comma-separated piece of a weekday field, numbers as standard cron means them."""
    body, slash, step_text = part.partition("/")
    step = int(step_text) if slash else 1
    if step < 1:
        raise ValueError(f"bad step in weekday field: {part!r}")
    if body == "*":
        if not slash:
            return "*"
        numbers = list(range(0, 7, step))
    elif all(piece.isdigit() for piece in body.split("-")):
        first, _, last = body.partition("-")
        low, high = int(first), int(last or first)
        if not (0 <= low <= 7 and 0 <= high <= 7 and low <= high):
            raise ValueError(f"weekday out of range 0-7: {part!r}")
        numbers = list(range(low, high + 1, step)) if (last or slash) else [low]
    else:
        return part  # names (mon, mon-fri): the same in both dialects
    return ",".join(_CRON_DAYS[n % 7] for n in numbers)


def crontab_weekdays(field: str) -> str:
    """A standard cron weekday field in APScheduler 3's terms.

    Standard cron counts 0 (and 7) as Sunday; APScheduler 3.x counts 0 as
    Monday, a known mismatch its 3.x series keeps. Numbers are therefore
    turned into day names, which both read the same way: `1-5` becomes
    `mon,tue,wed,thu,fri`, `*/2` becomes `sun,tue,thu,sat`.
    """
    return ",".join(_cron_day_part(part) for part in field.lower().split(","))


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A `CronTrigger` for a 5-field crontab line in an IANA zone; ValueError when invalid.

    As in APScheduler (unlike Vixie cron), a line restricting both the day of
    the month and the weekday fires when both match, not either.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}: {expression!r}")
    minute, hour, day, month, weekdays = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekdays),
        timezone=zoneinfo.ZoneInfo(timezone),
    )
