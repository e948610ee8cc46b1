"""Main content on real page shapes: only the article's links are citations.

`tests/fixtures/pages/` (with `manifest.json`) and `tests/fixtures/web_pages/`
(with `expected.json`) hold pages in the markup of the CMSs and themes press
offices and newsrooms publish with (WordPress themes, Drupal, Ghost, Hugo,
Jekyll, Joomla, TYPO3, Squarespace, Wikipedia, news sites...), each with the
links of its article (its body and its notes; not the menu, the footer, the
share bar, tags, "related" boxes or comments) and the date its markup carries. The figures
over the whole set are printed (`pytest -s`), and must reach 90% both ways.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkwatch.content import main_content_citations
from linkwatch.extract import extract_citations
from linkwatch.model import DateSource
from linkwatch.sources.decoding import decode_release
from linkwatch.sources.meta import release_meta

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Page:
    file: Path
    url: str | None
    links: list[str]  # the article's absolute links, in order (relative ones are no citation)
    published: str | None


def _corpus() -> dict[str, Page]:
    """Both page sets: `pages/` (with its manifest.json) and `web_pages/` (expected.json)."""
    pages: dict[str, Page] = {}
    for entry in json.loads((FIXTURES / "pages" / "manifest.json").read_text()):
        links = [u for u in entry["article_links"] if u.startswith(("http://", "https://"))]
        file = FIXTURES / "pages" / entry["file"]
        pages[f"pages/{entry['file']}"] = Page(file, entry["url"], links, entry["published"])
    for name, entry in json.loads((FIXTURES / "web_pages" / "expected.json").read_text()).items():
        file = FIXTURES / "web_pages" / name
        pages[f"web_pages/{name}"] = Page(file, entry.get("url"), entry["links"], entry["date"])
    return pages


CORPUS = _corpus()


def article_links(page: Page) -> list[str]:
    data = page.file.read_bytes()
    release = decode_release(page.file, data)
    found = extract_citations(
        release.text, release.format, encoding=release.encoding, bom=release.bom
    )
    kept = main_content_citations(release, found, url=page.url)
    for citation in kept:  # offsets still point at the link, as written, in the original bytes
        assert 0 <= citation.start < citation.end <= len(data)
    return [c.url for c in kept]


def test_the_fixture_sets_are_large_enough_and_complete() -> None:
    assert len(CORPUS) >= 60
    for folder in ("pages", "web_pages"):
        files = {f"{folder}/{path.name}" for path in (FIXTURES / folder).glob("*.html")}
        assert files <= set(CORPUS)


def test_citations_are_the_articles_links(capsys: pytest.CaptureFixture[str]) -> None:
    true_positive = cited = wanted = 0
    lines = []
    for name, page in sorted(CORPUS.items()):
        found, expected = article_links(page), page.links
        hits = sum((Counter(found) & Counter(expected)).values())
        true_positive += hits
        cited += len(found)
        wanted += len(expected)
        lines.append(f"{name:56} cited {len(found):3}  article {len(expected):3}  right {hits:3}")
    precision = true_positive / cited
    recall = true_positive / wanted
    with capsys.disabled():
        print("\n" + "\n".join(lines))
        print(
            f"main content over {len(CORPUS)} pages: {cited} citations, {wanted} article links; "
            f"{precision:.1%} of citations are the article's, {recall:.1%} of its links found"
        )
    assert precision >= 0.9
    assert recall >= 0.9


@pytest.mark.parametrize("name", sorted(n for n, p in CORPUS.items() if p.published))
def test_a_page_dated_in_its_markup_is_never_dated_by_file_time(name: str) -> None:
    page = CORPUS[name]
    release = decode_release(page.file, page.file.read_bytes())
    meta = release_meta(release, mtime=0.0, url=page.url)
    assert meta.date_source is not DateSource.MTIME
    assert meta.published.isoformat() == page.published


def test_a_content_selector_replaces_the_automatic_finding() -> None:
    page = CORPUS["web_pages/wp-twentytwenty.html"]
    release = decode_release(page.file, page.file.read_bytes())
    found = extract_citations(
        release.text, release.format, encoding=release.encoding, bom=release.bom, site_links=True
    )
    footer = main_content_citations(release, found, selector="footer#site-footer")
    assert [c.url for c in footer] == [
        "https://freepressalliance.org/",
        "https://wordpress.org/",
    ]
    comments = main_content_citations(release, found, selector=".comment-content, .no-such")
    assert [c.url for c in comments] == ["https://blog.commenter.example/my-take"]


def test_an_article_without_page_chrome_is_not_cut() -> None:
    body = (
        b"<!DOCTYPE html><html><body><h1>Statement</h1><p>See "
        b'<a href="https://a.example.org/report">the report</a>.</p>'
        b'<p>Notes: <a href="https://b.example.org/annex">annex</a></p></body></html>'
    )
    release = decode_release(Path("export.html"), body)
    found = extract_citations(
        release.text, release.format, encoding=release.encoding, bom=release.bom
    )
    assert main_content_citations(release, found) == found
