"""Retry-After, as seconds or as an HTTP date."""

from __future__ import annotations

import datetime as dt
import email.utils


def _http_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def parse_retry_after(
    value: str | None, now: dt.datetime, *, sent_at: str | None = None
) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date).

    An HTTP date is measured from the answer's own `Date` header (`sent_at`) when
    it has a valid one, as RFC 9110 intends: "retry at 12:00:05" from a server whose
    clock says 12:00:00 means five seconds, whatever our clock says. Without it,
    from `now`.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    origin = _http_date(sent_at) or now
    return max(0.0, (when - origin).total_seconds())
