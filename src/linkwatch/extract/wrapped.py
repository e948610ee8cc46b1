"""URLs that a mail client broke across lines, joined again where the break is certain.

Mail clients hard-wrap plain text at 72 to 78 columns, and a URL longer than what is
left of a line is cut: at a `/`, `?`, `&` or `-` by most clients, anywhere by some.
Taken as written, the first line's piece is checked (and found dead) while the rest is
lost. A URL is only rejoined when nothing else could have been meant:

* In angle brackets (`<https://...>`, RFC 3986 appendix C's advice for URLs in plain
  text): the pieces up to the closing `>` are one URL, the breaks and the indentation
  of the following lines dropped. A space before the `>` on a continuation line, a
  second `://`, or no `>` within four lines: nothing is joined.
* Bare: the URL runs to the end of a line at least 60 characters long (so the line
  was wrapped, not ended), its last character is one a URL is cut after (`/ ? & = -
  _ . % # + ~ :`), and the next line (indentation dropped) starts with a run that can
  only be the URL's tail: it holds a `/`, `?`, `&`, `=`, `#` or `%`, no `://`, and
  does not start with `www.`. That run, trimmed as any URL end, is joined.

So two URLs are never joined (the second has its own `://` or `www.`), nor a URL and a
word (a word holds none of `/ ? & = # %`).
"""

from __future__ import annotations

import re

from linkwatch.extract.common import is_citable, trim_url_end

_WRAPPED_LINE = 60  # shorter lines ended where the author ended them
_CUT_AFTER = frozenset("/?&=-_.%#+~:")
_TAIL = re.compile(r"[ \t]*(?P<tail>\S+)")
_TAIL_SIGN = re.compile(r"[/?&=#%]")
_BRACKET_LINES = 4
_SPACE = re.compile(r"\s")
_LINE_BREAK = re.compile(r"[\r\n]")


def rejoin(text: str, start: int, end: int) -> tuple[int, str] | None:
    """(new end, whole URL) when the URL at text[start:end] continues on the next lines.

    Every search stops at the nearest space or line break, so that a huge one-line
    release full of URLs costs no more than a short one per URL.
    """
    space = _SPACE.search(text, end)
    if space is None or space.group() not in "\r\n":
        return None  # the text ends, or something else follows the URL on its line
    line_end = space.start()
    if start > 0 and text[start - 1] == "<":
        return _bracketed(text, start, end, line_end)
    return _bare(text, start, line_end)


def _line_end(text: str, position: int) -> int:
    found = _LINE_BREAK.search(text, position)
    return found.start() if found else len(text)


def _next_line(text: str, line_end: int) -> int | None:
    if line_end >= len(text):
        return None
    if text.startswith("\r\n", line_end):
        return line_end + 2
    return line_end + 1


def _bracketed(text: str, start: int, end: int, line_end: int) -> tuple[int, str] | None:
    if ">" in text[end:line_end]:
        return None  # closed on its own line: not broken
    pieces = [text[start:line_end]]
    position = line_end
    for _ in range(_BRACKET_LINES):
        following = _next_line(text, position)
        if following is None:
            return None
        position = _line_end(text, following)
        line = text[following:position].lstrip(" \t")
        close = line.find(">")
        piece = line if close < 0 else line[:close]
        if not piece and close < 0:
            return None  # a blank line: the bracket was never closed
        if any(char.isspace() for char in piece) or "://" in piece or "<" in piece:
            return None
        pieces.append(piece)
        if close >= 0:
            url = "".join(pieces)
            new_end = following + (len(text[following:position]) - len(line)) + close
            return (new_end, url) if is_citable(url) else None
    return None


def _bare(text: str, start: int, line_end: int) -> tuple[int, str] | None:
    if line_end < _WRAPPED_LINE or text[line_end - 1] not in _CUT_AFTER:
        return None
    if _LINE_BREAK.search(text, line_end - _WRAPPED_LINE, line_end):
        return None  # a short line: ended by its author, not wrapped
    following = _next_line(text, line_end)
    if following is None:
        return None
    tail = _TAIL.match(text, following, _line_end(text, following))
    if tail is None:
        return None
    raw = tail.group("tail")
    if "://" in raw or raw.lower().startswith("www.") or not _TAIL_SIGN.search(raw):
        return None
    kept = trim_url_end(raw)
    url = text[start:line_end] + raw[:kept]
    if not is_citable(url) or "<" in url:
        return None
    return tail.start("tail") + kept, url
