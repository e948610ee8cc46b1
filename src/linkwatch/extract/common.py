"""What the three extractors share: footnote markers, URL boundaries, excerpts, offsets.

Bare URLs are trimmed by one function for every format, so a URL ends at the same
character whether a release is Markdown, HTML or plain text.
"""

from __future__ import annotations

import codecs
import functools
import html
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import accumulate

from linkify_it import LinkifyIt  # type: ignore[import-untyped]

CONTEXT_LIMIT = 120
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_TO_ASCII = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")
_TO_SUPERSCRIPT = str.maketrans("0123456789", SUPERSCRIPT_DIGITS)

# `[1](url)` opens a Markdown link, not a footnote, hence the look-ahead.
_LEADING_MARKER = re.compile(
    r"\s*(?:(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]+)|\[(?P<bracketed>[0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,6})\](?!\())"
)
_CITABLE = re.compile(r"https?://[^\s/?#]", re.IGNORECASE)
_CITABLE_SCHEMAS = frozenset({"http:", "https:"})

_TRAILING_PUNCTUATION = frozenset(".,;:!?)]>»—–\"'”’")
_OPENER_OF = {")": "(", "]": "["}
_TRAILING_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?\Z")

# The heading of a closing list of notes ("Notes", "References", "Sources:", "Notes to
# editors"), as a line of its own; its numbered items are labelled by their number.
_NOTES_HEADING = re.compile(
    r"(?:end|foot)?notes?(?:\s+(?:to|for)\s+editors?)?|references?|sources?|citations?"
    r"|bibliography|works\s+cited",
    re.IGNORECASE,
)
_NUMBERED_ITEM = re.compile(r"[ \t]{0,3}([0-9]{1,4})[.)][ \t]+")
_HEADING_DECORATION = " \t*_#:=-"
_WHITESPACE = re.compile(r"\s+")
_ANY_NEWLINE = re.compile(r"\r\n?|\n")
_MARKER_PUNCTUATION = ":.)-–— "
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)")
_SENTENCE_WINDOW = 300  # how far an excerpt looks for a sentence boundary


@dataclass(frozen=True, slots=True)
class Found:
    """A citation located in CHARACTER offsets of the text it was found in."""

    label: str | None
    url: str
    start: int
    end: int
    context: str
    scheme_assumed: bool = False  # written `//host/path`: `url` carries the assumed https:

    def shifted(self, by: int) -> Found:
        return replace(self, start=self.start + by, end=self.end + by)


@dataclass(frozen=True, slots=True)
class Marker:
    """A footnote marker opening a definition: its label and where the marker ends."""

    label: str
    end: int


def superscript_to_ascii(text: str) -> str:
    return text.translate(_TO_ASCII)


def ascii_to_superscript(text: str) -> str:
    return text.translate(_TO_SUPERSCRIPT)


def leading_marker(text: str) -> Marker | None:
    """The `¹²`/`[12]` marker a footnote definition starts with, after any indentation."""
    match = _LEADING_MARKER.match(text)
    if match is None:
        return None
    digits = match.group("sup") or match.group("bracketed")
    return Marker(superscript_to_ascii(digits), match.end())


def is_notes_heading(line: str) -> bool:
    """'Notes', '## References', '**Sources**', 'Notes to editors:' on a line of its own."""
    return _NOTES_HEADING.fullmatch(line.strip(_HEADING_DECORATION)) is not None


def numbered_item(text: str) -> Marker | None:
    """The `1.`/`2)` an item of a numbered list of notes starts with."""
    match = _NUMBERED_ITEM.match(text)
    return None if match is None else Marker(match.group(1), match.end())


def is_citable(url: str) -> bool:
    """Only http(s) URLs with a host are citations: mail, ftp and fragments are not."""
    return _CITABLE.match(url) is not None


def citable_href(href: str) -> tuple[str, bool] | None:
    """(URL to check, whether `https:` was assumed) for a link target that is a citation.

    A protocol-relative target (`//doi.org/10.1038/...`, how Wikipedia's citation
    templates and many themes write links) inherits the scheme of the page showing it;
    a release's readers see it over https nowadays, so https is assumed, and the
    citation says so.
    """
    if href.startswith("//"):
        absolute = "https:" + href
        return (absolute, True) if is_citable(absolute) else None
    return (href, False) if is_citable(href) else None


def trim_url_end(raw: str, *, entities: bool = False) -> int:
    """Length of `raw` once trailing punctuation that closes the sentence is cut.

    A closing bracket stays when the URL opened it (`Foo_(bar)`). With `entities`,
    an HTML reference that stands for such punctuation (`&quot;`, `&raquo;`) goes too,
    while one that does not (`&amp;`) is kept whole.
    """
    end = len(raw)
    while end:
        if entities and (entity := _TRAILING_ENTITY.search(raw, 0, end)):
            decoded = html.unescape(entity.group())
            if decoded in _TRAILING_PUNCTUATION and not _is_balanced(raw, end, decoded):
                end = entity.start()
                continue
            if decoded != entity.group():
                break
        char = raw[end - 1]
        if char not in _TRAILING_PUNCTUATION or _is_balanced(raw, end, char):
            break
        end -= 1
    return end


def _is_balanced(raw: str, end: int, closer: str) -> bool:
    opener = _OPENER_OF.get(closer)
    if opener is None:
        return False
    head = raw[:end]
    return head.count(opener) >= head.count(closer)


@functools.cache
def linkifier() -> LinkifyIt:
    """Schema links only: bare domains and e-mail addresses are prose, not citations."""
    return LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False})


def find_bare_urls(text: str, *, entities: bool = False) -> list[tuple[int, int]]:
    """(start, end) of every citable bare URL in `text`, trimmed at its boundary.

    linkify-it's own scan tests a large Unicode class at every character; asking it only
    where an `http://`/`https://` is written (from the character before the scheme, which
    it checks is not part of a word) keeps long prose cheap.
    """
    spans: list[tuple[int, int]] = []
    done = 0
    separator = text.find("://")
    while separator >= 0:
        span = _bare_url_at(text, separator, done, entities)
        if span is not None:
            spans.append(span)
            done = span[1]
        separator = text.find("://", max(separator + 3, done))
    return spans


def _bare_url_at(text: str, separator: int, done: int, entities: bool) -> tuple[int, int] | None:
    start = _scheme_start(text, separator)
    if start is None or start < done:
        return None
    window_start = max(start - 1, 0)
    match = linkifier().match_at_start(text[window_start : _end_of_word(text, separator)])
    if match is None or window_start + match.index != start:
        return None
    end = start + trim_url_end(match.raw, entities=entities)
    return (start, end) if is_citable(text[start:end]) else None


def _scheme_start(text: str, separator: int) -> int | None:
    for scheme in ("https", "http"):
        start = separator - len(scheme)
        if start >= 0 and text[start:separator].lower() == scheme:
            return start
    return None


def _end_of_word(text: str, position: int) -> int:
    """Just past the whitespace that ends the run at position: no URL crosses whitespace,
    and linkify-it looks one character ahead to decide where a URL ends."""
    space = _WHITESPACE.search(text, position)
    return space.end() if space else len(text)


def line_starts(text: str, *, carriage_return_breaks: bool) -> list[int]:
    """Where each line begins; CR (alone or in CRLF) breaks a line only for markdown-it,
    while html.parser counts LF alone."""
    if carriage_return_breaks and "\r" in text:
        return [0, *(match.end() for match in _ANY_NEWLINE.finditer(text))]
    return list(accumulate((len(line) + 1 for line in text.split("\n")[:-1]), initial=0))


def collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def clip(text: str, limit: int = CONTEXT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def definition_context(body: str) -> str:
    """A footnote's own text, on one line, without the `:` or `.` that followed its marker."""
    return clip(collapse(body[: CONTEXT_LIMIT * 4]).lstrip(_MARKER_PUNCTUATION))


def sentence_context(text: str, start: int, end: int, lo: int = 0, hi: int | None = None) -> str:
    """The sentence around text[start:end], looked for inside text[lo:hi], on one line.

    The search is bounded to a window so that a huge paragraph full of links stays linear.
    """
    hi = len(text) if hi is None else hi
    lo = max(lo, start - _SENTENCE_WINDOW)
    hi = min(hi, end + _SENTENCE_WINDOW)
    sentence_start = lo
    for boundary in _SENTENCE_END.finditer(text, lo, start):
        sentence_start = boundary.end()
    following = _SENTENCE_END.search(text, end, hi)
    sentence_end = following.end() if following else hi
    before = _WHITESPACE.sub(" ", text[sentence_start:start]).lstrip()
    after = _WHITESPACE.sub(" ", text[end:sentence_end]).rstrip()
    return _fit(before, _WHITESPACE.sub(" ", text[start:end]), after)


def _fit(before: str, cited: str, after: str, limit: int = CONTEXT_LIMIT) -> str:
    """Cut both sides so the cited part stays visible within `limit` characters."""
    if len(before) + len(cited) + len(after) <= limit:
        return before + cited + after
    room = limit - len(cited) - 2
    if room <= 0:
        return clip(cited, limit)
    keep_before = min(len(before), max(room // 2, room - len(after)))
    keep_after = room - keep_before
    head = "…" + before[len(before) - keep_before :] if keep_before < len(before) else before
    tail = after[:keep_after] + "…" if keep_after < len(after) else after
    return head + cited + tail


def byte_offsets(text: str, positions: Iterable[int], encoding: str, base: int) -> dict[int, int]:
    """Byte offset of each character position, encoding each stretch of text only once.

    Only lengths matter, so a codec that would write a BOM is swapped for its BOM-less
    twin of the same width; the caller passes the file's BOM length as `base`.
    """
    encoder = codecs.getincrementalencoder(_bomless(encoding))("surrogateescape")
    offsets: dict[int, int] = {}
    done = 0
    total = base
    for position in sorted(set(positions)):
        total += len(encoder.encode(text[done:position]))
        done = position
        offsets[position] = total
    return offsets


def _bomless(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(name, name)


class Spans:
    """Sorted, non-overlapping (start, end) ranges; tells which one holds a position."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self._starts = [start for start, _ in ranges]
        self._ranges = ranges

    def index_at(self, position: int) -> int | None:
        index = bisect_right(self._starts, position) - 1
        if index >= 0 and position < self._ranges[index][1]:
            return index
        return None
