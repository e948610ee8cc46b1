"""Check results: each URL's current verdict, its schedule and its run-length history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from linkwatch.check.verdict import Streak, Verdict
from linkwatch.model import CheckResult, ProbeAnswer, State
from linkwatch.redact import redact
from linkwatch.store.base import StoreBase, optional_state, state_of
from linkwatch.text import from_iso, iso_utc


def m0003_history(db: Database) -> None:
    """Run-length status history, the check schedule and the failure streak per URL."""
    urls = db.table("urls")
    urls.add_column("error", str)
    urls.add_column("reason", str)
    urls.add_column("title", str)
    urls.add_column("next_check_at", str)
    urls.add_column("streak_failures", int, not_null_default=0)
    urls.add_column("streak_since", str)
    db.execute("CREATE INDEX idx_urls_next_check_at ON urls (next_check_at)")
    db.table("history").create(
        {
            "id": int,
            "url_id": int,
            "state": str,
            "http_status": int,
            "error": str,
            "first_at": str,
            "last_at": str,
            "count": int,
        },
        pk="id",
        foreign_keys=[("url_id", "urls", "id")],
    )
    db.table("history").create_index(["url_id", "id"])


def m0007_state_since(db: Database) -> None:
    """When each URL entered its current state, kept with the state rather than read back
    from the whole history by every report; filled from the history it already has."""
    db.table("urls").add_column("state_since", str)
    since: dict[int, str] = {}
    last_url, last_state = None, None
    for url_id, state, first_at in db.execute(
        "SELECT url_id, state, first_at FROM history ORDER BY url_id, id"
    ):
        if url_id != last_url or state != last_state:
            since[url_id] = first_at
            last_url, last_state = url_id, state
    db.conn.executemany(
        "UPDATE urls SET state_since = ? WHERE id = ?", [(at, uid) for uid, at in since.items()]
    )


def m0008_probes(db: Database) -> None:
    """Each site's answer to a path that cannot exist, kept between check runs."""
    db.table("probes").create(
        {
            "origin": str,
            "asked_at": str,
            "status": int,
            "final_url": str,
            "redirected": int,
            "title": str,
            "fingerprint": str,
        },
        pk="origin",
    )


def m0011_probes_by_shape(db: Database) -> None:
    """Probe answers kept per site AND URL shape ('/news/view/#'; '' for a random path),
    and compared by their gist (main text, variable parts discounted). Answers kept
    before were fingerprinted otherwise, so they are dropped: each site is asked again
    once."""
    db.table("probes").drop()
    db.table("probes").create(
        {
            "origin": str,
            "shape": str,
            "asked_at": str,
            "status": int,
            "final_url": str,
            "redirected": int,
            "title": str,
            "fingerprint": str,
            "words": int,
        },
        pk=("origin", "shape"),
    )


@dataclass(frozen=True, slots=True)
class UrlToCheck:
    """A URL due for a check, with what the verdict needs from its past."""

    id: int
    key: str
    url: str
    state: State
    pinned: State | None
    streak: Streak


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """One finished check, judged, ready to be stored."""

    url_id: int
    result: CheckResult
    verdict: Verdict
    next_check_at: dt.datetime


@dataclass(frozen=True, slots=True)
class HistorySpan:
    """A run of identical outcomes: one row however many checks it covers."""

    state: State
    http_status: int | None
    error: str | None
    first_at: str
    last_at: str
    count: int


@dataclass(frozen=True, slots=True)
class UrlStatus:
    id: int
    key: str
    url: str
    state: State
    pinned: State | None
    http_status: int | None
    final_url: str | None
    error: str | None
    reason: str | None
    last_checked: str | None
    next_check_at: str | None
    invalid: str | None


# A URL is worth checking while at least one present release cites it.
_CITED = (
    "EXISTS (SELECT 1 FROM citations c JOIN releases r ON r.id = c.release_id "
    "WHERE c.url_id = urls.id AND r.missing = 0)"
)
_TO_CHECK = "SELECT id, key, url, state, pinned, streak_failures, streak_since FROM urls"
_STATUS = (
    "SELECT id, key, url, state, pinned, http_status, final_url, error, reason, last_checked, "
    "next_check_at, invalid FROM urls"
)


class ChecksMixin(StoreBase):
    # check ----------------------------------------------------------------

    def urls_to_check(self, now: dt.datetime | None = None) -> list[UrlToCheck]:
        """Cited, checkable URLs; only those due at `now` when given (else all)."""
        sql = f"{_TO_CHECK} WHERE invalid IS NULL AND {_CITED}"
        params: list[str] = []
        if now is not None:
            sql += " AND (next_check_at IS NULL OR next_check_at <= ?)"
            params.append(iso_utc(now))
        return [self._to_check(row) for row in self.db.execute(sql + " ORDER BY id", params)]

    def url_to_check(self, key: str) -> UrlToCheck | None:
        row = self.db.execute(f"{_TO_CHECK} WHERE key = ?", [key]).fetchone()
        return None if row is None else self._to_check(row)

    @staticmethod
    def _to_check(row: tuple[Any, ...]) -> UrlToCheck:
        uid, key, url, state, pinned, failures, since = row
        return UrlToCheck(
            id=int(uid),
            key=str(key),
            url=str(url),
            state=State(state),
            pinned=State(pinned) if pinned else None,
            streak=Streak(failures=int(failures), first_failure_at=from_iso(since)),
        )

    def record_checks(self, records: Sequence[CheckRecord]) -> None:
        """Store judged checks in one transaction: current state, schedule, history.

        History is run-length encoded: a new span only when state, HTTP status
        or error kind changes, else the last span's `last_at` and `count` move.
        """
        with self.db.atomic():
            for record in records:
                self._record_check(record)

    def _record_check(self, record: CheckRecord) -> None:
        result, verdict = record.result, record.verdict
        stamp = iso_utc(result.checked_at)
        error = result.error.value if result.error else None
        streak = verdict.streak
        # The right-hand side reads the row as it was: state_since moves only on a change.
        self.db.execute(
            "UPDATE urls SET state_since = CASE WHEN state = ? AND state_since IS NOT NULL "
            "THEN state_since ELSE ? END, state = ?, http_status = ?, final_url = ?, "
            "last_checked = ?, error = ?, reason = ?, title = ?, next_check_at = ?, "
            "streak_failures = ?, streak_since = ? WHERE id = ?",
            [
                verdict.state.value,
                stamp,
                verdict.state.value,
                result.status,
                result.final_url,
                stamp,
                error,
                redact(verdict.reason),  # quotes what the site answered
                None if result.title is None else redact(result.title),
                iso_utc(record.next_check_at),
                streak.failures,
                iso_utc(streak.first_failure_at) if streak.first_failure_at else None,
                record.url_id,
            ],
        )
        last = self.db.execute(
            "SELECT id, state, http_status, error FROM history WHERE url_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [record.url_id],
        ).fetchone()
        if last is not None and tuple(last[1:]) == (verdict.state.value, result.status, error):
            self.db.execute(
                "UPDATE history SET last_at = ?, count = count + 1 WHERE id = ?", [stamp, last[0]]
            )
        else:
            self.db.execute(
                "INSERT INTO history (url_id, state, http_status, error, first_at, last_at, "
                "count) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [record.url_id, verdict.state.value, result.status, error, stamp, stamp],
            )

    def probe_answers(self, since: dt.datetime) -> list[ProbeAnswer]:
        """The sites' answers to a nonsense path (per URL shape) asked at or after `since`."""
        rows = self.db.execute(
            "SELECT origin, asked_at, status, final_url, redirected, title, fingerprint, "
            "shape, words FROM probes WHERE asked_at >= ?",
            [iso_utc(since)],
        )
        return [
            ProbeAnswer(origin, dt.datetime.fromisoformat(at), status, final, bool(redirected),
                        title, print_, shape, words)
            for origin, at, status, final, redirected, title, print_, shape, words in rows
        ]  # fmt: skip

    def save_probe_answers(self, answers: Sequence[ProbeAnswer]) -> None:
        """Keep answers, replacing a site's older one for the same shape."""
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO probes (origin, shape, asked_at, status, final_url, "
                "redirected, title, fingerprint, words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (a.origin, a.shape, iso_utc(a.asked_at), a.status, a.final_url,
                     int(a.redirected), a.title, a.fingerprint, a.words)
                    for a in answers
                ],
            )  # fmt: skip

    def url_status(self, key: str) -> UrlStatus | None:
        row = self.db.execute(f"{_STATUS} WHERE key = ?", [key]).fetchone()
        if row is None:
            return None
        uid, key, url, state, pinned, *rest = row
        return UrlStatus(uid, key, url, state_of(state), optional_state(pinned), *rest)

    def history(self, url_id: int) -> list[HistorySpan]:
        return [
            HistorySpan(state_of(row[0]), *row[1:])
            for row in self.db.execute(
                "SELECT state, http_status, error, first_at, last_at, count FROM history "
                "WHERE url_id = ? ORDER BY id",
                [url_id],
            )
        ]

    def set_pin(self, url_id: int, state: State | None) -> None:
        """Pin a human's verdict (None unpins); checks keep recording the evidence."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE urls SET pinned = ? WHERE id = ?",
                [state.value if state else None, url_id],
            )
