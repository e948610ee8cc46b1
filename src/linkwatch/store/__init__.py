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

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from linkwatch.errors import SchemaTooNew
from linkwatch.store.api import ApiMixin
from linkwatch.store.archive import ArchiveMixin, m0004_archive, m0010_archive_lookups
from linkwatch.store.base import DB_NAME, StoreBase, store_error
from linkwatch.store.checks import (
    CheckRecord,
    ChecksMixin,
    HistorySpan,
    UrlStatus,
    UrlToCheck,
    m0003_history,
    m0007_state_since,
    m0008_probes,
    m0011_probes_by_shape,
)
from linkwatch.store.digests import DigestsMixin, m0006_digests
from linkwatch.store.drift import DriftMixin, m0014_content_drift
from linkwatch.store.notifications import NotificationsMixin, m0013_notifications
from linkwatch.store.releases import (
    CitationRow,
    KnownRelease,
    ParsedRelease,
    ReleaseRow,
    ReleasesMixin,
    Totals,
    m0001_initial,
    m0002_url_state,
    m0012_citation_scheme_assumed,
)
from linkwatch.store.reports import ReportsMixin
from linkwatch.store.rewrites import (
    RewritesMixin,
    m0005_rewrites,
    m0015_web_outputs,
    m0016_reverts,
)
from linkwatch.store.web import WebPagesMixin, WebPageState, m0009_web_pages

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "CheckRecord",
    "CitationRow",
    "HistorySpan",
    "KnownRelease",
    "ParsedRelease",
    "ReleaseRow",
    "Store",
    "Totals",
    "UrlStatus",
    "UrlToCheck",
    "WebPageState",
    "migrate",
]

MIGRATIONS: tuple[tuple[str, Callable[[Database], None]], ...] = (
    ("0001_initial", m0001_initial),
    ("0002_url_state", m0002_url_state),
    ("0003_history", m0003_history),
    ("0004_archive", m0004_archive),
    ("0005_rewrites", m0005_rewrites),
    ("0006_digests", m0006_digests),
    ("0007_state_since", m0007_state_since),
    ("0008_probes", m0008_probes),
    ("0009_web_pages", m0009_web_pages),
    ("0010_archive_lookups", m0010_archive_lookups),
    ("0011_probes_by_shape", m0011_probes_by_shape),
    ("0012_citation_scheme_assumed", m0012_citation_scheme_assumed),
    ("0013_notifications", m0013_notifications),
    ("0014_content_drift", m0014_content_drift),
    ("0015_web_outputs", m0015_web_outputs),
    ("0016_reverts", m0016_reverts),
)
SCHEMA_VERSION = len(MIGRATIONS)
BUSY_WAIT_MS = 5000  # how long a write waits for another connection's transaction
OPEN_WAIT_MS = 2000  # how long opening waits to see the database can be written at all


def _existing_version(path: Path) -> int:
    """Read the schema version without writing anything (no WAL switch, no journal)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as err:
        raise store_error(err, path) from err
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as err:
        raise store_error(err, path) from err
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


class Store(
    ReleasesMixin,
    ChecksMixin,
    ArchiveMixin,
    RewritesMixin,
    DigestsMixin,
    NotificationsMixin,
    DriftMixin,
    ReportsMixin,
    WebPagesMixin,
    ApiMixin,
    StoreBase,
):
    """One open database. Create with `Store.open`; close when done.

    Each mixin holds the queries of one concern (releases, checks, ...), all
    over the one connection: SQL lives in this package and nowhere else.
    """

    @classmethod
    def open(cls, state_dir: Path, *, writing: bool = True) -> Store:
        """Open (creating and migrating as needed) the database in `state_dir`.

        With `writing` (every command that records something), a write lock is
        taken and given back at once, so that a database another process holds,
        or one that cannot be written, is said before any work is done.
        """
        path = state_dir / DB_NAME
        if path.exists():
            version = _existing_version(path)
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"{path}: schema version {version} is newer than this linkwatch "
                    f"understands ({SCHEMA_VERSION}); upgrade linkwatch (the file was not touched)"
                )
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            db = Database(path)
            db.execute("PRAGMA journal_mode=WAL").fetchall()
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
            migrate(db)
            if writing:  # a write lock held longer than this is another process's work
                db.execute(f"PRAGMA busy_timeout={OPEN_WAIT_MS}")
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
                db.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        except (OSError, sqlite3.Error) as err:
            raise store_error(err, path) from err
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

    def data_version(self) -> int:
        """A number that changes whenever another connection (another thread or process)
        has committed to the database since this one last asked: what a cache of
        anything read from it is keyed on. It costs no read of the database."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])
