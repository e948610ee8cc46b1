"""Look-ups across web archives: Memento TimeMaps and TimeGates on 127.0.0.1, a real store.

The fake archives speak RFC 7089 over HTTP (`support.fake_memento`); the
Internet Archive is the fake Wayback Machine, down (503) when a test says so.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from linkwatch.archive.archives import (
    ArchiveSpec,
    archives_to_ask,
    default_archives,
    read_archive_file,
)
from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.memento import MementoArchive
from linkwatch.archive.run import archive_run
from linkwatch.archive.run_state import ArchiveRunSummary
from linkwatch.archive.timemap import parse_link_format, read_timemap
from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.errors import ArchiveDown, ConfigError
from linkwatch.model import State
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.fake_memento import FakeMemento, lookup_toml, refused_port, serve_in_thread
from support.fake_wayback import FakeWayback, Serve, write_project
from support.fake_wayback import serve_in_thread as wayback_in_thread

PAGE = "http://news.example/2016/04/story"
OTHER = "http://ngo.example/report"
OPTIONS = archive_options("linkwatch-test/1.0 (+https://example.org/linkwatch)")
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)

ServeMemento = Callable[[FakeMemento], Awaitable[str]]


@pytest.fixture
def serve_memento(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> ServeMemento:
    async def start(fake: FakeMemento) -> str:
        server = await aiohttp_server(fake.app())
        return str(server.make_url("")).rstrip("/")

    return start


def spec(name: str, base: str, *, timeout: float = 5.0, concurrency: int = 4) -> ArchiveSpec:
    return ArchiveSpec(
        name, f"Archive {name}", f"{base}/timemap/link/", f"{base}/timegate/",
        concurrency=concurrency, timeout=timeout,
    )  # fmt: skip


def project(
    tmp_path: Path, wayback: str, archives: dict[str, str], urls: list[str], **kwargs: float
) -> Settings:
    config = write_project(tmp_path, wayback, urls, lookup=lookup_toml(archives, **kwargs))
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        for target in store.urls_to_check():
            store.set_pin(target.id, State.DEAD)  # looked up, never saved
    return settings


async def run(settings: Settings, now: dt.datetime = NOW) -> ArchiveRunSummary:
    with AsyncStore.open(settings.state.dir) as db:
        return await archive_run(settings, db, environ={}, now=fixed_clock(now))


def report(settings: Settings) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(
        main, ["--config", str(settings.config_path), "report", "--format", "json"],
        obj={"clock": fixed_clock(NOW)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [section] = json.loads(result.output)["releases"]
    return {c["url"]: c for c in section["citations"]}


# the link format -------------------------------------------------------------------

RFC7089_TIMEMAP = """<http://a.example.org>;rel="original",
<http://arxiv.example.net/timemap/http://a.example.org>
  ; rel="self";type="application/link-format"
  ; from="Tue, 20 Jun 2000 18:02:59 GMT"
  ; until="Wed, 09 Apr 2008 20:30:51 GMT",
<http://arxiv.example.net/timegate/http://a.example.org>
  ; rel="timegate",
<http://arxiv.example.net/web/20000620180259/http://a.example.org>
  ; rel="first memento";datetime="Tue, 20 Jun 2000 18:02:59 GMT"
  ; license="http://creativecommons.org/publicdomain/zero/1.0/",
<http://arxiv.example.net/web/20091027204954/http://a.example.org>
   ; rel="last memento";datetime="Tue, 27 Oct 2009 20:49:54 GMT"
   ; license="http://creativecommons.org/publicdomain/zero/1.0/",
<http://arxiv.example.net/web/20000621011731/http://a.example.org>
  ; rel="memento";datetime="Wed, 21 Jun 2000 01:17:31 GMT"
  ; license="http://creativecommons.org/publicdomain/zero/1.0/"
"""


def test_a_timemap_lists_first_last_and_plain_mementos_with_their_datetimes() -> None:
    page = read_timemap(RFC7089_TIMEMAP, "http://arxiv.example.net/timemap/http://a.example.org")
    assert [(url.split("/")[4], moment.isoformat()) for url, moment in page.mementos] == [
        ("20000620180259", "2000-06-20T18:02:59+00:00"),
        ("20091027204954", "2009-10-27T20:49:54+00:00"),
        ("20000621011731", "2000-06-21T01:17:31+00:00"),
    ]
    assert page.next_pages == []


def test_quoted_values_may_hold_commas_and_semicolons() -> None:
    links = parse_link_format(
        '<http://x/1>; title="a, b; c"; rel="memento", <http://x/2>; rel=next'
    )
    assert [(link.uri, link.attributes.get("title"), link.rels) for link in links] == [
        ("http://x/1", "a, b; c", frozenset({"memento"})),
        ("http://x/2", None, frozenset({"next"})),
    ]


def test_a_page_links_the_next_one_and_relative_links_are_resolved() -> None:
    text = (
        '</web/20160101000000/http://a/>; rel="memento"; '
        'datetime="Fri, 01 Jan 2016 00:00:00 GMT",\n</tm/2/http://a/>; rel="next"'
    )
    page = read_timemap(text, "http://arch.example/tm/http://a/")
    assert page.mementos[0][0] == "http://arch.example/web/20160101000000/http://a/"
    assert page.next_pages == ["http://arch.example/tm/2/http://a/"]


def test_a_later_timemap_page_given_as_rel_timemap_with_from_is_followed() -> None:
    """The Internet Archive's form: the next page is a `timemap` link starting later."""
    text = (
        '<http://a/>; rel="original",\n'
        '<https://ia.example/web/timemap/link/http://a/>; rel="self"; '
        'type="application/link-format"; from="Sun, 20 Jan 2002 14:25:10 GMT",\n'
        '<https://ia.example/web/20020120142510/http://a/>; rel="first memento"; '
        'datetime="Sun, 20 Jan 2002 14:25:10 GMT",\n'
        '<https://ia.example/web/timemap/json/http://a/>; rel="timemap"; type="application/json",\n'
        '<https://ia.example/web/timemap/link/http://a/?page=2>; rel="timemap"; '
        'type="application/link-format"; from="Thu, 28 Mar 2002 01:28:21 GMT"'
    )
    page = read_timemap(text, "https://ia.example/web/timemap/link/http://a/")
    assert len(page.mementos) == 1
    assert page.next_pages == ["https://ia.example/web/timemap/link/http://a/?page=2"]


# one archive, over HTTP ----------------------------------------------------------------


async def test_every_page_of_a_paged_timemap_is_read(serve_memento: ServeMemento) -> None:
    fake = FakeMemento(page_size=2)
    for year in range(2011, 2016):
        fake.add_capture(PAGE, f"{year}0101000000")
    base = await serve_memento(fake)
    async with MementoArchive(spec("a", base), OPTIONS) as archive:
        snapshots = await archive.snapshots(PAGE)
    assert [s.timestamp.year for s in snapshots] == [2011, 2012, 2013, 2014, 2015]
    assert {s.source for s in snapshots} == {"a"} and snapshots[0].status is None
    assert snapshots[0].archive_url == f"{base}/20110101000000/{PAGE}"
    assert fake.requests["timemap"] == 3


async def test_a_timemap_404_means_no_captures(serve_memento: ServeMemento) -> None:
    base = await serve_memento(FakeMemento())
    async with MementoArchive(spec("a", base), OPTIONS) as archive:
        assert await archive.snapshots(PAGE) == []


async def test_the_timegate_gives_the_memento_nearest_the_datetime_asked(
    serve_memento: ServeMemento,
) -> None:
    fake = FakeMemento()
    fake.add_capture(PAGE, "20150101000000")
    fake.add_capture(PAGE, "20160405000000")
    fake.add_capture(PAGE, "20190101000000")
    base = await serve_memento(fake)
    async with MementoArchive(spec("a", base), OPTIONS) as archive:
        found = await archive.lookup(PAGE, dt.datetime(2016, 4, 7, tzinfo=dt.UTC))
    assert found is not None
    assert found.archive_url == f"{base}/20160405000000/{PAGE}"
    assert found.timestamp == dt.datetime(2016, 4, 5, tzinfo=dt.UTC)


async def test_an_archive_answering_503_is_down_not_empty(serve_memento: ServeMemento) -> None:
    base = await serve_memento(FakeMemento(mode="down"))
    async with MementoArchive(spec("a", base), OPTIONS) as archive:
        with pytest.raises(ArchiveDown):
            await archive.snapshots(PAGE)


# runs across archives ----------------------------------------------------------------


async def test_the_internet_archive_down_for_a_whole_run_another_archive_holds_the_capture(
    tmp_path: Path, serve: Serve, serve_memento: ServeMemento
) -> None:
    wayback = await serve(FakeWayback(down=True))
    other = FakeMemento()
    other.add_capture(PAGE, "20160406090000")
    base = await serve_memento(other)
    settings = project(tmp_path, wayback, {"arquivo": base}, [PAGE])
    summary = await run(settings)
    assert summary.unreachable is not None and "503" in summary.unreachable
    assert summary.chosen == 1 and summary.looked_up_in == {"arquivo": 1}
    row = report(settings)[PAGE]
    assert row["archive_url"] == f"{base}/20160406090000/{PAGE}"
    assert row["archive"] == "arquivo"
    for fmt, shown in (("markdown", "(arquivo)"), ("html", "in arquivo</a>")):
        result = CliRunner().invoke(
            main, ["--config", str(settings.config_path), "report", "--format", fmt],
            obj={"clock": fixed_clock(NOW)},
        )  # fmt: skip
        assert shown in result.output, fmt


def test_archive_exits_0_not_2_when_the_internet_archive_answers_503(tmp_path: Path) -> None:
    other = FakeMemento()
    other.add_capture(PAGE, "20160406090000")
    with wayback_in_thread(FakeWayback(down=True)) as wayback, serve_in_thread(other) as [base]:
        settings = project(tmp_path, wayback, {"arquivo": base}, [PAGE])
        result = CliRunner().invoke(
            main, ["--config", str(settings.config_path), "archive"],
            obj={"clock": fixed_clock(NOW)},
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "does not answer like a Wayback Machine" not in result.output
    assert "1 citations given a snapshot" in result.output


async def test_the_closest_capture_before_the_release_wins_across_archives(
    tmp_path: Path, serve: Serve, serve_memento: ServeMemento
) -> None:
    fake = FakeWayback()
    fake.add_capture(PAGE, "20150101000000")
    wayback = await serve(fake)
    near, after = FakeMemento(), FakeMemento()
    near.add_capture(PAGE, "20160401000000")
    after.add_capture(PAGE, "20160408000000")
    settings = project(
        tmp_path, wayback, {"near": await serve_memento(near), "after": await serve_memento(after)},
        [PAGE],
    )  # fmt: skip
    await run(settings)
    assert report(settings)[PAGE]["archive"] == "near"


async def test_a_captured_error_in_another_archive_is_skipped_by_its_replay(
    tmp_path: Path, serve: Serve, serve_memento: ServeMemento
) -> None:
    wayback = await serve(FakeWayback())
    other = FakeMemento()
    other.add_capture(PAGE, "20160406000000", status=404, title="404 Not Found")
    other.add_capture(PAGE, "20160101000000")
    base = await serve_memento(other)
    settings = project(tmp_path, wayback, {"b": base}, [PAGE])
    summary = await run(settings)
    assert summary.rejected == 1
    assert report(settings)[PAGE]["archive_url"] == f"{base}/20160101000000/{PAGE}"


async def test_failing_archives_cost_one_deadline_per_run_then_rest(
    tmp_path: Path, serve: Serve, serve_memento: ServeMemento
) -> None:
    """Refused, 503 and silent archives are asked once each (per worker), then rested."""
    wayback = await serve(FakeWayback())
    good, down, silent = FakeMemento(), FakeMemento(mode="down"), FakeMemento(mode="silent")
    urls = [f"http://site{n}.example/page" for n in range(12)]
    for url in urls:
        good.add_capture(url, "20160401000000")
    archives = {
        "good": await serve_memento(good),
        "down": await serve_memento(down),
        "silent": await serve_memento(silent),
        "refused": f"http://127.0.0.1:{refused_port()}",
    }
    settings = project(tmp_path, wayback, archives, urls, timeout=1.0, concurrency=2)
    summary = await run(settings)
    assert summary.looked_up_in.get("good") == 12 and summary.chosen == 12
    assert set(summary.rested) == {"down", "silent", "refused"}
    assert down.requests["all"] <= 2 and silent.requests["all"] <= 2  # one per worker at most
    asked = (down.requests["all"], silent.requests["all"])

    later = NOW + dt.timedelta(minutes=30)  # within archive.lookup_rest (1 h): not asked again
    with Store.open(settings.state.dir) as store:
        store.db.execute("UPDATE archive_lookups SET next_lookup_at = '2000-01-01T00:00:00+00:00'")
        store.db.conn.commit()
    again = await run(settings, later)
    assert (down.requests["all"], silent.requests["all"]) == asked
    assert set(again.rested) == {"down", "silent", "refused"}

    rested_out = NOW + dt.timedelta(hours=2)  # the rest is over: asked again
    down.mode = "up"
    await run(settings, rested_out)
    assert down.requests["all"] > asked[0]


# the list ---------------------------------------------------------------------------


def test_the_default_list_holds_the_memento_archives_of_today_and_not_archive_today() -> None:
    ids = {spec.id: spec for spec in default_archives()}
    for wanted in (
        "web.archive.org", "arquivo.pt", "webarchive.loc.gov", "webarchive.org.uk",
        "wayback.archive-it.org", "perma.cc",
    ):  # fmt: skip
        assert wanted in ids
    assert not any("archive.today" in key or "archive.ph" in key for key in ids)
    assert ids["web.archive.org"].cdx == "https://web.archive.org/cdx/search/cdx"
    assert ids["webarchive.loc.gov"].ignore  # at the Library's request to aggregators


def test_the_backend_and_ignored_entries_are_not_asked_twice() -> None:
    asked = {s.id for s in archives_to_ask(default_archives(), None, "https://web.archive.org")}
    assert "web.archive.org" not in asked and "webarchive.loc.gov" not in asked
    assert "arquivo.pt" in asked


def test_a_users_own_list_replaces_the_default(tmp_path: Path) -> None:
    own = tmp_path / "archives.json"
    own.write_text(
        json.dumps([{"id": "mine", "name": "Mine", "timemap": "https://a.example/tm/",
                     "timegate": "https://a.example/tg/", "probability": 0.5}]),
        encoding="utf-8",
    )  # fmt: skip
    assert [s.id for s in archives_to_ask((), own, "https://web.archive.org")] == ["mine"]


def test_a_bad_list_file_names_the_file_the_entry_and_the_key(tmp_path: Path) -> None:
    own = tmp_path / "archives.json"
    own.write_text('[{"id": "x", "name": "X", "timemap": "ftp://a/", "timegate": "https://a/"}]')
    with pytest.raises(ConfigError, match=r"archives\.json\[0\]: 'timemap' must be an http"):
        read_archive_file(own)


def test_a_bad_lookup_key_names_the_config_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[archive]\nlookup = [{ id = "x", name = "X", timemap = "https://a/" }]\n')
    with pytest.raises(ConfigError, match=r"config\.toml:2: archive\.lookup: .*'timegate'"):
        load_settings(config)


def test_a_rewritten_html_link_lists_the_verified_copy_of_every_archive(tmp_path: Path) -> None:
    """The chosen copy first in data-versionurl, the other archives' after it."""
    fake = FakeWayback()
    fake.add_capture(PAGE, "20160405000000")
    other = FakeMemento()
    other.add_capture(PAGE, "20160301000000")
    with wayback_in_thread(fake) as wayback, serve_in_thread(other) as [base]:
        config = write_project(tmp_path, wayback, [PAGE], lookup=lookup_toml({"pt": base}))
        release = tmp_path / "releases" / "r.md"
        release.write_text(f'Warsaw, 7 April 2016\n\nSee <a href="{PAGE}">the story</a>.\n')
        args, obj = ["--config", str(config)], {"clock": fixed_clock(NOW)}
        for command in (["scan"], ["archive"], ["rewrite", "--mode", "all"]):
            result = CliRunner().invoke(main, [*args, *command], obj=obj)
            assert result.exit_code == 0, result.output
    text = release.read_text(encoding="utf-8")
    assert (
        f'data-versionurl="{wayback}/web/20160405000000/{PAGE} 2016-04-05T00:00:00Z '
        f'{base}/20160301000000/{PAGE} 2016-03-01T00:00:00Z"'
    ) in text
    assert f'data-originalurl="{PAGE}"' in text


def test_archive_status_shows_the_archives_at_rest(tmp_path: Path) -> None:
    with wayback_in_thread(FakeWayback()) as wayback:
        archives = {"gone": f"http://127.0.0.1:{refused_port()}"}
        settings = project(tmp_path, wayback, archives, [PAGE])
        args, obj = ["--config", str(settings.config_path)], {"clock": fixed_clock(NOW)}
        first = CliRunner().invoke(main, [*args, "archive"], obj=obj)
    assert first.exit_code == 0, first.output
    status = CliRunner().invoke(main, [*args, "archive", "--status"], obj=obj)
    assert "resting: gone until 2026-11-25 13:00:00 UTC" in status.output


async def test_an_archive_is_trusted_for_its_own_endpoints_only(
    tmp_path: Path, serve: Serve, serve_memento: ServeMemento
) -> None:
    """A TimeMap listing mementos on another (private) endpoint: those are never fetched."""
    wayback = await serve(FakeWayback())
    elsewhere = FakeMemento()
    elsewhere.add_capture(PAGE, "20160406000000")
    listing = FakeMemento()
    listing.add_capture(PAGE, "20160406000000")
    listing.memento_base = await serve_memento(elsewhere)  # 127.0.0.1, another port
    settings = project(tmp_path, wayback, {"a": await serve_memento(listing)}, [PAGE])
    summary = await run(settings)
    assert summary.looked_up_in == {"wayback": 1, "a": 1}
    assert summary.chosen == 0 and elsewhere.requests["all"] == 0
