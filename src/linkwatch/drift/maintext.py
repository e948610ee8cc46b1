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
_WORD = re.compile(r"\w+")


@dataclass(slots=True)
class _Block:
    parts: list[str] = field(default_factory=list)
    link_chars: int = 0
    in_article: bool = False


@dataclass(slots=True)
class _Open:
    tag: str
    skipped: bool
    article: bool


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
_NAMED = ("class", "id", "role", "itemprop", "aria-hidden")


class _MainTextReader:
    """Blocks of text with what they sit in: the article, boilerplate, links."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self._stack: list[_Open] = []
        self._skipped = 0  # open elements that are not the article
        self._articles = 0  # open elements that mark the article
        self._links = 0
        self._block = _Block()

    def feed(self, markup: str) -> None:
        for token in _TOKENS.finditer(markup):
            text = token.group(5)
            if text is not None:
                self.handle_data(text)
                continue
            name = token.group(3)
            if name is None:
                continue  # a comment, a declaration, an element without text
            if token.group(2):
                self.handle_endtag(name.lower())
            else:
                self.handle_starttag(name.lower(), token.group(4))
        self._end_block()

    def handle_starttag(self, tag: str, rest: str) -> None:
        if tag in _BLOCK_TAGS:
            self._end_block()
        if tag in _VOID_TAGS:
            return
        attrs = attribute_values(rest) if "=" in rest else {}
        names = " ".join(attrs.get(name, "") for name in _NAMED[:3])
        skipped = tag in _SKIPPED_TAGS or bool(names.strip() and _BOILERPLATE.search(names))
        skipped = skipped or attrs.get("aria-hidden") == "true"
        article = tag in _ARTICLE_TAGS or attrs.get("itemprop") == "articleBody"
        article = article and not self._skipped  # a card in a sidebar is not the article
        self._stack.append(_Open(tag, skipped, article))
        self._skipped += skipped
        self._articles += article
        if tag == "a":
            self._links += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._end_block()
        # Tag soup: close up to the nearest open element of that name, as a browser
        # does; an end tag with no open element is ignored.
        for depth in range(len(self._stack) - 1, -1, -1):
            if self._stack[depth].tag == tag:
                for closed in self._stack[depth:]:
                    self._skipped -= closed.skipped
                    self._articles -= closed.article
                    self._links -= closed.tag == "a"
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self._skipped or data.isspace():
            return
        self._block.parts.append(data)
        self._block.in_article = self._block.in_article or self._articles > 0
        if self._links:
            self._block.link_chars += len(data.strip())

    def _end_block(self) -> None:
        if self._block.parts:
            self.blocks.append(self._block)
        self._block = _Block()


def main_text(markup: str) -> str:
    """The page's main text as one string of words; empty when it has none."""
    reader = _MainTextReader()
    reader.feed(markup)
    candidates: list[tuple[str, bool]] = []
    for block in reader.blocks:
        text = " ".join(html.unescape(" ".join(block.parts)).split())
        if len(_WORD.findall(text)) < _MIN_BLOCK_WORDS:
            continue
        if block.link_chars > _MAX_LINK_SHARE * len(text):
            continue
        candidates.append((text, block.in_article))
    marked = any(in_article for _, in_article in candidates)
    return "\n".join(text for text, in_article in candidates if in_article or not marked)
