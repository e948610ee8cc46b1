"""Worker processes for CPU work on many files (the scan's parsing, the rewrite's splicing).

Parsing and splicing are pure Python, so many files are handed to a pool of
processes while the calling process writes. `forkserver`, not `fork`: the
daemon calls this from a process with threads running, and a forked child of
a threaded process may inherit a held lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

_In = TypeVar("_In")
_Out = TypeVar("_Out")


def default_workers() -> int:
    return os.cpu_count() or 1


def map_in_pool(
    func: Callable[[_In], _Out],
    jobs: Sequence[_In],
    *,
    workers: int,
    threshold: int,
    chunksize: int = 16,
) -> Iterator[_Out]:
    """`map(func, jobs)`, in a pool of `workers` processes when there are `threshold` jobs
    or more (a pool costs about 0.3 s to start); results come in the order of `jobs`."""
    if workers <= 1 or len(jobs) < threshold:
        yield from map(func, jobs)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker
    ) as pool:
        yield from pool.map(func, jobs, chunksize=chunksize)


def mtime_of(path: Path) -> float | None:
    """A file's modification time, None when it cannot be read."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _start_worker() -> None:
    """A worker dies with the process that started it, and yields the CPU to it: a daemon's
    event loop (`/healthz`, checks in flight) must not wait for a core behind a batch of
    parsing, and no worker goes on after a `kill -9` of its parent."""
    die_with_parent()
    os.nice(10)


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; elsewhere a no-op).

    A worker must not go on writing the store, or holding memory, after the daemon
    that started it was killed.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)
