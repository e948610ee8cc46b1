"""Can this process write where the releases are? Asked once when the daemon starts.

A rewrite replaces a release by renaming a new file over it, so what it needs is
write (and search) permission on the release's folder, not on the file. In a
container the releases are often a bind mount that the engine created
root-owned, or one mounted read-only: every rewrite would then fail, file by
file, hours after start-up. The daemon says so once, at start, naming the
folder and its own uid, and keeps running (checking and archiving need no
write access).

`os.access` answers for this process's effective ids, and also for root on a
read-only mount (EROFS); it writes nothing, so the release folder's times stay
as they were (a probe file would touch the folder of a watched site).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

_MAGIC = frozenset("*?[")


def release_folders(patterns: Sequence[str], base_dir: Path) -> list[Path]:
    """The folder each glob of `sources.paths` starts from: its components before the
    first one with a wildcard (`/releases/**/*.md` -> `/releases`), absolute, each once."""
    folders: list[Path] = []
    for pattern in patterns:
        path = Path(os.path.expanduser(pattern))
        fixed: list[str] = []
        for part in path.parts:
            if _MAGIC & set(part):
                break
            fixed.append(part)
        else:  # no wildcard at all: the pattern names one file
            fixed = fixed[:-1]
        folder = Path(os.path.normpath(base_dir / Path(*fixed))) if fixed else base_dir
        if folder not in folders:
            folders.append(folder)
    return folders


def unwritable(folders: Sequence[Path]) -> list[Path]:
    """The folders that exist but in which this process cannot create or replace a file.
    A missing folder is left to the scan, which names its pattern as matching nothing."""
    effective = os.access in os.supports_effective_ids
    return [
        folder
        for folder in folders
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK, effective_ids=effective)
    ]


def unwritable_warning(folders: Sequence[Path], mode: str) -> str:
    """The one line the daemon logs: which folders, which uid, what to do about it."""
    uid, gid = os.geteuid(), os.getegid()
    names = ", ".join(str(folder) for folder in folders)
    return (
        f"rewrite.mode = {mode!r} but uid {uid} (gid {gid}) cannot write to {names}: "
        f"rewrites there will fail; give the folder to uid {uid} (chown {uid} FOLDER), "
        'mount it read-write, or set rewrite.mode = "off"'
    )
