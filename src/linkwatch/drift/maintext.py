"""The main text of a page: what the page says, without what every page of its site says.

A light boilerplate-discounting reader, not a full readability port: it drops
what is never the article (navigation, headers and footers of the page,
sidebars, forms, scripts, elements whose class or id names a menu, a sidebar,
a list of related links, a share bar, comments...), then the blocks that are
mostly links (a "related" or "most read" list that escaped the names) and the
one- or two-word blocks (buttons, bylines, dates). When the page marks its
article (`<article>`, `<main>`, `itemprop="articleBody"`), only blocks inside
it count. That is what makes a changed sidebar or a rotated "you may also
like" list leave the text alone, while a new article under the same URL
changes it.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field

from linkwatch.markup import attribute_values

# Never the article, whatever their class.
_SKIPPED_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "nav", "header", "footer",
        "aside", "form", "button", "select", "iframe", "title", "head", "figure",
    }
)  # fmt: skip
# A class or id with one of these words names a part of the page that is not its article.
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:side-?bar|widget|widget-area|related|recommended|menu|nav|navbar|"
    r"breadcrumbs?|footer|masthead|comments?|share|sharing|social|newsletter|subscribe|"
    r"cookie|banner|promo|advert|ads?|popular|most-read|trending|tags|pagination|"
    r"skip-link|screen-reader-text|sr-only|visually-hidden|author-bio|byline)(?:$|[\s_-])",
    re.I,
)
# Where a page says its article is; only blocks inside count when one is there.
_ARTICLE_TAGS = frozenset({"article", "main"})
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "tr",
        "table", "section", "article", "main", "blockquote", "pre", "br", "dd", "dt", "dl",
        "figcaption", "hr", "body",
    }
)  # fmt: skip
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr", "param"}
)  # fmt: skip
_MIN_BLOCK_WORDS = 4  # shorter blocks are bylines, dates, buttons
_MAX_LINK_SHARE = 0.5  # blocks whose text is more links than this are link lists
# A block of that many words or more: searched, not counted, so a long block stops early.
_ENOUGH_WORDS = re.compile(r"\w+" + r"\W+\w+" * (_MIN_BLOCK_WORDS - 1))


@dataclass(slots=True)
class _Block:
    parts: list[str] = field(default_factory=list)
    link_chars: int = 0
    in_article: bool = False


# One pass over the markup at C speed: comments and elements whose content is never
# text (scripts, styles, the head...) are matched whole, then tags and text runs. A
# comment or element never closed runs to the end, as in a browser.
_TOKENS = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|noscript|template|svg|head|title|textarea)(?=[\s/>])[^>]*+>.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9:-]*+)([^>]*+)(?:>|\Z)"
    r"|<[!?/][^>]*+(?:>|\Z)"
    r"|([^<]++|<)",
    re.I | re.S,
)
# A tag giving class, id, role, itemprop or aria-hidden a value: only then are its
# attributes read (most tags of a long page are links and list items: an href or nothing).
_NAMES_ONE = re.compile(r"(?:class|id|role|itemprop|aria-hidden)\s*=", re.I)


def _read_flags(rest: str) -> tuple[bool, bool]:
    """Whether a tag's attributes name boilerplate, and whether they mark the article body."""
    attrs = attribute_values(rest)
    names = f"{attrs.get('class', '')} {attrs.get('id', '')} {attrs.get('role', '')}"
    boilerplate = bool(names.strip() and _BOILERPLATE.search(names))
    boilerplate = boilerplate or attrs.get("aria-hidden") == "true"
    return boilerplate, attrs.get("itemprop") == "articleBody"


# The attribute text of a site's menus, list items and paragraphs repeats within a page
# and from page to page, and reading attributes is the costly part: the flags of short
# attribute texts are kept (at most 4,096 of at most 256 characters, about 1.5 MB).
_CACHED_FLAGS = functools.lru_cache(maxsize=4096)(_read_flags)
_CACHED_LENGTH = 256


def _attribute_flags(rest: str) -> tuple[bool, bool]:
    return _CACHED_FLAGS(rest) if len(rest) <= _CACHED_LENGTH else _read_flags(rest)


def _blocks(markup: str) -> list[_Block]:
    """Blocks of text with what they sit in: the article, boilerplate, links.

    One loop with its state in locals, as it runs once per tag and text run of a page
    of up to `check.max_body`: no method call per token. An element is opened as
    (tag, not the article, marks the article); tag soup closes up to the nearest open
    element of that name, as a browser does, and an end tag with no open element is
    ignored. A block holds the text runs between two block-level tags.
    """
    blocks: list[_Block] = []
    stack: list[tuple[str, bool, bool]] = []
    skipped = articles = links = 0  # open elements not the article, marking it, links
    block = _Block()
    for token in _TOKENS.finditer(markup):
        kind = token.lastindex  # 5: a text run; 4: a tag; else nothing that holds text
        if kind == 5:
            if skipped:
                continue
            data = token.group(5)
            if data.isspace():
                continue
            block.parts.append(data)
            if articles:
                block.in_article = True
            if links:
                block.link_chars += len(data.strip())
            continue
        if kind != 4:
            continue
        closing, name, rest = token.group(2, 3, 4)
        tag = name.lower()
        if tag in _BLOCK_TAGS and block.parts:
            blocks.append(block)
            block = _Block()
        if closing:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == tag:
                    for closed, was_skipped, was_article in stack[depth:]:
                        skipped -= was_skipped
                        articles -= was_article
                        links -= closed == "a"
                    del stack[depth:]
                    break
            continue
        if tag in _VOID_TAGS:
            continue
        boilerplate, article = tag in _SKIPPED_TAGS, tag in _ARTICLE_TAGS
        if _NAMES_ONE.search(rest):
            named, body = _attribute_flags(rest)
            boilerplate, article = boilerplate or named, article or body
        article = article and not skipped  # a card in a sidebar is not the article
        stack.append((tag, boilerplate, article))
        skipped += boilerplate
        articles += article
        links += tag == "a"
    if block.parts:
        blocks.append(block)
    return blocks


def main_text(markup: str) -> str:
    """The page's main text as one string of words; empty when it has none."""
    candidates: list[tuple[str, bool]] = []
    for block in _blocks(markup):
        text = " ".join(html.unescape(" ".join(block.parts)).split())
        if _ENOUGH_WORDS.search(text) is None:
            continue
        if block.link_chars > _MAX_LINK_SHARE * len(text):
            continue
        candidates.append((text, block.in_article))
    marked = any(in_article for _, in_article in candidates)
    return "\n".join(text for text, in_article in candidates if in_article or not marked)
