"""Archive look-ups, the persistent save queue and each citation's chosen snapshot.

The chosen snapshot is keyed by (release path, URL key), not by citation row:
citation rows are replaced whenever a release changes, while the choice (the
capture closest to that release's publication date) stays right as long as
the release cites the URL.

Look-ups and the save queue are kept per archive (`source`: the backend's
name), so switching `archive.backend` starts that archive's own look-ups and
saves, while captures already found in the other one stay candidates for
the choice.

The queue is crash-safe by construction: an attempt is written down
(`attempt_started_at`) before the archive is asked, and cleared with its
outcome in one transaction. An attempt still written down when a run starts
was interrupted: the archive may have made the capture, so the run looks
before it saves again. Every save request's start goes to `save_starts`, so
the pace holds across restarts and processes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from linkwatch.model import QueueStatus, Snapshot, State
from linkwatch.redact import redact, redact_optional
from linkwatch.store.base import SAME_ARCHIVE, StoreBase
from linkwatch.text import from_iso, iso_utc

_PACE_KEEP = 3600.0  # seconds of save starts kept; pacing needs only the last minute


def m0004_archive(db: Database) -> None:
    """Snapshots known per URL, look-up bookkeeping, the save queue, choices per citation."""
    db.table("snapshots").create(
        {
            "id": int,
            "url_id": int,
            "archive_url": str,
            "timestamp": str,  # capture time, ISO 8601 UTC
            "status": int,  # HTTP status the archive recorded for the capture
            "source": str,  # backend name: wayback, pywb
            "found_at": str,
            "saved_by_us": int,
            "verified_at": str,  # replayed and found to be a real page
            "rejected": str,  # why its replay is not the cited page (never offered then)
        },
        pk="id",
        foreign_keys=[("url_id", "urls", "id")],
        defaults={"saved_by_us": 0},
    )
    db.table("snapshots").create_index(["url_id", "timestamp", "source"], unique=True)
    db.table("archive_lookups").create(
        {
            "url_id": int,
            "source": str,
            "looked_up_at": str,
            "next_lookup_at": str,
            "error": str,
            "captures": int,
        },
        pk=("url_id", "source"),
        foreign_keys=[("url_id", "urls", "id")],
        not_null={"source"},
        defaults={"source": "wayback"},
    )
    db.table("save_queue").create(
        {
            "url_id": int,
            "source": str,
            "status": str,  # queued, saved, fresh, refused, failed, dropped
            "queued_at": str,
            "attempts": int,
            "next_attempt_at": str,
            "reason": str,  # why refused or why the last attempt failed
            "archive_url": str,  # the capture, once saved
            "done_at": str,
            "attempt_started_at": str,  # set while an attempt may be in flight
        },
        pk=("url_id", "source"),
        foreign_keys=[("url_id", "urls", "id")],
        not_null={"source"},
        defaults={"attempts": 0, "source": "wayback"},
    )
    db.table("save_queue").create_index(["source", "status", "next_attempt_at", "url_id"])
    db.table("save_starts").create({"id": int, "source": str, "at": float}, pk="id")
    db.table("save_starts").create_index(["source", "at"])
    db.table("archive_pause").create(
        {"source": str, "paused_until": str, "streak": int, "reason": str},
        pk="source",
        defaults={"streak": 0},
    )
    db.table("citation_snapshots").create(
        {
            "release_path": str,
            "url_key": str,
            "archive_url": str,
            "timestamp": str,
            "status": int,
            "chosen_at": str,
        },
        pk=("release_path", "url_key"),
    )


def m0010_archive_lookups(db: Database) -> None:
    """Look-ups in several archives: which one holds each chosen copy, and archives at rest."""
    db.table("citation_snapshots").add_column("source", str)
    db.table("archive_rests").create(
        {"source": str, "rested_until": str, "reason": str},
        pk="source",
    )


@dataclass(frozen=True, slots=True)
class ChosenSnapshot:
    """The capture a citation's rewrite and report point readers to."""

    archive_url: str
    timestamp: dt.datetime
    status: int | None = None
    source: str | None = None  # the archive holding it (`snapshots.source`)


@dataclass(frozen=True, slots=True)
class ArchiveEvent:
    """A save that ended (saved or refused), for the digest."""

    kind: QueueStatus  # SAVED or REFUSED
    url: str
    archive_url: str | None
    reason: str | None
    at: str


@dataclass(frozen=True, slots=True)
class UrlRef:
    id: int
    url: str  # the normalised key: what is looked up and saved


@dataclass(frozen=True, slots=True)
class LookupRecord:
    """One finished look-up, ready to be stored."""

    url_id: int
    snapshots: Sequence[Snapshot]
    looked_up_at: dt.datetime
    next_lookup_at: dt.datetime
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SaveCandidate:
    """A looked-up URL with what the save policy needs to know about it."""

    url_id: int
    url: str
    state: State  # the pin when pinned, else the evidence
    newest_capture: dt.datetime | None  # in this archive
    queue_status: QueueStatus | None
    queue_done_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class QueuedSave:
    """A queue entry due for an attempt."""

    url_id: int
    url: str
    state: State
    attempts: int
    attempt_started_at: dt.datetime | None  # set: an earlier attempt was interrupted
    looked_up: bool = False  # this archive answered a look-up of the URL


@dataclass(frozen=True, slots=True)
class CitationToChoose:
    """A cited URL in one release, with the date its snapshot should be closest to."""

    release_path: str
    url_key: str
    url_id: int
    published: dt.date


@dataclass(frozen=True, slots=True)
class Refusal:
    url: str
    reason: str | None
    at: str | None


@dataclass(frozen=True, slots=True)
class QueueState:
    """What `archive --status` shows."""

    counts: dict[QueueStatus, int]  # queue entries by status
    due_now: int
    next_attempt_at: dt.datetime | None  # earliest queued entry's next attempt
    paused_until: dt.datetime | None
    pause_reason: str | None
    last_save_start: dt.datetime | None
    refusals: list[Refusal]
    looked_up: int
    not_looked_up: int


# A URL is worth archiving while at least one present release cites it.
_CITED = (
    "EXISTS (SELECT 1 FROM citations c JOIN releases r ON r.id = c.release_id "
    "WHERE c.url_id = u.id AND r.missing = 0 AND r.sha256 IS NOT NULL)"
)


def _iso_up(moment: dt.datetime) -> str:
    """ISO seconds, rounded up: a wait stored as a deadline must never end early."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + dt.timedelta(seconds=1)
    return iso_utc(moment)


class ArchiveMixin(StoreBase):
    """Queries of the archive concern; SQL stays inside the store package."""

    def set_chosen_snapshot(
        self, release_path: str, url_key: str, snapshot: ChosenSnapshot | None, now: dt.datetime
    ) -> None:
        """Record (or with None, forget) the snapshot chosen for one citation."""
        with self.db.atomic():
            if snapshot is None:
                self.db.execute(
                    "DELETE FROM citation_snapshots WHERE release_path = ? AND url_key = ?",
                    [release_path, url_key],
                )
                return
            self.db.execute(
                "INSERT INTO citation_snapshots (release_path, url_key, archive_url, timestamp, "
                "status, chosen_at, source) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(release_path, url_key) DO UPDATE SET "
                "archive_url = excluded.archive_url, timestamp = excluded.timestamp, "
                "status = excluded.status, chosen_at = excluded.chosen_at, "
                "source = excluded.source",
                [
                    release_path,
                    url_key,
                    snapshot.archive_url,
                    iso_utc(snapshot.timestamp),
                    snapshot.status,
                    iso_utc(now),
                    snapshot.source,
                ],
            )

    def chosen_snapshots(self) -> dict[tuple[str, str], ChosenSnapshot]:
        """Every chosen snapshot, keyed by (release path, URL key)."""
        result: dict[tuple[str, str], ChosenSnapshot] = {}
        for path, key, url, stamp, status, source in self.db.execute(
            "SELECT release_path, url_key, archive_url, timestamp, status, source "
            "FROM citation_snapshots"
        ):
            moment = from_iso(stamp)
            if moment is not None:
                result[(path, key)] = ChosenSnapshot(url, moment, status, source)
        return result

    # archives at rest -------------------------------------------------------

    def archive_rests(self, now: dt.datetime) -> dict[str, tuple[dt.datetime, str | None]]:
        """Archives left alone until a moment after `now`: source -> (until, why)."""
        rests: dict[str, tuple[dt.datetime, str | None]] = {}
        for source, until, reason in self.db.execute(
            "SELECT source, rested_until, reason FROM archive_rests WHERE rested_until > ?",
            [iso_utc(now)],
        ):
            moment = from_iso(until)
            if moment is not None:
                rests[str(source)] = (moment, reason)
        return rests

    def rest_archive(self, source: str, until: dt.datetime, reason: str) -> None:
        """Leave `source` alone until `until` (it refused, failed or did not answer)."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO archive_rests (source, rested_until, reason) VALUES (?, ?, ?) "
                "ON CONFLICT(source) DO UPDATE SET rested_until = excluded.rested_until, "
                "reason = excluded.reason",
                [source, _iso_up(until), redact(reason)],
            )

    def verified_captures(self, url_ids: Iterable[int]) -> dict[int, list[Snapshot]]:
        """Captures whose replay was found to be a real page, per URL, oldest first."""
        result: dict[int, list[Snapshot]] = {}
        for row in self._snapshot_rows(
            "url_id, archive_url, timestamp, status, source",
            url_ids,
            "AND verified_at IS NOT NULL AND rejected IS NULL ORDER BY url_id, timestamp",
        ):
            result.setdefault(int(row[0]), []).append(_snapshot(row[1:]))
        return result

    def _snapshot_rows(
        self, columns: str, url_ids: Iterable[int], condition: str
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of `snapshots` for `url_ids`, read 500 ids at a time (SQLite bounds the
        number of parameters of one statement)."""
        ids = list(url_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                f"SELECT {columns} FROM snapshots WHERE url_id IN ({marks}) {condition}", chunk
            )

    def archive_events(self, since: dt.datetime) -> list[ArchiveEvent]:
        """Saves that ended in `saved` or `refused` at or after `since`, oldest first."""
        return [
            ArchiveEvent(QueueStatus(status), url, archive_url, reason, at)
            for status, url, archive_url, reason, at in self.db.execute(
                "SELECT q.status, u.url, q.archive_url, q.reason, q.done_at FROM save_queue q "
                "JOIN urls u ON u.id = q.url_id "
                "WHERE q.status IN ('saved', 'refused') AND q.done_at >= ? ORDER BY q.done_at",
                [iso_utc(since)],
            )
        ]

    # look-ups -------------------------------------------------------------

    def urls_to_look_up(self, source: str, now: dt.datetime) -> list[UrlRef]:
        """Cited, valid URLs never looked up in `source`, or due for another look."""
        rows = self.db.execute(
            "SELECT u.id, u.key FROM urls u LEFT JOIN archive_lookups l "
            "ON l.url_id = u.id AND l.source = ? "
            f"WHERE u.invalid IS NULL AND {_CITED} "
            "AND (l.url_id IS NULL OR l.next_lookup_at <= ?) ORDER BY u.id",
            [source, iso_utc(now)],
        ).fetchall()
        return [UrlRef(int(uid), str(key)) for uid, key in rows]

    def record_lookups(self, source: str, records: Sequence[LookupRecord]) -> None:
        """Store finished look-ups in one transaction; known captures keep their verdicts."""
        with self.db.atomic():
            for record in records:
                self._add_snapshots(record.url_id, record.snapshots, record.looked_up_at)
                self.db.execute(
                    "INSERT INTO archive_lookups (url_id, source, looked_up_at, next_lookup_at, "
                    "error, captures) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(url_id, source) DO UPDATE SET "
                    "looked_up_at = excluded.looked_up_at, "
                    "next_lookup_at = excluded.next_lookup_at, error = excluded.error, "
                    "captures = COALESCE(excluded.captures, captures)",
                    [
                        record.url_id,
                        source,
                        iso_utc(record.looked_up_at),
                        _iso_up(record.next_lookup_at),
                        redact_optional(record.error),
                        None if record.error else len(record.snapshots),
                    ],
                )

    def _add_snapshots(
        self,
        url_id: int,
        snapshots: Iterable[Snapshot],
        found_at: dt.datetime,
        *,
        saved_by_us: bool = False,
        verified: bool = False,
    ) -> None:
        stamp = iso_utc(found_at)
        self.db.conn.executemany(
            "INSERT INTO snapshots (url_id, archive_url, timestamp, status, source, found_at, "
            "saved_by_us, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(url_id, timestamp, source) DO UPDATE SET "
            "status = COALESCE(excluded.status, status), "
            "saved_by_us = MAX(saved_by_us, excluded.saved_by_us), "
            "verified_at = COALESCE(verified_at, excluded.verified_at)",
            [
                (
                    url_id,
                    s.archive_url,
                    iso_utc(s.timestamp),
                    s.status,
                    s.source,
                    stamp,
                    int(saved_by_us),
                    stamp if verified else None,
                )
                for s in snapshots
            ],
        )

    def record_snapshot(
        self, url_id: int, snapshot: Snapshot, found_at: dt.datetime, *, saved_by_us: bool = False
    ) -> None:
        """Keep one capture (e.g. of an error page a save got) without touching the queue."""
        with self.db.atomic():
            self._add_snapshots(url_id, [snapshot], found_at, saved_by_us=saved_by_us)

    def lookup_counts(self, source: str) -> tuple[int, int]:
        """(cited URLs looked up in `source`, cited valid URLs not yet looked up)."""
        done, missing = self.db.execute(
            "SELECT count(l.url_id), count(*) - count(l.url_id) FROM urls u "
            "LEFT JOIN archive_lookups l ON l.url_id = u.id AND l.source = ? "
            f"WHERE u.invalid IS NULL AND {_CITED}",
            [source],
        ).fetchone()
        return int(done), int(missing)

    # the save policy's view -------------------------------------------------

    def save_candidates(self, source: str, *, looked_up: bool = True) -> list[SaveCandidate]:
        """Every cited URL looked up in `source`, with its state, newest capture and entry.

        `looked_up=False` is for an archive the run only saves to (Perma.cc): every
        cited URL, its newest capture being the newest known in that archive.
        """
        lookup_join = (
            "JOIN archive_lookups l ON l.url_id = u.id AND l.source = ? " if looked_up else ""
        )
        rows = self.db.execute(
            "SELECT u.id, u.key, COALESCE(u.pinned, u.state), "
            "(SELECT max(s.timestamp) FROM snapshots s WHERE s.url_id = u.id AND s.source = ? "
            "AND s.status BETWEEN 200 AND 399 AND s.rejected IS NULL), q.status, q.done_at "
            f"FROM urls u {lookup_join}"
            "LEFT JOIN save_queue q ON q.url_id = u.id AND q.source = ? "
            f"WHERE u.invalid IS NULL AND {_CITED} ORDER BY u.id",
            [source, source, source] if looked_up else [source, source],
        ).fetchall()
        return [
            SaveCandidate(
                url_id=int(uid),
                url=str(key),
                state=State(state),
                newest_capture=from_iso(newest),
                queue_status=None if status is None else QueueStatus(status),
                queue_done_at=from_iso(done_at),
            )
            for uid, key, state, newest, status, done_at in rows
        ]

    def enqueue_saves(self, source: str, url_ids: Iterable[int], now: dt.datetime) -> int:
        """Queue saves (a finished entry starts over); returns how many were queued."""
        stamp = iso_utc(now)
        with self.db.atomic():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "INSERT INTO save_queue (url_id, source, status, queued_at, attempts, "
                "next_attempt_at) VALUES (?, ?, 'queued', ?, 0, ?) "
                "ON CONFLICT(url_id, source) DO UPDATE SET status = 'queued', "
                "queued_at = excluded.queued_at, attempts = 0, "
                "next_attempt_at = excluded.next_attempt_at, reason = NULL, "
                "archive_url = NULL, done_at = NULL, attempt_started_at = NULL "
                "WHERE save_queue.status NOT IN ('queued', 'refused')",
                [(uid, source, stamp, stamp) for uid in url_ids],
            )
            return self.db.conn.total_changes - before

    # the queue --------------------------------------------------------------

    def next_due_save(self, source: str, now: dt.datetime) -> QueuedSave | None:
        """The queued entry that has waited longest among those due at `now`."""
        row = self.db.execute(
            "SELECT q.url_id, u.key, COALESCE(u.pinned, u.state), q.attempts, "
            "q.attempt_started_at, EXISTS (SELECT 1 FROM archive_lookups l "
            "WHERE l.url_id = q.url_id AND l.source = q.source AND l.error IS NULL) "
            "FROM save_queue q JOIN urls u ON u.id = q.url_id "
            "WHERE q.source = ? AND q.status = 'queued' AND q.next_attempt_at <= ? "
            "ORDER BY q.next_attempt_at, q.url_id LIMIT 1",
            [source, iso_utc(now)],
        ).fetchone()
        if row is None:
            return None
        uid, key, state, attempts, started, looked_up = row
        return QueuedSave(
            int(uid), str(key), State(state), int(attempts), from_iso(started), bool(looked_up)
        )

    def hold_queue(self, source: str, until: dt.datetime, reason: str) -> None:
        """Every queued save to `source` waits until `until` (a daily cap), with the reason.

        The entries stay queued and keep their tries: the cap is the account's,
        not the pages'. The pause says the same for `archive --status`.
        """
        with self.db.atomic():
            self.db.execute(
                "UPDATE save_queue SET next_attempt_at = max(next_attempt_at, ?), reason = ? "
                "WHERE source = ? AND status = 'queued'",
                [_iso_up(until), redact(reason), source],
            )
            self.db.execute(
                "INSERT INTO archive_pause (source, paused_until, streak, reason) "
                "VALUES (?, ?, 0, ?) ON CONFLICT(source) DO UPDATE SET "
                "paused_until = excluded.paused_until, reason = excluded.reason",
                [source, _iso_up(until), redact(reason)],
            )

    def start_save_attempt(self, source: str, url_id: int, at: dt.datetime) -> None:
        """Write the attempt down before the archive is asked (see the module docstring)."""
        when = at.timestamp()
        with self.db.atomic():
            self.db.execute(
                "UPDATE save_queue SET attempts = attempts + 1, attempt_started_at = ? "
                "WHERE url_id = ? AND source = ?",
                [iso_utc(at), url_id, source],
            )
            self.db.execute("INSERT INTO save_starts (source, at) VALUES (?, ?)", [source, when])
            self.db.execute(
                "DELETE FROM save_starts WHERE source = ? AND at < ?", [source, when - _PACE_KEEP]
            )

    def recent_save_starts(self, source: str, since: float) -> list[float]:
        """Start times (epoch seconds) of save requests after `since`, oldest first."""
        return [
            float(at)
            for (at,) in self.db.execute(
                "SELECT at FROM save_starts WHERE source = ? AND at > ? ORDER BY at",
                [source, since],
            )
        ]

    def finish_save(
        self,
        source: str,
        url_id: int,
        status: QueueStatus,
        now: dt.datetime,
        *,
        reason: str | None = None,
        snapshot: Snapshot | None = None,
        saved_by_us: bool = False,
    ) -> None:
        """End an entry (saved, fresh, refused, failed, dropped) and keep its capture."""
        with self.db.atomic():
            if snapshot is not None:
                self._add_snapshots(
                    url_id, [snapshot], now, saved_by_us=saved_by_us, verified=False
                )
            self.db.execute(
                "UPDATE save_queue SET status = ?, reason = ?, archive_url = ?, done_at = ?, "
                "attempt_started_at = NULL WHERE url_id = ? AND source = ?",
                [
                    status.value,
                    redact_optional(reason),
                    snapshot.archive_url if snapshot else None,
                    iso_utc(now),
                    url_id,
                    source,
                ],
            )

    def retry_save(
        self,
        source: str,
        url_id: int,
        next_attempt_at: dt.datetime,
        reason: str,
        *,
        attempt_unsettled: bool = False,
        refund: bool = False,
    ) -> None:
        """Leave an entry queued for a later attempt.

        `attempt_unsettled` keeps the attempt written down: the archive may
        have made a capture we could not confirm, so the next attempt looks
        first. `refund` gives the attempt back (a rate limit is not the
        page's fault and must not use up its tries).
        """
        with self.db.atomic():
            self.db.execute(
                "UPDATE save_queue SET next_attempt_at = ?, reason = ?, "
                "attempt_started_at = CASE WHEN ? THEN attempt_started_at END, "
                "attempts = attempts - ? WHERE url_id = ? AND source = ?",
                [
                    _iso_up(next_attempt_at),
                    redact(reason),
                    int(attempt_unsettled),
                    int(refund),
                    url_id,
                    source,
                ],
            )

    def pause(self, source: str) -> tuple[dt.datetime | None, int]:
        """(until when saves to `source` wait, rate limits in a row)."""
        row = self.db.execute(
            "SELECT paused_until, streak FROM archive_pause WHERE source = ?", [source]
        ).fetchone()
        return (None, 0) if row is None else (from_iso(row[0]), int(row[1]))

    def set_pause(
        self, source: str, until: dt.datetime | None, streak: int, reason: str | None = None
    ) -> None:
        """Pause every save to `source` until `until` (None: no pause) after a rate limit."""
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO archive_pause (source, paused_until, streak, reason) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(source) DO UPDATE SET "
                "paused_until = excluded.paused_until, streak = excluded.streak, "
                "reason = excluded.reason",
                [
                    source,
                    None if until is None else _iso_up(until),
                    streak,
                    redact_optional(reason),
                ],
            )

    def queue_state(self, source: str, now: dt.datetime) -> QueueState:
        counts = {
            QueueStatus(status): int(n)
            for status, n in self.db.execute(
                "SELECT status, count(*) FROM save_queue WHERE source = ? GROUP BY status",
                [source],
            )
        }
        due, next_at = self.db.execute(
            "SELECT count(*) FILTER (WHERE next_attempt_at <= ?), min(next_attempt_at) "
            "FROM save_queue WHERE source = ? AND status = 'queued'",
            [iso_utc(now), source],
        ).fetchone()
        pause = self.db.execute(
            "SELECT paused_until, reason FROM archive_pause WHERE source = ?", [source]
        ).fetchone()
        last = self.db.execute(
            "SELECT max(at) FROM save_starts WHERE source = ?", [source]
        ).fetchone()[0]
        refusals = [
            Refusal(str(url), reason, done_at)
            for url, reason, done_at in self.db.execute(
                "SELECT u.url, q.reason, q.done_at FROM save_queue q JOIN urls u "
                "ON u.id = q.url_id WHERE q.source = ? AND q.status = 'refused' "
                "ORDER BY q.done_at, u.url",
                [source],
            )
        ]
        looked_up, not_looked_up = self.lookup_counts(source)
        return QueueState(
            counts=counts,
            due_now=int(due),
            next_attempt_at=from_iso(next_at),
            paused_until=from_iso(pause[0]) if pause else None,
            pause_reason=pause[1] if pause else None,
            last_save_start=None if last is None else dt.datetime.fromtimestamp(last, dt.UTC),
            refusals=refusals,
            looked_up=looked_up,
            not_looked_up=not_looked_up,
        )

    def preservation(self) -> tuple[int, int, int]:
        """(cited valid URLs, those an archive holds a verified capture of, those two or more
        archives hold). Verified: replayed and found to be the page (a TimeMap's capture has
        no status until then), or saved by us (a save is recorded only once the archive
        replays it)."""
        total, once, several = self.db.execute(
            "SELECT count(*), count(*) FILTER (WHERE n >= 1), count(*) FILTER (WHERE n >= 2) "
            f"FROM (SELECT (SELECT count(DISTINCT {SAME_ARCHIVE}) FROM snapshots "
            "WHERE url_id = u.id AND rejected IS NULL "
            "AND (status IS NULL OR status BETWEEN 200 AND 399) "
            "AND (verified_at IS NOT NULL OR saved_by_us = 1)) AS n "
            f"FROM urls u WHERE u.invalid IS NULL AND {_CITED})"
        ).fetchone()
        return int(total), int(once), int(several)

    # choosing -------------------------------------------------------------

    def citations_to_choose(self) -> list[CitationToChoose]:
        """Each (present release, cited valid URL) pair once, with the release's date."""
        rows = self.db.execute(
            "SELECT DISTINCT r.path, u.key, u.id, r.published FROM citations c "
            "JOIN releases r ON r.id = c.release_id JOIN urls u ON u.id = c.url_id "
            "WHERE r.missing = 0 AND r.sha256 IS NOT NULL AND r.published IS NOT NULL "
            "AND u.invalid IS NULL ORDER BY u.id, r.path"
        ).fetchall()
        return [
            CitationToChoose(str(path), str(key), int(uid), dt.date.fromisoformat(published))
            for path, key, uid, published in rows
        ]

    def candidate_snapshots(self, url_ids: Iterable[int]) -> dict[int, list[Snapshot]]:
        """Captures of the URLs not known to be errors, from any archive, oldest first.

        A TimeMap records no status (NULL): such captures are candidates too, and
        their replay tells a page from a captured error.
        """
        result: dict[int, list[Snapshot]] = {}
        for row in self._snapshot_rows(
            "url_id, archive_url, timestamp, status, source",
            url_ids,
            "AND rejected IS NULL AND (status IS NULL OR status BETWEEN 200 AND 399) "
            "ORDER BY url_id, timestamp",
        ):
            result.setdefault(int(row[0]), []).append(_snapshot(row[1:]))
        return result

    def verified_snapshots(self, url_ids: Iterable[int]) -> set[str]:
        """Archive URLs of the captures whose replay was already found to be a real page."""
        rows = self._snapshot_rows("archive_url", url_ids, "AND verified_at IS NOT NULL")
        return {str(url) for (url,) in rows}

    def judge_snapshot(
        self, url_id: int, snapshot: Snapshot, rejection: str | None, now: dt.datetime
    ) -> None:
        """Remember a replay's verdict: verified, or rejected with the reason."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE snapshots SET verified_at = CASE WHEN ? IS NULL THEN ? END, "
                "rejected = ? WHERE url_id = ? AND timestamp = ? AND source = ?",
                [
                    redact_optional(rejection),
                    iso_utc(now),
                    redact_optional(rejection),
                    url_id,
                    iso_utc(snapshot.timestamp),
                    snapshot.source,
                ],
            )


def _snapshot(row: Sequence[Any]) -> Snapshot:
    archive_url, stamp, status, source = row
    moment = from_iso(stamp)
    assert moment is not None  # NOT NULL in every row this module writes
    return Snapshot(str(archive_url), moment, status, str(source))
