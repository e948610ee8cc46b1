"""Check runs end to end: real servers on 127.0.0.1, a real SQLite file, the verdict policy."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner

from linkwatch.check.run import CheckRunSummary, check_urls
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.model import CheckResult, State
from linkwatch.scan import scan
from linkwatch.store import Store, UrlToCheck
from linkwatch.store.writer import AsyncStore
from support.hostile_web import HostileWeb, NameResolver, html
from support.releases import write_release

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def project(tmp_path: Path, urls: list[str]) -> Settings:
    """A release citing `urls` as footnotes, scanned into a fresh store."""
    write_release(tmp_path, urls)
    (tmp_path / "config.toml").write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "2s"\n'
    )
    settings = load_settings(tmp_path / "config.toml")
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
    return settings


async def run_at(
    settings: Settings,
    moment: dt.datetime,
    *,
    on_result: Callable[[UrlToCheck, CheckResult], None] | None = None,
) -> CheckRunSummary:
    with AsyncStore.open(settings.state.dir) as db:
        return await check_urls(
            settings,
            db,
            db.read.urls_to_check(),
            resolver=NameResolver(),
            now=lambda: moment,
            on_result=on_result,
        )


def states(settings: Settings) -> dict[str, str]:
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    return {c.url: c.state for c in release.citations}


async def test_one_run_judges_each_behaviour(tmp_path: Path, hostile_web: HostileWeb) -> None:
    url = hostile_web.url
    settings = project(
        tmp_path,
        [
            url("plain.test", "/page"),
            url("plain.test", "/moved"),
            url("plain.test", "/gone"),
            url("plain.test", "/broken"),
            url("bot.test", "/in/someone"),
        ],
    )
    summary = await run_at(settings, START)
    assert summary.checked == 5 and not summary.interrupted
    assert states(settings) == {
        url("plain.test", "/page"): "alive",
        url("plain.test", "/moved"): "moved",
        url("plain.test", "/gone"): "transient",
        url("plain.test", "/broken"): "transient",
        url("bot.test", "/in/someone"): "blocked",
    }


async def test_dead_only_after_the_policy_and_history_is_run_length(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    gone, alive = hostile_web.url("plain.test", "/gone"), hostile_web.url("plain.test", "/page")
    settings = project(tmp_path, [gone, alive])
    for day in (0, 1, 2):
        await run_at(settings, START + dt.timedelta(days=day))
        assert states(settings)[gone] == "transient"
    await run_at(settings, START + dt.timedelta(days=3))
    assert states(settings) == {gone: "dead", alive: "alive"}
    with Store.open(settings.state.dir) as store:
        gone_status = store.url_status(gone)
        alive_status = store.url_status(alive)
        assert gone_status is not None and alive_status is not None
        gone_spans = [(s.state, s.http_status, s.count) for s in store.history(gone_status.id)]
        alive_spans = [(s.state, s.count) for s in store.history(alive_status.id)]
    assert gone_spans == [("transient", 410, 3), ("dead", 410, 1)]
    assert alive_spans == [("alive", 4)]


async def test_outage_run_counts_no_failures(tmp_path: Path) -> None:
    urls = [f"http://site{n}.nowhere.org/page" for n in range(6)]  # NameResolver: NXDOMAIN
    settings = project(tmp_path, urls)
    for day in range(5):
        summary = await run_at(settings, START + dt.timedelta(days=day))
        assert summary.outage and "not counted" in summary.outage[0]
    assert set(states(settings).values()) == {"transient"}
    with Store.open(settings.state.dir) as store:
        assert all(t.streak.failures == 0 for t in store.urls_to_check())


async def test_pin_overrides_the_evidence_in_reports(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    page = hostile_web.url("plain.test", "/page")
    settings = project(tmp_path, [page])
    with Store.open(settings.state.dir) as store:
        status = store.url_status(page)
        assert status is not None
        store.set_pin(status.id, State.DEAD)
    await run_at(settings, START)
    assert states(settings) == {page: "dead"}
    with Store.open(settings.state.dir) as store:
        status = store.url_status(page)
        assert status is not None and status.state == "alive"  # the evidence is kept
        store.set_pin(status.id, None)
    assert states(settings) == {page: "alive"}


async def test_checked_urls_are_not_due_until_their_next_check(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    settings = project(tmp_path, [hostile_web.url("plain.test", "/page")])
    await run_at(settings, START)
    with Store.open(settings.state.dir) as store:
        assert store.urls_to_check(START + dt.timedelta(hours=1)) == []
        assert len(store.urls_to_check(START + dt.timedelta(days=2))) == 1


def probes_seen(hostile_web: HostileWeb, host: str) -> int:
    """Requests for a random 20-character path: the soft-404 probe."""
    return sum(1 for s in hostile_web.requests_to(host) if re.fullmatch(r"/[a-z0-9]{20}", s.path))


async def test_a_site_is_probed_once_a_week_not_once_a_run(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    settings = project(tmp_path, [hostile_web.url("plain.test", "/page")])
    asked = []
    for hours in (0, 1, 24 * 6, 24 * 7 + 1, 24 * 7 + 2):  # check.probe_every = 7d
        await run_at(settings, START + dt.timedelta(hours=hours))
        asked.append(probes_seen(hostile_web, "plain.test"))
    assert asked == [1, 1, 1, 2, 2]
    with Store.open(settings.state.dir) as store:
        [kept] = store.probe_answers(since=START)
    assert (kept.status, kept.redirected) == (404, False)
    assert kept.asked_at == START + dt.timedelta(hours=24 * 7 + 1)


async def test_a_kept_answer_still_finds_soft_404s(tmp_path: Path, hostile_web: HostileWeb) -> None:
    lost, real = (
        hostile_web.url("soft.test", "/no-such-story"),
        hostile_web.url("soft.test", "/real-story"),
    )
    settings = project(tmp_path, [lost, real])
    for day in (0, 1, 2, 3):  # soft 404 on each day, so it is one after the policy
        await run_at(settings, START + dt.timedelta(days=day))
    assert states(settings) == {lost: "soft404", real: "alive"}
    assert probes_seen(hostile_web, "soft.test") == 1


async def test_cancelled_run_keeps_results_received(
    tmp_path: Path, hostile_web: HostileWeb, silent_port: int
) -> None:
    fast = [hostile_web.url("plain.test", f"/page?n={n}") for n in range(3)]
    silent = f"http://silent.test:{silent_port}/"
    settings = project(tmp_path, [silent, *fast])
    done = asyncio.Event()
    received: list[str] = []

    def on_result(target: UrlToCheck, result: CheckResult) -> None:
        received.append(target.url)
        if len(received) == len(fast):
            done.set()

    task = asyncio.create_task(run_at(settings, START, on_result=on_result))
    async with asyncio.timeout(15):
        await done.wait()
    task.cancel()
    summary = await task
    assert summary.interrupted and summary.checked == len(fast)
    result = states(settings)
    assert [result[u] for u in fast] == ["alive"] * 3
    assert result[silent] == "unchecked"


@pytest.fixture
def threaded_site() -> Iterator[str]:
    """A plain site on 127.0.0.1 served from its own thread, for the synchronous CLI."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    address: list[str] = []

    async def page(request: web.Request) -> web.Response:
        if request.path != "/fine":
            return web.Response(status=404)
        return web.Response(text=html("Fine", "A fine page."), content_type="text/html")

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", page)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        address.append(f"http://127.0.0.1:{port}")
        ready.set()
        return runner

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    ready.wait(10)
    yield address[0]
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_cli_check_history_and_mark(tmp_path: Path, threaded_site: str) -> None:
    settings = project(tmp_path, [f"{threaded_site}/fine", f"{threaded_site}/gone"])
    config = str(settings.config_path)
    runner = CliRunner()
    checked = runner.invoke(main, ["--config", config, "check"])
    assert checked.exit_code == 0, checked.output
    assert "1 alive" in checked.output and "1 transient" in checked.output
    again = runner.invoke(main, ["--config", config, "check"])
    assert "nothing due" in again.output
    forced = runner.invoke(main, ["--config", config, "check", "--all"])
    assert "checked 2 URLs" in forced.output
    history = runner.invoke(main, ["--config", config, "history", f"{threaded_site}/gone"])
    assert history.exit_code == 0 and "transient" in history.output and "404" in history.output
    marked = runner.invoke(main, ["--config", config, "mark", f"{threaded_site}/gone", "alive"])
    assert marked.exit_code == 0 and "pinned alive" in marked.output
    report = runner.invoke(main, ["--config", config, "report", "--format", "json"])
    [release] = json.loads(report.output)["releases"]
    pins = {c["url"]: c["pinned"] for c in release["citations"]}
    assert pins == {f"{threaded_site}/fine": None, f"{threaded_site}/gone": "alive"}
    unknown = runner.invoke(main, ["--config", config, "history", "http://127.0.0.1:1/other"])
    assert unknown.exit_code == 2 and "not cited" in unknown.output
    both = runner.invoke(main, ["--config", config, "mark", f"{threaded_site}/gone"])
    assert both.exit_code == 2
