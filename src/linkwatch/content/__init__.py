"""Main content: only the article's links are a release's citations.

A saved or fetched web page holds far more links than its article cites:
navigation, footers, share buttons, "related" boxes, ads. `find_region` says
where the article is in the page's text (`main`); `main_content_citations`
keeps the citations inside it, with their offsets untouched, since `rewrite`
splices in the original file. A release that is already just a body (an
export fragment without page chrome, Markdown, plain text) is not cut.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from linkwatch.extract.common import byte_offsets
from linkwatch.model import Citation, Format
from linkwatch.sources.decoding import ReleaseFile

__all__ = ["has_chrome", "main_content_citations"]

# Page chrome: what a saved or served page has and an article alone has not. Pages
# from before HTML5 mark it with ids and classes (Drupal 7's div#header, #sidebar-first),
# React-era ones with data-testid ("headerSignInButton"); a site search box is chrome too.
# A document with a <body> but none of these is an export of the article: not cut, and
# not worth trafilatura's 50-100 ms.
_CHROME = re.compile(
    r"<(?:nav|header|footer|aside)\b"
    r"|\brole\s*=\s*[\"']?(?:navigation|banner|contentinfo)"
    r"|\b(?:id|class)\s*=\s*[\"']?[^\"'>]*\b(?:header|footer|nav|navigation|menu|sidebar)\b"
    r"|\bdata-testid\s*=\s*[\"']?(?:header|footer|nav)"
    r"|\b(?:role|type|aria-label)\s*=\s*[\"']?search\b",
    re.IGNORECASE,
)


def has_chrome(html: str) -> bool:
    return _CHROME.search(html) is not None


def main_content_citations(
    release: ReleaseFile,
    citations: Sequence[Citation],
    *,
    selector: str | None = None,
    url: str | None = None,
) -> list[Citation]:
    """The citations inside the article; all of them when the release is no full page."""
    if release.format is not Format.HTML or not citations:
        return list(citations)
    if not selector and not has_chrome(release.text):
        return list(citations)
    # lxml, cssselect and trafilatura load only when a page is to be cut (~0.3 s)
    from linkwatch.content.main import Region, find_region

    region = find_region(release.text, selector=selector, url=url)
    if region is None:
        return list(citations)
    positions = [p for pair in region.keep + region.cut for p in pair]
    to_bytes = byte_offsets(release.text, positions, release.encoding, len(release.bom))
    keep = tuple((to_bytes[s], to_bytes[e]) for s, e in region.keep)
    cut = tuple((to_bytes[s], to_bytes[e]) for s, e in region.cut)
    byte_region = Region(keep, cut)
    return [c for c in citations if byte_region.holds(c.start)]
