"""The Wayback Machine backend against the fake archive on 127.0.0.1: real HTTP, no mocks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.wayback import (
    ACCESS_KEY_ENV,
    SECRET_KEY_ENV,
    SaveKeys,
    WaybackMachine,
)
from linkwatch.archive.protocol import SaveStatus
from linkwatch.errors import ArchiveError, ArchiveUnreachable
from linkwatch.model import Snapshot
from support.fake_wayback import FakeWayback, Serve

OPTIONS = archive_options("linkwatch-test/1.0 (+https://example.org/linkwatch)")
PAGE = "http://news.example/2016/04/story"
PUBLISHED = dt.datetime(2016, 4, 7, 23, 59, 59, tzinfo=dt.UTC)
ACCESS, SECRET = "access-key-1234", "secret-key-5678"


def machine(base: str, **kwargs: Any) -> WaybackMachine:
    return WaybackMachine(base, OPTIONS, poll_interval=0.01, verify_wait=0.0, **kwargs)


async def test_lookup_prefers_the_closest_capture_before_over_a_nearer_one_after(
    serve: Serve,
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160301000000")
    fake.add_capture(PAGE, "20160408000000")  # a day after: nearer, but after
    async with machine(await serve(fake)) as wayback:
        found = await wayback.lookup(PAGE, PUBLISHED)
    assert found is not None and found.timestamp == dt.datetime(2016, 3, 1, tzinfo=dt.UTC)


async def test_lookup_takes_the_nearest_after_when_nothing_is_before(serve: Serve) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20170101000000")
    fake.add_capture(PAGE, "20160501000000")
    async with machine(await serve(fake)) as wayback:
        found = await wayback.lookup(PAGE, PUBLISHED)
    assert found is not None and found.timestamp == dt.datetime(2016, 5, 1, tzinfo=dt.UTC)


async def test_lookup_skips_captures_of_errors(serve: Serve) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20150101000000")
    fake.add_capture(PAGE, "20160406000000", status=404)
    fake.add_capture(PAGE, "20160405000000", status=503)
    async with machine(await serve(fake)) as wayback:
        found = await wayback.lookup(PAGE, PUBLISHED)
    assert found is not None and found.timestamp.year == 2015


async def test_lookup_of_an_unarchived_page_is_none(serve: Serve) -> None:
    async with machine(await serve(FakeWayback())) as wayback:
        assert await wayback.lookup(PAGE, PUBLISHED) is None


async def test_snapshots_are_good_captures_oldest_first_on_the_configured_base(
    serve: Serve,
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160501000000")
    fake.add_capture(PAGE, "20140101000000", status=301, location="http://news.example/")
    fake.add_capture(PAGE, "20150101000000", status=404)
    base = await serve(fake)
    async with machine(base) as wayback:
        found = await wayback.snapshots(PAGE)
    assert [(s.timestamp.year, s.status) for s in found] == [(2014, 301), (2016, 200)]
    assert all(s.archive_url.startswith(f"{base}/web/") and s.source == "wayback" for s in found)
    assert found[1].archive_url == f"{base}/web/20160501000000/{PAGE}"


async def test_cdx_of_an_excluded_site_is_an_error_naming_it(serve: Serve) -> None:
    async with machine(await serve(FakeWayback())) as wayback:
        with pytest.raises(ArchiveError, match="Blocked Site Error"):
            await wayback.snapshots("http://excluded.example/page")


async def test_spn1_save_captures_a_page_that_then_replays(serve: Serve) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    async with machine(base) as wayback:
        outcome = await wayback.save(PAGE)
        assert outcome.status is SaveStatus.CAPTURED and outcome.snapshot is not None
        replayed = await wayback.verify(outcome.snapshot)
    assert outcome.snapshot.archive_url.startswith(f"{base}/web/")
    assert replayed is not None and replayed.status == 200
    assert fake.saves_of(PAGE, "captured") == 1


async def test_save_answered_with_an_older_capture_is_fresh(serve: Serve) -> None:
    fake = FakeWayback(cached_within=3600)
    fake.add_capture(PAGE, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20))
    async with machine(await serve(fake)) as wayback:
        outcome = await wayback.save(PAGE)
    assert outcome.status is SaveStatus.FRESH


async def test_excluded_site_is_refused_with_the_archive_reason(serve: Serve) -> None:
    async with machine(await serve(FakeWayback())) as wayback:
        outcome = await wayback.save("http://excluded.example/page")
    assert outcome.status is SaveStatus.REFUSED
    assert outcome.reason is not None and "excluded from the Wayback Machine" in outcome.reason


async def test_rate_limited_save_says_when_to_retry(serve: Serve) -> None:
    fake = FakeWayback(rate_limit=1, retry_after=42)
    async with machine(await serve(fake)) as wayback:
        first = await wayback.save(PAGE)
        second = await wayback.save(PAGE + "/2")
    assert first.status is SaveStatus.CAPTURED
    assert second.status is SaveStatus.RATE_LIMITED and second.retry_after == 42


async def test_archive_server_error_is_a_failure_to_retry(serve: Serve) -> None:
    fake = FakeWayback()
    fake.fail_next[PAGE] = 1
    async with machine(await serve(fake)) as wayback:
        outcome = await wayback.save(PAGE)
    assert outcome.status is SaveStatus.FAILED and "520" in (outcome.reason or "")


async def test_spn2_with_keys_posts_and_polls_the_job(serve: Serve) -> None:
    fake = FakeWayback(keys=(ACCESS, SECRET), spn2_pending_polls=2)
    base = await serve(fake)
    async with machine(base, keys=SaveKeys(ACCESS, SECRET)) as wayback:
        outcome = await wayback.save(PAGE)
    assert outcome.status is SaveStatus.CAPTURED and outcome.snapshot is not None
    assert outcome.snapshot.archive_url.startswith(f"{base}/web/")
    assert fake.requests["spn2"] == 1 and fake.requests["spn2_status"] == 3
    assert fake.requests["spn1"] == 0
    assert fake.authorizations == [f"LOW {ACCESS}:{SECRET}"]


async def test_spn2_refusal_of_an_excluded_site_is_final(serve: Serve) -> None:
    fake = FakeWayback(keys=(ACCESS, SECRET))
    async with machine(await serve(fake), keys=SaveKeys(ACCESS, SECRET)) as wayback:
        outcome = await wayback.save("http://excluded.example/page")
    assert outcome.status is SaveStatus.REFUSED
    assert (outcome.reason or "").startswith("error:blocked-url")


async def test_spn2_rejected_keys_fail_without_showing_them(serve: Serve) -> None:
    fake = FakeWayback(keys=("other", "keys"))
    async with machine(await serve(fake), keys=SaveKeys(ACCESS, SECRET)) as wayback:
        outcome = await wayback.save(PAGE)
        shown = repr(wayback)
    assert outcome.status is SaveStatus.FAILED and "401" in (outcome.reason or "")
    for text in (outcome.reason or "", shown, repr(outcome)):
        assert ACCESS not in text and SECRET not in text


def test_save_keys_come_in_pairs_and_never_show() -> None:
    assert SaveKeys.from_env({}) is None
    keys = SaveKeys.from_env({ACCESS_KEY_ENV: ACCESS, SECRET_KEY_ENV: SECRET})
    assert keys is not None and SECRET not in repr(keys) and SECRET not in str(keys)
    with pytest.raises(ArchiveError, match=SECRET_KEY_ENV):
        SaveKeys.from_env({ACCESS_KEY_ENV: ACCESS})


async def test_verify_refuses_a_capture_the_archive_does_not_have(serve: Serve) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160101000000")
    base = await serve(fake)
    ghost = Snapshot(
        f"{base}/web/20160202000000/{PAGE}", dt.datetime(2016, 2, 2, tzinfo=dt.UTC), None, "wayback"
    )
    async with machine(base) as wayback:
        assert await wayback.verify(ghost) is None


async def test_nothing_listening_is_unreachable(unused_tcp_port: int) -> None:
    async with machine(f"http://127.0.0.1:{unused_tcp_port}") as wayback:
        with pytest.raises(ArchiveUnreachable, match="refused"):
            await wayback.check_reachable()


async def test_a_server_that_is_not_an_archive_is_an_error_not_an_outage(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>a blog</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    server = await aiohttp_server(app)
    async with machine(str(server.make_url("")).rstrip("/")) as wayback:
        with pytest.raises(ArchiveError, match="does not answer like a Wayback Machine") as caught:
            await wayback.check_reachable()
    assert not isinstance(caught.value, ArchiveUnreachable)
