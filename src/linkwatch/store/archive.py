"""Archive look-ups, the persistent save queue and each citation's chosen snapshot.

The chosen snapshot is keyed by (release path, URL key), not by citation row:
citation rows are replaced whenever a release changes, while the choice (the
capture closest to that release's publication date) stays right as long as
the release cites the URL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlite_utils import Database

from linkwatch.store.base import StoreBase, from_iso, iso_utc


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
        },
        pk="id",
        foreign_keys=[("url_id", "urls", "id")],
        defaults={"saved_by_us": 0},
    )
    db.table("snapshots").create_index(["url_id", "timestamp", "source"], unique=True)
    db.table("archive_lookups").create(
        {"url_id": int, "looked_up_at": str, "next_lookup_at": str, "error": str},
        pk="url_id",
        foreign_keys=[("url_id", "urls", "id")],
    )
    db.table("save_queue").create(
        {
            "url_id": int,
            "status": str,  # queued, saved, fresh, refused, failed
            "queued_at": str,
            "attempts": int,
            "next_attempt_at": str,
            "reason": str,  # why refused or why the last attempt failed
            "archive_url": str,  # the capture, once saved
            "done_at": str,
        },
        pk="url_id",
        foreign_keys=[("url_id", "urls", "id")],
        defaults={"attempts": 0},
    )
    db.table("save_queue").create_index(["status", "next_attempt_at"])
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


@dataclass(frozen=True, slots=True)
class ChosenSnapshot:
    """The capture a citation's rewrite and report point readers to."""

    archive_url: str
    timestamp: dt.datetime
    status: int | None = None


@dataclass(frozen=True, slots=True)
class ArchiveEvent:
    """A save that ended (saved or refused), for the digest."""

    kind: str  # "saved" or "refused"
    url: str
    archive_url: str | None
    reason: str | None
    at: str


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
                "status, chosen_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(release_path, url_key) DO UPDATE SET "
                "archive_url = excluded.archive_url, timestamp = excluded.timestamp, "
                "status = excluded.status, chosen_at = excluded.chosen_at",
                [
                    release_path,
                    url_key,
                    snapshot.archive_url,
                    iso_utc(snapshot.timestamp),
                    snapshot.status,
                    iso_utc(now),
                ],
            )

    def chosen_snapshots(self) -> dict[tuple[str, str], ChosenSnapshot]:
        """Every chosen snapshot, keyed by (release path, URL key)."""
        result: dict[tuple[str, str], ChosenSnapshot] = {}
        for path, key, url, stamp, status in self.db.execute(
            "SELECT release_path, url_key, archive_url, timestamp, status FROM citation_snapshots"
        ):
            moment = from_iso(stamp)
            if moment is not None:
                result[(path, key)] = ChosenSnapshot(url, moment, status)
        return result

    def archive_events(self, since: dt.datetime) -> list[ArchiveEvent]:
        """Saves that ended in `saved` or `refused` at or after `since`, oldest first."""
        return [
            ArchiveEvent("saved" if status == "saved" else "refused", url, archive_url, reason, at)
            for status, url, archive_url, reason, at in self.db.execute(
                "SELECT q.status, u.url, q.archive_url, q.reason, q.done_at FROM save_queue q "
                "JOIN urls u ON u.id = q.url_id "
                "WHERE q.status IN ('saved', 'refused') AND q.done_at >= ? ORDER BY q.done_at",
                [iso_utc(since)],
            )
        ]
