"""A usurped domain told by its archived copy: live sites and a fake Wayback Machine on 127.0.0.1.

Two sites, each cited by one release with archived copies from 2016: a lapsed
NGO domain whose new owner answers the old URLs (home page and an article)
with a page selling the domain, while any other path answers 404 (so the
check's own test, the same page for every path, says nothing); and a live
site redesigned since, whose pages keep as little of their snapshots, one of
them an article that quotes a for-sale page's wording. The first becomes
usurped once confirmed; every page of the second stays alive.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from linkwatch.archive.run import archive_run
from linkwatch.check.run import check_urls
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.drift.compare import LANDING_SHINGLES, usurped_by_drift
from linkwatch.drift.prints import content_print
from linkwatch.model import CheckResult
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.drift_pages import ARTICLES, REWRITES, Shape, page
from support.fake_wayback import FakeWayback, Serve, write_project
from support.live_site import LiveSite, ServeSite

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
CAPTURED = "20160406120000"
HOME_2016 = page(
    Shape.NEWS,
    "Civil Rights Watch: monitoring freedoms since 1998",
    ARTICLES[2].paragraphs,
    seed=1,
)


def lander(path: str, *, marketplace: bool) -> str:
    """What a domain's new owner serves: the domain for sale, the path asked echoed back."""
    offer = (
        '<a href="https://dan.com/buy-domain/lapsed-ngo.org">Buy now</a>'
        if marketplace
        else '<a href="mailto:sales@domains.example">Contact the owner</a>'
    )
    return (
        "<!doctype html><html><head><title>lapsed-ngo.org</title></head><body>"
        '<div class="lander"><h1>lapsed-ngo.org</h1>'
        "<p>This website is for sale! Premium name, instant transfer, fair price.</p>"
        f"<p>You asked for {path} on this domain.</p>{offer}</div></body></html>"
    )


async def world(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> tuple[Settings, dict[str, str]]:
    lapsed, redesigned, fake = LiveSite(), LiveSite(), FakeWayback()
    lapsed_origin = await serve_site(lapsed)
    live_origin = await serve_site(redesigned)
    base = await serve(fake)
    urls = {
        "lapsed home": f"{lapsed_origin}/",
        "lapsed article": f"{lapsed_origin}/a/101,kazakhstan-journalists",
        "live home": f"{live_origin}/",
        "live article": f"{live_origin}/a/102,belarus-blogger",
        "live quoting": f"{live_origin}/a/103,water-report",
    }
    snapshots = {
        "lapsed home": HOME_2016,
        "lapsed article": page(Shape.NEWS, ARTICLES[0].title, ARTICLES[0].paragraphs, seed=0),
        "live home": HOME_2016,
        "live article": page(Shape.NEWS, ARTICLES[1].title, ARTICLES[1].paragraphs, seed=2),
        "live quoting": page(Shape.NEWS, ARTICLES[2].title, ARTICLES[2].paragraphs, seed=3),
    }
    for name, url in urls.items():
        fake.add_capture(url, CAPTURED, body=snapshots[name])
    lapsed.pages["/"] = lander("/", marketplace=False)
    lapsed.pages["/a/101,kazakhstan-journalists"] = lander(
        "/a/101,kazakhstan-journalists", marketplace=True
    )
    # The redesigned site: a new home page, the article rewritten, and an article that
    # now reports on domain sales, quoting a lander's words.
    redesigned.pages["/"] = page(Shape.WORDPRESS, "Civil Rights Watch", REWRITES[0], seed=5)
    redesigned.pages["/a/102,belarus-blogger"] = page(
        Shape.WORDPRESS, ARTICLES[1].title, REWRITES[1], seed=6
    )
    quoting = (
        "Lapsed domains of NGOs are bought by resellers who put up a page that reads "
        "'This website is for sale' and carries a price and a contact form.",
        *ARTICLES[3].paragraphs,
    )
    redesigned.pages["/a/103,water-report"] = page(
        Shape.WORDPRESS, "When an NGO's domain lapses", quoting, seed=7
    )
    config = write_project(
        tmp_path,
        base,
        list(urls.values()),
        extra='fresh_within = "36500d"\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "5s"\n',
    )
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
    with AsyncStore.open(settings.state.dir) as db:
        await archive_run(settings, db, environ={})  # chooses and fingerprints the copies
    return settings, urls


async def check_all(settings: Settings, moment: dt.datetime) -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    with AsyncStore.open(settings.state.dir) as db:
        targets = db.read.urls_to_check()
        await check_urls(
            settings,
            db,
            targets,
            now=lambda: moment,
            on_result=lambda target, result: results.__setitem__(result.url, result),
        )
    return results


def states(settings: Settings) -> dict[str, str]:
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    return {c.url: c.state for c in release.citations}


async def test_a_lapsed_domain_for_sale_is_usurped_a_redesigned_site_stays_alive(
    tmp_path: Path, serve: Serve, serve_site: ServeSite
) -> None:
    settings, urls = await world(tmp_path, serve, serve_site)
    first = await check_all(settings, NOW)
    lapsed = first[urls["lapsed article"]].usurped_reason
    assert lapsed is not None and "of the text of its archived copy" in lapsed
    assert "parking service markup" in lapsed  # the marketplace's link
    home = first[urls["lapsed home"]].usurped_reason
    assert home is not None and "for-sale wording ('this website is for sale')" in home
    for name in ("live home", "live article", "live quoting"):
        assert first[urls[name]].usurped_reason is None, name
        assert first[urls[name]].soft404_reason is None, name
    # the quoting article bears the wording, but is an article's length: not even searched
    quoting = first[urls["live quoting"]]
    assert quoting.content is not None and quoting.content.shingles > LANDING_SHINGLES
    assert quoting.landing_signs is None
    # confirmed over days, as every rotten state is
    for day in (2, 4):
        await check_all(settings, NOW + dt.timedelta(days=day))
    found = states(settings)
    assert found[urls["lapsed home"]] == found[urls["lapsed article"]] == "usurped"
    assert [found[urls[n]] for n in ("live home", "live article", "live quoting")] == ["alive"] * 3


def test_dissimilarity_alone_or_a_long_page_with_the_wording_is_not_usurped() -> None:
    snapshot = content_print(
        ARTICLES[0].title, page(Shape.NEWS, ARTICLES[0].title, ARTICLES[0].paragraphs)
    )
    redesign = page(Shape.WORDPRESS, ARTICLES[0].title, REWRITES[0], seed=5)
    live = CheckResult(
        url="http://x.example/a", checked_at=NOW, status=200, content=content_print(None, redesign)
    )
    assert usurped_by_drift(live, [snapshot]) is None  # no marks: a redesign
    signs = "for-sale wording ('this website is for sale')"
    quoting = page(Shape.WORDPRESS, "Lapsed domains", ARTICLES[3].paragraphs, seed=5)
    marked = CheckResult(
        url=live.url,
        checked_at=NOW,
        status=200,
        content=content_print(None, quoting),
        landing_signs=signs,
    )
    assert usurped_by_drift(marked, [snapshot]) is None  # an article's length: a quote
    short = content_print(None, lander("/a", marketplace=False))
    sold = CheckResult(url=live.url, checked_at=NOW, status=200, content=short, landing_signs=signs)
    assert usurped_by_drift(sold, [snapshot]) is not None
    # an archived copy too short to say what the page was, or none, says nothing
    assert usurped_by_drift(sold, [short]) is None
    assert usurped_by_drift(sold, []) is None
