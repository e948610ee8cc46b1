"""Content drift end to end: a live site and a fake Wayback Machine on 127.0.0.1, a real store.

The live site serves pages of the shapes in `support.drift_pages`; the fake
archive holds captures of them from before the release. A scan, a check, an
archive run (which chooses and fingerprints the snapshots) and another check
must flag the URL whose id now holds another article, leave the updated
article alone, replay each snapshot once, and never change a state.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from yarl import URL

from linkwatch.archive.run import archive_run
from linkwatch.check.run import CheckRunSummary, check_urls
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import RewriteMode, Settings
from linkwatch.digest.build import build_digest
from linkwatch.digest.render import render_digest
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.drift_pages import ARTICLES, REWRITES, Shape, page
from support.fake_wayback import FakeWayback, Serve, write_project
from support.live_site import LiveSite, ServeSite
from test_report import validate

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
UPDATED_NOTE = "Updated on 12 May 2016: the authorities answered after publication."


@dataclass
class World:
    settings: Settings
    fake: FakeWayback
    site: LiveSite
    base: str  # the archive's
    urls: dict[str, str]  # name -> cited URL


async def world(tmp_path: Path, serve: Serve, serve_site: ServeSite) -> World:
    """Three cited articles of a news site, each captured in the archive before the release."""
    site, fake = LiveSite(), FakeWayback()
    origin = await serve_site(site)
    base = await serve(fake)
    urls = {
        "updated": f"{origin}/a/101,kazakhstan-journalists",
        "reused": f"{origin}/a/102,belarus-blogger",
        "rewritten": f"{origin}/a/103,water-report",
    }
    for index, (name, url) in enumerate(urls.items()):
        article = ARTICLES[index]
        snapshot = page(Shape.NEWS, article.title, article.paragraphs, seed=index)
        fake.add_capture(url, "20160406120000", body=snapshot)
        path = url[len(origin) :]
        if name == "updated":
            live = page(Shape.NEWS, article.title, article.paragraphs, seed=9, updated=UPDATED_NOTE)
        elif name == "reused":
            other = ARTICLES[3]
            live = page(Shape.NEWS, other.title, other.paragraphs, seed=4)
        else:
            live = page(Shape.NEWS, article.title, REWRITES[index], seed=7)
        site.pages[path] = live
    config = write_project(
        tmp_path,
        base,
        list(urls.values()),
        # every capture counts as fresh: no save, the 2016 captures are the only ones
        extra='fresh_within = "36500d"\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "5s"\n',
    )
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
    return World(settings, fake, site, base, urls)


async def check_all(settings: Settings, moment: dt.datetime = NOW) -> CheckRunSummary:
    with AsyncStore.open(settings.state.dir) as db:
        targets = db.read.urls_to_check()
        return await check_urls(settings, db, targets, now=lambda: moment)


async def archive(settings: Settings) -> None:
    with AsyncStore.open(settings.state.dir) as db:
        await archive_run(settings, db, environ={})


def drift_by_url(settings: Settings) -> dict[str, tuple[bool, float | None]]:
    with Store.open(settings.state.dir) as store:
        return {d.url: (d.drifted, d.similarity) for d in store.citation_drifts()}


def states(settings: Settings) -> dict[str, str]:
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    return {c.url: c.state for c in release.citations}


async def test_a_reused_id_and_a_rewritten_page_drift_an_updated_article_does_not(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await world(tmp_path, serve, serve_site)
    await check_all(w.settings)
    assert drift_by_url(w.settings) == {}  # no snapshot yet: nothing to compare
    await archive(w.settings)
    before = states(w.settings)
    summary = await check_all(w.settings, NOW + dt.timedelta(days=1))
    drift = drift_by_url(w.settings)
    assert drift[w.urls["reused"]][0] is True
    assert drift[w.urls["rewritten"]][0] is True
    assert drift[w.urls["updated"]][0] is False
    updated_similarity = drift[w.urls["updated"]][1]
    assert updated_similarity is not None and updated_similarity > 0.9
    reused_similarity = drift[w.urls["reused"]][1]
    assert reused_similarity is not None and reused_similarity < 0.2
    assert summary.drifted == 2
    # drift never makes a URL dead: every state is what it was
    assert states(w.settings) == before == dict.fromkeys(w.urls.values(), "alive")


async def test_each_snapshot_is_replayed_once_and_the_live_page_fetched_once_per_check(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await world(tmp_path, serve, serve_site)
    await check_all(w.settings)
    await archive(w.settings)
    raw = {name: f"/web/20160406120000id_/{url}" for name, url in w.urls.items()}
    assert all(w.fake.replayed[path] == 1 for path in raw.values()), w.fake.replayed
    hits_before = dict(w.site.hits)
    for day in (1, 2):
        await check_all(w.settings, NOW + dt.timedelta(days=day))
    await archive(w.settings)
    # no replay again: the fingerprints are in the store
    assert all(w.fake.replayed[path] == 1 for path in raw.values()), w.fake.replayed
    # the drift comparison adds no request to the live site: one GET per URL and check
    cited = {URL(url).path for url in w.urls.values()}  # not the soft-404 probes
    for path in cited:
        assert w.site.hits[path] - hits_before[path] == 2, path


async def test_drift_since_is_kept_while_it_lasts_and_cleared_when_the_page_comes_back(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await world(tmp_path, serve, serve_site)
    await archive(w.settings)
    await check_all(w.settings, NOW)
    await check_all(w.settings, NOW + dt.timedelta(days=1))
    with Store.open(w.settings.state.dir) as store:
        [reused] = [d for d in store.citation_drifts() if d.url == w.urls["reused"]]
    assert reused.drifted and reused.drifted_since == NOW.isoformat()
    # the site puts the cited article back under its id
    article = ARTICLES[1]
    path = "/a/102,belarus-blogger"
    w.site.pages[path] = page(Shape.NEWS, article.title, article.paragraphs, seed=2)
    await check_all(w.settings, NOW + dt.timedelta(days=2))
    with Store.open(w.settings.state.dir) as store:
        [reused] = [d for d in store.citation_drifts() if d.url == w.urls["reused"]]
    assert not reused.drifted and reused.drifted_since is None


async def drifted_world(tmp_path: Path, serve: Serve, serve_site: ServeSite) -> World:
    """Snapshots chosen and fingerprinted, then a check: 'reused' and 'rewritten' drifted."""
    w = await world(tmp_path, serve, serve_site)
    await archive(w.settings)
    await check_all(w.settings)
    return w


def cli(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(settings.config_path), *args])
    assert result.exit_code == 0, result.output
    return result.output


async def test_drift_shows_in_every_report_format(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await drifted_world(tmp_path, serve, serve_site)
    data = json.loads(cli(w.settings, "report", "--format", "json"))
    validate(data)
    by_url = {c["url"]: c for c in data["releases"][0]["citations"]}
    assert by_url[w.urls["reused"]]["drifted"] is True
    assert by_url[w.urls["reused"]]["drift_similarity"] < 0.2
    assert by_url[w.urls["updated"]]["drifted"] is False
    assert by_url[w.urls["updated"]]["drift_similarity"] > 0.9
    assert {c["state"] for c in by_url.values()} == {"alive"}
    assert data["summary"]["drifted"] == 2
    urls = json.loads(cli(w.settings, "report", "--by", "url", "--format", "json"))
    validate(urls)
    assert sum(u["drifted"] for u in urls["urls"]) == 2

    rows = list(csv.DictReader(io.StringIO(cli(w.settings, "report", "--format", "csv"))))
    csv_drift = {r["url"]: (r["drifted"], r["drift_similarity"]) for r in rows}
    assert csv_drift[w.urls["reused"]][0] == "true"
    assert csv_drift[w.urls["updated"]][0] == "false"
    assert float(csv_drift[w.urls["updated"]][1]) > 0.9

    markdown = cli(w.settings, "report", "--format", "markdown")
    drifted_rows = [line for line in markdown.splitlines() if "**drifted**" in line]
    assert len(drifted_rows) == 2
    assert all("now says something else than its snapshot" in r for r in drifted_rows)

    table = cli(w.settings, "report")
    assert "alive~" in table and "~ drifted" in table
    assert "3 alive; 3 archived; 2 drifted" in " ".join(table.split())
    assert "2 drifted (the page now says something else)" in markdown

    page_html = cli(w.settings, "report", "--format", "html")
    assert page_html.count('<span class="pill drift"') == 2


async def test_history_says_since_when_a_page_drifted(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await drifted_world(tmp_path, serve, serve_site)
    reused = cli(w.settings, "history", w.urls["reused"])
    assert f"content drifted since {NOW:%Y-%m-%d}" in reused
    assert "similarity 0.0" in reused or "similarity 0.1" in reused
    updated = cli(w.settings, "history", w.urls["updated"])
    assert "content as cited (similarity" in updated and "drifted" not in updated


async def test_the_digest_counts_pages_that_now_say_something_else(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await drifted_world(tmp_path, serve, serve_site)
    with Store.open(w.settings.state.dir) as store:
        digest = build_digest(w.settings, store, period_start=NOW - dt.timedelta(days=7), now=NOW)
        later = build_digest(
            w.settings,
            store,
            period_start=NOW + dt.timedelta(days=1),
            now=NOW + dt.timedelta(days=8),
        )
    assert {d.url for d in digest.drifted} == {w.urls["reused"], w.urls["rewritten"]}
    assert "2 cited pages now say something else" in digest.subject
    rendered = render_digest(digest)
    assert "Now say something else than when cited (2)" in rendered.text
    assert w.urls["reused"] in rendered.html and "content drift since" in rendered.html
    # a drift already told is not news the next week
    assert later.drifted == () and "something else" not in later.subject


async def test_rewrite_mode_drifted_points_drifted_citations_at_their_snapshot(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    w = await drifted_world(tmp_path, serve, serve_site)
    release = w.settings.config_path.parent / "releases" / "r.md"
    with Store.open(w.settings.state.dir) as store:
        by_default = rewrite_releases(w.settings, store, now=NOW)
    assert by_default.changed == []  # the default reports drift, it does not rewrite
    with Store.open(w.settings.state.dir) as store:
        summary = rewrite_releases(w.settings, store, mode=RewriteMode.DRIFTED, now=NOW)
    text = release.read_text(encoding="utf-8")
    assert summary.changed == ["releases/r.md"] and summary.added == 2
    for name in ("reused", "rewritten"):
        assert f"{w.base}/web/20160406120000/{w.urls[name]}" in text
    assert f"/web/20160406120000/{w.urls['updated']}" not in text
    assert states(w.settings) == dict.fromkeys(w.urls.values(), "alive")


def test_the_mode_is_a_config_value(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[rewrite]\nmode = "drifted"\n', encoding="utf-8")
    assert load_settings(config).rewrite.mode is RewriteMode.DRIFTED
