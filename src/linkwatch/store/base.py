"""The open database and what every part of the store shares."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

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
