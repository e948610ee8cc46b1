"""The drift step of a check run: a checked page against its citations' snapshots.

Only URLs whose citations have a fingerprinted snapshot are fingerprinted
(`wants`), from the body the check already read: no request is added. Only a
page that answered as itself (2xx, not a soft 404, not a bot wall) is
compared; any other answer leaves the last comparison as it was. Drift never
touches the URL's state: it is stored beside it.
"""

from __future__ import annotations

import datetime as dt

from linkwatch.drift.prints import from_text, is_drift, similarity
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

    def judge(self, url_id: int, result: CheckResult, now: dt.datetime) -> None:
        """Compare and keep the comparisons for the next write (`take`)."""
        if not is_comparable(result):
            return
        assert result.content is not None
        for target in self._targets.get(url_id, ()):
            value = similarity(self._print(target), result.content)
            drifted = is_drift(value)
            self.drifted += drifted
            self.pending.append(
                DriftRecord(
                    target.release_path, target.url_key, target.archive_url, value, drifted, now
                )
            )

    def take(self) -> list[DriftRecord]:
        taken, self.pending = self.pending, []
        return taken
