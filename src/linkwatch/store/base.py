"""The open database and what every part of the store shares."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

DB_NAME = "linkwatch.db"


class StoreBase:
    """The connection; each mixin of `Store` adds the queries of one concern."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path
