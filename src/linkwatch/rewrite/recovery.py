"""When a rewritten citation's URL counts as recovered: a pure function of its history.

`rewrite.on_recovery = "revert"` takes the archive link out of a citation whose
page has come back, as the Internet Archive's WordPress plugin does. One good
check after a death is not enough: a site that flaps (a server restored from
an old backup, a domain parked and unparked) would have its citations rewritten
and reverted in a loop, each time changing the published release. So a URL is
recovered only when it was dead or soft-404 once, and every check since it
last failed was a success: at least `policy.recovered_after_checks` of them,
over at least `policy.recovered_after` (three checks over seven days by default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from linkwatch.model import ROTTEN_STATES, State
from linkwatch.store import HistorySpan
from linkwatch.text import from_iso

__all__ = ["ALIVE_AGAIN", "is_recovered"]

ALIVE_AGAIN = frozenset({State.ALIVE, State.MOVED})


def is_recovered(
    spans: Sequence[HistorySpan], now: dt.datetime, after: dt.timedelta, checks: int
) -> bool:
    """Whether the history (oldest span first) shows a death, then a long enough recovery."""
    alive_checks = 0
    since: dt.datetime | None = None
    index = len(spans)
    while index > 0 and spans[index - 1].state in ALIVE_AGAIN:
        index -= 1
        alive_checks += spans[index].count
        since = from_iso(spans[index].first_at)
    if since is None or not any(span.state in ROTTEN_STATES for span in spans[:index]):
        return False
    return alive_checks >= checks and now - since >= after
