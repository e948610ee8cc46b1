"""The pywb backend: against a real pywb process when pywb is installed, and a pywb-shaped app.

pywb is an optional test extra (`pip install -e '.[pywb]'`): it patches the
standard library with gevent when imported, so it runs here as its own
process (`wayback --record --live -a`), started in a temporary directory with
a collection made by `wb-manager init`. What it captures is a site served on
127.0.0.1 by this test module. Without pywb those tests are skipped, saying
so; the pywb-shaped app below still checks the backend's parsing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.pywb import Pywb
from linkwatch.archive.protocol import SaveStatus
from linkwatch.archive.run import archive_run
from linkwatch.check.verdict import Streak, Verdict
from linkwatch.config.loading import load_settings
from linkwatch.errors import ArchiveError
from linkwatch.model import CheckResult, State
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, Store
from linkwatch.store.writer import AsyncStore, StoreWriter
from support.fake_wayback import html, write_project
from support.polling import wait_until

OPTIONS = archive_options("linkwatch-test/1.0 (+https://example.org/linkwatch)")
COLLECTION = "linkwatch"
PYWB_BIN_ENV = "LINKWATCH_PYWB_BIN"


def pywb_bin() -> Path | None:
    """The directory holding pywb's `wayback` and `wb-manager`: this venv's, or the env's."""
    candidates = [Path(sys.executable).parent]
    if os.environ.get(PYWB_BIN_ENV):
        candidates.insert(0, Path(os.environ[PYWB_BIN_ENV]))
    for directory in candidates:
        if (directory / "wayback").is_file() and (directory / "wb-manager").is_file():
            return directory
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    async def answers() -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"pywb did not start (exit code {process.poll()})")
        return asyncio.run(answers())

    wait_until(ready, timeout, what=f"pywb to answer at {url}", interval=0.1)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The live site pywb captures: a page, and a 404."""
    loop = asyncio.new_event_loop()

    async def page(request: web.Request) -> web.Response:
        if request.path.startswith("/gone"):
            return web.Response(status=404, text=html("Not found", "No such page."))
        words = f"A report on trials, page {request.path}, with enough words to fingerprint."
        return web.Response(text=html("Kazakhstan report", words), content_type="text/html")

    async def start() -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_get("/{tail:.*}", page)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, base = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    yield base
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture(scope="module")
def pywb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real pywb serving a fresh collection in record mode; yields its base URL."""
    directory = pywb_bin()
    if directory is None:
        pytest.skip(
            "pywb is not installed: `pip install -e '.[pywb]'` installs it, or set "
            f"{PYWB_BIN_ENV} to the bin directory of a virtualenv with pywb 2.10.0"
        )
    root = tmp_path_factory.mktemp("pywb")
    subprocess.run(
        [str(directory / "wb-manager"), "init", COLLECTION],
        cwd=root,
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [str(directory / "wayback"), "--record", "--live", "-a", "--auto-interval", "1"]
    with (root / "wayback.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "-p", str(port), "-b", "127.0.0.1"], cwd=root, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(
            f"{base}/{COLLECTION}/cdx?url=http://example.com/&output=json", process
        )
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def test_pywb_capture_is_indexed_found_and_replayed(pywb: str, site: str) -> None:
    url = f"{site}/news/1"
    async with Pywb(pywb, COLLECTION, OPTIONS) as archive:
        await archive.check_reachable()
        outcome = await archive.save(url)
        assert outcome.status is SaveStatus.CAPTURED and outcome.snapshot is not None
        replayed = await archive.verify(outcome.snapshot)  # waits for the index
        found = await archive.lookup(url, dt.datetime.now(dt.UTC))
        listed = await archive.snapshots(url)
    assert outcome.snapshot.archive_url.startswith(f"{pywb}/{COLLECTION}/")
    assert replayed is not None and replayed.status == 200
    assert found is not None and found.timestamp == outcome.snapshot.timestamp
    assert [s.archive_url for s in listed] == [outcome.snapshot.archive_url]


async def test_pywb_capture_of_an_error_page_is_not_a_good_capture(pywb: str, site: str) -> None:
    url = f"{site}/gone/1"
    async with Pywb(pywb, COLLECTION, OPTIONS) as archive:
        outcome = await archive.save(url)
        assert outcome.snapshot is not None and outcome.snapshot.status == 404
        await archive.verify(outcome.snapshot)
        assert await archive.snapshots(url) == []


async def test_pywb_unfetchable_page_is_a_failed_save(pywb: str) -> None:
    async with Pywb(pywb, COLLECTION, OPTIONS) as archive:
        outcome = await archive.save(f"http://127.0.0.1:{free_port()}/nothing")
    assert outcome.status is SaveStatus.FAILED


async def test_pywb_without_the_collection_is_a_configuration_error(pywb: str) -> None:
    async with Pywb(pywb, "no-such-collection", OPTIONS) as archive:
        with pytest.raises(ArchiveError, match="wb-manager init no-such-collection"):
            await archive.check_reachable()


async def test_archive_run_with_pywb_saves_and_chooses_its_capture(
    pywb: str, site: str, tmp_path: Path
) -> None:
    url = f"{site}/news/2"
    extra = (
        f'backend = "pywb"\npywb_url = "{pywb}"\npywb_collection = "{COLLECTION}"\n'
        'save_to = ["pywb"]\n'
    )
    # the cited site is on 127.0.0.1: a private address is recorded only when allowed
    extra += "\n[check]\nallow_private = true\n"
    settings = load_settings(write_project(tmp_path, "http://127.0.0.1:9", [url], extra=extra))
    now = dt.datetime.now(dt.UTC)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        [target] = store.urls_to_check()
        check = CheckResult(url=url, checked_at=now, status=200)
        verdict = Verdict(State.ALIVE, Streak(), "alive")
        store.record_checks([CheckRecord(target.id, check, verdict, now)])
        with AsyncStore(store, StoreWriter(settings.state.dir)) as db:
            summary = await archive_run(settings, db, environ={})
    with Store.open(settings.state.dir, writing=False) as store:
        [release] = store.releases_with_citations()
    assert (summary.source, summary.saved, summary.chosen) == ("pywb", 1, 1), summary
    assert (release.citations[0].archive_url or "").startswith(f"{pywb}/{COLLECTION}/")


# --- a pywb-shaped app: the backend's parsing, wherever pywb itself is missing --------


def pywb_shaped_app(captures: list[dict[str, str]]) -> web.Application:
    """pywb's answers: NDJSON CDX, and a record endpoint naming the capture in Content-Location."""

    async def cdx(request: web.Request) -> web.Response:
        rows = [c for c in captures if c["url"] == request.query["url"]]
        return web.Response(text="".join(json.dumps(r) + "\n" for r in rows))

    async def record(request: web.Request) -> web.Response:
        url = request.raw_path.split("/record/id_/", 1)[1]
        captures.append(
            {"url": url, "timestamp": "20261125120000", "status": "200", "mime": "text/html"}
        )
        location = f"{request.scheme}://{request.host}/coll/record/20261125120000id_/{url}"
        return web.Response(text=html("Page", "words"), headers={"Content-Location": location})

    async def collection(request: web.Request) -> web.Response:
        return web.Response(text=html("coll", "The collection's page"), content_type="text/html")

    app = web.Application()
    app.router.add_get("/coll/", collection)
    app.router.add_get("/coll/cdx", cdx)
    app.router.add_get("/coll/record/{tail:.*}", record)
    return app


async def test_pywb_shaped_answers_are_parsed(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    page = "http://site.example/page"
    captures = [
        {"url": page, "timestamp": "20160301000000", "status": "200", "mime": "text/html"},
        {"url": page, "timestamp": "20160405000000", "status": "404", "mime": "text/html"},
        {"url": page, "timestamp": "20160501000000", "status": "-", "mime": "warc/revisit"},
    ]
    server = await aiohttp_server(pywb_shaped_app(captures))
    base = str(server.make_url("")).rstrip("/")
    async with Pywb(base, "coll", OPTIONS, index_wait=0) as archive:
        await archive.check_reachable()
        listed = await archive.snapshots(page)
        saved = await archive.save("http://site.example/new")
        assert saved.snapshot is not None
        verified = await archive.verify(saved.snapshot)
    assert [s.archive_url for s in listed] == [f"{base}/coll/20160301000000/{page}"]
    assert saved.status is SaveStatus.CAPTURED
    assert saved.snapshot.archive_url == f"{base}/coll/20261125120000/http://site.example/new"
    assert verified is not None and verified.status == 200
