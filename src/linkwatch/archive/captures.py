"""The Wayback URL scheme, which the Internet Archive and pywb share.

`<base>/<timestamp>/<url>` is a replay, `<timestamp>id_` the raw capture; the
functions here read and write it without knowing any host.
"""

from __future__ import annotations

import datetime as dt
import re

# `/20160407101500/`, `/20160407101500id_/`, `/20160407101500mp_/` in a replay URL.
_REPLAY_STAMP = re.compile(r"/(\d{14})([a-z]{2}_)?/")


def is_good_capture_status(status: int | None) -> bool:
    """A capture of the page itself (2xx) or of a redirect (3xx), not of an error."""
    return status is not None and 200 <= status < 400


def wayback_timestamp(moment: dt.datetime) -> str:
    """The 14-digit UTC timestamp of the Wayback URL scheme."""
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def from_wayback_timestamp(text: str) -> dt.datetime:
    """Parse a Wayback timestamp; shorter ones (`2016`, `201604`) mean their first moment."""
    stamp = text.strip()
    if not 4 <= len(stamp) <= 14 or not stamp.isdigit():
        raise ValueError(f"not a Wayback timestamp: {text!r}")
    digits = stamp + "00000101000000"[len(stamp) :]
    return dt.datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def raw_replay_url(archive_url: str) -> str:
    """The capture as it was recorded (`id_`): no banner, no rewritten links."""
    return _REPLAY_STAMP.sub(lambda m: f"/{m.group(1)}id_/", archive_url, count=1)


def replay_prefix(replay_url: str) -> str | None:
    """What comes before the timestamp: `https://web.archive.org/web`, `http://pywb/coll`."""
    match = _REPLAY_STAMP.search(replay_url)
    return None if match is None else replay_url[: match.start()]


def original_of(replay_url: str) -> str | None:
    """The archived URL inside a replay URL, or None when it is not one."""
    match = _REPLAY_STAMP.search(replay_url)
    if match is None:
        return None
    original = replay_url[match.end() :]
    return original if original.startswith(("http://", "https://")) else None
