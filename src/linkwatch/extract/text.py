"""Plain-text citations: bare URLs, labelled by the `[N]` or `¹` definition they sit in.

Under a "Notes"/"References"/"Sources" line, a numbered item (`1.`, `2)`) is a
definition too. A URL a mail client broke across lines is joined again where the
break is certain (see `wrapped`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkwatch.extract.common import (
    Found,
    Spans,
    definition_context,
    find_bare_urls,
    is_notes_heading,
    leading_marker,
    numbered_item,
    sentence_context,
)
from linkwatch.extract.wrapped import rejoin

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|\Z)")


@dataclass(frozen=True, slots=True)
class _Definition:
    label: str
    body_start: int  # just after the marker
    end: int


@dataclass(frozen=True, slots=True)
class _Layout:
    paragraphs: list[tuple[int, int]]
    definitions: list[_Definition]


def find_text(text: str) -> list[Found]:
    """Citations of a plain-text release, in CHARACTER offsets."""
    urls = find_bare_urls(text)
    if not urls:
        return []
    layout = _layout(text)
    paragraphs = Spans(layout.paragraphs)
    definitions = Spans([(d.body_start, d.end) for d in layout.definitions])
    found: list[Found] = []
    for start, end in urls:
        url = text[start:end]
        joined = rejoin(text, start, end)
        if joined is not None:
            end, url = joined
        index = definitions.index_at(start)
        if index is not None:
            definition = layout.definitions[index]
            context = definition_context(text[definition.body_start : definition.end])
            found.append(Found(definition.label, url, start, end, context))
            continue
        lo, hi = _enclosing(paragraphs, layout.paragraphs, start)
        found.append(Found(None, url, start, end, sentence_context(text, start, end, lo, hi)))
    return found


def _enclosing(spans: Spans, ranges: list[tuple[int, int]], position: int) -> tuple[int, int]:
    index = spans.index_at(position)
    return ranges[index] if index is not None else (position, position)


def _layout(text: str) -> _Layout:
    """Paragraphs are runs of non-blank lines; a definition runs from a line that opens
    with a marker to a blank line or the next marker line."""
    paragraphs: list[tuple[int, int]] = []
    definitions: list[_Definition] = []
    paragraph_start: int | None = None
    open_definition: tuple[str, int] | None = None
    last_end = 0
    in_notes = False  # below a notes heading, numbered items are definitions
    for line in _LINE.finditer(text):
        start, content_end = line.start(), line.start() + len(line.group().rstrip("\r\n"))
        if start == len(text):
            break
        if not text[start:content_end].strip():
            if paragraph_start is not None:
                paragraphs.append((paragraph_start, last_end))
                paragraph_start = None
            if open_definition is not None:
                definitions.append(_Definition(*open_definition, last_end))
                open_definition = None
            continue
        line_text = text[start:content_end]
        if is_notes_heading(line_text):
            in_notes = True
        marker = leading_marker(line_text) or (numbered_item(line_text) if in_notes else None)
        if marker is not None:
            if open_definition is not None:
                definitions.append(_Definition(*open_definition, last_end))
            open_definition = (marker.label, start + marker.end)
        if paragraph_start is None:
            paragraph_start = start
        last_end = content_end
    if paragraph_start is not None:
        paragraphs.append((paragraph_start, last_end))
    if open_definition is not None:
        definitions.append(_Definition(*open_definition, last_end))
    return _Layout(paragraphs, definitions)
