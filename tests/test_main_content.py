"""Main content on real page shapes: only the article's links are citations.

`tests/fixtures/pages/` holds pages in the markup of the CMSs and themes press
offices and newsrooms publish with (WordPress themes, Drupal, Ghost, Hugo,
Jekyll, Joomla, TYPO3, Wikipedia, news sites...), and `expected.json` the links
of each article (its body and its notes; not the menu, the footer, the share bar,
tags, "related" boxes or comments) and the date its markup carries. The figures
over the whole set are printed (`pytest -s`), and must reach 90% both ways.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from linkwatch.content import main_content_citations
from linkwatch.extract import extract_citations
from linkwatch.model import DateSource
from linkwatch.sources.decoding import decode_release
from linkwatch.sources.meta import release_meta

PAGES = Path(__file__).parent / "fixtures" / "pages"
EXPECTED: dict[str, dict[str, object]] = json.loads((PAGES / "expected.json").read_text())


def article_links(name: str) -> tuple[list[str], list[str], bytes]:
    data = (PAGES / name).read_bytes()
    release = decode_release(PAGES / name, data)
    found = extract_citations(
        release.text, release.format, encoding=release.encoding, bom=release.bom
    )
    kept = main_content_citations(release, found, url=str(EXPECTED[name].get("url") or "") or None)
    for citation in kept:  # offsets still point at the link in the original bytes
        assert citation.start < citation.end <= len(data)
    expected = [str(url) for url in EXPECTED[name]["links"]]  # type: ignore[attr-defined]
    return [c.url for c in kept], expected, data


def test_the_fixture_set_is_large_enough() -> None:
    assert len(EXPECTED) >= 30
    assert {path.name for path in PAGES.glob("*.html")} == set(EXPECTED)


def test_citations_are_the_articles_links(capsys: pytest.CaptureFixture[str]) -> None:
    true_positive = cited = wanted = 0
    lines = []
    for name in sorted(EXPECTED):
        found, expected, _ = article_links(name)
        hits = sum((Counter(found) & Counter(expected)).values())
        true_positive += hits
        cited += len(found)
        wanted += len(expected)
        lines.append(f"{name:40} cited {len(found):3}  article {len(expected):3}  right {hits:3}")
    precision = true_positive / cited
    recall = true_positive / wanted
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        print(
            f"main content over {len(EXPECTED)} pages: {cited} citations, {wanted} article links; "
            f"{precision:.1%} of citations are the article's, {recall:.1%} of its links found"
        )
    assert precision >= 0.9
    assert recall >= 0.9


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_page_dated_in_its_markup_is_never_dated_by_file_time(name: str) -> None:
    expected = EXPECTED[name].get("date")
    data = (PAGES / name).read_bytes()
    release = decode_release(PAGES / name, data)
    url = EXPECTED[name].get("url")
    meta = release_meta(release, mtime=0.0, url=str(url) if url else None)
    if expected is None:
        assert meta.date_source is DateSource.MTIME
    else:
        assert meta.date_source is not DateSource.MTIME
        assert meta.published.isoformat() == expected
