"""trafilatura or readability-lxml: which finds the article of a page better, and how fast.

Both are run on every page of the fixture corpus (tests/fixtures/pages with its
manifest, tests/fixtures/web_pages with expected.json), through the same region
finding (`linkwatch.content.main.find_region`: each block the library keeps is
looked up in the page, the article is the deepest element holding 80% of them,
boxes inside it are cut), so only the library's judgement differs. It prints,
for each, the share of citations that are the article's links (precision), the
share of the article's links found (recall) and the time per page.

    .venv/bin/pip install readability-lxml   # for the comparison only
    .venv/bin/python bench/main_content.py
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

from lxml import etree

from linkwatch.content import main
from linkwatch.extract import extract_citations
from linkwatch.extract.common import byte_offsets
from linkwatch.sources.decoding import decode_release

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"


def corpus() -> list[tuple[Path, str | None, list[str]]]:
    pages = []
    for entry in json.loads((FIXTURES / "pages" / "manifest.json").read_text()):
        links = [u for u in entry["article_links"] if u.startswith(("http://", "https://"))]
        pages.append((FIXTURES / "pages" / entry["file"], entry["url"], links))
    for name, entry in json.loads((FIXTURES / "web_pages" / "expected.json").read_text()).items():
        pages.append((FIXTURES / "web_pages" / name, entry.get("url"), entry["links"]))
    return pages


def readability_blocks(html: str, url: str | None) -> list[str]:
    from readability import Document  # type: ignore[import-untyped]

    summary = Document(html, url=url).summary(html_partial=True)
    tree = etree.fromstring(summary, etree.HTMLParser())
    if tree is None:
        return []
    blocks = []
    for element in tree.iter("p", "li", "h1", "h2", "h3", "h4", "td", "pre", "blockquote"):
        text = " ".join(" ".join(element.itertext()).split())
        if len(text) >= 3:
            blocks.append(text)
    return blocks


def measure(name: str, finder: main.Finder) -> None:
    right = cited = wanted = 0
    seconds = 0.0
    pages = corpus()
    for file, url, expected in pages:
        release = decode_release(file, file.read_bytes())
        found = extract_citations(
            release.text, release.format, encoding=release.encoding, bom=release.bom
        )
        start = time.perf_counter()
        region = main.find_region(release.text, url=url, finder=finder)
        seconds += time.perf_counter() - start
        if region is None:
            kept = found
        else:
            points = [p for pair in region.keep + region.cut for p in pair]
            to_bytes = byte_offsets(release.text, points, release.encoding, len(release.bom))
            held = main.Region(
                tuple((to_bytes[a], to_bytes[b]) for a, b in region.keep),
                tuple((to_bytes[a], to_bytes[b]) for a, b in region.cut),
            )
            kept = [c for c in found if held.holds(c.start)]
        urls = [c.url for c in kept]
        right += sum((Counter(urls) & Counter(expected)).values())
        cited += len(urls)
        wanted += len(expected)
    print(
        f"| {name} | {right / cited:.1%} | {right / wanted:.1%} | "
        f"{seconds / len(pages) * 1000:.0f} ms |"
    )


def main_() -> int:
    print(f"{len(corpus())} pages")
    print("| library | citations that are the article's | article links found | per page |")
    print("|---|---|---|---|")
    measure("trafilatura", main._article_blocks)
    try:
        measure("readability-lxml", readability_blocks)
    except ImportError:
        print("| readability-lxml | not installed | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main_())
