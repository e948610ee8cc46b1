"""One linkwatch at a time per state directory: an fcntl lock on `linkwatch.lock`.

The lock is a `flock` on an open file, not the file's existence: the kernel
drops it when the holder exits, however it exits (kill -9 included), so a
lock left behind by a dead process never blocks anyone. The pid written
inside is only there to name the holder in the refusal message; it is never
trusted to decide whether the lock is held.

`flock` rather than POSIX `lockf`: a POSIX lock belongs to the process and is
silently dropped when any descriptor of the file is closed, and two opens in
one process would not exclude each other. The descriptor is not inherited by
child processes (Python opens it close-on-exec), so a worker process cannot
keep the lock alive after its parent died.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from linkwatch.errors import StateLocked, StoreError, StoreReadOnly

LOCK_NAME = "linkwatch.lock"


class StateLock:
    """A held lock; release with `release()` or by leaving the `hold_state_lock` block."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Unlock and close. The file stays: deleting it would let a third process lock a
        fresh inode while a second still waits on the old one."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def acquire_state_lock(state_dir: Path) -> StateLock:
    """Take the lock of `state_dir` at once, or raise `StateLocked` naming the holder.

    Never waits: a second daemon, or a `check` while the daemon runs, should
    fail immediately rather than queue behind a process that runs for years.
    """
    path = state_dir / LOCK_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise _lock_error(state_dir, err) from err
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        holder = _read_pid(fd)
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise StateLocked(path, holder) from None
        raise _lock_error(state_dir, err) from err
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass  # a full disk: the pid only names the holder; the lock is the flock, and held
    return StateLock(path, fd)


@contextmanager
def hold_state_lock(state_dir: Path) -> Iterator[StateLock]:
    """The state lock for the duration of a block; see `acquire_state_lock`."""
    lock = acquire_state_lock(state_dir)
    try:
        yield lock
    finally:
        lock.release()


def _lock_error(state_dir: Path, err: OSError) -> StoreError:
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreReadOnly(
            f"{state_dir}: the state folder is read-only ({err.strerror}); nothing was changed"
        )
    if err.errno == errno.ENOSPC:
        return StoreError(f"{state_dir}: the disk is full; nothing was changed")
    return StoreError(f"{state_dir}: cannot take the state lock: {err.strerror or err}")
