"""The daemon's endpoint under load: one rendering per change of the store, 304s, gzip,
bounded connections, an idle timeout, the report served under known names only, and a
log that a flood of errors cannot fill.

In-process tests use the real server (`start_server`: the same site, gate and
timeouts as the daemon) on 127.0.0.1 with real sockets; the slowloris connects
from 127.0.0.2 (every 127/8 address is loopback on Linux), so that the
orchestrator's /healthz from 127.0.0.1 is another peer, as it is in production.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from linkwatch.daemon import server as server_module
from linkwatch.daemon.connections import ConnectionGate
from linkwatch.daemon.hosts import host_allowed, host_name
from linkwatch.daemon.logs import RateLimit
from linkwatch.daemon.report_page import Page, ReportPage
from linkwatch.daemon.server import Endpoints, Health, Metrics, accepts_gzip, start_server
from linkwatch.store import Store
from support.polling import eventually

REPORT = "<!doctype html><html><title>Report</title>" + "<p>row</p>" * 20_000 + "</html>"


async def in_thread_now(func: Callable[[], Page]) -> Page:
    return await asyncio.to_thread(func)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- one rendering per change -------------------------------------------------


async def test_concurrent_requests_share_one_rendering() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def render() -> str:
        loop.call_soon_threadsafe(started.set)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(10)
        return REPORT

    page = ReportPage(render, lambda: 1, in_thread_now)
    waiting = [asyncio.create_task(page.page()) for _ in range(16)]
    await asyncio.wait_for(started.wait(), 10)
    release.set()
    pages = await asyncio.wait_for(asyncio.gather(*waiting), 10)
    assert page.renderings == 1
    assert all(p is pages[0] for p in pages)


async def test_a_change_of_the_store_renders_again_and_nothing_else_does() -> None:
    version, clock, texts = [1], Clock(), iter(["<p>one</p>", "<p>two</p>"])
    page = ReportPage(lambda: next(texts), lambda: version[0], in_thread_now, monotonic=clock)
    first = await page.page()
    clock.now += 10
    assert await page.page() is first
    version[0] = 2
    second = await page.page()
    assert page.renderings == 2 and second.body == b"<p>two</p>"
    assert second.etag != first.etag


async def test_an_old_rendering_is_renewed_after_max_age() -> None:
    clock = Clock()
    page = ReportPage(lambda: REPORT, lambda: 1, in_thread_now, max_age=60, monotonic=clock)
    first = await page.page()
    clock.now += 59
    assert await page.page() is first
    clock.now += 2
    renewed = await page.page()
    assert page.renderings == 2 and renewed is not first
    assert renewed.etag == first.etag  # the same bytes: a client's copy is still good


async def test_a_failed_rendering_fails_its_requests_and_the_next_one_tries_again() -> None:
    attempts = iter([RuntimeError("database is locked"), "<p>fine</p>"])

    def render() -> str:
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    page = ReportPage(render, lambda: 1, in_thread_now)
    with pytest.raises(RuntimeError, match="locked"):
        await page.page()
    assert (await page.page()).body == b"<p>fine</p>"


def test_the_store_version_moves_with_a_commit_of_another_connection(tmp_path: Path) -> None:
    with Store.open(tmp_path / "state") as store:
        before = store.data_version()
        assert store.data_version() == before
        with sqlite3.connect(tmp_path / "state" / "linkwatch.db") as other:
            other.execute("CREATE TABLE IF NOT EXISTS touched (x)")
        assert store.data_version() != before


# --- the endpoint -----------------------------------------------------------------


def endpoints(page: ReportPage, allowed_hosts: tuple[str, ...] = ()) -> Endpoints:
    return Endpoints(
        health=lambda: Health(ok=True, detail={"scheduler": "running"}),
        metrics=Metrics(),
        report=lambda filters: page.page(),
        allowed_hosts=allowed_hosts,
    )


Started = Callable[..., Awaitable[str]]


@pytest.fixture
async def started() -> AsyncIterator[Started]:
    """Start the daemon's server on 127.0.0.1; its base URL. Stopped after the test."""
    runners: list[web.AppRunner] = []

    async def start(where: Endpoints, **kwargs: Any) -> str:
        runner, url = await start_server(where, "127.0.0.1", 0, **kwargs)
        runners.append(runner)
        return url

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_the_report_has_an_etag_and_a_client_that_has_it_gets_304(
    started: Started,
) -> None:
    page = ReportPage(lambda: REPORT, lambda: 1, in_thread_now)
    base = await started(endpoints(page))
    async with ClientSession(auto_decompress=False) as client:
        async with client.get(base + "/", headers={"Accept-Encoding": "identity"}) as first:
            body = await first.read()
            etag = first.headers["ETag"]
        assert first.status == 200 and body == REPORT.encode()
        assert first.headers["Content-Type"] == "text/html; charset=utf-8"
        async with client.get(base + "/", headers={"If-None-Match": etag}) as again:
            assert again.status == 304 and await again.read() == b""
        async with client.get(base + "/", headers={"If-None-Match": '"stale"'}) as stale:
            assert stale.status == 200
    assert page.renderings == 1


async def test_the_report_is_gzipped_for_a_client_that_accepts_it(started: Started) -> None:
    page = ReportPage(lambda: REPORT, lambda: 1, in_thread_now)
    base = await started(endpoints(page))
    async with ClientSession(auto_decompress=False) as client:
        async with client.get(base + "/", headers={"Accept-Encoding": "br, gzip"}) as answer:
            body = await answer.read()
        assert answer.headers["Content-Encoding"] == "gzip"
        assert answer.headers["Vary"] == "Accept-Encoding"
        assert len(body) < len(REPORT) / 10 and gzip.decompress(body) == REPORT.encode()
        async with client.head(base + "/") as head:
            assert head.status == 200 and await head.read() == b""


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("gzip;q=0", False),
        ("*", True),
        ("identity", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_qualities(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


# --- the Host header ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "allowed", "served"),
    [
        ("127.0.0.1:8421", (), True),
        ("[::1]:8421", (), True),
        ("10.1.2.3", (), True),
        ("localhost:8421", (), True),
        ("LOCALHOST.", (), True),
        ("app.localhost:8421", (), True),
        (None, (), True),
        ("evil.example:8421", (), False),
        ("127.0.0.1.evil.example", (), False),
        ("linkwatch.ngo.org", ("linkwatch.ngo.org",), True),
        ("linkwatch.ngo.org:443", ("linkwatch.ngo.org",), True),
        ("other.ngo.org", ("linkwatch.ngo.org",), False),
        ("status.ngo.org", (".ngo.org",), True),
        ("ngo.org", (".ngo.org",), True),
        ("ngo.org.evil.example", (".ngo.org",), False),
        ("anything.example", ("*",), True),
    ],
)
def test_the_report_is_served_under_addresses_localhost_and_listed_names(
    header: str | None, allowed: tuple[str, ...], served: bool
) -> None:
    assert host_allowed(header, allowed) is served


def test_host_names_lose_their_port_brackets_and_final_dot() -> None:
    assert host_name("[::1]:8421") == "::1"
    assert host_name("Example.ORG.:80") == "example.org"
    assert host_name("::1") == "::1"


async def test_a_rebound_name_gets_421_for_the_report_but_health_answers(
    started: Started,
) -> None:
    page = ReportPage(lambda: REPORT, lambda: 1, in_thread_now)
    base = await started(endpoints(page, allowed_hosts=("linkwatch.ngo.org",)))
    async with ClientSession() as client:
        async with client.get(base + "/", headers={"Host": "attacker.example"}) as refused:
            text = await refused.text()
        assert refused.status == 421 and "run.allowed_hosts" in text and "attacker" in text
        async with client.get(base + "/", headers={"Host": "linkwatch.ngo.org"}) as listed:
            assert listed.status == 200
        async with client.get(base + "/healthz", headers={"Host": "attacker.example"}) as health:
            assert health.status == 200
    assert page.renderings == 1  # the refused request rendered nothing


# --- connections ----------------------------------------------------------------------


async def open_partial(host: str, port: int, source: str) -> tuple[Any, Any]:
    """A connection that sends the start of a request and never finishes it."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
    await writer.drain()
    return reader, writer


async def test_a_connection_that_never_completes_a_request_is_closed_after_the_idle_timeout(
    started: Started, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_module, "IDLE_TIMEOUT", 0.5)
    page = ReportPage(lambda: REPORT, lambda: 1, in_thread_now)
    base = await started(endpoints(page))
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await open_partial("127.0.0.1", port, "127.0.0.1")
    try:
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
    finally:
        writer.close()


async def test_connections_beyond_the_peer_limit_get_503_and_others_still_get_in(
    started: Started,
) -> None:
    page = ReportPage(lambda: REPORT, lambda: 1, in_thread_now)
    base = await started(endpoints(page), gate_total=100)
    port = int(base.rsplit(":", 1)[1])
    held = [await open_partial("127.0.0.1", port, "127.0.0.2") for _ in range(70)]
    try:
        answers = await asyncio.gather(*(reader.read() for reader, _ in held[64:]))
        assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers)
        assert all(a.endswith(b"too many connections, try later\n") for a in answers)
        async with ClientSession() as client, client.get(base + "/healthz") as health:
            assert health.status == 200  # from 127.0.0.1
    finally:
        for _, writer in held:
            writer.close()


async def test_the_total_limit_holds_across_peers() -> None:
    """The gate alone, with transports of real socket pairs: the count over all peers."""
    loop = asyncio.get_running_loop()
    made: list[asyncio.BaseTransport] = []

    class Keep(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(transport)

    gate = ConnectionGate(Keep, total=3, per_peer=2)
    server = await loop.create_server(gate, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    clients = [
        await asyncio.open_connection("127.0.0.1", port, local_addr=(f"127.0.0.{n}", 0))
        for n in (2, 2, 3, 3)
    ]
    try:
        refusal = await asyncio.wait_for(clients[3][0].read(), 10)
        assert refusal.startswith(b"HTTP/1.1 503 ")
        await eventually(lambda: len(made) == 3, what="three admitted")
        assert gate.refused == 1
        made[0].close()  # one ends: there is room again
        late = await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.4", 0))
        clients.append(late)
        await eventually(lambda: len(made) == 4, what="a fourth once one closed")
    finally:
        for _, writer in clients:
            writer.close()
        server.close()


# --- the log ------------------------------------------------------------------------


def test_a_flood_of_one_error_is_cut_to_a_few_lines_and_the_rest_counted() -> None:
    clock = Clock()
    limit = RateLimit(burst=10, window=60.0, monotonic=clock)

    def record(name: str, message: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, message, ("1.2.3.4",), None)

    passed = [limit.filter(record("aiohttp.server", "Error handling request from %s"))]
    for _ in range(9_999):  # 10,000 in all
        passed.append(limit.filter(record("aiohttp.server", "Error handling request from %s")))
    assert sum(passed) == 10
    assert limit.filter(record("asyncio", "socket.accept() out of system resource"))  # another
    assert all(limit.filter(record("linkwatch.daemon", "check: done")) for _ in range(50))
    clock.now += 61
    after = record("aiohttp.server", "Error handling request from %s")
    assert limit.filter(after)
    assert after.fields == {"suppressed": 9_990}  # type: ignore[attr-defined]
