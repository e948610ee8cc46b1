"""Reading a fetched page: its text, title, meta refresh and a fingerprint of its text.

Title and meta refresh are read by regular expressions, at C speed, since every
page checked needs them; the text is parsed and fingerprinted only when a
comparison needs it.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import html
import re
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import charset_normalizer
from multidict import CIMultiDictProxy

from linkwatch.markup import attribute_values
from linkwatch.net.response import HttpResponse, media_type

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})  # '' : unlabelled, sniff it

_TITLE_MAX = 300

# Simhash bits that may differ for two pages to count as the same page (>= 0.9 alike).
_SAME_PAGE_BITS = 6

# Words of a not-found page that change from one request to the next: anything with a
# digit (ids, dates, request ids, times), long hex runs, and the words of the requested
# URL itself (a page that echoes "/news/view/99999,any-slug" back).
_VARIABLE_WORD = re.compile(r"\w*\d\w*|[a-f]{8,}")


def is_html(headers: CIMultiDictProxy[str]) -> bool:
    return media_type(headers) in _HTML_TYPES


@dataclass(frozen=True)
class Page:
    title: str | None
    refresh_to: str | None  # absolute target of a meta refresh
    markup: str  # the decoded document, for the fingerprint
    refresh_delay: float | None = None  # seconds before the meta refresh, when it says

    @cached_property
    def fingerprint(self) -> str | None:
        """64-bit simhash of the visible text, hex; computed only when a comparison needs
        it, as parsing the whole page costs more than the rest of a check (and most sites
        answer a nonsense path with a 404, so there is nothing to compare)."""
        reader = _TextReader()
        # html.parser gives up on some bogus declarations: keep what it read until then
        with contextlib.suppress(AssertionError):
            reader.feed(self.markup)
        digest = _simhash(" ".join(reader.text))
        return None if digest is None else f"{digest:016x}"


def url_words(url: str) -> frozenset[str]:
    """The words of a URL's path and query, lower case: what an echoing page repeats."""
    parts = urlsplit(url)
    return frozenset(re.findall(r"[^\W_]+", f"{parts.path} {parts.query}".lower()))


def _stable_words(text: str, echoed: frozenset[str]) -> list[str]:
    words = re.findall(r"[^\W_]+", text.lower())
    return [w for w in words if w not in echoed and not _VARIABLE_WORD.fullmatch(w)]


@dataclass(frozen=True, slots=True)
class Gist:
    """What stays the same when a site answers two different missing URLs: the title and
    the main text with their variable parts discounted (see `page_gist`)."""

    title: str | None
    fingerprint: str | None
    words: int = 0  # stable words of the main text


def page_gist(page: Page, requested: str) -> Gist:
    """The main text of `page` with what changes per request discounted.

    Not-found pages differ on every request: they echo the path, show a request id
    or the time, rotate a "you may also like" list. So the comparison keeps only the
    main region (`<main>`, `<article>` or `role=main` when there is one, else the body
    without `<nav>`, `<header>`, `<footer>`, `<aside>`), leaves out link text (menus,
    related lists, tag clouds) and drops words with a digit, long hex runs and the
    words of the requested URL. Two real articles of one site still differ: their own
    text is what is left (measured over real article pairs: see the README).
    """
    echoed = url_words(requested)
    reader = _MainTextReader()
    with contextlib.suppress(AssertionError):
        reader.feed(page.markup)
    words = _stable_words(" ".join(reader.main_text()), echoed)
    count = len(words)
    if not words:  # no text at all (a script-only page, a shell): compare the markup
        words = _stable_words(_OPAQUE_TAGS.sub(" ", page.markup), echoed)
    digest = _simhash(" ".join(words)) if words else None
    title = gist_title(page.title, requested)
    fingerprint = None if digest is None else f"{digest:016x}"
    return Gist(title=title, fingerprint=fingerprint, words=count)


_OPAQUE_TAGS = re.compile(r"<!--|-->|[<>]")


_LINK = re.compile(r"<a(?=[\s>]).*?(?:</a\s*>|\Z)", re.I | re.S)
_TAG = re.compile(r"<[^>]*+>?")


def rough_words(page: Page) -> int:
    """About how many words of text outside links the page has, at C speed (no parsing):
    an upper bound of its gist's words, bar chrome, to tell an article from a short page."""
    text = _TAG.sub(" ", _LINK.sub(" ", _OPAQUE.sub(" ", page.markup)))
    return len(text.split())


def visible_words(page: Page) -> int:
    """How many words a reader sees on the page."""
    reader = _TextReader()
    with contextlib.suppress(AssertionError):
        reader.feed(page.markup)
    return len(re.findall(r"\w+", " ".join(reader.text)))


def gist_title(title: str | None, requested: str) -> str | None:
    """The title's part of the gist: cheap (no parsing), so compared first."""
    return " ".join(_stable_words(title or "", url_words(requested))) or None


def same_gist(a: Gist, b: Gist) -> bool:
    if a.title != b.title or a.fingerprint is None or b.fingerprint is None:
        return False
    return (int(a.fingerprint, 16) ^ int(b.fingerprint, 16)).bit_count() <= _SAME_PAGE_BITS


class _MainTextReader(HTMLParser):
    """Non-link text of the main region, and of the body minus its chrome as a fallback."""

    _INVISIBLE = frozenset({"title", "script", "style", "noscript", "template", "svg", "a"})
    _CHROME = frozenset({"nav", "header", "footer", "aside", "form", "select", "button"})
    _MAIN = frozenset({"main", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.main: list[str] = []
        self.rest: list[str] = []
        self._hidden = 0
        self._chrome = 0
        self._main = 0
        self._main_depth: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._hidden += 1
        elif tag in self._CHROME:
            self._chrome += 1
        elif tag in self._MAIN or ("role", "main") in attrs:
            self._main += 1
            self._main_depth.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._CHROME:
            self._chrome = max(0, self._chrome - 1)
        elif self._main_depth and tag == self._main_depth[-1]:
            self._main_depth.pop()
            self._main -= 1

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._main:
            self.main.append(data)
        elif not self._chrome:
            self.rest.append(data)

    def main_text(self) -> list[str]:
        return self.main if any(part.strip() for part in self.main) else self.rest


class _TextReader(HTMLParser):
    """The visible text of a page; tolerant of any tag soup."""

    _INVISIBLE = frozenset({"title", "script", "style", "noscript", "template", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


# Title and meta refresh by regular expressions, at C speed: every page checked needs
# them. Comments, scripts and styles are cut out first, as a parser would skip them
# (a meta refresh in a comment must not make a live page a soft 404).
# A tag name ends at a space, a slash or ">" ("<title-bar>" is another element); a
# quote opens a value only after "=", and a quoted value may hold ">". A tag or
# value never closed runs to the end of the text, as in a browser. Possessive
# quantifiers keep every scan linear: a page of "<meta " repeated costs one pass.
_TAG_REST = r"""(?:[^>=]++|=\s*+(?:"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z))|=)*+"""

_OPAQUE = re.compile(
    rf"<!--.*?(?:-->|\Z)|<(script|style)(?=[\s/>]){_TAG_REST}(?:>|\Z).*?(?:</\1\s*>|\Z)",
    re.I | re.S,
)

_TITLE = re.compile(rf"<title(?=[\s/>]){_TAG_REST}(?:>|\Z)(.*?)(?:</title\s*>|\Z)", re.I | re.S)

_META = re.compile(rf"<meta(?=[\s/>])({_TAG_REST})(>|\Z)", re.I)


def _title_and_refresh(markup: str) -> tuple[str | None, str | None]:
    """The page's title and the content of its first meta refresh, entities decoded."""
    visible = _OPAQUE.sub(" ", markup)
    found = _TITLE.search(visible)
    title = " ".join(html.unescape(found.group(1)).split())[:_TITLE_MAX] if found else ""
    for meta in _META.finditer(visible):
        if not meta.group(2):
            break  # never closed: a browser drops it
        attributes = attribute_values(meta.group(1))
        if attributes.get("http-equiv", "").lower() == "refresh":
            return title or None, attributes.get("content", "")
    return title or None, None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)

_REFRESH_URL = re.compile(
    r"""^\s*([\d.]*)\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.*?)\2\s*$""", re.I | re.S
)


def _decode(body: bytes, declared: str | None) -> str:
    """Text of a page: declared charset, then <meta charset>, then UTF-8, then a guess."""
    sniffed = _META_CHARSET.search(body[:4096])
    for encoding in (declared, sniffed.group(1).decode("ascii") if sniffed else None):
        if encoding:
            try:
                return body.decode(encoding, errors="replace")
            except LookupError:
                pass
    try:  # final=False: a body cut at max_body may end inside a character
        return codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(body).best()
        return str(best) if best is not None else body.decode("latin-1")


def _refresh_target(content: str | None, base: str) -> str | None:
    match = _REFRESH_URL.match(content or "")
    target = match.group(3).strip() if match else ""
    return urljoin(base, target) if target else None


def _refresh_delay(content: str | None) -> float | None:
    match = _REFRESH_URL.match(content or "")
    try:
        return float(match.group(1)) if match and match.group(1) else None
    except ValueError:  # '1.2.3'
        return None


# _BIT_SET[b] maps a byte to 1 when its bit b is set, else 0 (a bytes.translate table).
_BIT_SET = tuple(bytes(value >> bit & 1 for value in range(256)) for bit in range(8))


def _simhash(text: str) -> int | None:
    """64-bit simhash of the word 3-shingles of `text`; near pages differ in few bits."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        return None
    shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    # Bit votes counted at C speed: per byte position, translate each byte to 1 or 0 for
    # one bit and count the ones, instead of looping over shingles and bits in Python.
    fingerprint = 0
    for position in range(8):
        column = digests[position::8]
        for bit in range(8):
            ones = column.translate(_BIT_SET[bit]).count(1)
            if 2 * ones > len(shingles):
                fingerprint |= 1 << (position * 8 + bit)
    return fingerprint


def read_page(response: HttpResponse) -> Page | None:
    if not is_html(response.headers) or not response.body:
        return None
    markup = _decode(response.body, response.charset)
    title, refresh = _title_and_refresh(markup)
    return Page(
        title=title,
        refresh_to=_refresh_target(refresh, response.url),
        markup=markup,
        refresh_delay=_refresh_delay(refresh),
    )


class PageLike(Protocol):
    @property
    def title(self) -> str | None: ...
    @property
    def fingerprint(self) -> str | None: ...


def same_page(a: PageLike, b: PageLike) -> bool:
    """Same title and near-identical text: what a soft-404 page shares with a random path's."""
    if a.title != b.title or a.fingerprint is None or b.fingerprint is None:
        return False
    return (int(a.fingerprint, 16) ^ int(b.fingerprint, 16)).bit_count() <= _SAME_PAGE_BITS
