"""The drift step of a check run: a checked page against its citations' snapshots.

Only URLs whose citations have a fingerprinted snapshot are fingerprinted
(`wants`), from the body the check already read: no request is added. Only a
page that answered as itself (2xx, not a soft 404, not a bot wall) is
compared; any other answer leaves the last comparison as it was. Drift never
touches the URL's state: it is stored beside it.

One exception: a usurped domain, which the snapshot shows best (`usurped_by_drift`).
A live page that keeps almost nothing of every archived copy of it AND bears a
parking service's marks or a for-sale page's wording AND is as short as such a
page is, is a lapsed domain sold or parked by someone else, even when it does
not answer every path alike (the check's own test). Dissimilarity alone never
is: a redesigned site, a rewritten article, a page drawn by JavaScript all keep
little of their snapshot and are alive, and calling a live page rotten is worse
than saying nothing. The marks alone never are either: an article may quote
"this domain is for sale".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from linkwatch.drift.prints import from_text, is_drift, similarity, still_held
from linkwatch.model import CheckResult, ContentPrint
from linkwatch.store.drift import DriftRecord, DriftTarget


def is_comparable(result: CheckResult) -> bool:
    """The page answered as itself: what it says can be compared with what it said."""
    return (
        result.status is not None
        and 200 <= result.status < 300
        and result.soft404_reason is None
        and not result.bot_wall
        and result.content is not None
    )


# A live page holding less than this share of each archived copy's main text no longer
# resembles it (an id reused for another article keeps about 0.05, see the drift tests;
# an updated article keeps over 0.9).
NO_LONGER_HELD = 0.2
# Main-text shingles (about words) of a parking or for-sale page at most: a line or two
# ("example.org may be for sale", a price, a contact form; its link lists are no main
# text). A four-paragraph article quoting such wording has 120 or more.
LANDING_SHINGLES = 80


def usurped_by_drift(result: CheckResult, snapshots: Sequence[ContentPrint]) -> str | None:
    """Why a checked page is a usurped domain by its archived copies, or None (see above)."""
    live, signs = result.content, result.landing_signs
    if live is None or signs is None or result.usurped_reason or result.soft404_reason:
        return None
    if live.shingles > LANDING_SHINGLES:
        return None
    held = [value for s in snapshots if (value := still_held(s, live)) is not None]
    if not held or max(held) >= NO_LONGER_HELD:
        return None
    return f"keeps {max(held):.0%} of the text of its archived copy; {signs}"


class DriftStep:
    """Compares each checked page with the snapshots of the citations of its URL."""

    def __init__(self, targets: dict[int, list[DriftTarget]]) -> None:
        self._targets = targets
        self._prints: dict[str, ContentPrint] = {}
        self.pending: list[DriftRecord] = []
        self.drifted = 0  # citations found drifted in this run

    def wants(self, url_id: int) -> bool:
        """Whether a check of this URL should fingerprint the page it reads."""
        return url_id in self._targets

    def _print(self, target: DriftTarget) -> ContentPrint:
        assert target.snapshot_print is not None  # drift_targets keeps only those
        known = self._prints.get(target.archive_url)
        if known is None:
            known = self._prints[target.archive_url] = from_text(target.snapshot_print)
        return known

    def judge(self, url_id: int, result: CheckResult, now: dt.datetime) -> CheckResult:
        """Compare and keep the comparisons for the next write (`take`); the result comes
        back with a usurped reason when its archived copies show a lapsed domain."""
        if not is_comparable(result):
            return result
        assert result.content is not None
        targets = self._targets.get(url_id, ())
        usurped = usurped_by_drift(result, [self._print(target) for target in targets])
        for target in targets:
            value = similarity(self._print(target), result.content)
            drifted = is_drift(value)
            self.drifted += drifted
            self.pending.append(
                DriftRecord(
                    target.release_path, target.url_key, target.archive_url, value, drifted, now
                )
            )
        return result if usurped is None else dataclasses.replace(result, usurped_reason=usurped)

    def take(self) -> list[DriftRecord]:
        taken, self.pending = self.pending, []
        return taken
