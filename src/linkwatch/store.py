"""The SQLite store: schema, migrations and every query linkwatch makes.

This is the only module that speaks SQL. The database is one file in
`state.dir`, in WAL mode so that readers (a report while the daemon runs)
never block the writer, with `synchronous=NORMAL`: a crash can lose at most
the last transaction, never corrupt earlier ones.

Schema versions live in `PRAGMA user_version`; `MIGRATIONS` is an ordered
list of numbered steps, each applied in the same transaction as the version
bump, so an interrupted upgrade leaves the previous version intact. A
database written by a newer linkwatch is refused before anything touches it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from linkwatch.model import CheckResult, Citation, Format, ReleaseMeta, State
from linkwatch.verdict import Streak, Verdict

DB_NAME = "linkwatch.db"


class StoreError(Exception):
    """The database cannot be used; the message is one line naming the file."""


# --- migrations ---------------------------------------------------------------


def _m0001_initial(db: Database) -> None:
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


def _m0002_url_state(db: Database) -> None:
    """Each URL carries its current verdict, so a report is one join."""
    urls = db.table("urls")
    urls.add_column("state", str, not_null_default="unchecked")
    urls.add_column("http_status", int)
    urls.add_column("final_url", str)
    urls.add_column("last_checked", str)
    urls.add_column("pinned", str)


def _m0003_history(db: Database) -> None:
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


MIGRATIONS: tuple[tuple[str, Callable[[Database], None]], ...] = (
    ("0001_initial", _m0001_initial),
    ("0002_url_state", _m0002_url_state),
    ("0003_history", _m0003_history),
)
SCHEMA_VERSION = len(MIGRATIONS)


def _existing_version(path: Path) -> int:
    """Read the schema version without writing anything (no WAL switch, no journal)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as err:
        raise StoreError(f"{path}: cannot open database: {err}") from err
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path}: not a linkwatch database ({err})") from err
    finally:
        conn.close()


def migrate(db: Database, *, target: int = SCHEMA_VERSION) -> None:
    """Apply the numbered steps above the database's version, up to `target`."""
    current = int(db.execute("PRAGMA user_version").fetchone()[0])
    for number, (_name, step) in enumerate(MIGRATIONS[:target], start=1):
        if number <= current:
            continue
        with db.atomic():
            step(db)
            db.execute(f"PRAGMA user_version = {number}")


# --- rows ---------------------------------------------------------------------


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

    state: str
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
    state: str
    pinned: str | None
    http_status: int | None
    final_url: str | None
    error: str | None
    reason: str | None
    last_checked: str | None
    next_check_at: str | None
    invalid: str | None


@dataclass(frozen=True, slots=True)
class Totals:
    releases: int
    citations: int
    urls: int


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _from_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


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


# --- the store ----------------------------------------------------------------


class Store:
    """One open database. Create with `Store.open`; close when done."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        """Open (creating and migrating as needed) the database in `state_dir`."""
        path = state_dir / DB_NAME
        if path.exists():
            version = _existing_version(path)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{path}: schema version {version} is newer than this linkwatch "
                    f"understands ({SCHEMA_VERSION}); upgrade linkwatch (the file was not touched)"
                )
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            db = Database(path)
            db.execute("PRAGMA journal_mode=WAL").fetchall()
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA busy_timeout=5000")
            migrate(db)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"{path}: {err}") from err
        return cls(db, path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # scan -----------------------------------------------------------------

    def known_releases(self) -> dict[str, KnownRelease]:
        rows = self.db.execute("SELECT id, path, sha256, missing FROM releases").fetchall()
        return {
            path: KnownRelease(id=rid, sha256=sha, missing=bool(missing))
            for rid, path, sha, missing in rows
        }

    def save_releases(self, releases: Sequence[ParsedRelease], now: dt.datetime) -> int:
        """Store (re)parsed releases and their citations in one transaction.

        Each release's old citations are replaced whole, so a reader never sees
        half of a release. Returns how many URLs the store had never seen. A URL
        row is shared by every release citing it, so each URL is checked once.
        Batching many releases per transaction is what keeps a first scan of
        thousands of files fast.
        """
        stamp = _iso(now)
        new = 0
        with self.db.atomic():
            for release in releases:
                release_id = self._upsert_release(release, stamp)
                self.db.execute("DELETE FROM citations WHERE release_id = ?", [release_id])
                url_ids, added = self._ensure_urls(release, stamp)
                new += added
                self.db.conn.executemany(
                    "INSERT INTO citations (release_id, url_id, position, label, url, start, "
                    '"end", context) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                    [
                        (release_id, url_ids[key], pos, c.label, c.url, c.start, c.end, c.context)
                        for pos, (c, key) in enumerate(
                            zip(release.citations, release.url_keys, strict=True)
                        )
                    ],
                )
        return new

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
                [(_iso(now), path) for path in paths],
            )

    def record_read_error(self, path: str, message: str, now: dt.datetime) -> None:
        """Remember why a release could not be read, keeping what was stored before."""
        stamp = _iso(now)
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
                [(_iso(now), path) for path in vanished],
            )
        return vanished

    # report ---------------------------------------------------------------

    def releases_with_citations(self) -> list[ReleaseRow]:
        """Every present, readable release with its citations in document order."""
        releases = self.db.execute(
            "SELECT id, path, title, published, date_source, format, encoding, scanned_at "
            "FROM releases WHERE missing = 0 AND sha256 IS NOT NULL ORDER BY path"
        ).fetchall()
        by_release: dict[int, list[CitationRow]] = {row[0]: [] for row in releases}
        for row in self.db.execute(
            "SELECT c.release_id, c.label, c.url, u.key, COALESCE(u.pinned, u.state), "
            "u.http_status, u.final_url, "
            'u.last_checked, u.pinned, u.invalid, c.context, c.start, c."end" '
            "FROM citations c JOIN urls u ON u.id = c.url_id "
            "JOIN releases r ON r.id = c.release_id "
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

    # check ----------------------------------------------------------------

    def urls_to_check(self, now: dt.datetime | None = None) -> list[UrlToCheck]:
        """Cited, checkable URLs; only those due at `now` when given (else all)."""
        sql = f"{_TO_CHECK} WHERE invalid IS NULL AND {_CITED}"
        params: list[str] = []
        if now is not None:
            sql += " AND (next_check_at IS NULL OR next_check_at <= ?)"
            params.append(_iso(now))
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
            streak=Streak(failures=int(failures), first_failure_at=_from_iso(since)),
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
        stamp = _iso(result.checked_at)
        error = result.error.value if result.error else None
        streak = verdict.streak
        self.db.execute(
            "UPDATE urls SET state = ?, http_status = ?, final_url = ?, last_checked = ?, "
            "error = ?, reason = ?, title = ?, next_check_at = ?, streak_failures = ?, "
            "streak_since = ? WHERE id = ?",
            [
                verdict.state.value,
                result.status,
                result.final_url,
                stamp,
                error,
                verdict.reason,
                result.title,
                _iso(record.next_check_at),
                streak.failures,
                _iso(streak.first_failure_at) if streak.first_failure_at else None,
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

    def url_status(self, key: str) -> UrlStatus | None:
        row = self.db.execute(f"{_STATUS} WHERE key = ?", [key]).fetchone()
        return None if row is None else UrlStatus(*row)

    def history(self, url_id: int) -> list[HistorySpan]:
        return [
            HistorySpan(*row)
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

    def totals(self) -> Totals:
        releases, citations, urls = self.db.execute(
            "SELECT (SELECT count(*) FROM releases WHERE missing = 0 AND sha256 IS NOT NULL), "
            "(SELECT count(*) FROM citations c JOIN releases r ON r.id = c.release_id "
            "WHERE r.missing = 0), (SELECT count(*) FROM urls)"
        ).fetchone()
        return Totals(releases=releases, citations=citations, urls=urls)
