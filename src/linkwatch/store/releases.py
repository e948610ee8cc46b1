"""Releases, URLs and citations: what the scan writes and the report reads."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from linkwatch.model import Citation, Format, ReleaseMeta
from linkwatch.store.base import StoreBase
from linkwatch.text import iso_utc


def m0001_initial(db: Database) -> None:
    db.table("releases").create(
        {
            "id": int,
            "path": str,  # relative to the config file's directory, POSIX separators
            "sha256": str,  # of the bytes last parsed; NULL until a read succeeded
            "size": int,
            "format": str,
            "encoding": str,
            "title": str,
            "published": str,  # ISO date
            "date_source": str,
            "first_seen": str,
            "scanned_at": str,
            "missing": int,  # 1 once the file vanished; its history stays
            "error": str,  # the last read error, NULL when the last read worked
        },
        pk="id",
        not_null={"path"},
        defaults={"missing": 0},
    )
    db.table("releases").create_index(["path"], unique=True)
    db.table("urls").create(
        {"id": int, "key": str, "url": str, "invalid": str, "first_seen": str},
        pk="id",
        not_null={"key", "url"},
    )
    db.table("urls").create_index(["key"], unique=True)
    db.table("citations").create(
        {
            "id": int,
            "release_id": int,
            "url_id": int,
            "position": int,  # document order within the release
            "label": str,
            "url": str,  # as written in this release
            "start": int,  # byte offsets in the file
            "end": int,
            "context": str,
        },
        pk="id",
        foreign_keys=[("release_id", "releases", "id"), ("url_id", "urls", "id")],
    )
    db.table("citations").create_index(["release_id", "position"])
    db.table("citations").create_index(["url_id"])


def m0002_url_state(db: Database) -> None:
    """Each URL carries its current verdict, so a report is one join."""
    urls = db.table("urls")
    urls.add_column("state", str, not_null_default="unchecked")
    urls.add_column("http_status", int)
    urls.add_column("final_url", str)
    urls.add_column("last_checked", str)
    urls.add_column("pinned", str)


def m0012_citation_scheme_assumed(db: Database) -> None:
    """A citation written protocol-relative (`//host/path`) is checked with `https:`
    assumed, and the report says so."""
    db.table("citations").add_column("scheme_assumed", int, not_null_default=0)


@dataclass(frozen=True, slots=True)
class KnownRelease:
    id: int
    sha256: str | None
    missing: bool


@dataclass(frozen=True, slots=True)
class ParsedRelease:
    """A release read and extracted by the scan, ready to be stored."""

    path: str
    sha256: str
    size: int
    format: Format
    encoding: str
    meta: ReleaseMeta
    citations: Sequence[Citation]
    url_keys: Sequence[str]  # normalised key per citation (same order)
    invalid: Sequence[str | None]  # why each URL cannot be checked, or None


@dataclass(frozen=True, slots=True)
class CitationRow:
    label: str | None
    url: str
    url_key: str
    state: str
    http_status: int | None
    final_url: str | None
    last_checked: str | None
    pinned: str | None
    invalid: str | None
    context: str
    start: int
    end: int
    archive_url: str | None = None  # the snapshot chosen for this citation
    archive_timestamp: str | None = None
    archived: str | None = None  # the archived copy the release links next to it (rewrite)


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    path: str
    title: str | None
    published: str | None
    date_source: str | None
    format: str | None
    encoding: str | None
    scanned_at: str | None
    citations: tuple[CitationRow, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    releases: int
    citations: int
    urls: int


class ReleasesMixin(StoreBase):
    # scan -----------------------------------------------------------------

    def known_releases(self) -> dict[str, KnownRelease]:
        rows = self.db.execute("SELECT id, path, sha256, missing FROM releases").fetchall()
        return {
            path: KnownRelease(id=rid, sha256=sha, missing=bool(missing))
            for rid, path, sha, missing in rows
        }

    def save_releases(
        self,
        releases: Sequence[ParsedRelease],
        now: dt.datetime,
        *,
        on_failure: Callable[[ParsedRelease, Exception], None] | None = None,
    ) -> int:
        """Store (re)parsed releases and their citations in one transaction.

        Each release's old citations are replaced whole, so a reader never sees
        half of a release. Returns how many URLs the store had never seen. A URL
        row is shared by every release citing it, so each URL is checked once.
        Batching many releases per transaction is what keeps a first scan of
        thousands of files fast. With `on_failure`, a release that cannot be
        stored is rolled back alone (a savepoint each) and handed to it, and the
        others are stored; without it, the whole batch fails.
        """
        stamp = iso_utc(now)
        new = 0
        with self.db.atomic():
            for release in releases:
                if on_failure is None:
                    new += self._save_release(release, stamp)
                    continue
                try:
                    with self.db.atomic():  # a savepoint: this release alone
                        new += self._save_release(release, stamp)
                except (sqlite3.Error, ValueError) as err:  # UnicodeError is a ValueError
                    on_failure(release, err)
        return new

    def _save_release(self, release: ParsedRelease, stamp: str) -> int:
        """One release and its citations; how many of its URLs are new."""
        release_id = self._upsert_release(release, stamp)
        self.db.execute("DELETE FROM citations WHERE release_id = ?", [release_id])
        url_ids, added = self._ensure_urls(release, stamp)
        self.db.conn.executemany(
            "INSERT INTO citations (release_id, url_id, position, label, url, start, "
            '"end", context, archived, scheme_assumed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [
                (
                    release_id,
                    url_ids[key],
                    pos,
                    c.label,
                    c.url,
                    c.start,
                    c.end,
                    c.context,
                    c.archived,
                    int(c.scheme_assumed),
                )
                for pos, (c, key) in enumerate(
                    zip(release.citations, release.url_keys, strict=True)
                )
            ],
        )
        return added

    def _upsert_release(self, release: ParsedRelease, stamp: str) -> int:
        meta = release.meta
        values = {
            "sha256": release.sha256,
            "size": release.size,
            "format": release.format.value,
            "encoding": release.encoding,
            "title": meta.title,
            "published": meta.published.isoformat(),
            "date_source": meta.date_source.value,
            "scanned_at": stamp,
            "missing": 0,
            "error": None,
        }
        row = self.db.execute(
            "INSERT INTO releases (path, first_seen, sha256, size, format, encoding, title, "
            "published, date_source, scanned_at, missing, error) VALUES "
            "(:path, :first_seen, :sha256, :size, :format, :encoding, :title, :published, "
            ":date_source, :scanned_at, :missing, :error) ON CONFLICT(path) DO UPDATE SET "
            "sha256 = excluded.sha256, size = excluded.size, format = excluded.format, "
            "encoding = excluded.encoding, title = excluded.title, "
            "published = excluded.published, date_source = excluded.date_source, "
            "scanned_at = excluded.scanned_at, missing = 0, error = NULL RETURNING id",
            {"path": release.path, "first_seen": stamp, **values},
        ).fetchone()
        return int(row[0])

    def _ensure_urls(self, release: ParsedRelease, stamp: str) -> tuple[dict[str, int], int]:
        first_written: dict[str, tuple[str, str | None]] = {}
        for citation, key, invalid in zip(
            release.citations, release.url_keys, release.invalid, strict=True
        ):
            first_written.setdefault(key, (citation.url, invalid))
        before = self.db.conn.total_changes
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO urls (key, url, invalid, first_seen) VALUES (?, ?, ?, ?)",
            [(key, url, invalid, stamp) for key, (url, invalid) in first_written.items()],
        )
        new = self.db.conn.total_changes - before
        ids: dict[str, int] = {}
        keys = list(first_written)
        for chunk_start in range(0, len(keys), 500):
            chunk = keys[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for uid, key in self.db.execute(
                f"SELECT id, key FROM urls WHERE key IN ({marks})", chunk
            ).fetchall():
                ids[key] = uid
        return ids, new

    def mark_scanned(self, paths: Iterable[str], now: dt.datetime) -> None:
        """Unchanged releases: note the scan, clear a stale error or missing flag."""
        with self.db.atomic():
            self.db.conn.executemany(
                "UPDATE releases SET scanned_at = ?, missing = 0, error = NULL WHERE path = ?",
                [(iso_utc(now), path) for path in paths],
            )

    def record_read_error(self, path: str, message: str, now: dt.datetime) -> None:
        """Remember why a release could not be read, keeping what was stored before."""
        stamp = iso_utc(now)
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO releases (path, first_seen, scanned_at, missing, error) "
                "VALUES (?, ?, ?, 0, ?) ON CONFLICT(path) DO UPDATE SET "
                "scanned_at = excluded.scanned_at, missing = 0, error = excluded.error",
                [path, stamp, stamp, message],
            )

    def mark_missing(self, seen: Iterable[str], now: dt.datetime) -> list[str]:
        """Flag releases whose files vanished; their citations and history stay."""
        seen_set = set(seen)
        vanished = [
            path
            for path, known in self.known_releases().items()
            if path not in seen_set and not known.missing
        ]
        with self.db.atomic():
            self.db.conn.executemany(
                "UPDATE releases SET missing = 1, scanned_at = ? WHERE path = ?",
                [(iso_utc(now), path) for path in vanished],
            )
        return vanished

    # reading back ---------------------------------------------------------

    def releases_with_citations(self) -> list[ReleaseRow]:
        """Every present, readable release with its citations in document order: all the
        scan recorded (offsets, context, encoding), for tests and benchmarks to compare
        with the files. Reports read the lighter rows of `store/reports.py`."""
        releases = self.db.execute(
            "SELECT id, path, title, published, date_source, format, encoding, scanned_at "
            "FROM releases WHERE missing = 0 AND sha256 IS NOT NULL ORDER BY path"
        ).fetchall()
        by_release: dict[int, list[CitationRow]] = {row[0]: [] for row in releases}
        for row in self.db.execute(
            "SELECT c.release_id, c.label, c.url, u.key, COALESCE(u.pinned, u.state), "
            "u.http_status, u.final_url, "
            'u.last_checked, u.pinned, u.invalid, c.context, c.start, c."end", '
            "s.archive_url, s.timestamp, c.archived "
            "FROM citations c JOIN urls u ON u.id = c.url_id "
            "JOIN releases r ON r.id = c.release_id "
            "LEFT JOIN citation_snapshots s ON s.release_path = r.path AND s.url_key = u.key "
            "WHERE r.missing = 0 AND r.sha256 IS NOT NULL ORDER BY c.release_id, c.position"
        ):
            by_release[row[0]].append(CitationRow(*row[1:]))
        return [
            ReleaseRow(
                path=path,
                title=title,
                published=published,
                date_source=date_source,
                format=fmt,
                encoding=encoding,
                scanned_at=scanned_at,
                citations=tuple(by_release[rid]),
            )
            for rid, path, title, published, date_source, fmt, encoding, scanned_at in releases
        ]

    def citation_state_counts(self) -> Counter[str]:
        """Citations of present releases by effective state (pins applied)."""
        return Counter(
            {
                state: count
                for state, count in self.db.execute(
                    "SELECT COALESCE(u.pinned, u.state), count(*) FROM citations c "
                    "JOIN urls u ON u.id = c.url_id JOIN releases r ON r.id = c.release_id "
                    "WHERE r.missing = 0 AND r.sha256 IS NOT NULL GROUP BY 1"
                )
            }
        )

    def totals(self) -> Totals:
        releases, citations, urls = self.db.execute(
            "SELECT (SELECT count(*) FROM releases WHERE missing = 0 AND sha256 IS NOT NULL), "
            "(SELECT count(*) FROM citations c JOIN releases r ON r.id = c.release_id "
            "WHERE r.missing = 0), (SELECT count(*) FROM urls)"
        ).fetchone()
        return Totals(releases=releases, citations=citations, urls=urls)
