"""Text helpers: what reaches a terminal, a log line or a message."""

from __future__ import annotations

import pytest

from linkwatch.text import one_line, plural, printable


@pytest.mark.parametrize(
    ("hostile", "shown"),
    [
        ("\x1b]0;PWNED\x07\x1b[2JTitle", "Title"),  # window title set, screen cleared
        ("\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink
        ("red \x1b[31mtext\x1b[0m", "red text"),
        ("\x9b2Jcleared", "cleared"),  # CSI as a single C1 byte
        ("bell\x07 and\x00nul", "bell andnul"),
        ("tab\there", "tab here"),
        ("right-to-left \u202eevil\u202c", "right-to-left evil"),
        ("Zażółć gęślą", "Zażółć gęślą"),
    ],
)
def test_printable_removes_escape_sequences_and_controls(hostile: str, shown: str) -> None:
    assert printable(hostile) == shown


def test_one_line_shows_controls_escaped() -> None:
    assert one_line("a\nb\x1b") == "a\\nb\\x1b"


def test_plural() -> None:
    assert (plural(1, "citation"), plural(2, "citation")) == ("1 citation", "2 citations")
