"""Where a page's article is, as character ranges of its text.

trafilatura finds the article (see the README for why it and not readability);
its output is text, not positions, so each block it kept (paragraph, heading,
list item, cell, quote) is looked up by its text among the page's own blocks
(`tree.offset_tree`), and the article is the deepest element holding most of
them (80% of their text): the article body, without the title bar, the share
buttons or the "related" box that trafilatura may have kept around it. Inside
it, navigation, forms, asides and share/related/comment boxes are cut out.

`sources.content_selector` replaces all this with the elements a CSS selector
picks.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from configparser import ConfigParser
from dataclasses import dataclass

from cssselect import GenericTranslator, SelectorError
from lxml import etree

from linkwatch.content.tree import key, offset_tree, span

COVER = 0.8  # share of the article's text the chosen element must hold

_BLOCKS = frozenset(
    {
        "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "td", "th", "pre", "dd", "dt",
        "figcaption", "caption"
    }
)  # fmt: skip
_NOISE_TAGS = frozenset({"nav", "aside", "form", "button", "select", "menu", "footer"})
_NOISE_WORDS = re.compile(
    r"(?:^|[-_\s])(?:share|sharing|sharedaddy|social|related|comments?|respond|tags?|"
    r"tagcloud|breadcrumbs?|newsletter|subscribe|signup|promo|advert|ads?|sponsor|"
    r"navigation|nav|menu|sidebar|widget|author-bio|byline-social|post-navigation|"
    r"jp-relatedposts|addtoany|sharethis|outbrain|taboola|pagination|submeta|keywords?|"
    r"topics?|links-block|byline|authors?|entry-footer|post-footer|read-next|more-on)"
    r"(?:$|[-_\s:])",
    re.IGNORECASE,
)
# Where CMSs name a box: classes and ids, and the data-* names of React-era news sites.
_NOISE_ATTRIBUTES = ("class", "id", "data-component", "data-testid", "data-link-name")
_SPACE = re.compile(r"\s+")
_FALLBACKS = (
    "[itemprop=articleBody]",
    "article",
    "main",
    "[role=main]",
)


@dataclass(frozen=True, slots=True)
class Region:
    """Character ranges of the article, and ranges inside them that are not."""

    keep: tuple[tuple[int, int], ...]
    cut: tuple[tuple[int, int], ...] = ()

    def holds(self, offset: int) -> bool:
        inside = any(start <= offset < end for start, end in self.keep)
        return inside and not any(start <= offset < end for start, end in self.cut)


def valid_selector(selector: str) -> bool:
    try:
        GenericTranslator().css_to_xpath(selector)
    except SelectorError:
        return False
    return True


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _text(element: etree._Element) -> str:
    return _norm("".join(element.itertext()))


@functools.cache
def _trafilatura_config() -> ConfigParser:
    """trafilatura's defaults, but a short article is still an article.

    By default, less than 250 characters of text makes it fall back to a crude
    whole-page extraction: a press release of three sentences and its footnotes
    would come back with the menu.
    """
    from trafilatura.settings import use_config

    config = use_config()
    for name in ("MIN_EXTRACTED_SIZE", "MIN_OUTPUT_SIZE"):
        config.set("DEFAULT", name, "1")
    return config


def _article_blocks(html: str, url: str | None) -> list[str]:
    """The text of each block trafilatura keeps as the article."""
    import trafilatura  # imported here: it loads lxml, justext and courlan (~0.3 s)

    xml = trafilatura.extract(
        html,
        config=_trafilatura_config(),
        url=url,
        output_format="xml",
        include_links=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        favor_recall=True,
        with_metadata=False,
        deduplicate=False,
    )
    if not xml:
        return []
    try:
        doc = etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError:
        return []
    blocks = []
    for element in doc.iter("p", "head", "item", "cell", "quote", "code"):
        if element.tag == "quote" and element.find("p") is not None:
            continue
        text = _text(element)
        if len(text) >= 3:
            blocks.append(text)
    return blocks


def _page_blocks(root: etree._Element) -> dict[str, list[etree._Element]]:
    found: dict[str, list[etree._Element]] = {}
    for element in root.iter(*_BLOCKS):
        found.setdefault(_text(element), []).append(element)
    return found


def _matched(root: etree._Element, blocks: list[str]) -> list[tuple[etree._Element, int]]:
    """The page's element for each of trafilatura's blocks: a block element with the same
    text, else the smallest element whose text holds it (text straight in a <div>, lines
    split by <br>, as Blogger and older themes write)."""
    by_text = _page_blocks(root)
    used: set[int] = set()
    matched = []
    missing = []
    for text in blocks:
        for element in by_text.get(text, ()):
            if key(element) not in used:
                used.add(key(element))
                matched.append((element, len(text)))
                break
        else:
            missing.append(text)
    if missing:
        texts = [
            (element, _text(element)) for element in root.iter() if isinstance(element.tag, str)
        ]
        for text in missing:
            holders = [(len(t), e) for e, t in texts if text in t]
            if holders:
                matched.append((min(holders, key=lambda pair: pair[0])[1], len(text)))
    return matched


def _deepest_cover(
    root: etree._Element, matched: list[tuple[etree._Element, int]]
) -> etree._Element:
    weight: dict[int, int] = {}
    for element, size in matched:
        node: etree._Element | None = element
        while node is not None:
            weight[key(node)] = weight.get(key(node), 0) + size
            node = node.getparent()
    total = weight.get(key(root), 0)
    node = root
    while True:
        heavy = [child for child in node if weight.get(key(child), 0) >= COVER * total]
        if not heavy:
            return node
        node = heavy[0]


def _is_noise(element: etree._Element) -> bool:
    """A box inside the article that is not the article. Links themselves are never boxes:
    an in-text link to a tag page ("auto-linked tag") is the author's."""
    if element.tag == "a":
        return False
    if element.tag in _NOISE_TAGS:
        return True
    if element.get("role") in ("navigation", "complementary", "search"):
        return True
    words = " ".join(element.get(name, "") for name in _NOISE_ATTRIBUTES)
    return bool(_NOISE_WORDS.search(words))


def _noise_inside(article: etree._Element) -> Iterator[tuple[int, int]]:
    for element in article.iterdescendants():
        if isinstance(element.tag, str) and _is_noise(element):
            yield span(element)


def _select(root: etree._Element, selector: str) -> list[etree._Element]:
    xpath = GenericTranslator().css_to_xpath(selector)
    chosen = [e for e in root.xpath(xpath) if isinstance(e, etree._Element)]
    # an element inside another chosen one adds nothing
    ids = {key(e) for e in chosen}
    return [e for e in chosen if not any(key(a) in ids for a in e.iterancestors())]


Finder = Callable[[str, str | None], list[str]]  # page, URL -> the article's block texts


def find_region(
    html: str,
    *,
    selector: str | None = None,
    url: str | None = None,
    finder: Finder = _article_blocks,
) -> Region | None:
    """The article's ranges in `html`, or None when nothing says where it is (keep all).

    `finder` is trafilatura's reading (bench/main_content.py passes readability's, to
    compare the two on the same pages).
    """
    root = offset_tree(html)
    if selector:
        chosen = _select(root, selector)
        return Region(tuple(span(e) for e in chosen)) if chosen else None
    matched = _matched(root, finder(html, url))
    fallback = next((e for s in _FALLBACKS for e in _select(root, s)), None)
    article = _deepest_cover(root, matched) if matched else fallback
    if article is None or article is root:
        return None
    return Region((span(article),), tuple(_noise_inside(article)))
