"""Small text helpers every stage shares: one line, plurals, moments as ISO text.

Kept in one place so that a message, a log line and a report write a moment
or a count the same way.
"""

from __future__ import annotations

import datetime as dt
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Terminal escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ESC \`, two-byte
# `ESC x`), then every C0/C1 control and the Unicode bidirectional overrides.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: the window title, hyperlinks
    r"|\x1b[@-Z\\-_]"  # two-byte sequences
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI as one C1 byte
)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """Control characters shown escaped (`\\n`, `\\x1b`), so that a text stays on one line."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def printable(text: str) -> str:
    """Text from the web made safe to print on a terminal: escape sequences and control
    characters removed (a title of `\\e]0;PWNED\\a\\e[2J` must neither set the window
    title nor clear the screen), whitespace controls turned into spaces."""
    if text.isprintable():
        return text  # the common case, decided at C speed
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _UNPRINTABLE.sub(lambda match: " " if match.group() in "\t\n\r" else "", text)


def plural(count: int, noun: str) -> str:
    """'1 citation', '2 citations'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def iso_utc(moment: dt.datetime) -> str:
    """'2026-11-25T12:00:00+00:00': the one way linkwatch writes a moment (store, JSON, logs)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def iso_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def from_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None
