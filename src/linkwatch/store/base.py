"""The open database and what every part of the store shares."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from linkwatch.errors import NotADatabase, StoreError, StoreLocked, StoreReadOnly
from linkwatch.model import State

DB_NAME = "linkwatch.db"


class StoreBase:
    """The connection; each mixin of `Store` adds the queries of one concern."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path


_STATES = {state.value: state for state in State}


def state_of(value: str) -> State:
    """A state column as the enum: rows read from the store carry `State`, never bare text."""
    return _STATES[value]


def optional_state(value: str | None) -> State | None:
    return None if value is None else _STATES[value]


def store_error(err: BaseException, path: Path) -> StoreError:
    """What SQLite (or the file system under it) said, as one line a person can act on."""
    text = str(err).lower()
    if (isinstance(err, sqlite3.OperationalError) and "locked" in text) or "busy" in text:
        return StoreLocked(
            f"{path}: the database is locked by another process; nothing was changed "
            "(try again once it has finished)"
        )
    if (
        "readonly" in text
        or "read-only" in text
        or isinstance(err, PermissionError)
        or ("unable to open" in text and _read_only(path))
    ):
        return StoreReadOnly(
            f"{path}: the database (or its folder) is read-only; nothing was changed"
        )
    if (
        "disk is full" in text
        or getattr(err, "errno", None) == errno.ENOSPC
        or ("disk i/o error" in text and _full(path))
    ):
        return StoreError(f"{path}: the disk is full; what was not written is not recorded as done")
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return NotADatabase(f"{path}: not a linkwatch database (or a damaged one): {err}")
    return StoreError(f"{path}: {err}")


def _read_only(path: Path) -> bool:
    """SQLite says only "unable to open database file" when it may not create its files."""
    folder = path if path.is_dir() else path.parent
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def _full(path: Path) -> bool:
    """SQLite says only "disk I/O error" when a write into its WAL finds no room."""
    folder = path if path.is_dir() else path.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


# Which archive a snapshot's source names. The Wayback Machine saved to (`wayback`) and the
# Internet Archive of the look-up list (`web.archive.org`) are one archive, and so are
# Perma.cc saved to through its API (`perma`) and asked through Memento (`perma.cc`): a
# page is preserved in two archives only when two different archives hold it.
SAME_ARCHIVE = (
    "CASE source WHEN 'wayback' THEN 'web.archive.org' WHEN 'perma' THEN 'perma.cc' ELSE source END"
)
