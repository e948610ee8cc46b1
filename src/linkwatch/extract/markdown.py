"""Markdown citations: markdown-it decides what is a link, the source says where it is.

Inline tokens carry no offsets, only their block's line range, so each link is found by
searching forward from a cursor inside that range for the raw form markdown-it accepted:
duplicates and order come out right because the cursor only moves forward.

Besides `[^name]` footnotes and `¹`/`[1]` definitions, two ways of writing notes are
labelled: an ordered list right under a "Notes"/"References"/"Sources" heading (each
item by its number, the `[1]` markers in the text pointing at it), and a numeric link
reference definition (`[1]: https://...`, used by `[1]` in the text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from linkwatch.extract.common import (
    Found,
    citable_href,
    definition_context,
    is_citable,
    is_notes_heading,
    leading_marker,
    line_starts,
    sentence_context,
    trim_url_end,
)
from linkwatch.extract.html import find_html

_LINK_SPACE = " \t\r\n"
_NUMERIC_LABEL = re.compile(r"[0-9]{1,6}")
_ITEM_MARKER = re.compile(r"\s*[0-9]{1,9}[.)]\s*")
# Block tokens that end the wait for a notes list after its heading.
_OTHER_BLOCKS = frozenset({"paragraph_open", "heading_open", "bullet_list_open", "html_block"})
_OTHER_BLOCKS |= {"blockquote_open", "fence", "code_block", "table_open", "hr"}


class _CitationMarkdown(MarkdownIt):
    """Keeps hrefs as written: markdown-it would percent-encode them for rendering."""

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


@functools.cache
def _parser() -> MarkdownIt:
    md = _CitationMarkdown(
        "commonmark", {"linkify": True, "inline_definitions": True, "store_labels": True}
    )
    md.enable("linkify")
    # The inline linkify rule already takes every `scheme://` URL; the core rule would only
    # add schema-less (fuzzy) links, which are off, at the cost of a regex per paragraph.
    md.core.ruler.disable("linkify")
    md.core.ruler.at("inline", _parse_inline_that_may_link)
    # These only shape rendered text (emphasis, entities, line breaks); links do not depend
    # on them, and skipping them saves a tenth of the parse.
    md.disable(["emphasis", "entity", "newline", "balance_pairs", "fragments_join", "text_join"])
    md.use(front_matter_plugin)
    md.use(footnote_plugin, inline=False, move_to_end=False)
    linkify = md.linkify
    assert linkify is not None  # linkify-it-py is a dependency of linkwatch
    linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    return md


def _parse_inline_that_may_link(state: StateCore) -> None:
    """Inline-parse only the blocks that could hold a link: most prose cannot, and
    inline parsing is where markdown-it spends its time."""
    has_references = bool(state.env.get("references"))
    for token in state.tokens:
        if token.type != "inline":
            continue
        token.children = []
        if _may_link(token.content, has_references):
            state.md.inline.parse(token.content, state.md, state.env, token.children)


def _may_link(content: str, has_references: bool) -> bool:
    return (
        "://" in content
        or "](" in content
        or ("<" in content and ":" in content)
        or (has_references and "]" in content)
    )


@dataclass(frozen=True, slots=True)
class _Owner:
    """Whom the citations of a stretch of source belong to."""

    label: str | None
    definition: str | None  # the context shared by every citation of a footnote definition


_BODY = _Owner(None, None)


@dataclass(frozen=True, slots=True)
class _Region:
    """A block's source text, and from which position on each owner holds its citations."""

    start: int
    end: int
    owners: tuple[tuple[int, _Owner], ...]

    def owner_at(self, position: int) -> _Owner:
        current = _BODY
        for begins, owner in self.owners:
            if begins > position:
                break
            current = owner
        return current


def find_markdown(text: str) -> list[Found]:
    """Citations of a Markdown release, in CHARACTER offsets."""
    return _MarkdownScan(text).run(_parser().parse(text))


class _MarkdownScan:
    """One pass over markdown-it's tokens, locating each citation in the source text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines = line_starts(text, carriage_return_breaks=True)  # as markdown-it
        self._found: list[Found] = []
        self._footnotes: list[_Owner] = []
        self._used_references: set[str] = set()
        self._definitions: list[tuple[Token, _Owner]] = []
        self._after_notes_heading = False
        self._notes_list_level: int | None = None  # level of the open notes list

    def run(self, tokens: Sequence[Token]) -> list[Found]:
        for token in tokens:
            self._follow_notes_list(token)
            if token.type == "footnote_reference_open" and token.map:
                self._footnotes.append(self._footnote_owner(token))
            elif token.type == "footnote_reference_close" and self._footnotes:
                self._footnotes.pop()
            elif token.type == "inline" and token.map and token.children:
                self._scan_inline(token)
            elif token.type == "html_block" and token.map:
                self._scan_html_block(token)
            elif token.type == "definition" and token.map:
                self._definitions.append((token, self._owner()))
        self._scan_reference_definitions()
        return _in_order(self._found)

    # -- notes lists

    def _follow_notes_list(self, token: Token) -> None:
        """A notes heading arms; the ordered list right after it is the notes list, and
        each of its own items owns its citations like a footnote definition."""
        kind, level = token.type, token.level
        if self._notes_list_level is not None:
            if kind == "list_item_open" and level == self._notes_list_level + 1 and token.map:
                self._footnotes.append(self._item_owner(token))
            elif kind == "list_item_close" and level == self._notes_list_level + 1:
                self._footnotes.pop()
            elif kind == "ordered_list_close" and level == self._notes_list_level:
                self._notes_list_level = None
            return
        if kind == "inline" and level <= 1 and is_notes_heading(token.content):
            self._after_notes_heading = not self._footnotes
        elif kind == "ordered_list_open" and self._after_notes_heading:
            self._notes_list_level = level
            self._after_notes_heading = False
        elif kind in _OTHER_BLOCKS or kind == "ordered_list_open":
            self._after_notes_heading = False

    def _item_owner(self, token: Token) -> _Owner:
        start, end = self._span(token.map or [0, 0])
        source = self._text[start:end]
        marker = _ITEM_MARKER.match(source)
        body = source[marker.end() :] if marker else source
        return _Owner(token.info or None, definition_context(body))

    # -- regions

    def _span(self, line_map: list[int]) -> tuple[int, int]:
        first, last = line_map
        return self._line_start(first), self._line_start(last)

    def _line_start(self, line: int) -> int:
        return self._lines[line] if line < len(self._lines) else len(self._text)

    def _owner(self) -> _Owner:
        return self._footnotes[-1] if self._footnotes else _BODY

    def _footnote_owner(self, token: Token) -> _Owner:
        start, end = self._span(token.map or [0, 0])
        source = self._text[start:end]
        body = source[source.find("]:") + 2 :]
        return _Owner(str(token.meta.get("label", "")), definition_context(body))

    def _inline_region(self, token: Token) -> _Region:
        start, end = self._span(token.map or [0, 0])
        if self._footnotes:
            return _Region(start, end, ((start, self._footnotes[-1]),))
        return _Region(start, end, tuple(self._marker_lines(token)))

    def _marker_lines(self, token: Token) -> list[tuple[int, _Owner]]:
        """Superscript definitions: each runs from a line that opens with a marker to the
        next such line, so footnotes written without blank lines between them stay apart."""
        lines = token.content.split("\n")
        first_line = token.map[0] if token.map else 0
        markers = [(i, m) for i, line in enumerate(lines) if (m := leading_marker(line))]
        owners: list[tuple[int, _Owner]] = []
        for n, (index, marker) in enumerate(markers):
            upto = markers[n + 1][0] if n + 1 < len(markers) else len(lines)
            body = "\n".join(lines[index:upto])[marker.end :]
            begins = self._line_start(first_line + index)
            owners.append((begins, _Owner(marker.label, definition_context(body))))
        return owners

    def _add(
        self, region: _Region, url: str, start: int, end: int, *, scheme_assumed: bool = False
    ) -> None:
        owner = region.owner_at(start)
        context = owner.definition
        if context is None:
            context = sentence_context(self._text, start, end, region.start, region.end)
        self._found.append(Found(owner.label, url, start, end, context, scheme_assumed))

    # -- inline content

    def _scan_inline(self, token: Token) -> None:
        region = self._inline_region(token)
        children = token.children or []
        cursor = region.start
        index = 0
        while index < len(children):
            child = children[index]
            if child.type != "link_open":
                cursor = self._skip(child, cursor, region)
                index += 1
                continue
            close = _link_close(children, index)
            for inner in children[index + 1 : close]:  # an image in the link text comes first
                cursor = self._skip(inner, cursor, region)
            cursor = self._link(child, cursor, region)
            index = close + 1

    def _skip(self, token: Token, cursor: int, region: _Region) -> int:
        """Move past source that is not a link but could be mistaken for one."""
        if token.type == "image" and "label" not in token.meta:
            located = self._inline_destination(str(token.attrs.get("src", "")), cursor, region)
            return located[2] if located else cursor
        if token.type == "code_inline":
            return self._after_code(token, cursor, region)
        if token.type == "html_inline":
            return self._html_inline(token, cursor, region)
        return cursor

    def _link(self, token: Token, cursor: int, region: _Region) -> int:
        href = str(token.attrs.get("href", ""))
        if "label" in token.meta:  # a reference link: the URL is in its definition
            self._used_references.add(str(token.meta["label"]))
            return cursor
        if token.markup == "autolink":
            return self._autolink(href, cursor, region)
        if token.markup == "linkify":
            return self._bare_url(href, cursor, region)
        located = self._inline_destination(href, cursor, region)
        if located is None:
            return cursor
        start, end, after = located
        citable = citable_href(href)
        if citable is not None:
            self._add(region, citable[0], start, end, scheme_assumed=citable[1])
        return after

    def _autolink(self, href: str, cursor: int, region: _Region) -> int:
        found = self._text.find(f"<{href}>", cursor, region.end)
        if found < 0:
            return cursor
        if is_citable(href):
            self._add(region, href, found + 1, found + 1 + len(href))
        return found + len(href) + 2

    def _bare_url(self, href: str, cursor: int, region: _Region) -> int:
        found = self._text.find(href, cursor, region.end)
        if found < 0:
            return cursor
        url = href[: trim_url_end(href)]
        if is_citable(url):
            self._add(region, url, found, found + len(url))
        return found + len(href)

    def _inline_destination(
        self, href: str, cursor: int, region: _Region
    ) -> tuple[int, int, int] | None:
        """(start, end) of the raw `(destination)` that decodes to href, and where the link
        ends; tries each `](` in turn, since link text may hold an image's `](` first."""
        bracket = self._text.find("](", cursor, region.end)
        while bracket >= 0:
            located = self._destination(bracket + 2, region.end, href)
            if located is not None:
                start, end, after = located
                return start, end, self._link_end(after, region)
            bracket = self._text.find("](", bracket + 2, region.end)
        return None

    def _destination(self, position: int, limit: int, expected: str) -> tuple[int, int, int] | None:
        """The destination markdown-it would parse at position, if it decodes to expected:
        its raw span (without `<>`) and the position after it."""
        position = self._past_space(position, limit)
        result = parseLinkDestination(self._text, position, limit)
        if not result.ok or result.str != expected:
            return None
        if self._text.startswith("<", position):
            return position + 1, result.pos - 1, result.pos
        return position, result.pos, result.pos

    def _past_space(self, position: int, limit: int) -> int:
        while position < limit and self._text[position] in _LINK_SPACE:
            position += 1
        return position

    def _link_end(self, position: int, region: _Region) -> int:
        """Past the closing `)`, so a URL quoted in the title is not taken for a later link."""
        position = self._past_space(position, region.end)
        title = parseLinkTitle(self._text, position, region.end)
        if title.ok:
            position = self._past_space(title.pos, region.end)
        return position + 1 if self._text.startswith(")", position) else position

    def _after_code(self, token: Token, cursor: int, region: _Region) -> int:
        """Skip a code span, so that a URL quoted in code is not taken for a later link."""
        for needle in (token.markup + token.content, token.markup + " " + token.content):
            found = self._text.find(needle, cursor, region.end)
            if found >= 0:
                return found + len(needle)
        return cursor

    def _html_inline(self, token: Token, cursor: int, region: _Region) -> int:
        if token.content[:2].lower() != "<a":
            return cursor
        found = self._text.find(token.content, cursor, region.end)
        if found < 0:
            return cursor
        for citation in find_html(token.content):
            start, end = found + citation.start, found + citation.end
            self._add(region, citation.url, start, end, scheme_assumed=citation.scheme_assumed)
        return found + len(token.content)

    # -- blocks

    def _scan_html_block(self, token: Token) -> None:
        start, end = self._span(token.map or [0, 0])
        owner = self._owner()
        for citation in find_html(self._text[start:end]):
            if citation.label is None and owner.label is not None:
                citation = replace(citation, label=owner.label, context=owner.definition or "")
            self._found.append(citation.shifted(start))

    def _scan_reference_definitions(self) -> None:
        """A reference definition is cited once, where its URL is written, if a link uses it."""
        seen: set[str] = set()
        for token, owner in self._definitions:
            key = str(token.meta.get("id", ""))
            url = str(token.meta.get("url", ""))
            if key in seen or key not in self._used_references:
                continue
            seen.add(key)
            if not is_citable(url):
                continue
            start, end = self._span(token.map or [0, 0])
            label = str(token.meta.get("label", ""))
            if owner.label is None and _NUMERIC_LABEL.fullmatch(label):
                owner = _Owner(label, definition_context(str(token.meta.get("title", "")) or url))
            region = _Region(start, end, ((start, owner),))
            located = self._definition_destination(url, region)
            if located is not None:
                self._add(region, url, *located)

    def _definition_destination(self, url: str, region: _Region) -> tuple[int, int] | None:
        colon = self._text.find("]:", region.start, region.end)
        while colon >= 0:
            located = self._destination(colon + 2, region.end, url)
            if located is not None:
                return located[0], located[1]
            colon = self._text.find("]:", colon + 2, region.end)
        return None


def _link_close(children: list[Token], open_index: int) -> int:
    for index in range(open_index + 1, len(children)):
        if children[index].type == "link_close":
            return index
    return len(children)


def _in_order(found: list[Found]) -> list[Found]:
    """Document order; a span already taken (or overlapped) is not reported twice."""
    ordered: list[Found] = []
    for citation in sorted(found, key=lambda f: (f.start, f.end)):
        if ordered and citation.start < ordered[-1].end:
            continue
        ordered.append(citation)
    return ordered
