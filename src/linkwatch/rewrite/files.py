"""Durable files: written to a hidden temporary file, fsynced, renamed over the old one.

A crash at any moment leaves a release either as it was or as rewritten, never
a mix; a temporary file left behind by a dead process is swept by the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

FSYNC_THREADS = 16

TEMP_SUFFIX = ".linkwatch-tmp"

_TEMP_NAME = re.compile(r"\..+\.(\d+)\.[^.]+" + re.escape(TEMP_SUFFIX))


def keep_backup(backup: Path, target: Path, data: bytes, info: os.stat_result) -> Path:
    """The version about to be replaced, kept under backups/: by hard link when it can (the
    old file is never written to again, and a link costs no copy and no fsync), else copied.
    The caller fsyncs the backup's folder."""
    backup.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(target, backup)
    except OSError:  # another file system, or links not allowed
        with open(backup, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # the backup keeps the release's times, so an undo can date the release as before
        os.utime(backup, ns=(info.st_atime_ns, info.st_mtime_ns))
    return backup


def atomic_write(path: Path, data: bytes, *, like: os.stat_result | None = None) -> None:
    """Replace `path` with `data` in one step: temp file in the same folder, fsync, rename.

    The caller fsyncs the folder (once for many files) to make the rename durable.
    """
    temp = temp_copy(path, data, like=like)
    try:
        os.replace(temp, path)
    except BaseException:
        remove(temp)
        raise


def temp_copy(path: Path, data: bytes, *, like: os.stat_result | None = None) -> Path:
    """`data` in a new, fsynced temp file beside `path`, ready to be renamed over it.

    The temp file is hidden (a leading dot), so a crash that leaves one behind never
    adds a release to a scan; its name carries the writer's pid, so that a later run
    can tell it is stale (`sweep_stale_temp_files`). `like` gives the permissions (and
    owner, where this process may set it) the new file keeps.
    """
    fd, temp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            if like is not None:
                _copy_ownership(handle.fileno(), like)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        remove(Path(temp))
        raise
    return Path(temp)


def temp_copy_or_error(job: tuple[Path, bytes, os.stat_result]) -> Path | OSError:
    path, data, like = job
    try:
        return temp_copy(path, data, like=like)
    except OSError as err:
        return err


def sweep_stale_temp_files(directory: Path) -> None:
    """Remove temp files left in `directory` by a writer that died before its rename."""
    try:
        names = [e.name for e in os.scandir(directory) if e.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for name in names:
        match = _TEMP_NAME.fullmatch(name)
        if match is not None and not _alive(int(match.group(1))):
            remove(directory / name)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _copy_ownership(fd: int, like: os.stat_result) -> None:
    os.fchmod(fd, stat.S_IMODE(like.st_mode))
    if (like.st_uid, like.st_gid) != (os.geteuid(), os.getegid()):
        # only root may give a file away; the permissions are kept either way
        with contextlib.suppress(PermissionError):
            os.fchown(fd, like.st_uid, like.st_gid)


def fsync_directory(directory: Path) -> None:
    """Makes renames and new names in it durable; some file systems refuse, harmlessly."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def os_reason(err: OSError) -> str:
    return err.strerror or str(err)
