"""The unified diff `rewrite --dry-run` prints."""

from __future__ import annotations

import difflib
import re

from linkwatch.sources.decoding import ReleaseFile

_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")  # lines as diff tools count them: LF ends a line


def unified_diff(key: str, release: ReleaseFile, new: bytes) -> str:
    """A unified diff of the release's text, as `git diff` would show it."""
    old_lines = _LINES.findall(release.text)
    new_lines = _LINES.findall(new[len(release.bom) :].decode(release.encoding))
    lines = difflib.unified_diff(old_lines, new_lines, f"a/{key}", f"b/{key}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
