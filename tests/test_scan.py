"""The scan on real files and a real SQLite file: parallel parsing, errors, overrides."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.paths import path_of, shown
from linkwatch.report import View, build_report
from linkwatch.report.to_json import report_dict
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


# --- one bad release never stops a scan ----------------------------------------------

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def project_with(tmp_path: Path, files: dict[bytes, bytes], config: str = "") -> Settings:
    """A project whose releases/ holds `files` (names as raw bytes, any bytes at all)."""
    folder = tmp_path / "releases"
    folder.mkdir()
    for name, data in files.items():
        (folder / os.fsdecode(name)).write_bytes(data)
    (tmp_path / "config.toml").write_text(f'[sources]\npaths = ["releases/*"]\n{config}')
    return load_settings(tmp_path / "config.toml")


GOOD = b"Warsaw, 7 April 2016\n\nText.[^1]\n\n[^1]: <https://good.example.org/a>\n"


def test_front_matter_nested_500_deep_costs_only_its_front_matter(tmp_path: Path) -> None:
    deep = b"---\nx: " + b"[" * 500 + b"]" * 500 + b"\ntitle: T\n---\n\n" + GOOD
    settings = project_with(tmp_path, {b"deep.md": deep, b"good.md": GOOD})
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        paths = {release.path for release in store.releases_with_citations()}
    assert summary.parsed == 2 and not summary.errors
    assert paths == {"releases/deep.md", "releases/good.md"}


def test_a_parser_failure_is_one_line_and_the_others_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a parser raises for one file (here a RecursionError, as a deeply nested
    document gives), the scan names that file in one line and stores the rest."""
    import linkwatch.scan as scanning

    real = scanning.extract_citations

    def fragile(text: str, *args: Any, **kwargs: Any) -> Any:
        if "explode" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(scanning, "extract_citations", fragile)  # a parser bug, stood in for
    settings = project_with(tmp_path, {b"bad.md": b"explode " + GOOD, b"good.md": GOOD})
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        paths = {release.path for release in store.releases_with_citations()}
    assert summary.errors == ["releases/bad.md: cannot parse: nested too deeply"]
    assert paths == {"releases/good.md"}


def test_a_file_name_that_is_not_utf8_is_stored_losslessly_and_shown_escaped(
    tmp_path: Path,
) -> None:
    settings = project_with(tmp_path, {b"caf\xe9-\xff.md": GOOD, b"good.md": GOOD})
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
        keys = sorted(store.known_releases())
    assert summary.parsed == 2 and not summary.errors
    strange = next(key for key in keys if key != "releases/good.md")
    assert shown(strange) == "releases/caf\\xe9-\\xff.md"
    assert os.fsencode(path_of(strange)) == b"releases/caf\xe9-\xff.md"
    again = scan(settings, Store.open(settings.state.dir), now=NOW, workers=1)
    assert again.unchanged == 2  # found again under its key


def test_a_release_linking_thousands_of_urls_is_refused_before_parsing(tmp_path: Path) -> None:
    links = b" ".join(b"https://x%d.example.org/" % n for n in range(40))
    settings = project_with(tmp_path, {b"dump.md": links, b"good.md": GOOD}, "max_citations = 10\n")
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=NOW, workers=1)
    assert summary.errors == [
        "releases/dump.md: 40 links, more than sources.max_citations (10) allows: not read"
    ]
    assert summary.parsed == 1


def test_protocol_relative_citation_is_stored_with_https_and_reported_as_assumed(
    tmp_path: Path,
) -> None:
    (tmp_path / "releases").mkdir()
    (tmp_path / "releases" / "r.html").write_text(
        '<p>Dublin, 3 May 2023. See <a href="//doi.org/10.1038/x">the paper</a> and '
        '<a href="https://a.org/">the site</a>.</p>',
        encoding="utf-8",
    )
    (tmp_path / "config.toml").write_text('[sources]\npaths = ["releases/*.html"]\n')
    settings = load_settings(tmp_path / "config.toml")
    now = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    with Store.open(settings.state.dir) as store:
        scan(settings, store, now=now, workers=1)
        [release] = store.releases_with_citations()
        assert [c.url_key for c in release.citations] == [
            "https://doi.org/10.1038/x",
            "https://a.org/",
        ]
        data = report_dict(build_report(store, now=now, view=View.RELEASE))
    citations = data["releases"][0]["citations"]
    assert [(c["url"], c["scheme_assumed"]) for c in citations] == [
        ("https://doi.org/10.1038/x", True),
        ("https://a.org/", False),
    ]
