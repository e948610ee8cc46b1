"""The visible text at the top of a release, line by line, with its markup stripped.

Datelines and plain-line headlines are found there; nothing below the top is
read, so that a long release costs no more than a short one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

DATELINE_LINES = 12

DATELINE_CHARS = 1500

_HTML_TAG = re.compile(r"<[^>\n]*>")

_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")

_LINK = re.compile(r"\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])")

_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")

_EMPHASIS = re.compile(r"(?<![\\\w])[*_]+|(?<!\\)[*_]+(?!\w)")

_MARKUP_CHARS = re.compile(r"[\[<*_`\\]")

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")

_RULE_ONLY = re.compile(r"[\s=*_~#>-]*")

_LINE_MARKUP = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+)?")


def collapse(text: str) -> str:
    return " ".join(text.split())


def iter_lines(text: str) -> Iterator[str]:
    """Lines one at a time (CR of CRLF dropped), so that a scan near the top stays cheap."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        yield text[start:end].removesuffix("\r")
        start = end + 1


def strip_inline_markdown(text: str) -> str:
    """Headline text as a reader sees it: no emphasis markers, links reduced to their label."""
    if not _MARKUP_CHARS.search(text):
        return collapse(text)
    text = _IMAGE.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text).replace("`", "")
    text = _EMPHASIS.sub("", text)
    return collapse(_ESCAPE.sub(r"\1", text))


def top_lines(lines: Iterable[str]) -> list[str]:
    """The first non-empty lines, markup still in: where datelines and plain headlines are."""
    found: list[str] = []
    consumed = 0
    for line in lines:
        if _RULE_ONLY.fullmatch(line):
            continue
        found.append(line)
        consumed += len(line)
        if len(found) >= DATELINE_LINES or consumed >= DATELINE_CHARS:
            break
    return found


def clean_line(line: str) -> str:
    return strip_inline_markdown(_LINE_MARKUP.sub("", line))


def unfenced_lines(text: str) -> Iterator[str]:
    """Markdown lines outside fenced code blocks (the fences themselves left out)."""
    fence: str | None = None
    for line in iter_lines(text):
        fence_match = _FENCE.match(line)
        if fence is None and fence_match:
            fence = fence_match.group(1)
        elif fence is not None:
            if fence_match and fence_match.group(1).startswith(fence):
                fence = None
        else:
            yield line
