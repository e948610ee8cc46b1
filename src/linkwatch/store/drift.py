"""Content drift: each chosen snapshot's fingerprint, each citation's last comparison.

A snapshot's fingerprint is kept by archive URL, so its capture is replayed
once whatever the number of releases and checks that compare with it. A
comparison is kept per (release path, URL key), as the chosen snapshot is:
two releases citing one URL at different dates may have different snapshots,
and one may have drifted from the page while the other has not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from linkwatch.store.base import StoreBase
from linkwatch.text import iso_utc

# Chosen snapshots of present releases' citations, with their URL's id.
_CHOSEN = (
    "FROM citation_snapshots s JOIN urls u ON u.key = s.url_key "
    "JOIN releases r ON r.path = s.release_path AND r.missing = 0 AND r.sha256 IS NOT NULL"
)


def m0014_content_drift(db: Database) -> None:
    """Fingerprints of chosen snapshots, and each citation's last drift comparison."""
    db.table("snapshot_prints").create(
        {
            "archive_url": str,
            "print": str,  # NULL: the replay was not an HTML page with text to compare
            "status": int,  # the replay's HTTP status
            "replayed_at": str,
        },
        pk="archive_url",
    )
    db.table("citation_drift").create(
        {
            "release_path": str,
            "url_key": str,
            "archive_url": str,  # the snapshot compared with
            "similarity": float,  # NULL: too little text on one side to say
            "drifted": int,
            "compared_at": str,
            "drifted_since": str,  # first comparison of the current drifted spell
        },
        pk=("release_path", "url_key"),
        defaults={"drifted": 0},
    )


@dataclass(frozen=True, slots=True)
class DriftTarget:
    """One citation of a URL with a chosen snapshot, and that snapshot's fingerprint."""

    release_path: str
    url_key: str
    archive_url: str
    snapshot_print: str | None  # stored form (drift.prints.to_text); None: none to compare


@dataclass(frozen=True, slots=True)
class SnapshotPrint:
    archive_url: str
    text: str | None
    status: int | None


@dataclass(frozen=True, slots=True)
class DriftRecord:
    release_path: str
    url_key: str
    archive_url: str
    similarity: float | None
    drifted: bool
    compared_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CitationDrift:
    """A citation's last comparison, as reports, history and the digest show it."""

    release_path: str
    url_key: str
    url: str
    archive_url: str
    similarity: float | None
    drifted: bool
    compared_at: str
    drifted_since: str | None


class DriftMixin(StoreBase):
    """Queries of the content-drift concern; SQL stays inside the store package."""

    def drift_targets(self) -> dict[int, list[DriftTarget]]:
        """URL id -> its citations' chosen snapshots whose fingerprint is known."""
        result: dict[int, list[DriftTarget]] = {}
        for uid, path, key, archive_url, text in self.db.execute(
            "SELECT u.id, s.release_path, s.url_key, s.archive_url, p.print "
            f"{_CHOSEN} JOIN snapshot_prints p ON p.archive_url = s.archive_url "
            "WHERE p.print IS NOT NULL ORDER BY u.id, s.release_path"
        ):
            result.setdefault(int(uid), []).append(DriftTarget(path, key, archive_url, text))
        return result

    def snapshots_to_fingerprint(self) -> list[str]:
        """Archive URLs of chosen snapshots never replayed for their fingerprint."""
        return [
            str(url)
            for (url,) in self.db.execute(
                f"SELECT DISTINCT s.archive_url {_CHOSEN} LEFT JOIN snapshot_prints p "
                "ON p.archive_url = s.archive_url WHERE p.archive_url IS NULL "
                "ORDER BY s.archive_url"
            )
        ]

    def save_snapshot_prints(self, prints: Sequence[SnapshotPrint], now: dt.datetime) -> None:
        if not prints:
            return
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO snapshot_prints (archive_url, print, status, replayed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(archive_url) DO UPDATE SET "
                "print = excluded.print, status = excluded.status, "
                "replayed_at = excluded.replayed_at",
                [(p.archive_url, p.text, p.status, iso_utc(now)) for p in prints],
            )

    def record_drift(self, records: Sequence[DriftRecord]) -> None:
        """Store comparisons; a drifted spell keeps the moment it began (against one snapshot)."""
        if not records:
            return
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO citation_drift (release_path, url_key, archive_url, similarity, "
                "drifted, compared_at, drifted_since) VALUES (?, ?, ?, ?, ?, ?, "
                "CASE WHEN ? THEN ? END) "
                "ON CONFLICT(release_path, url_key) DO UPDATE SET "
                "drifted_since = CASE WHEN NOT excluded.drifted THEN NULL "
                "WHEN citation_drift.drifted AND citation_drift.archive_url = excluded.archive_url "
                "THEN citation_drift.drifted_since ELSE excluded.compared_at END, "
                "archive_url = excluded.archive_url, similarity = excluded.similarity, "
                "drifted = excluded.drifted, compared_at = excluded.compared_at",
                [
                    (
                        r.release_path,
                        r.url_key,
                        r.archive_url,
                        r.similarity,
                        int(r.drifted),
                        iso_utc(r.compared_at),
                        int(r.drifted),
                        iso_utc(r.compared_at),
                    )
                    for r in records
                ],
            )

    def citation_drifts(self, url_key: str | None = None) -> list[CitationDrift]:
        """The last comparison of every citation still compared with its chosen snapshot.

        A comparison with a snapshot no longer chosen (a better one was chosen
        since) is left out until the next check compares with the new one.
        """
        where, params = "", []
        if url_key is not None:
            where, params = "AND d.url_key = ? ", [url_key]
        return [
            CitationDrift(path, key, url, archive_url, value, bool(drifted), at, since)
            for path, key, url, archive_url, value, drifted, at, since in self.db.execute(
                "SELECT d.release_path, d.url_key, u.url, d.archive_url, d.similarity, "
                "d.drifted, d.compared_at, d.drifted_since FROM citation_drift d "
                "JOIN citation_snapshots s ON s.release_path = d.release_path "
                "AND s.url_key = d.url_key AND s.archive_url = d.archive_url "
                f"JOIN urls u ON u.key = d.url_key WHERE 1 {where}"
                "ORDER BY d.url_key, d.release_path",
                params,
            )
        ]

    def report_drift(self) -> dict[tuple[str, str], tuple[bool, float | None]]:
        """(release path, URL key) -> (drifted, similarity) of each current comparison."""
        return {
            (d.release_path, d.url_key): (d.drifted, d.similarity) for d in self.citation_drifts()
        }
