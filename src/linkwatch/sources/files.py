"""Which files are releases, and their bytes, read safely.

Globs are expanded relative to the config file; only regular files count, and a
file is opened non-blocking and measured before any of it is read, so that a
pipe or a huge file swapped in after globbing can neither hang nor flood a scan.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from linkwatch.errors import ReleaseReadError


def find_releases(patterns: Sequence[str], base_dir: Path) -> tuple[list[Path], list[str]]:
    """Expand globs (relative to base_dir unless absolute; `**` recursive) to files.

    Paths are made absolute but symlinks are not resolved, so that a release
    inside base_dir keeps a name relative to it. Anything that is not a regular
    file (directories, broken links, pipes) is skipped: reading a pipe would block.
    As in the shell, `*` and `**` do not match names starting with a dot.
    """
    root = os.path.abspath(base_dir)
    found: set[Path] = set()
    warnings: list[str] = []
    for pattern in patterns:
        files = [path for path in _expand_glob(pattern, root) if _is_regular_file(path)]
        if not files:
            warnings.append(f"sources.paths: {pattern!r} matches no files")
        found.update(files)
    return sorted(found), warnings


def _expand_glob(pattern: str, root: str) -> list[Path]:
    expanded = os.path.expanduser(pattern)
    if os.path.isabs(expanded):
        names = glob.glob(expanded, recursive=True)
    else:
        relative = glob.glob(expanded, root_dir=root, recursive=True)
        names = [os.path.join(root, name) for name in relative]
    return [Path(os.path.normpath(name)) for name in names]


def _is_regular_file(path: Path) -> bool:
    """Unlike Path.is_file, never raises (a permission error on stat just means 'skip')."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def read_bytes(path: Path, *, max_size: int) -> bytes:
    """Read a release's bytes, refusing oversized files before reading any of them.

    The file is opened non-blocking and checked with fstat, so that a pipe
    swapped in after globbing cannot hang the scan, and the size checked is the
    size of the file actually opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise ReleaseReadError(path, _os_error_reason(err)) from err
    try:
        _check_readable_size(path, os.fstat(fd), max_size)
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(max_size + 1)
    except OSError as err:
        raise ReleaseReadError(path, _os_error_reason(err)) from err
    finally:
        os.close(fd)
    if len(data) > max_size:
        limit = _human_size(max_size)
        raise ReleaseReadError(path, f"grew past sources.max_size ({limit}) while being read")
    return data


def _check_readable_size(path: Path, info: os.stat_result, max_size: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise ReleaseReadError(path, "cannot read: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ReleaseReadError(path, "cannot read: not a regular file")
    if info.st_size > max_size:
        size, limit = _human_size(info.st_size), _human_size(max_size)
        raise ReleaseReadError(path, f"{size} exceeds sources.max_size ({limit})")


def _os_error_reason(err: OSError) -> str:
    reasons = {
        errno.ENOENT: "cannot read: no such file (removed since it was found?)",
        errno.EACCES: "cannot read: permission denied",
        errno.EPERM: "cannot read: permission denied",
        errno.EISDIR: "cannot read: is a directory",
        errno.ELOOP: "cannot read: too many levels of symbolic links",
    }
    return reasons.get(err.errno or 0, f"cannot read: {err.strerror or err}")


def _human_size(size: int) -> str:
    """Decimal units (1 MB = 1,000,000 bytes), as sources.max_size is written ("5MB")."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 999.95:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"
