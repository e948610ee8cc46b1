"""Worker processes for CPU work on many files (the scan's parsing, the rewrite's splicing).

Parsing and splicing are pure Python, so many files are handed to a pool of
processes while the calling process writes. `forkserver`, not `fork`: the
daemon calls this from a process with threads running, and a forked child of
a threaded process may inherit a held lock.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
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
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(),)
    ) as pool:
        yield from pool.map(func, jobs, chunksize=chunksize)


def mtime_of(path: Path) -> float | None:
    """A file's modification time, None when it cannot be read."""
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _start_worker(starter: int) -> None:
    """A worker dies with the process that started it, and yields the CPU to it: a daemon's
    event loop (`/healthz`, checks in flight) must not wait for a core behind a batch of
    parsing, and no worker goes on after a `kill -9` of its parent."""
    die_with(starter)
    os.nice(10)


def die_with(pid: int) -> None:
    """End this process as soon as process `pid` has ended, however it ended.

    A worker started through the fork server is the server's child, not its
    starter's, and keeps the server alive while it lives, so neither the kernel's
    parent-death signal nor the server's own exit would end it after a `kill -9`
    of the starter: a thread watches the starter itself (a pidfd on Linux, else a
    check every second) and ends the process when it is gone.
    """

    def watch() -> None:
        try:
            descriptor = os.pidfd_open(pid)
        except (AttributeError, OSError):  # not Linux 5.3+: ask every second
            while _running(pid):
                time.sleep(1.0)
        else:
            select.select([descriptor], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="linkwatch-watch-starter", daemon=True).start()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
