"""The open database and what every part of the store shares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlite_utils import Database

DB_NAME = "linkwatch.db"


class StoreError(Exception):
    """The database cannot be used; the message is one line naming the file."""


class StoreBase:
    """The connection; each mixin of `Store` adds the queries of one concern."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def from_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None
