"""Shared fixtures: a fresh store on a real SQLite file, a project directory with the seed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from linkwatch.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "2016-04-07-juncker-kazakhstan.md"


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "state")
    yield store
    store.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A directory with a config.toml and the seed release under releases/."""
    releases = tmp_path / "releases"
    releases.mkdir()
    shutil.copy(SEED, releases / SEED.name)
    (tmp_path / "config.toml").write_text(
        '[sources]\npaths = ["releases/**/*"]\n\n[state]\ndir = "state"\n', encoding="utf-8"
    )
    return tmp_path
