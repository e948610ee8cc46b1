"""Web sources against a real site on 127.0.0.1: sitemaps, a feed, a WordPress API, a list.

The site (`support.press_site`) counts what it is asked, so a rescan's cost is
asserted from the receiving end: an unchanged rescan asks the listings only.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rich.console import Console

from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config import load_settings
from linkwatch.config.settings import RewriteMode, Settings
from linkwatch.digest.build import build_digest
from linkwatch.digest.render import render_digest
from linkwatch.errors import ConfigError, WebSourceError
from linkwatch.model import DateSource, State
from linkwatch.report import OutputFormat, Report, build_report, render
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.scan import scan
from linkwatch.sources.web.listing import MAX_LISTING, parse_sitemap
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot
from linkwatch.store.rewrites import WebOutput
from support.press_site import PressSite
from support.report_example import check

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def site() -> Iterator[PressSite]:
    server = PressSite(releases=6).start()
    yield server
    server.stop()


def project(tmp_path: Path, sources: str) -> Settings:
    (tmp_path / "config.toml").write_text(
        f'[sources]\npaths = []\n{sources}\n\n[state]\ndir = "state"\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\nper_host = 8\n',
        encoding="utf-8",
    )
    return load_settings(tmp_path / "config.toml")


def cited(store: Store) -> dict[str, list[str]]:
    return {r.path: [c.url for c in r.citations] for r in store.releases_with_citations()}


def pages_asked(site: PressSite) -> int:
    return len(site.asked("/press/"))


def test_a_sitemap_lists_releases_and_only_the_articles_links_are_cited(
    tmp_path: Path, site: PressSite
) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml"]')
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        assert summary.ok, summary.errors
        assert summary.pages == 6 and summary.parsed == 6
        found = cited(store)
        for release in site.releases:
            assert found[site.url(release)] == release.cited  # no menu, footer or share links
        rows = {r.path: r for r in store.releases_with_citations()}
        first = rows[site.url(site.releases[0])]
        assert first.title == "Statement number 0 – Press Office"
        assert first.published == "2024-03-05"
        assert first.date_source == DateSource.HTML_META.value


def test_an_unchanged_rescan_asks_the_sitemap_only(tmp_path: Path, site: PressSite) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml"]')
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=NOW, workers=1)
        assert pages_asked(site) == 6
        site.requests.clear()
        again = scan(settings, store, now=NOW, workers=1)
        assert again.ok and again.unchanged == 6 and again.parsed == 0
        assert site.requests == [("GET", "/sitemap.xml", 200)]
        # one release edited: its lastmod moves, only it is asked and parsed again
        site.edit(2, "An update was added.", at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        site.requests.clear()
        third = scan(settings, store, now=NOW, workers=1)
        assert third.parsed == 1 and third.unchanged == 5
        assert [r[1] for r in site.asked("/press/")] == [f"/press/{site.releases[2].slug}/"]


def test_a_gzipped_sitemap_index_is_followed(tmp_path: Path, site: PressSite) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap_index.xml"]')
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        assert summary.ok, summary.errors
        assert set(cited(store)) == {site.url(r) for r in site.releases}
    asked = {r[1] for r in site.requests}
    assert {"/sitemap_index.xml", "/post-sitemap.xml.gz", "/page-sitemap.xml"} <= asked


def test_a_page_without_listed_date_is_asked_conditionally_and_costs_a_304(
    tmp_path: Path, site: PressSite
) -> None:
    urls = ", ".join(f'"{site.url(r)}"' for r in site.releases[:3])
    settings = project(tmp_path, f"urls = [{urls}]")
    with Store.open(settings.state.dir) as store:
        assert scan(settings, store, now=NOW, workers=1).parsed == 3
        site.requests.clear()
        again = scan(settings, store, now=NOW, workers=1)
        assert again.unchanged == 3 and again.parsed == 0
        assert [r[2] for r in site.requests] == [304, 304, 304]


def test_a_url_file_one_url_a_line_with_a_bad_line_named(tmp_path: Path, site: PressSite) -> None:
    lines = [f"# releases\n{site.url(site.releases[0])}\n", "not a url\n", "\n"]
    (tmp_path / "pages.txt").write_text("".join(lines), encoding="utf-8")
    settings = project(tmp_path, 'urls = "pages.txt"')
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        assert summary.parsed == 1
        assert summary.errors == [f"{tmp_path / 'pages.txt'}:3: not an http(s) URL: 'not a url'"]


def test_a_feed_lists_releases_and_its_dates_spare_the_rescan(
    tmp_path: Path, site: PressSite
) -> None:
    settings = project(tmp_path, f'feeds = ["{site.base}/feed/"]')
    with Store.open(settings.state.dir) as store:
        assert scan(settings, store, now=NOW, workers=1).parsed == 6
        assert cited(store)[site.url(site.releases[4])] == site.releases[4].cited
        site.requests.clear()
        assert scan(settings, store, now=NOW, workers=1).unchanged == 6
        assert site.requests == [("GET", "/feed/", 200)]


def test_wordpress_api_pages_through_posts_and_reads_their_bodies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = PressSite(releases=230).start()
    try:
        settings = project(tmp_path, f'wordpress = ["{server.base}"]')
        with Store.open(settings.state.dir) as store:
            summary = scan(settings, store, now=NOW, workers=1)
            assert summary.ok, summary.errors
            assert summary.parsed == 230
            api = server.asked("/wp-json/")
            assert [r[2] for r in api] == [200, 200, 200]  # 3 pages of 100, X-WP-TotalPages
            assert server.asked("/press/") == []  # the API carries the bodies
            rows = {r.path: r for r in store.releases_with_citations()}
            first = rows[server.url(server.releases[0])]
            assert [c.url for c in first.citations] == server.releases[0].cited
            assert first.title == "Statement number 0"
            assert (first.published, first.date_source) == ("2024-03-05", "html_meta")
            server.requests.clear()
            server.edit(7, "Corrected figures.", at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
            again = scan(settings, store, now=NOW, workers=1)
            assert again.parsed == 1 and again.unchanged == 229
    finally:
        server.stop()


def test_include_and_exclude_patterns_pick_the_releases(tmp_path: Path, site: PressSite) -> None:
    settings = project(
        tmp_path,
        f'sitemaps = [{{url = "{site.base}/sitemap.xml", include = ["*/press/release-000*"]}}]\n'
        'exclude = ["*/release-0001/"]',
    )
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=NOW, workers=1)
        assert sorted(cited(store)) == sorted(
            site.url(r) for r in site.releases if r.slug != "release-0001"
        )


def test_a_failing_page_is_one_line_naming_its_url_and_the_scan_goes_on(
    tmp_path: Path, site: PressSite
) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml", "{site.base}/nope.xml"]')
    site.broken.add(site.releases[1].slug)
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        assert sorted(summary.errors) == sorted(
            [f"{site.url(site.releases[1])}: HTTP 500", f"{site.base}/nope.xml: HTTP 404"]
        )
        assert summary.parsed == 5
        # the page is asked again next time, and stored once it answers
        site.broken.clear()
        again = scan(settings, store, now=NOW, workers=1)
        assert again.parsed == 1 and site.url(site.releases[1]) in cited(store)


def test_pages_gone_from_a_sitemap_are_missing_unless_the_sitemap_failed(
    tmp_path: Path, site: PressSite
) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml"]')
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=NOW, workers=1)
        gone = site.releases.pop()
        assert scan(settings, store, now=NOW, workers=1).missing == [site.url(gone)]
    broken = project(tmp_path, f'sitemaps = ["{site.base}/sitemap-broken.xml"]')
    with Store.open(broken.state.dir) as store:
        summary = scan(broken, store, now=NOW, workers=1)
        assert summary.missing == [] and summary.errors
        assert len(cited(store)) == 5


# --- rewrite cannot write to a website ------------------------------------------------


def _dead_with_snapshots(store: Store, path: str) -> None:
    when = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    [release] = [r for r in store.releases_with_citations() if r.path == path]
    for citation in release.citations:
        status = store.url_status(citation.url_key)
        assert status is not None
        store.set_pin(status.id, State.DEAD)
        archived = f"https://web.archive.org/web/{when:%Y%m%d%H%M%S}/{citation.url}"
        store.set_chosen_snapshot(path, citation.url_key, ChosenSnapshot(archived, when, 200), when)


def test_a_web_release_is_rewritten_only_to_output_for_a_person_to_apply(
    tmp_path: Path, site: PressSite
) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml"]')
    page = site.url(site.releases[0])
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=NOW, workers=1)
        _dead_with_snapshots(store, page)
        asked = len(site.requests)
        alone = rewrite_releases(settings, store, mode=RewriteMode.DEAD, now=NOW, workers=1)
        assert alone.by_hand == [page] and alone.written == [] and alone.changed == []
        digest = build_digest(settings, store, period_start=NOW - dt.timedelta(days=7), now=NOW)
        [pending] = [item for item in digest.to_rewrite if item.path == page]
        assert pending.by_hand and pending.citations == 2
        out = tmp_path / "out"
        written = rewrite_releases(
            settings, store, mode=RewriteMode.DEAD, output=out, now=NOW, workers=1
        )
        assert written.by_hand == [page]
        port = page.split(":")[2].split("/")[0]
        copy = out / f"127.0.0.1_{port}" / "press" / "release-0000" / "index.html"
        assert written.written == [copy]
        edited = copy.read_text(encoding="utf-8")
        original = site.page(site.releases[0])
        assert edited != original and 'data-versionurl="https://web.archive.org/web/' in edited
        # only the article's links were rewritten: the chrome is as the site served it
        assert edited.count("web.archive.org") == 4  # two links, each an attribute and a link
        assert len(site.requests) == asked  # the site itself was never written to, nor asked


def rendered(report: Report, fmt: OutputFormat, store: Store) -> str:
    data = render(report, fmt, store).data
    assert data is not None
    return data.decode()


def test_the_report_marks_a_web_release_whose_edit_waits_for_a_person_until_applied(
    tmp_path: Path, site: PressSite
) -> None:
    settings = project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml"]')
    page = site.url(site.releases[0])
    out = tmp_path / "out"
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=NOW, workers=1)
        _dead_with_snapshots(store, page)
        rewrite_releases(settings, store, mode=RewriteMode.DEAD, now=NOW, workers=1)
        # nothing written yet: no edit waits
        assert all(r.apply_by_hand is None for r in build_report(store, now=NOW).releases)
        written = rewrite_releases(
            settings, store, mode=RewriteMode.DEAD, output=out, now=NOW, workers=1
        )
        [copy] = written.written
        report = build_report(store, now=NOW)
        waiting = {r.path: r.apply_by_hand for r in report.releases}
        assert [path for path, w in waiting.items() if w is not None] == [page]
        assert waiting[page] == WebOutput(page, NOW.isoformat(), str(copy), 2)
        data = orjson.loads(rendered(report, OutputFormat.JSON, store))
        by_path = {r["path"]: r["apply_by_hand"] for r in data["releases"]}
        assert by_path[page] == {
            "output": str(copy),
            "written_at": "2026-01-01T00:00:00+00:00",
            "citations": 2,
        }
        assert sum(value is not None for value in by_path.values()) == 1
        markdown = rendered(report, OutputFormat.MARKDOWN, store)
        assert markdown.count("**Needs a person:**") == 1
        assert f"is written to `{copy}`" in markdown
        html = rendered(report, OutputFormat.HTML, store)
        assert html.count('class="by-hand"') == 1 and f"<code>{copy}</code>" in html
        console = Console(width=200, record=True)
        console.print(render(report, OutputFormat.TABLE).table)
        assert console.export_text().count("needs a person: ") == 1
        # a citation of the page died this week: the digest has news, and lists the edit
        died = store.url_status(site.releases[0].cited[0])
        assert died is not None
        check(store, died.id, NOW - dt.timedelta(days=2), State.DEAD, 404)
        digest = build_digest(settings, store, period_start=NOW - dt.timedelta(days=7), now=NOW)
        [pending] = [item for item in digest.to_rewrite if item.path == page]
        assert pending.by_hand and pending.written == str(copy)
        mail = render_digest(digest)
        assert f"a person applies the edited page in the CMS, written to {copy}" in mail.text
        assert f'written to <code style="font-size:12px">{copy}</code>' in mail.html
        csv_rows = list(csv.DictReader(io.StringIO(rendered(report, OutputFormat.CSV, store))))
        assert {row["apply_by_hand"] for row in csv_rows if row["release"] == page} == {str(copy)}
        assert {row["apply_by_hand"] for row in csv_rows if row["release"] != page} == {""}
        # A person pastes the edited page into the CMS: the next scan stores that version,
        # the edit no longer waits, and the citations link their archived copies.
        later = NOW + dt.timedelta(days=1)
        site.publish(0, copy.read_text(encoding="utf-8"), at=later)
        assert scan(settings, store, now=later, workers=1).parsed == 1
        after = build_report(store, now=later)
        [section] = [r for r in after.releases if r.path == page]
        assert section.apply_by_hand is None
        assert all(line.points_at_archive for line in section.citations)
        assert "Needs a person" not in rendered(after, OutputFormat.MARKDOWN, store)


def test_the_scan_command_reads_web_sources_and_says_what_it_asked(
    tmp_path: Path, site: PressSite
) -> None:
    project(tmp_path, f'sitemaps = ["{site.base}/sitemap.xml"]')
    runner = CliRunner()
    config = str(tmp_path / "config.toml")
    first = runner.invoke(main, ["--config", config, "scan"], obj={"clock": fixed_clock(NOW)})
    assert first.exit_code == 0, first.output
    assert "6 of them web pages: 6 asked" in first.output
    again = runner.invoke(main, ["--config", config, "scan"], obj={"clock": fixed_clock(NOW)})
    assert "6 of them web pages: 0 asked" in again.output


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('sitemaps = ["ftp://x.example/s.xml"]', "sources.sitemaps: expected an array of http(s)"),
        ('content_selector = "div[["', "sources.content_selector: expected a CSS selector"),
        ('feeds = [{url = "https://x.example/feed", colour = "red"}]', "sources.feeds: expected"),
        ("include = [1]", "sources.include: expected an array of URL glob patterns"),
    ],
)
def test_a_bad_web_source_key_is_one_line_naming_file_line_and_key(
    tmp_path: Path, line: str, message: str
) -> None:
    (tmp_path / "config.toml").write_text(f"[sources]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "config.toml")
    assert f"config.toml:2: {message}" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_content_selector_per_host_and_per_source(tmp_path: Path, site: PressSite) -> None:
    host = site.base.split("//")[1].split(":")[0]
    settings = project(
        tmp_path,
        f'urls = [{{url = "{site.url(site.releases[0])}", content_selector = "footer#colophon"}},'
        f' "{site.url(site.releases[1])}"]\n'
        f'content_selector = {{"{host}" = "nav.post-navigation"}}',
    )
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=NOW, workers=1)
        found = cited(store)
    assert found[site.url(site.releases[0])] == [
        f"{site.base}/",
        "https://wordpress.org/",
        "https://twitter.com/pressoffice",
        "https://www.facebook.com/pressoffice",
    ]
    # the host's selector picks the post navigation: its one link, and nothing of the article
    assert found[site.url(site.releases[1])] == [f"{site.base}/press/previous/"]


def test_an_atom_feed_lists_releases_with_their_dates(tmp_path: Path, site: PressSite) -> None:
    settings = project(tmp_path, f'feeds = ["{site.base}/feed/atom/"]')
    with Store.open(settings.state.dir) as store:
        assert scan(settings, store, now=NOW, workers=1).parsed == 6
        site.requests.clear()
        assert scan(settings, store, now=NOW, workers=1).unchanged == 6
        assert site.requests == [("GET", "/feed/atom/", 200)]


def test_a_gzip_bomb_sitemap_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_LISTING + 1024) + b"</urlset>")
    assert len(bomb) < MAX_LISTING // 100
    with pytest.raises(WebSourceError, match="once decompressed"):
        parse_sitemap(bomb)


def test_an_entity_in_a_sitemap_is_not_expanded() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://x.example/&b;</loc></url></urlset>"
    )
    pages, _ = parse_sitemap(laughs)
    assert all("aaaaaaaaaa" not in loc for loc, _ in pages)


def test_without_allow_private_a_site_on_loopback_is_refused_in_one_line(
    tmp_path: Path, site: PressSite
) -> None:
    (tmp_path / "config.toml").write_text(
        f'[sources]\npaths = []\nsitemaps = ["{site.base}/sitemap.xml"]\n', encoding="utf-8"
    )
    settings = load_settings(tmp_path / "config.toml")
    with Store.open(tmp_path / "state") as store:
        summary = scan(settings, store, now=NOW, workers=1)
    [line] = summary.errors
    assert line.startswith(f"{site.base}/sitemap.xml: cannot fetch: ")
    assert "private_address" in line
    assert site.requests == []  # the guard refused before connecting
