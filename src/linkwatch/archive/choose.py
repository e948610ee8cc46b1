"""Which capture shows what the author cited, and which replays are not real pages. Pure.

The page as the author saw it is the capture closest to the release's
publication date from before it; a capture made later may already show a
changed or vanished page, so it is used only when nothing earlier exists.
The publication date has no time of day: a capture made that day counts as
before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from linkwatch.archive.captures import is_good_capture_status, original_of
from linkwatch.check.page import same_page
from linkwatch.check.soft404 import is_home_page
from linkwatch.model import CheckResult, Snapshot

__all__ = [
    "candidate_order",
    "closest",
    "publication_moment",
    "replay_rejection",
]

# Titles of "not found" pages a site served with status 200 when it was captured.
_NOT_FOUND_TITLE = re.compile(
    r"\b(?:404|not\s+found|page\s+not\s+found|no\s+longer\s+available|does\s+not\s+exist|"
    r"page\s+unavailable|seite\s+nicht\s+gefunden|page\s+introuvable|"
    r"p[aá]gina\s+no\s+encontrada|nie\s+znaleziono|не\s+найден[аo]?)\b",
    re.I,
)


def publication_moment(published: dt.date) -> dt.datetime:
    """The last moment of the publication day, UTC: captures up to it are 'before'."""
    return dt.datetime.combine(published, dt.time.max, tzinfo=dt.UTC)


def candidate_order(snapshots: Iterable[Snapshot], around: dt.datetime) -> list[Snapshot]:
    """Captures in the order to try them, from every archive: before `around` closest
    first, then after.

    Captures recorded as errors (4xx/5xx) are left out. A capture with no
    recorded status (a Memento TimeMap gives none) stays: its replay says
    whether it is a page. Among captures made at the same second, the one
    listed first wins.
    """
    good = [s for s in snapshots if s.status is None or is_good_capture_status(s.status)]
    before = sorted((s for s in good if s.timestamp <= around), key=lambda s: around - s.timestamp)
    after = sorted((s for s in good if s.timestamp > around), key=lambda s: s.timestamp - around)
    return before + after


def closest(snapshots: Sequence[Snapshot], around: dt.datetime) -> Snapshot | None:
    """The capture to use around a moment: the nearest before it, else the nearest after."""
    order = candidate_order(snapshots, around)
    return order[0] if order else None


def replay_rejection(cited_url: str, replay: CheckResult, home: CheckResult | None) -> str | None:
    """Why a replayed capture is not the cited page, or None when it is one.

    `replay` is the checker's result for the raw replay URL, `home` the
    checker's result for the same site's home page replayed at about the
    same time (None when the cited URL is itself a home page, or unknown).
    A site that answers every unknown path with its front page leaves
    captures that look fine by status; comparing them with the front page
    is the archive's stand-in for the checker's random-path probe, since an
    archive holds no capture of a path nobody ever visited.
    """
    if replay.status is None:
        return f"does not replay: {replay.error_detail or 'no answer'}"
    if not 200 <= replay.status < 300:
        return f"replays as HTTP {replay.status}"
    landed = original_of(replay.final_url or "")
    if replay.hops and landed is not None and is_home_page(landed) and not is_home_page(cited_url):
        return f"redirects to the home page {landed}"
    if replay.soft404_reason is not None:
        return f"replays as a soft 404: {replay.soft404_reason}"
    if replay.title is not None and _NOT_FOUND_TITLE.search(replay.title):
        return f"replays as a 'not found' page (title {replay.title!r})"
    home_is_a_page = home is not None and home.status is not None and 200 <= home.status < 300
    if home is not None and home_is_a_page and same_page(replay, home):
        return "replays as the site's home page"
    return None
