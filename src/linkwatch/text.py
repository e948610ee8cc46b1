"""Small text helpers every stage shares: one line, plurals, moments as ISO text.

Kept in one place so that a message, a log line and a report write a moment
or a count the same way.
"""

from __future__ import annotations

import datetime as dt
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """Control characters shown escaped (`\\n`, `\\x1b`), so that a text stays on one line."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def plural(count: int, noun: str) -> str:
    """'1 citation', '2 citations'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def iso_utc(moment: dt.datetime) -> str:
    """'2026-11-25T12:00:00+00:00': the one way linkwatch writes a moment (store, JSON, logs)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def iso_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def from_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None
