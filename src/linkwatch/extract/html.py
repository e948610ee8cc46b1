"""HTML citations: `<a href>` links, bare URLs in text, and endnote labels.

A note is labelled by the marker that points at it (`<a href="#fn3">3</a>`, `[3]`,
`[iii]`; MediaWiki's Cite, WordPress' footnotes block, Easy Footnotes, Google Docs,
Word, Pandoc, Hugo and Jekyll all write one), by the number that opens it, or, for
Modern Footnotes' notes written inline after their marker, by its `data-mfn`. Links
that belong to the site around the release, not to it, are left out (`chrome`).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from linkwatch.extract.chrome import (
    content_level,
    is_chrome_block,
    is_credit_line,
    is_share_link,
)
from linkwatch.extract.common import (
    Found,
    ascii_to_superscript,
    citable_href,
    definition_context,
    find_bare_urls,
    is_notes_heading,
    leading_marker,
    line_starts,
    sentence_context,
    superscript_to_ascii,
)
from linkwatch.markup import attributes_at

# The tag name grammar of html.parser's own tolerant tokenizer (attributes: `markup`),
# used to find where inside a start tag the href value was written.
_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*(?:\s|/(?!>))*")
_URL_WHITESPACE = " \t\n\r\f"
# Word and LibreOffice number endnotes in lower-case Roman numerals, written `[i]`.
_MARKER_TEXT = re.compile(r"\[?([0-9⁰¹²³⁴⁵⁶⁷⁸⁹]{1,6})\]?|\[([ivxlcdm]{1,8})\]")
# Modern Footnotes writes each note inline, in a span right after its marker.
_INLINE_NOTE_CLASS = "modern-footnotes-footnote__note"

_TABLE_PARTS = frozenset({"caption", "tbody", "td", "tfoot", "th", "thead", "tr"})
_BLOCK = _TABLE_PARTS | frozenset(
    {"address", "article", "aside", "blockquote", "body", "dd", "details", "dialog", "div"}
    | {"dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "html", "li", "main", "menu", "nav", "ol", "p"}
    | {"pre", "section", "summary", "table", "ul"}
)
_CLOSES_PARAGRAPH = _BLOCK - _TABLE_PARTS - {"body", "html"}
# Start tags that end an open element of the same kind, up to (not past) a boundary element.
_IMPLIED_END: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (frozenset({"li"}), frozenset({"ul", "ol", "menu", "table"})),
    "dt": (frozenset({"dd", "dt"}), frozenset({"dl", "table"})),
    "dd": (frozenset({"dd", "dt"}), frozenset({"dl", "table"})),
    "tr": (frozenset({"tr", "td", "th"}), frozenset({"table", "tbody", "thead", "tfoot"})),
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "a": (frozenset({"a"}), _BLOCK),
}
_UNREAD = frozenset({"script", "style", "title", "textarea"})  # text here is not prose
_IMPLIES_END = _CLOSES_PARAGRAPH | frozenset(_IMPLIED_END)
# Only these are kept on the element stack: other inline tags change nothing extraction needs.
_TRACKED = _BLOCK | _UNREAD | {"a", "sup"}
_MAY_HEAD_NOTES = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p"})
_MAX_DEPTH = 256  # bounds the work per tag on pathological nesting
_BLOCK_TEXT_LIMIT = 4000


@dataclass(eq=False, slots=True)
class _Element:
    tag: str
    ids: list[str]
    block: _Element | None  # innermost block element containing this one (itself if a block)
    text: list[str] = field(default_factory=list)  # only filled for blocks
    length: int = 0
    anchor: _Anchor | None = None
    chrome: bool = False  # a block the theme or a plugin adds (share bar, comments, nav)
    next_item: int | None = None  # an `<ol>` under a notes heading: its next item's number
    item_label: str | None = None  # an item of such a list: its number
    content_level: int = 0  # how specifically it marks the page's content (see chrome)

    def add_text(self, data: str) -> None:
        if self.length < _BLOCK_TEXT_LIMIT:
            self.text.append(data)
            self.length += len(data)

    def joined_text(self) -> str:
        return "".join(self.text)


@dataclass(eq=False, slots=True)
class _Anchor:
    fragment: str | None  # the id an in-page `#id` link points at
    link: _Link | None  # set when the anchor itself cites a URL
    text: list[str] = field(default_factory=list)
    superscript: bool = False


@dataclass(eq=False, slots=True)
class _Link:
    start: int
    end: int
    url: str
    block: _Element
    text_start: int
    text_end: int
    ancestors: tuple[_Element, ...]  # innermost first
    note: str | None  # the label of the inline note (Modern Footnotes) it sits in
    scheme_assumed: bool = False


class _CitationScanner(HTMLParser):
    """html.parser, not selectolax/lxml/html5lib: only it reports where each start tag sits."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self._text = text
        self._line_starts = line_starts(text, carriage_return_breaks=False)  # as html.parser
        root = _Element("#document", [], None)
        root.block = root
        self._stack: list[_Element] = [root]
        self._unread_depth = 0
        self._superscript_depth = 0
        self._anchor: _Anchor | None = None
        self._scanned_until = 0  # bare URLs before this offset are already taken
        self.links: list[_Link] = []
        self.markers: dict[str, str] = {}  # element id -> label of the marker pointing at it
        self._seen_ids: set[str] = set()
        self._notes: list[list[str | int]] = []  # open inline notes: [label, open spans]
        self._content_level = 0  # the most specific content mark seen in the page
        self._after_notes_heading = False  # the last block closed was "Notes", "Sources"...

    def scan(self, *, site_links: bool = False) -> list[Found]:
        self.feed(self._text)
        self.close()
        self._pop_from(1)
        if site_links:  # a content selector chose the region: only share buttons go
            return [self._found(link) for link in self.links if not is_share_link(link.url)]
        return [self._found(link) for link in self.links if not self._is_chrome(link)]

    def _is_chrome(self, link: _Link) -> bool:
        if is_share_link(link.url):
            return True
        if any(element.chrome for element in link.ancestors):
            return True
        if self._content_level:
            inside = max(element.content_level for element in link.ancestors)
            if inside < self._content_level:
                return True
        return is_credit_line(link.block.joined_text())

    def parse_html_declaration(self, i: int) -> int:
        """html.parser asserts on a malformed `<![` section, after moving its position on;
        restoring the position and answering -1 makes it read the section as text."""
        position = self.lineno, self.offset
        try:
            return super().parse_html_declaration(i)
        except AssertionError:
            self.lineno, self.offset = position
            return -1

    # -- text

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _block(self) -> _Element:
        return self._stack[-1].block or self._stack[0]

    def handle_data(self, data: str) -> None:
        if self._unread_depth:
            return
        block = self._block()
        text_start = block.length
        prose = data.replace("\n", " ")  # in the text kept per block, "\n" stands for <br>
        block.add_text(ascii_to_superscript(prose) if self._superscript_depth else prose)
        if self._anchor is not None:
            self._anchor.text.append(data)
        elif "://" in data:
            self._scan_text(block, text_start)

    def _scan_text(self, block: _Element, text_start: int) -> None:
        """Bare URLs in the raw source of this text, which runs to the next `<`: entities
        are decoded in the URL, while the offsets keep to the text as written."""
        start = self._offset()
        end = self._text.find("<", start + 1)
        raw = self._text[start : end if end >= 0 else len(self._text)]
        for url_start, url_end in find_bare_urls(raw, entities=True):
            if start + url_start < self._scanned_until:
                continue
            self._scanned_until = start + url_end
            url = html.unescape(raw[url_start:url_end])
            self._add_link(start + url_start, start + url_end, url, block, text_start + url_start)
            self.links[-1].text_end = text_start + url_start + len(url)

    # -- elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent_block = self._block()
        ids = _ids(tag, attrs) if attrs else []
        if ids:
            self._seen_ids.update(ids)
        if tag == "span":
            self._open_span(attrs)
        if tag not in _TRACKED:
            parent_block.ids.extend(ids)  # `<a name=fn3>`, `<span id=fn3>` name their block
            if tag == "br":
                parent_block.add_text("\n")
            return
        if tag in _IMPLIES_END:
            self._close_implied(tag)
            parent_block = self._block()
        element = _Element(tag, ids, None)
        element.block = element if tag in _BLOCK else parent_block
        if attrs:
            self._mark_chrome(element, attrs)
        if tag in _BLOCK:
            self._follow_notes_list(element, attrs)
        if tag == "a":
            parent_block.ids.extend(ids)
            self._open_anchor(element, attrs)
        elif tag == "sup":
            parent_block.ids.extend(ids)
            self._superscript_depth += 1
            if self._anchor is not None:
                self._anchor.superscript = True
        elif tag in _UNREAD:
            self._unread_depth += 1
        if len(self._stack) < _MAX_DEPTH:
            self._stack.append(element)
        else:
            self._pop_element(element)

    def _mark_chrome(self, element: _Element, attrs: list[tuple[str, str | None]]) -> None:
        classes: list[str] = []
        element_id: str | None = None
        for name, value in attrs:
            if name == "class" and value:
                classes.extend(value.lower().split())
            elif name == "id" and value and element_id is None:
                element_id = value
        element.chrome = is_chrome_block(element.tag, classes, element_id)
        element.content_level = content_level(element.tag, classes, element_id)
        self._content_level = max(self._content_level, element.content_level)

    def _follow_notes_list(self, element: _Element, attrs: list[tuple[str, str | None]]) -> None:
        """An `<ol>` right after a notes heading numbers its items, which label what they
        hold as a footnote would (`[1]` in the text refers to item 1)."""
        if element.tag == "ol" and self._after_notes_heading:
            start = dict(attrs).get("start") or "1"
            element.next_item = int(start) if start.isascii() and start.isdigit() else 1
        elif element.tag == "li":
            parent = self._stack[-1]
            if parent.tag == "ol" and parent.next_item is not None:
                element.item_label = str(parent.next_item)
                parent.next_item += 1
        self._after_notes_heading = False

    def _open_span(self, attrs: list[tuple[str, str | None]]) -> None:
        """Inline notes are spans, which are not kept on the element stack: spans inside
        one are counted instead, so that its own `</span>` is known."""
        if self._notes:
            self._notes[-1][1] = int(self._notes[-1][1]) + 1
            return
        values = dict(attrs)
        label = values.get("data-mfn")
        if label and _INLINE_NOTE_CLASS in (values.get("class") or "").split():
            self._notes.append([label.strip(), 1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._notes:
            self._notes[-1][1] = int(self._notes[-1][1]) - 1
            if int(self._notes[-1][1]) <= 0:
                self._notes.pop()
        if tag not in _TRACKED:
            return
        stack = self._stack
        for index in range(len(stack) - 1, 0, -1):
            if stack[index].tag == tag:
                self._pop_from(index)
                return

    def _close_implied(self, tag: str) -> None:
        if tag in _CLOSES_PARAGRAPH:
            self._close_open("p", frozenset({"p"}), _BLOCK)
        if tag in _IMPLIED_END:
            closes, boundary = _IMPLIED_END[tag]
            self._close_open(tag, closes, boundary)

    def _close_open(self, tag: str, closes: frozenset[str], boundary: frozenset[str]) -> None:
        for index in range(len(self._stack) - 1, 0, -1):
            open_tag = self._stack[index].tag
            if open_tag in closes:
                self._pop_from(index)
                return
            if open_tag in boundary:
                return

    def _pop_from(self, index: int) -> None:
        stack = self._stack
        while len(stack) > index:
            self._pop_element(stack.pop())

    def _pop_element(self, element: _Element) -> None:
        if element.tag in _MAY_HEAD_NOTES:
            self._after_notes_heading = is_notes_heading(element.joined_text())
        if element.tag == "sup":
            self._superscript_depth -= 1
        elif element.tag in _UNREAD:
            self._unread_depth -= 1
        elif element.anchor is not None:
            self._finish_anchor(element.anchor)

    def _finish_anchor(self, anchor: _Anchor) -> None:
        if anchor is self._anchor:
            self._anchor = None
        if anchor.link is not None:
            anchor.link.text_end = anchor.link.block.length
        label = _marker_label("".join(anchor.text).strip(), anchor.superscript)
        # A marker points forward to its endnote; one pointing back is the endnote's
        # return link (Word writes `[1]` there too) and must not label the body.
        if anchor.fragment and label is not None and anchor.fragment not in self._seen_ids:
            self.markers.setdefault(anchor.fragment, label)

    # -- anchors

    def _open_anchor(self, element: _Element, attrs: list[tuple[str, str | None]]) -> None:
        href = next((value for name, value in attrs if name == "href"), None)
        if href is None:
            return
        href = href.strip(_URL_WHITESPACE)
        anchor = _Anchor(fragment=href[1:] if href.startswith("#") else None, link=None)
        anchor.superscript = self._superscript_depth > 0
        element.anchor = self._anchor = anchor
        citable = citable_href(href)
        if citable is None:
            return
        span = _href_span(self.get_starttag_text() or "", href)
        if span is None:
            return
        start = self._offset()
        block = element.block or self._block()
        self._add_link(start + span[0], start + span[1], citable[0], block, block.length)
        anchor.link = self.links[-1]
        anchor.link.scheme_assumed = citable[1]

    def _add_link(self, start: int, end: int, url: str, block: _Element, text_start: int) -> None:
        ancestors = tuple(reversed(self._stack))
        note = str(self._notes[-1][0]) if self._notes else None
        self.links.append(_Link(start, end, url, block, text_start, text_start, ancestors, note))

    # -- results

    def _target_label(self, link: _Link) -> str | None:
        """The label of a marker pointing at an element the link sits in, innermost first."""
        for element in link.ancestors:
            for element_id in element.ids:
                if element_id in self.markers:
                    return self.markers[element_id]
        return None

    def _found(self, link: _Link) -> Found:
        text = link.block.joined_text()
        start = min(link.text_start, len(text))
        definition = _definition_around(text, start)
        label = link.note or self._target_label(link) or _item_label(link)
        if label is None and definition is not None:
            label = definition[0]
        if label is not None:
            context = definition_context(definition[1] if definition else text)
        else:
            end = min(max(link.text_end, start), len(text))
            context = sentence_context(text, start, end)
        return Found(label, link.url, link.start, link.end, context, link.scheme_assumed)


def _definition_around(text: str, position: int) -> tuple[str, str] | None:
    """(label, text) of the endnote holding `position` of a block's text: it runs from the
    nearest line at or before it that opens with a marker to the next such line. Lines
    end at `<br>`, so endnotes that share one paragraph stay apart."""
    line_start = text.rfind("\n", 0, position) + 1
    while True:
        marker = leading_marker(text[line_start : line_start + 64])
        if marker is not None:
            return marker.label, text[line_start + marker.end : _next_marker_line(text, line_start)]
        if line_start == 0:
            return None
        line_start = text.rfind("\n", 0, line_start - 1) + 1


def _next_marker_line(text: str, line_start: int) -> int:
    line_break = text.find("\n", line_start)
    while line_break >= 0:
        if leading_marker(text[line_break + 1 : line_break + 65]) is not None:
            return line_break
        line_break = text.find("\n", line_break + 1)
    return len(text)


def _item_label(link: _Link) -> str | None:
    return next((e.item_label for e in link.ancestors if e.item_label is not None), None)


def _ids(tag: str, attrs: list[tuple[str, str | None]]) -> list[str]:
    names = ("id", "name") if tag == "a" else ("id",)
    return [value for name, value in attrs if name in names and value]


def _marker_label(text: str, superscript: bool) -> str | None:
    """`3`, `³` or `[3]` as an endnote marker; plain digits only count when superscripted."""
    match = _MARKER_TEXT.fullmatch(text)
    if match is None:
        return None
    if match.group(2):
        return match.group(2)
    digits = match.group(1)
    plain = digits.isascii() and not text.startswith("[")
    if plain and not superscript:
        return None
    return superscript_to_ascii(digits)


def _href_span(tag_text: str, href: str) -> tuple[int, int] | None:
    """Where the (first) href value sits in the raw start tag, whitespace excluded.

    None when the raw value does not decode to what the parser reported, so a citation
    is never placed at a spot that would not splice back.
    """
    name = _TAG_NAME.match(tag_text)
    position = name.end() if name else len(tag_text)
    for attribute in attributes_at(tag_text, position):
        if attribute.name != "href" or attribute.value_start is None:
            continue
        start, end = attribute.value_start, attribute.value_end or attribute.value_start
        while start < end and tag_text[start] in _URL_WHITESPACE:
            start += 1
        while end > start and tag_text[end - 1] in _URL_WHITESPACE:
            end -= 1
        return (start, end) if html.unescape(tag_text[start:end]) == href else None
    return None


def find_html(text: str, *, site_links: bool = False) -> list[Found]:
    """Citations of an HTML release (or fragment), in CHARACTER offsets. With
    `site_links`, the links of the site's own blocks (navigation, footer, comments) are
    kept too: a `sources.content_selector` chooses the region instead."""
    if "://" not in text and "&" not in text:
        return []
    return _CitationScanner(text).scan(site_links=site_links)
