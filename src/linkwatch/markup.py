"""Reading HTML tag attributes with one regular expression, for every stage alike.

The sources (publication dates in `<meta>`), the checker (meta refresh), the
extractor (where an href's value sits in the file) and the rewrite (where to add
Robust Links attributes) all read attributes of tags they found by regular
expression. They read them the way the standard library's `html.parser` does
(its tolerant attribute pattern, copied here), so that what one stage finds at
an offset is what another finds there, and what the extractor's parser reported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

# html.parser's `attrfind_tolerant`: a name, then optionally `=` (any number of them,
# as browsers accept) and a value quoted with ' or ", or bare up to a space or '>'.
ATTRIBUTE = re.compile(
    r"((?<=['\"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|\"[^\"]*\"|(?![\'\"])[^>\s]*))?(?:\s|/(?!>))*"
)
_SEPARATORS = re.compile(r"(?:\s|/(?!>))*")


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute as written: its name in lower case and where its value sits.

    `value_start`/`value_end` bound the value inside its quotes (None when the
    attribute has no value); `written_end` is where the attribute as written ends
    (after its closing quote), `end` where the next one may start.
    """

    name: str
    name_end: int
    value_start: int | None
    value_end: int | None
    quoted: bool
    written_end: int
    end: int

    def raw_value(self, text: str) -> str | None:
        if self.value_start is None or self.value_end is None:
            return None
        return text[self.value_start : self.value_end]


def attributes_at(text: str, position: int, end: int | None = None) -> Iterator[Attribute]:
    """The attributes written from `position` on (just past a tag's name), in order.

    Stops at the end of the tag (`>`, `/>`), at `end`, or at text that is not an
    attribute.
    """
    limit = len(text) if end is None else end
    position = _SEPARATORS.match(text, position, limit).end()  # type: ignore[union-attr]
    while position < limit:
        match = ATTRIBUTE.match(text, position, limit)
        if match is None or match.end() == position:
            return
        value_start: int | None = None
        value_end: int | None = None
        quoted = False
        if match.group(2) is not None:
            value_start, value_end = match.span(3)
            if text[value_start : value_start + 1] in ("'", '"'):
                value_start, value_end, quoted = value_start + 1, value_end - 1, True
        written_end = match.end(2) if match.group(2) is not None else match.end(1)
        yield Attribute(
            match.group(1).lower(),
            match.end(1),
            value_start,
            value_end,
            quoted,
            written_end,
            match.end(),
        )
        position = match.end()


def attribute_values(source: str) -> dict[str, str]:
    """A tag's attributes (the text after its name): names in lower case, values
    unescaped, the first of a repeated name winning, as in a browser."""
    values: dict[str, str] = {}
    for attribute in attributes_at(source, 0):
        raw = attribute.raw_value(source)
        values.setdefault(attribute.name, "" if raw is None else html.unescape(raw))
    return values
