"""How every report format puts numbers, moments, filters and long text into words."""

from __future__ import annotations

import datetime as dt

from linkwatch.report.rows import Filters, day, state_rank


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


def when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def filters_text(filters: Filters) -> str:
    parts = []
    if filters.states:
        parts.append("state " + ", ".join(sorted(filters.states, key=state_rank)))
    if filters.release_glob:
        parts.append(f"releases matching {filters.release_glob}")
    if filters.host:
        parts.append(f"host {filters.host}")
    if filters.since:
        parts.append(f"changed since {day(filters.since)}")
    return "; ".join(parts)


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


DRIFT_MARK = "~"  # after a state in the terminal table: the page now says something else


def drift_words(similarity: float | None) -> str:
    """'now says something else than its snapshot (similarity 0.12)', for every format."""
    shown = "" if similarity is None else f" (similarity {similarity:.2f})"
    return f"now says something else than its snapshot{shown}"
