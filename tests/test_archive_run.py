"""Archive runs end to end: the fake Wayback Machine on 127.0.0.1, a real SQLite store."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.wayback import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    SaveKeys,
    WaybackMachine,
)
from linkwatch.archive.run import archive_run
from linkwatch.archive.run_state import ArchiveRunSummary
from linkwatch.check.verdict import Streak, Verdict
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.model import CheckResult, State
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, Store
from linkwatch.store.archive import ChosenSnapshot
from linkwatch.store.writer import AsyncStore
from support.fake_wayback import FakeWayback, Serve, write_project

PAGE = "http://news.example/2016/04/story"
OTHER = "http://ngo.example/report"
HOME = "http://news.example/"
NOW = dt.datetime.now(dt.UTC)
OPTIONS = archive_options("linkwatch-test/1.0 (+https://example.org/linkwatch)")


def project(
    tmp_path: Path,
    base: str,
    urls: list[str],
    states: dict[str, State],
    extra: str = "",
    saves_per_minute: float = 600,
) -> Settings:
    """A scanned release citing `urls`, each URL judged as `states` says (else unchecked)."""
    config = write_project(tmp_path, base, urls, extra=extra, saves_per_minute=saves_per_minute)
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        judge(store, states)
    return settings


def judge(store: Store, states: dict[str, State]) -> None:
    ids = {target.key: target.id for target in store.urls_to_check()}
    store.record_checks(
        [
            CheckRecord(
                ids[url],
                CheckResult(url=url, checked_at=NOW, status=200),
                Verdict(state, Streak(), f"{state} in the test"),
                NOW + dt.timedelta(days=1),
            )
            for url, state in states.items()
        ]
    )


async def run(settings: Settings, **kwargs: Any) -> ArchiveRunSummary:
    kwargs.setdefault("environ", {})
    with AsyncStore.open(settings.state.dir) as db:
        return await archive_run(settings, db, **kwargs)


def chosen(settings: Settings) -> dict[str, tuple[str | None, str | None]]:
    """Each cited URL's chosen snapshot as the report shows it: (archive URL, timestamp)."""
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    return {c.url: (c.archive_url, c.archive_timestamp) for c in release.citations}


# choosing -----------------------------------------------------------------------


async def test_citation_gets_the_closest_capture_before_over_a_nearer_one_after(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160301090000")
    fake.add_capture(PAGE, "20160408000000")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    summary = await run(settings)
    assert summary.chosen == 1 and summary.no_snapshot == 0
    assert chosen(settings)[PAGE] == (
        f"{base}/web/20160301090000/{PAGE}",
        "2016-03-01T09:00:00+00:00",
    )


async def test_citation_gets_the_nearest_capture_after_when_none_is_before(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20190101000000")
    fake.add_capture(PAGE, "20160502000000")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    await run(settings)
    assert chosen(settings)[PAGE][0] == f"{base}/web/20160502000000/{PAGE}"


async def test_a_captured_404_is_skipped(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160406000000", status=404, title="404 Not Found")
    fake.add_capture(PAGE, "20160101000000")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    await run(settings)
    assert chosen(settings)[PAGE][0] == f"{base}/web/20160101000000/{PAGE}"


async def test_a_captured_soft_404_is_skipped_and_not_replayed_again(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160406000000", title="Page not found | News")
    fake.add_capture(PAGE, "20160101000000")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    first = await run(settings)
    assert first.rejected == 1
    assert chosen(settings)[PAGE][0] == f"{base}/web/20160101000000/{PAGE}"
    replays_before = fake.requests["replay"]
    second = await run(settings)
    assert second.rejected == 0 and fake.requests["replay"] == replays_before


async def test_a_capture_redirecting_to_the_home_page_is_skipped(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160406000000", status=302, location=HOME)
    fake.add_capture(HOME, "20160406000005", title="News front page")
    fake.add_capture(PAGE, "20160101000000")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    summary = await run(settings)
    assert summary.rejected == 1
    assert chosen(settings)[PAGE][0] == f"{base}/web/20160101000000/{PAGE}"


async def test_a_capture_showing_the_home_page_is_skipped(tmp_path: Path, serve: Serve) -> None:
    title, text = "News front page", "Latest stories from all over the world today"
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160406000000", title=title, text=text)  # the front page, here
    fake.add_capture(HOME, "20160406120000", title=title, text=text)
    fake.add_capture(PAGE, "20160101000000")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    await run(settings)
    assert chosen(settings)[PAGE][0] == f"{base}/web/20160101000000/{PAGE}"


async def test_a_citation_with_no_real_capture_gets_none(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160406000000", title="Error 404")
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    summary = await run(settings)
    assert summary.no_snapshot == 1 and chosen(settings)[PAGE] == (None, None)


async def test_a_choice_stays_when_no_capture_is_known(tmp_path: Path, serve: Serve) -> None:
    base = await serve(FakeWayback())
    settings = project(tmp_path, base, [PAGE], {PAGE: State.DEAD})
    earlier = ChosenSnapshot(
        f"{base}/web/20160101000000/{PAGE}", dt.datetime(2016, 1, 1, tzinfo=dt.UTC)
    )
    with Store.open(settings.state.dir) as store:
        store.set_chosen_snapshot("releases/r.md", PAGE, earlier, NOW)
    await run(settings)
    assert chosen(settings)[PAGE][0] == earlier.archive_url


# saving -------------------------------------------------------------------------


async def test_an_alive_page_without_captures_is_saved_once_and_chosen(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    first = await run(settings)
    assert (first.queued, first.saved, first.queue_left) == (1, 1, 0)
    archive_url, _ = chosen(settings)[PAGE]
    assert archive_url is not None and archive_url.startswith(f"{base}/web/2")
    second = await run(settings)
    assert second.saved == 0 and second.fresh == 1
    assert fake.saves_of(PAGE) == 1


async def test_no_save_when_a_fresh_capture_exists(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, NOW - dt.timedelta(days=3))
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    for _ in range(2):
        summary = await run(settings)
        assert summary.fresh == 1 and summary.queued == 0
    assert fake.saves_of(PAGE) == 0


async def test_dead_and_unchecked_urls_are_looked_up_but_never_saved(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE, OTHER], {PAGE: State.DEAD})
    summary = await run(settings)
    assert summary.looked_up == 2 and summary.not_savable == 2 and summary.queued == 0
    assert fake.requests["spn1"] == 0


async def test_a_queued_save_is_dropped_when_the_url_died_meanwhile(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    queued = await run(settings, until=NOW)  # no time left for saves: the save stays queued
    assert queued.queued == 1 and queued.queue_left == 1
    with Store.open(settings.state.dir) as store:
        judge(store, {PAGE: State.DEAD})
    summary = await run(settings)
    assert summary.dropped == 1 and summary.queue_left == 0
    assert fake.saves_of(PAGE) == 0


async def test_a_refusal_is_recorded_once_and_never_retried(tmp_path: Path, serve: Serve) -> None:
    excluded = "http://excluded.example/page"
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [excluded], {excluded: State.ALIVE})
    first = await run(settings)
    assert first.refused == 1
    for _ in range(2):
        again = await run(settings)
        assert again.refused == 0 and again.queued == 0
    assert fake.saves_of(excluded) == 1
    with Store.open(settings.state.dir) as store:
        [refusal] = store.queue_state("wayback", NOW).refusals
    assert refusal.url == excluded and "excluded" in (refusal.reason or "")


async def test_an_archive_echoing_the_keys_in_its_refusal_never_gets_them_stored(
    tmp_path: Path, serve: Serve
) -> None:
    """Save Page Now 2's keys travel in a header; an archive that repeats the request's
    headers in its refusal must not get them into the store, `archive --status` or logs."""
    access, secret = "access-4711-key", "secret-0815-value"
    excluded = "http://excluded.example/page"
    fake = FakeWayback(keys=(access, secret), echo_headers=True)
    settings = project(tmp_path, await serve(fake), [excluded], {excluded: State.ALIVE})
    environ = {"LINKWATCH_WAYBACK_ACCESS_KEY": access, "LINKWATCH_WAYBACK_SECRET_KEY": secret}
    summary = await run(settings, environ=environ)
    assert summary.refused == 1
    with Store.open(settings.state.dir) as store:
        [refusal] = store.queue_state("wayback", NOW).refusals
    assert "You sent:" in (refusal.reason or "")
    status = CliRunner().invoke(
        main, ["--config", str(settings.config_path), "archive", "--status"]
    )
    stored = b"".join(path.read_bytes() for path in settings.state.dir.glob("linkwatch.db*"))
    for text in (status.output.encode(), stored):
        assert access.encode() not in text and secret.encode() not in text


async def test_a_rate_limit_pauses_every_save_and_the_pause_outlives_the_run(
    tmp_path: Path, serve: Serve
) -> None:
    urls = [f"http://site{n}.example/page" for n in range(4)]
    fake = FakeWayback(rate_limit=2, retry_after=120)
    base = await serve(fake)
    settings = project(tmp_path, base, urls, dict.fromkeys(urls, State.ALIVE))
    first = await run(settings)
    assert (first.saved, first.rate_limited, first.queue_left) == (2, 1, 2)
    assert first.paused_until is not None
    assert first.paused_until >= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=100)
    asked = len(fake.save_requests)
    second = await run(settings)
    assert len(fake.save_requests) == asked and second.saved == 0
    assert fake.max_saves_in_window() <= 3  # two saves, and the one the limit turned away


async def test_saves_keep_the_pace_within_a_run_and_across_runs(
    tmp_path: Path, serve: Serve
) -> None:
    urls = [f"http://site{n}.example/page" for n in range(4)]
    fake = FakeWayback(rate_limit=240)  # the archive's limit is the configured pace
    base = await serve(fake)
    alive = dict.fromkeys(urls, State.ALIVE)
    first = await run(project(tmp_path, base, urls, alive, saves_per_minute=240))
    assert first.saved == 4
    late = "http://late.example/page"  # a new release cites it: a new run saves it
    settings = project(tmp_path, base, [*urls, late], {late: State.ALIVE}, saves_per_minute=240)
    second = await run(settings)
    assert second.saved == 1
    assert fake.max_saves_in_window() <= 240 and fake.saves_of(late, "rate_limited") == 0
    with Store.open(settings.state.dir) as store:
        starts = store.recent_save_starts("wayback", 0.0)
    assert len(starts) == 5
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 60 / 240  # also across runs


async def test_a_failed_save_backs_off_and_is_retried_later(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback()
    fake.fail_next[PAGE] = 1
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    first = await run(settings)
    assert first.failed == 1 and first.queue_left == 1
    second = await run(settings)
    assert fake.saves_of(PAGE) == 1 and second.saved == 0  # not due yet
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    third = await run(settings, now=lambda: later + (dt.datetime.now(dt.UTC) - NOW))
    assert third.saved == 1 and fake.saves_of(PAGE, "captured") == 1


async def test_an_interrupted_attempt_is_settled_by_a_look_not_a_second_save(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE})
    started = dt.datetime.now(dt.UTC)
    with Store.open(settings.state.dir) as store:
        [target] = store.urls_to_look_up("wayback", started)
        store.enqueue_saves("wayback", [target.id], started)
        store.start_save_attempt("wayback", target.id, started)  # ...and the process died
    fake.add_capture(PAGE, started + dt.timedelta(seconds=2))  # the archive finished the job
    summary = await run(settings)
    assert summary.saved == 1 and fake.requests["spn1"] == 0


async def test_an_unreachable_archive_is_reported_and_nothing_changes(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    settings = project(tmp_path, f"http://127.0.0.1:{unused_tcp_port}", [PAGE], {PAGE: State.ALIVE})
    summary = await run(settings)
    assert summary.unreachable is not None and "refused" in summary.unreachable
    with Store.open(settings.state.dir) as store:
        assert store.lookup_counts("wayback") == (0, 1)


async def test_disabled_archiving_does_nothing(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = project(tmp_path, base, [PAGE], {PAGE: State.ALIVE}, extra="enabled = false\n")
    summary = await run(settings)
    assert summary.disabled and sum(fake.requests.values()) == 0


async def test_save_page_now_2_keys_never_reach_the_database_or_the_log(
    tmp_path: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    access, secret = "ACCESS-7f3e9a", "SECRET-b81c44"
    fake = FakeWayback(keys=(access, secret), spn2_pending_polls=0)
    fake.add_capture("http://excluded.example/x", "20150101000000")
    base = await serve(fake)
    urls = [PAGE, "http://excluded.example/x"]
    settings = project(tmp_path, base, urls, dict.fromkeys(urls, State.ALIVE))
    caplog.set_level(logging.DEBUG)
    keys = SaveKeys.from_env({ACCESS_KEY_ENV: access, SECRET_KEY_ENV: secret})
    wayback = WaybackMachine(base, OPTIONS, keys=keys, poll_interval=0.01)
    summary = await run(settings, archive=wayback)
    assert summary.saved == 1 and fake.requests["spn2"] == 2
    stored = b"".join(p.read_bytes() for p in settings.state.dir.iterdir() if p.is_file())
    for text in (access, secret):
        assert text.encode() not in stored
        assert text not in caplog.text and text not in repr(summary)
