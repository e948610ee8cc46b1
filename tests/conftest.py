"""Shared fixtures: a fresh store on a real SQLite file, a project directory with the seed."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from linkwatch.store import Store
from support.daemon import LoopbackWeb
from support.fake_wayback import FakeWayback, Serve

# The hostile web's fixtures (its servers, a resolver, TLS sites) and the live site's
# for every test module.
pytest_plugins = ["support.hostile_web", "support.live_site"]

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


@pytest.fixture
def serve(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Serve:
    """Start a fake Wayback Machine on 127.0.0.1; its base URL."""

    async def start(fake: FakeWayback) -> str:
        server = await aiohttp_server(fake.app())
        return str(server.make_url("")).rstrip("/")

    return start


@pytest.fixture
def loopback_web() -> Iterator[LoopbackWeb]:
    """Sites on 127.0.0.1, served from a thread (a daemon process can reach them)."""
    site = LoopbackWeb().start()
    yield site
    site.stop()
