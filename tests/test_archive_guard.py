"""Archive traffic passes the private-address guard like every other request.

The configured archive is trusted for its own origin only (scheme, host and
port): its redirects and `Location`s to another port of the same host are
refused, and a URL marked alive by hand whose host is private is never sent
to an archive to fetch. The archive is the fake Wayback Machine on 127.0.0.1;
the place it points at is a second loopback server that counts what reaches it.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkwatch.model import State
from support.fake_wayback import FakeWayback, Serve
from test_archive_run import NOW, PAGE, chosen, project, run

Counter = Callable[[], Awaitable[tuple[str, list[str]]]]


@pytest.fixture
def elsewhere(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Counter:
    """A server on another loopback port: its base URL and the paths asked of it."""

    async def start() -> tuple[str, list[str]]:
        seen: list[str] = []

        async def anything(request: web.Request) -> web.Response:
            seen.append(request.raw_path)
            return web.Response(text="<title>Intranet</title><p>Internal only.</p>")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", anything)
        server = await aiohttp_server(app)
        return str(server.make_url("")).rstrip("/"), seen

    return start


def queue_reason(state: Path, url: str) -> str:
    """The reason the save queue holds for `url` (read with SQL: no command shows it)."""
    with sqlite3.connect(state / "linkwatch.db") as conn:
        row = conn.execute(
            "SELECT q.reason FROM save_queue q JOIN urls u ON u.id = q.url_id WHERE u.url = ?",
            [url],
        ).fetchone()
    return str(row[0])


class RedirectingWayback(FakeWayback):
    """Raw replays (`id_`) answer with a redirect to `away`, keeping the replay's path."""

    def __init__(self, away: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.away = away

    def _replay(self, request: web.Request) -> web.StreamResponse:
        if re.match(r"/web/\d{14}id_/", request.raw_path):
            self.requests["replay"] += 1
            raise web.HTTPFound(f"{self.away}{request.raw_path}")
        return super()._replay(request)


@pytest.mark.parametrize(
    "private",
    [
        "http://10.0.0.1/intranet",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::7f00:1]/admin",
        "http://[fec0::1]/",
        "http://localhost/status",  # a name, resolved here to 127.0.0.1
    ],
)
async def test_a_url_marked_alive_on_a_private_address_is_never_sent_to_be_saved(
    tmp_path: Path, serve: Serve, private: str
) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [private, PAGE], {private: State.ALIVE, PAGE: State.ALIVE})
    summary = await run(settings)
    assert fake.saves_of(private) == 0
    assert fake.saves_of(PAGE) == 1  # a name that does not resolve here is the archive's to try
    assert summary.dropped == 1 and summary.saved == 1
    assert "private address" in queue_reason(settings.state.dir, private)


async def test_the_replay_of_a_new_capture_is_not_followed_off_the_archive(
    tmp_path: Path, serve: Serve, elsewhere: Counter
) -> None:
    away, seen = await elsewhere()
    fake = RedirectingWayback(away)
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    summary = await run(settings)
    assert fake.requests["replay"] >= 1  # the archive was asked, and sent us away
    assert seen == []
    assert summary.saved == 0 and summary.failed == 1 and summary.unreachable is None


async def test_a_capture_whose_replay_redirects_off_the_archive_is_not_chosen(
    tmp_path: Path, serve: Serve, elsewhere: Counter
) -> None:
    away, seen = await elsewhere()
    fake = RedirectingWayback(away)
    fake.add_capture(PAGE, NOW - dt.timedelta(days=3))
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    summary = await run(settings)
    assert seen == []
    assert summary.chosen == 0
    assert chosen(settings)[PAGE] == (None, None)


async def test_another_port_of_the_archive_host_is_not_trusted(
    tmp_path: Path, serve: Serve, elsewhere: Counter
) -> None:
    """The fake archive and `elsewhere` share 127.0.0.1: trust is for the archive's port."""
    away, seen = await elsewhere()
    fake = FakeWayback()
    base = await serve(fake)
    other = f"{away}/private/page"
    settings = project(tmp_path, base, [other], {other: State.ALIVE})
    summary = await run(settings)
    assert fake.saves_of(other) == 0 and summary.dropped == 1
    assert seen == []
