"""An lxml tree of an HTML page whose every element knows where it is in the text.

lxml's own parser keeps line numbers only, and `rewrite` splices at exact
offsets, so the page is parsed once more with html.parser, which reports each
tag's position; the elements get `data-lw-s` / `data-lw-e` (character offsets of
the start tag and of the end tag, or of where the element was implicitly
closed). Implied end tags follow the common cases of the HTML standard (a block
closes an open `<p>`, an `<li>` the previous `<li>`...), enough to nest real
pages the way a browser does.
"""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

from lxml import etree

START, END, INDEX = "data-lw-s", "data-lw-e", "data-lw-n"

_VOID = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"
    }
)  # fmt: skip
_CLOSES_P = frozenset(
    {
        "address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "main", "menu", "nav", "ol", "p", "pre", "section", "table", "ul"
    }
)  # fmt: skip
_SIBLINGS = {
    "li": ({"li"}, {"ul", "ol", "menu"}),
    "dt": ({"dt", "dd"}, {"dl"}),
    "dd": ({"dt", "dd"}, {"dl"}),
    "tr": ({"tr", "td", "th"}, {"table", "thead", "tbody", "tfoot"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "option": ({"option"}, {"select", "datalist", "optgroup"}),
}
_RAW_TEXT = frozenset({"script", "style", "template", "noscript", "textarea", "svg"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class _Builder(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.line_starts = [0]
        for match in re.finditer("\n", text):
            self.line_starts.append(match.end())
        self.root = etree.Element("document")
        self.root.set(START, "0")
        self.root.set(END, str(len(text)))
        self.root.set(INDEX, "0")
        self.count = 0
        self.stack: list[etree._Element] = [self.root]
        self.raw_depth = 0
        self.length = len(text)

    def _here(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _close_to(self, index: int, at: int) -> None:
        while len(self.stack) > index:
            self.stack.pop().set(END, str(at))

    def _open_index(self, names: set[str] | frozenset[str], stop: set[str]) -> int | None:
        for index in range(len(self.stack) - 1, 0, -1):
            tag = self.stack[index].tag
            if tag in names:
                return index
            if tag in stop:
                return None
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = self._here()
        if tag in _CLOSES_P and self.stack[-1].tag == "p":
            self._close_to(len(self.stack) - 1, at)
        if tag in _SIBLINGS:
            names, stop = _SIBLINGS[tag]
            index = self._open_index(names, stop)
            if index is not None:
                self._close_to(index, at)
        name = tag if _NAME.fullmatch(tag) else "unknown"
        element = etree.SubElement(self.stack[-1], name)
        for key, value in attrs:
            if _NAME.fullmatch(key) and key not in (START, END, INDEX):
                element.set(key, _xml_safe(value or ""))
        element.set(START, str(at))
        self.count += 1
        element.set(INDEX, str(self.count))
        if tag in _VOID:
            element.set(END, str(at))
            return
        self.stack.append(element)
        if tag in _RAW_TEXT:
            self.raw_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack[-1].tag == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        at = self._here()
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                if tag in _RAW_TEXT:
                    self.raw_depth = max(0, self.raw_depth - 1)
                self._close_to(index, at)
                return

    def handle_data(self, data: str) -> None:
        if self.raw_depth:
            return
        parent = self.stack[-1]
        data = _xml_safe(data)
        if len(parent):
            last = parent[-1]
            last.tail = (last.tail or "") + data
        else:
            parent.text = (parent.text or "") + data

    def finish(self) -> etree._Element:
        self.close()
        self._close_to(1, self.length)
        return self.root


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(" ", text)


def offset_tree(text: str) -> etree._Element:
    """The page as an lxml tree under a `document` root, offsets on every element."""
    builder = _Builder(text)
    # html.parser gives up on some "<![" sections: keep what it built
    with contextlib.suppress(AssertionError):
        builder.feed(text)
    return builder.finish()


def key(element: etree._Element) -> int:
    """An element's number in document order: lxml's Python objects come and go, so
    their id() cannot name an element."""
    return int(element.get(INDEX, "0"))


def span(element: etree._Element) -> tuple[int, int]:
    return int(element.get(START, "0")), int(element.get(END, "0"))
