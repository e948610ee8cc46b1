"""Release paths as the store keeps them: lossless, whatever bytes a file name holds.

On POSIX a file name is bytes; Python decodes the ones that are not UTF-8 with
lone surrogates (PEP 383), which SQLite cannot store as text. A key maps each
such byte (U+DC80..U+DCFF) to a private-use character (U+EF80..U+EFFF, the
convention of MirOS's OPTU-8), which it can, and back again, so that the file
is found under its key; people see the byte as `\\xNN` (`shown`).
"""

from __future__ import annotations

import re
from pathlib import Path

_ESCAPED = re.compile("[\udc80-\udcff]")
_KEPT = re.compile("[\uef80-\uefff]")
_OFFSET = 0xEF80 - 0xDC80


def key_of(path: Path, base_dir: Path) -> str:
    """The name a release is stored under: relative to the config file when inside it."""
    try:
        text = path.relative_to(base_dir).as_posix()
    except ValueError:
        text = path.as_posix()
    return _ESCAPED.sub(lambda match: chr(ord(match.group()) + _OFFSET), text)


def path_of(key: str) -> Path:
    """The file a key names (relative keys are relative to the config file's folder)."""
    return Path(_KEPT.sub(lambda match: chr(ord(match.group()) - _OFFSET), key))


def shown(key: str) -> str:
    """A key for people: each byte that is not UTF-8 written as `\\xNN`."""
    return _KEPT.sub(lambda match: f"\\x{ord(match.group()) - 0xEF00:02x}", key)
