"""Blocking work off the event loop: in a process of its own, or in a thread.

The scan and the rewrite are CPU work in Python (reading, hashing, splicing,
storing thousands of releases). In a thread of the daemon's process they would
hold the interpreter lock the event loop needs, and `/healthz` or a check in
flight would wait for it for a tenth of a second at a time. So each run is a
process of its own (`in_process`), started from a fork server (the daemon has
threads running, and a plain fork of a threaded process may inherit a held
lock), with its own database connection; the event loop only waits on a pipe.

A run is stopped between two files when asked (`Stop.set`: the job's progress
callback raises `JobStopped` in the worker), and killed when it must end now:
every job is crash-safe (SQLite rolls back an abandoned transaction, a
rewrite replaces files atomically), exactly as after a `kill -9`. A worker
dies with the daemon (`pool.die_with`), so none outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import multiprocessing.forkserver
import os
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from linkwatch.errors import LinkwatchError
from linkwatch.pool import die_with

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("forkserver")
KILL_WAIT = 2.0  # seconds a stopped worker may take to end before it is killed


class JobStopped(Exception):
    """Raised inside a job's worker (scan, rewrite) to end it between two files."""


class WorkerFailed(LinkwatchError):
    """A job's worker raised, or died; the message names what happened."""


def start_fork_server() -> None:
    """Start the fork server now, before the endpoint listens: starting it forks and
    execs from the caller's thread, which is a pause the loop should not take later."""
    multiprocessing.forkserver.ensure_running()


class Stop:
    """A stop request shared with a worker: set here, seen there between two files."""

    def __init__(self) -> None:
        self._event = _CONTEXT.Event()

    def set(self) -> None:
        self._event.set()

    def progress(self, key: str) -> None:
        """The job's progress callback: it ends the job once a stop is asked."""
        if self._event.is_set():
            raise JobStopped(key)


def _child(
    starter: int,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    out: multiprocessing.connection.Connection,
) -> None:
    die_with(starter)
    os.nice(10)  # the daemon's event loop comes first when cores are scarce
    try:
        result: tuple[str, Any] = ("ok", func(*args))
    except JobStopped as stopped:
        result = ("stopped", str(stopped))
    except BaseException as err:  # every failure goes back as one line and its traceback
        where = "".join(traceback.format_exception(err)).rstrip()
        result = ("error", f"{type(err).__name__}: {err}\n{where}")
    out.send(result)
    out.close()


async def in_process(func: Callable[..., T], *args: Any, name: str) -> T:
    """`func(*args)` in a worker process; its result, or WorkerFailed / JobStopped.

    `func` and its arguments must be picklable (module-level functions, settings).
    When the awaiting task is cancelled the worker is killed at once.
    """
    loop = asyncio.get_running_loop()
    receive, send = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_child, args=(os.getpid(), func, args, send), name=f"linkwatch-{name}"
    )
    process.start()
    send.close()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(receive.fileno(), readable)
    try:
        await ready
        try:
            outcome, value = receive.recv()
        except EOFError:
            outcome, value = "error", f"the {name} worker died (exit code {process.exitcode})"
    except asyncio.CancelledError:
        _kill(process)
        raise
    finally:
        loop.remove_reader(receive.fileno())
        receive.close()
        await loop.run_in_executor(None, process.join, KILL_WAIT)
        _kill(process)
    if outcome == "stopped":
        raise JobStopped(value)
    if outcome == "error":
        raise WorkerFailed(str(value).splitlines()[0], str(value))
    result: T = value
    return result


def _kill(process: multiprocessing.process.BaseProcess) -> None:
    if process.is_alive():
        process.kill()
        process.join(KILL_WAIT)


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():
        return  # the waiting job was cancelled meanwhile
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def in_thread(func: Callable[[], T], name: str) -> T:
    """Run blocking `func` in a new daemon thread and await its result: for work that
    waits on the database more than it computes (counting rows), where a process
    would cost more than it spares.

    Not `asyncio.to_thread`: its pool threads are joined when the interpreter
    exits, so a slow count could hold the process past `run.grace`. A daemon
    thread is left behind instead.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def target() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = func()
        except BaseException as exc:  # handed to the awaiting task, whatever it is
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, future, result, error)

    threading.Thread(target=target, name=f"linkwatch-{name}", daemon=True).start()
    return await future
