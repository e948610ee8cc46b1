"""A release citing given URLs, and those URLs judged alive: what many tests start from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from linkwatch.check.verdict import Streak, Verdict
from linkwatch.model import CheckResult, State
from linkwatch.store import CheckRecord, Store


def write_release(root: Path, urls: Sequence[str]) -> Path:
    """`root/releases/r.md`, a Markdown release citing `urls` as footnotes, in that order."""
    (root / "releases").mkdir(exist_ok=True)
    notes = "\n\n".join(f"[^{n}]: <{url}>" for n, url in enumerate(urls, start=1))
    refs = " ".join(f"[^{n}]" for n in range(1, len(urls) + 1))
    release = root / "releases" / "r.md"
    release.write_text(f"Warsaw, 7 April 2016\n\nText {refs}\n\n{notes}\n")
    return release


def checked_alive(store: Store, urls: Sequence[str], at: dt.datetime) -> None:
    """Every URL of `urls` (already scanned) checked alive at `at`, due again a day later."""
    ids = {target.key: target.id for target in store.urls_to_check()}
    store.record_checks(
        [
            CheckRecord(
                ids[url],
                CheckResult(url=url, checked_at=at, status=200),
                Verdict(State.ALIVE, Streak(), "alive in the test"),
                at + dt.timedelta(days=1),
            )
            for url in urls
        ]
    )
