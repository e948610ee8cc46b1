"""The store as async code uses it: reads on the caller's connection, writes on one thread.

SQLite allows one writer at a time. A write made on the event loop waits,
up to `busy_timeout`, whenever another connection holds the write lock (the
daemon's scan and rewrite run in threads of their own and write in batches),
and while it waits the whole loop waits: every check in flight, the archive's
requests, `/healthz`. So async code never writes itself: it hands each write
to a thread that owns a connection of its own, and awaits the result
(datasette's `execute_write_fn` does the same). Writes are run one at a time,
in the order they were sent, each in its own transaction as the store's
method makes it.

Reads stay on the caller's connection. In WAL mode a reader never waits for a
writer: it reads the last committed state, and a write awaited before a read
is committed before the read starts, so code reads what it wrote.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from linkwatch.store import Store

P = ParamSpec("P")
T = TypeVar("T")

_Work = tuple[Callable[[Store], Any], concurrent.futures.Future[Any]]


class StoreWriter:
    """A thread with its own connection that runs every write sent to it, in order."""

    def __init__(self, state_dir: Path) -> None:
        self._state_dir = state_dir
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._opened: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, name="linkwatch-writer", daemon=True)
        self._thread.start()
        self._opened.result()  # the connection opened (or the error it met, raised here)

    def _serve(self) -> None:
        try:
            store = Store.open(self._state_dir)
        except BaseException as err:  # handed to the opener, whatever it is
            self._opened.set_exception(err)
            return
        self._opened.set_result(None)
        try:
            while (item := self._queue.get()) is not None:
                work, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(work(store))
                except BaseException as err:  # the caller gets it, the thread goes on
                    future.set_exception(err)
        finally:
            store.close()

    def submit(self, work: Callable[[Store], T]) -> concurrent.futures.Future[T]:
        """Queue `work(store)` on the writer thread; a future of its result."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((work, future))
        return future

    def close(self) -> None:
        """Run what was sent, then stop the thread and close its connection."""
        self._queue.put(None)
        self._thread.join()


class AsyncStore:
    """One database for async code: `read` is a connection of its own, `write` goes to
    the writer thread. The CLI's async commands and the daemon use it alike."""

    def __init__(self, read: Store, writer: StoreWriter) -> None:
        self.read = read
        self._writer = writer

    @classmethod
    def open(cls, state_dir: Path) -> AsyncStore:
        read = Store.open(state_dir)  # creates and migrates first, before the writer opens
        try:
            return cls(read, StoreWriter(state_dir))
        except BaseException:
            read.close()
            raise

    async def write(
        self, method: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`method(store, *args, **kwargs)` on the writer thread, awaited without blocking.

        A cancelled caller does not cancel a write already running: it completes
        in its own transaction, as it would have without the cancel.
        """
        future = self._writer.submit(lambda store: method(store, *args, **kwargs))
        return await asyncio.shield(asyncio.wrap_future(future))

    def close(self) -> None:
        self._writer.close()
        self.read.close()

    def __enter__(self) -> AsyncStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
