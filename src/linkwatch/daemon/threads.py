"""Blocking work (parsing files, writing releases) off the event loop, in threads of its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class JobStopped(Exception):
    """Raised inside a job's thread (scan, rewrite) to end it between two files."""


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():
        return  # the waiting job was cancelled meanwhile
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def in_thread(func: Callable[[], T], name: str) -> T:
    """Run blocking `func` in a new daemon thread and await its result.

    Not `asyncio.to_thread`: its pool threads are joined when the interpreter
    exits, so a scan parsing a large tree could hold the process past
    `run.grace`. A daemon thread is left behind instead; an abandoned write
    transaction is rolled back by SQLite, exactly as after a crash.
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
