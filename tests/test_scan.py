"""The scan on real files and a real SQLite file: parallel parsing, errors, overrides."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from linkwatch.config.loading import load_settings
from linkwatch.scan import POOL_THRESHOLD, scan
from linkwatch.store import Store

SEED = Path(__file__).parent / "fixtures" / "2016-04-07-juncker-kazakhstan.md"


def write_releases(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"r{number:03}.md").write_text(
            f"Warsaw, {number % 27 + 1} May 2019\n\nText.¹\n\n"
            f"¹ <https://example.org/{number}>\n\n² see <https://shared.example.org/>\n",
            encoding="utf-8",
        )


def test_pool_and_inline_parsing_store_the_same(tmp_path: Path) -> None:
    results = []
    for workers in (1, 2):
        root = tmp_path / f"w{workers}"
        write_releases(root / "releases", POOL_THRESHOLD + 6)
        (root / "config.toml").write_text('[sources]\npaths = ["releases/*.md"]\n')
        settings = load_settings(root / "config.toml")
        with Store.open(settings.state.dir) as store:
            summary = scan(settings, store, workers=workers)
            assert summary.parsed == POOL_THRESHOLD + 6
            assert summary.new_urls == POOL_THRESHOLD + 7
            results.append(
                [
                    (r.path, r.published, [(c.label, c.url, c.start, c.end) for c in r.citations])
                    for r in store.releases_with_citations()
                ]
            )
    assert results[0] == results[1]
    assert results[0][0][1] == "2019-05-01"


def test_date_override_from_config_wins(tmp_path: Path) -> None:
    (tmp_path / "releases").mkdir()
    shutil.copy(SEED, tmp_path / "releases" / SEED.name)
    (tmp_path / "config.toml").write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n[sources.dates]\n"releases/2016-*" = 2016-04-06\n'
    )
    settings = load_settings(tmp_path / "config.toml")
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        [release] = store.releases_with_citations()
    assert (release.published, release.date_source) == ("2016-04-06", "override")


def test_invalid_url_is_stored_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "a.html").write_text(
        '<p>See <a href="http://exa mple.org/x">this</a> and <a href="https://ok.org/">ok</a>.</p>'
    )
    (tmp_path / "config.toml").write_text('[sources]\npaths = ["releases/*"]\n')
    settings = load_settings(tmp_path / "config.toml")
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store)
        [release] = store.releases_with_citations()
    assert summary.ok
    by_url = {c.url: c.invalid for c in release.citations}
    assert by_url["https://ok.org/"] is None
    assert by_url["http://exa mple.org/x"]
