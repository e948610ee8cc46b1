"""Saves at the Internet Archive's real limits, and to more than one archive.

The fake Wayback Machine and the fake Perma.cc serve on 127.0.0.1; the store is
a real SQLite file. Pacing runs on a simulated clock whose sleeps move it on at
once, the fake archive stamping arrivals by the same clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.perma import PERMA_KEY_ENV, PermaCC, PermaKey
from linkwatch.archive.backends.wayback import SaveKeys, WaybackMachine
from linkwatch.archive.protocol import SaveQuota
from linkwatch.archive.run import archive_run
from linkwatch.archive.run_state import ArchiveRunSummary
from linkwatch.archive.save_policy import DAILY_MARGIN, QuotaVerdict, next_utc_day, quota_room
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.digest.build import build_digest
from linkwatch.digest.render import render_digest
from linkwatch.model import QueueStatus, Snapshot
from linkwatch.report.build import build_report
from linkwatch.report.to_json import report_dict
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.archive import LookupRecord
from linkwatch.store.writer import AsyncStore
from support.fake_memento import FakeMemento, lookup_toml
from support.fake_perma import FakePerma
from support.fake_wayback import FakeWayback, Serve, serve_in_thread, write_project
from support.releases import checked_alive
from support.simclock import SimClock

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OPTIONS = archive_options("linkwatch-test/1.0 (+https://example.org/linkwatch)")
QUICK = dataclasses.replace(OPTIONS, timeout=1.0, read_timeout=1.0)
KEYS = ("access-key-1234", "secret-key-5678")
PAGES = [f"http://ngo{n}.example/report/{n}" for n in range(12)]
DAY = dt.timedelta(days=1)


def project(
    tmp_path: Path,
    base: str,
    urls: list[str],
    *,
    extra: str = "",
    saves_per_minute: float | None = None,
    now: dt.datetime = NOW,
    lookup: str = "[]",
) -> Settings:
    """A scanned release citing `urls`, every one of them checked alive."""
    config = write_project(
        tmp_path, base, urls, extra=extra, saves_per_minute=saves_per_minute, lookup=lookup
    )
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        checked_alive(store, urls, now)
    return settings


async def run(settings: Settings, **kwargs: Any) -> ArchiveRunSummary:
    kwargs.setdefault("environ", {})
    with AsyncStore.open(settings.state.dir) as db:
        return await archive_run(settings, db, **kwargs)


def keyed(base: str, settings: Settings | None = None) -> WaybackMachine:
    """The Wayback Machine with keys, as the factory builds it, polling quickly."""
    within = settings.archive.if_not_archived_within if settings else dt.timedelta(0)
    return WaybackMachine(
        base, OPTIONS, keys=SaveKeys(*KEYS), poll_interval=0.01, if_not_archived_within=within
    )


def perma(base: str, fake: FakePerma, options: Any = OPTIONS, folder: int = 0) -> PermaCC:
    return PermaCC(base, base, PermaKey(fake.key), options, folder=folder, poll_interval=0.01)


def perma_beside_wayback(perma_base: str) -> str:
    """The [archive] keys saving to the Wayback Machine and to Perma.cc at `perma_base`."""
    return (
        f'save_to = ["wayback", "perma"]\nperma_api_url = "{perma_base}"\n'
        f'perma_url = "{perma_base}"\nperma_saves_per_minute = 600\n'
    )


def queue(settings: Settings, source: str) -> dict[str, tuple[str, str | None]]:
    """Each queue row of `source`: URL -> (status, reason)."""
    with Store.open(settings.state.dir) as store:
        rows = store.db.execute(
            "SELECT u.key, q.status, q.reason FROM save_queue q JOIN urls u ON u.id = q.url_id "
            "WHERE q.source = ?",
            [source],
        ).fetchall()
    return {url: (status, reason) for url, status, reason in rows}


# the Internet Archive's limits ---------------------------------------------------------


async def test_the_anonymous_pace_never_exceeds_3_saves_in_any_minute(
    tmp_path: Path, serve: Serve
) -> None:
    clock = SimClock(NOW)
    fake = FakeWayback(clock=clock.timestamp)
    base = await serve(fake)
    settings = project(tmp_path, base, PAGES)  # the default pace: archive.saves_per_minute
    assert settings.archive.saves_per_minute == 3
    summary = await run(settings, now=clock.now, sleep=clock.sleep)
    assert summary.saved == len(PAGES) and fake.saves_of(PAGES[0]) == 1
    assert fake.max_saves_in_window(60.0) == 3  # at the archive, in the run's own time
    with Store.open(settings.state.dir) as store:
        starts = store.recent_save_starts("wayback", 0)
    assert len(starts) == len(PAGES)
    assert max(sum(1 for t in starts if s <= t < s + 60) for s in starts) == 3
    assert clock.now() - NOW >= dt.timedelta(minutes=3, seconds=40)  # 12 saves, 20 s apart


async def test_with_keys_the_quota_is_read_and_saves_stop_short_of_the_daily_cap(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback(keys=KEYS, daily_limit=DAILY_MARGIN + 4)
    base = await serve(fake)
    settings = project(tmp_path, base, PAGES, saves_per_minute=600)
    summary = await run(settings, archive=keyed(base))
    assert summary.saved == 4 and fake.requests["user_status"] >= 1
    assert not any(r.answer == "over_cap" for r in fake.save_requests)  # never ran into it
    assert summary.paused_until == next_utc_day(NOW)
    rows = queue(settings, "wayback")
    waiting = [reason for status, reason in rows.values() if status == "queued"]
    assert len(waiting) == len(PAGES) - 4
    assert all(r is not None and "daily capture cap" in r for r in waiting)
    assert "wayback" in summary.held
    # The next UTC day the archive counts from zero again: the rest are saved.
    fake.new_day()
    fake.daily_limit = 100
    tomorrow = SimClock(next_utc_day(NOW) + dt.timedelta(minutes=1))
    later = await run(settings, archive=keyed(base), now=tomorrow.now, sleep=tomorrow.sleep)
    assert later.saved == len(PAGES) - 4 and later.queue_left == 0


async def test_save_page_now_2_is_asked_to_spare_captures(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback(keys=KEYS)
    base = await serve(fake)
    settings = project(
        tmp_path, base, PAGES[:2], saves_per_minute=600, extra='if_not_archived_within = "3d"\n'
    )
    await run(settings, archive=keyed(base, settings))
    options = [r.options for r in fake.save_requests]
    assert len(options) == 2
    for sent in options:
        assert sent["if_not_archived_within"] == str(3 * 86400)
        assert sent["skip_first_archive"] == "1"  # the CDX API was asked in this run
        assert sent["capture_outlinks"] == "0"


async def test_a_capture_within_if_not_archived_within_is_kept_not_made_again(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback(keys=KEYS)
    base = await serve(fake)
    settings = project(
        tmp_path, base, PAGES[:1], saves_per_minute=600, extra='fresh_within = "0s"\n'
    )
    fake.add_capture(PAGES[0], NOW - dt.timedelta(days=2))
    summary = await run(settings, archive=keyed(base, settings))
    assert summary.fresh == 1 and summary.saved == 0
    assert [r.answer for r in fake.save_requests] == ["cached"]


@pytest.mark.parametrize(
    ("quota", "verdict", "room"),
    [
        (None, QuotaVerdict.GO, 10),
        (SaveQuota(5, 0, 0, 4000), QuotaVerdict.GO, 10),
        (SaveQuota(5, 0, 3990, 4000), QuotaVerdict.GO, 10 - DAILY_MARGIN),
        (SaveQuota(5, 0, 4000 - DAILY_MARGIN, 4000), QuotaVerdict.DAILY_CAP, 0),
        (SaveQuota(5, 0, 4000, 4000), QuotaVerdict.DAILY_CAP, 0),
        (SaveQuota(0, 5, 10, 4000), QuotaVerdict.BUSY, 0),
    ],
)
def test_quota_room(quota: SaveQuota | None, verdict: QuotaVerdict, room: int) -> None:
    assert quota_room(quota) == (verdict, room)


def test_next_utc_day_is_midnight_utc() -> None:
    late = dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert next_utc_day(late) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert next_utc_day(dt.datetime(2027, 1, 1, 0, 30, tzinfo=berlin)) == dt.datetime(
        2027, 1, 1, tzinfo=dt.UTC
    )


# several archives ---------------------------------------------------------------------


async def test_saves_go_to_every_archive_each_with_its_own_queue(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake, fake_perma = FakeWayback(), FakePerma()
    base = await serve(fake)
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    extra = 'save_to = ["wayback", "perma"]\nperma_folder = 27\nperma_saves_per_minute = 600\n'
    settings = project(tmp_path, base, PAGES[:3], saves_per_minute=600, extra=extra)
    backend = perma(perma_base, fake_perma, folder=settings.archive.perma_folder)
    summary = await run(settings, archives={"perma": backend})
    assert summary.saved == 6 and summary.saved_in == {"wayback": 3, "perma": 3}
    assert fake_perma.creates == [{"url": url, "folder": 27} for url in PAGES[:3]]
    assert {s for s, _ in queue(settings, "perma").values()} == {QueueStatus.SAVED.value}
    assert {s for s, _ in queue(settings, "wayback").values()} == {QueueStatus.SAVED.value}
    with Store.open(settings.state.dir) as store:
        sources = store.db.execute(
            "SELECT source, count(*) FROM snapshots GROUP BY source ORDER BY source"
        ).fetchall()
    assert sources == [("perma", 3), ("wayback", 3)]
    # A second run asks neither archive again: each queue knows its saves.
    again = await run(settings, archives={"perma": perma(perma_base, fake_perma)})
    assert again.saved == 0 and fake_perma.requests["create"] == 3
    # The report says in how many archives each cited page is preserved.
    with Store.open(settings.state.dir) as store:
        data = report_dict(build_report(store, now=NOW))
        assert store.preservation() == (3, 3, 3)
        digest = build_digest(settings, store, period_start=NOW - 7 * DAY, now=NOW + DAY)
    assert [c["archives"] for c in data["releases"][0]["citations"]] == [2, 2, 2]
    assert data["summary"]["preserved"] == 3 and data["summary"]["preserved_in_several"] == 3
    # ... and so do the digest's totals, in both parts.
    said = "3 citations preserved in at least one archive, 3 of them in two or more."
    rendered = render_digest(digest)
    assert said in rendered.text and said in rendered.html


def test_archive_status_shows_each_archive_and_how_many_hold_each_page(tmp_path: Path) -> None:
    fake, fake_perma = FakeWayback(), FakePerma(links_limit=1)
    with serve_in_thread(fake) as base, serve_in_thread(fake_perma) as perma_base:
        extra = perma_beside_wayback(perma_base)
        settings = project(tmp_path, base, PAGES[:2], saves_per_minute=600, extra=extra)
        args = ["--config", str(settings.config_path), "archive"]
        env = {PERMA_KEY_ENV: fake_perma.key}
        assert CliRunner().invoke(main, args, env=env).exit_code == 0
        status = CliRunner().invoke(main, [*args, "--status"], env=env)
    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    assert f"saves to wayback at {base}:" in lines and f"saves to perma at {perma_base}:" in lines
    perma_part = lines[lines.index(f"saves to perma at {perma_base}:") :]
    assert perma_part[1].startswith("queue: 1 saves queued")  # the allowance ran out
    assert perma_part[2].startswith("paused until ")
    assert "usage limit" in perma_part[2]
    assert lines[-1] == "preserved: 2 of 2 cited URLs in at least one archive, 1 in two or more"


async def test_a_used_up_perma_allowance_waits_and_never_refuses_the_page(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake_perma = FakePerma(links_limit=1)
    base = await serve(FakeWayback())
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    extra = 'save_to = ["perma"]\nperma_saves_per_minute = 600\n'
    settings = project(tmp_path, base, PAGES[:3], extra=extra)
    summary = await run(settings, archives={"perma": perma(perma_base, fake_perma)})
    assert summary.saved == 1 and summary.rate_limited == 1 and summary.refused == 0
    rows = queue(settings, "perma")
    waiting = [reason for status, reason in rows.values() if status == "queued"]
    assert len(waiting) == 2 and any("usage limit" in (r or "") for r in waiting)


async def test_a_page_perma_cannot_load_is_retried_later(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake_perma = FakePerma()
    base = await serve(FakeWayback())
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    url = "http://unloadable.example/page"
    settings = project(tmp_path, base, [url], extra='save_to = ["perma"]\n')
    summary = await run(settings, archives={"perma": perma(perma_base, fake_perma)})
    assert summary.failed == 1 and summary.refused == 0
    [(status, reason)] = queue(settings, "perma").values()
    assert status == "queued" and reason == "HTTP 400: url: Couldn't load URL."


async def test_a_failed_perma_capture_is_not_recorded(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake_perma = FakePerma(failing_urls={PAGES[0]})
    base = await serve(FakeWayback())
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    settings = project(tmp_path, base, PAGES[:1], extra='save_to = ["perma"]\n')
    summary = await run(settings, archives={"perma": perma(perma_base, fake_perma)})
    assert summary.saved == 0 and summary.failed == 1
    with Store.open(settings.state.dir) as store:
        assert store.db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0


async def _silent_or_503(
    mode: str, aiohttp_server: Any, unused_tcp_port: int
) -> tuple[str, FakePerma]:
    fake_perma = FakePerma(mode=mode)
    if mode == "refused":
        return f"http://127.0.0.1:{unused_tcp_port}", fake_perma
    server: TestServer = await aiohttp_server(fake_perma.app())
    return str(server.make_url("")).rstrip("/"), fake_perma


@pytest.mark.parametrize("mode", ["refused", "503", "silent"])
async def test_an_archive_down_for_the_whole_run_costs_one_timeout_and_the_others_go_on(
    mode: str, tmp_path: Path, serve: Serve, aiohttp_server: Any, unused_tcp_port: int
) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    perma_base, fake_perma = await _silent_or_503(mode, aiohttp_server, unused_tcp_port)
    extra = 'save_to = ["perma", "wayback"]\n'
    settings = project(tmp_path, base, PAGES[:4], saves_per_minute=600, extra=extra)
    started = time.monotonic()
    summary = await run(settings, archives={"perma": perma(perma_base, fake_perma, QUICK)})
    elapsed = time.monotonic() - started
    assert summary.saved_in == {"wayback": 4} and summary.unreachable is None
    assert set(summary.down) == {"perma"} and not summary.all_down
    assert fake_perma.requests["all"] <= 1  # asked once, then left alone for the run
    assert elapsed < QUICK.timeout + 5
    assert queue(settings, "perma") == {}  # nothing decided: its queue waits, untouched


async def test_an_archive_that_stops_answering_mid_run_costs_one_timeout_not_one_per_url(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake, fake_perma = FakeWayback(), FakePerma()
    fake.silent_after_saves = 1  # Save Page Now answers once, then never again
    base = await serve(fake)
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    extra = perma_beside_wayback(perma_base)
    settings = project(tmp_path, base, PAGES[:4], saves_per_minute=600, extra=extra)
    wayback = WaybackMachine(base, QUICK, save_timeout=1.0)
    started = time.monotonic()
    summary = await run(
        settings, archive=wayback, archives={"perma": perma(perma_base, fake_perma)}
    )
    elapsed = time.monotonic() - started
    assert fake.requests["silent"] == 1  # one save waited for; the other two never sent
    assert elapsed < 1.0 + 5
    assert summary.saved_in == {"wayback": 1, "perma": 4}
    assert "no answer in time" in summary.down["wayback"] and not summary.all_down
    statuses = sorted(status for status, _reason in queue(settings, "wayback").values())
    assert statuses == ["queued", "queued", "queued", "saved"]  # they wait for a later run
    with Store.open(settings.state.dir) as store:
        unsettled = store.db.execute(
            "SELECT COUNT(*) FROM save_queue WHERE source = 'wayback' "
            "AND attempt_started_at IS NOT NULL AND status = 'queued'"
        ).fetchone()[0]
    assert unsettled == 1  # the save in flight: a later run looks before saving again


async def test_the_internet_archive_down_for_a_run_leaves_perma_saving(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake, fake_perma = FakeWayback(), FakePerma()
    fake.down = True
    base = await serve(fake)
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    extra = perma_beside_wayback(perma_base)
    settings = project(tmp_path, base, PAGES[:2], extra=extra)
    summary = await run(settings, archives={"perma": perma(perma_base, fake_perma)})
    assert summary.unreachable is not None and "503" in summary.unreachable
    assert summary.saved_in == {"perma": 2} and not summary.all_down
    assert fake.requests["down"] == 1  # one request to the archive that is down
    # The page is preserved all the same: its citation gets the Perma Link.
    assert summary.chosen == 2
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    links = {c.url: c.archive_url for c in release.citations}
    assert all(
        (link or "").startswith(f"{perma_base}/") and len(fake_perma.links_of(url)) == 1
        for url, link in links.items()
    )


async def test_with_the_internet_archive_down_look_ups_find_other_copies_and_perma_saves(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake, fake_perma, other = FakeWayback(down=True), FakePerma(), FakeMemento()
    other.add_capture(PAGES[0], "20160406090000")
    base = await serve(fake)
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    other_base = str((await aiohttp_server(other.app())).make_url("")).rstrip("/")
    extra = perma_beside_wayback(perma_base)
    settings = project(
        tmp_path, base, PAGES[:2], extra=extra, lookup=lookup_toml({"arquivo": other_base})
    )
    summary = await run(settings, archives={"perma": perma(perma_base, fake_perma)})
    # One code path: the backend down costs one request, the list is still asked, and
    # the archive the run only saves to goes on saving.
    assert set(summary.down) == {"wayback"} and not summary.all_down
    assert fake.requests["down"] == 1
    assert summary.looked_up_in == {"arquivo": 2} and summary.saved_in == {"perma": 2}
    with Store.open(settings.state.dir) as store:
        snapshots = store.db.execute(
            "SELECT u.key, s.source FROM citation_snapshots s JOIN urls u ON u.key = s.url_key"
        ).fetchall()
        preserved = store.preservation()
    chosen = dict(snapshots)
    assert chosen[PAGES[0]] == "arquivo"  # the copy nearest the release's date
    assert chosen[PAGES[1]] == "perma"  # the only copy: the one saved in this run
    assert preserved == (2, 2, 1)  # PAGES[0] is held by arquivo and by Perma.cc


async def test_a_silent_internet_archive_costs_one_timeout_replays_included(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake, fake_perma = FakeWayback(), FakePerma()
    fake.silent = True
    base = await serve(fake)
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    extra = perma_beside_wayback(perma_base)
    settings = project(tmp_path, base, PAGES[:3], extra=extra)
    with Store.open(settings.state.dir) as store:  # captures an earlier run found, not judged
        ids = {target.key: target.id for target in store.urls_to_check()}
        store.record_lookups(
            "wayback",
            [
                LookupRecord(
                    ids[url],
                    [
                        Snapshot(
                            f"{base}/web/20160301000000/{url}",
                            dt.datetime(2016, 3, 1, tzinfo=dt.UTC),
                            200,
                            "wayback",
                        )
                    ],
                    NOW - 40 * DAY,
                    NOW - 10 * DAY,
                )
                for url in PAGES[:3]
            ],
        )
    started = time.monotonic()
    wayback = WaybackMachine(base, QUICK)
    summary = await run(
        settings, archive=wayback, archives={"perma": perma(perma_base, fake_perma)}
    )
    assert time.monotonic() - started < QUICK.timeout + 5
    assert fake.requests["silent"] == 1 and summary.saved_in == {"perma": 3}


def test_archive_exits_0_naming_the_archive_that_is_down(tmp_path: Path) -> None:
    fake, fake_perma = FakeWayback(), FakePerma()
    fake.down = True
    with serve_in_thread(fake) as base, serve_in_thread(fake_perma) as perma_base:
        extra = perma_beside_wayback(perma_base)
        settings = project(tmp_path, base, PAGES[:1], extra=extra)
        result = CliRunner().invoke(
            main,
            ["--config", str(settings.config_path), "archive"],
            env={PERMA_KEY_ENV: fake_perma.key},
        )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("archive wayback unreachable: ") and "HTTP 503" in lines[0]
    assert "saved 1" in lines[-1] and "(saved in wayback 0, perma 1)" in lines[-1]


def test_every_archive_down_is_one_line_each_and_exit_0(tmp_path: Path) -> None:
    fake, fake_perma = FakeWayback(down=True), FakePerma(mode="503")
    with serve_in_thread(fake) as base, serve_in_thread(fake_perma) as perma_base:
        extra = (
            f'save_to = ["wayback", "perma"]\nperma_api_url = "{perma_base}"\n'
            f'perma_url = "{perma_base}"\n'
        )
        settings = project(tmp_path, base, PAGES[:1], extra=extra)
        result = CliRunner().invoke(
            main,
            ["--config", str(settings.config_path), "archive"],
            env={PERMA_KEY_ENV: fake_perma.key},
        )
    assert result.exit_code == 0, result.output
    wayback, perma_line = result.stdout.splitlines()  # nothing else: nothing was done
    assert wayback.startswith("archive wayback unreachable: ") and "503" in wayback
    assert perma_line.startswith("archive perma unreachable: ") and "503" in perma_line
    assert perma_line.endswith(": skipped, its saves wait for a later run")
    assert fake.requests["down"] == 1 and fake_perma.requests["all"] == 1


def test_perma_without_its_key_is_a_misconfiguration(tmp_path: Path) -> None:
    with serve_in_thread(FakeWayback()) as base:
        settings = project(tmp_path, base, PAGES[:1], extra='save_to = ["wayback", "perma"]\n')
        result = CliRunner().invoke(
            main, ["--config", str(settings.config_path), "archive"], env={PERMA_KEY_ENV: ""}
        )
    assert result.exit_code == 2 and PERMA_KEY_ENV in result.output


async def test_a_perma_key_it_refuses_skips_perma_and_is_never_stored(
    tmp_path: Path, serve: Serve, aiohttp_server: Any
) -> None:
    fake_perma = FakePerma(echo_headers=True)  # quotes the key back in its refusal
    base = await serve(FakeWayback())
    perma_base = str((await aiohttp_server(fake_perma.app())).make_url("")).rstrip("/")
    settings = project(tmp_path, base, PAGES[:1], extra='save_to = ["wayback", "perma"]\n')
    wrong = "wrong-perma-key-abcdef"
    backend = PermaCC(perma_base, perma_base, PermaKey(wrong), OPTIONS)
    summary = await run(settings, archives={"perma": backend})
    assert "refused the API key" in summary.down["perma"] and summary.saved_in == {"wayback": 1}
    assert wrong not in repr(backend) and wrong not in summary.down["perma"]
    for path in settings.state.dir.iterdir():
        assert wrong.encode() not in path.read_bytes()
