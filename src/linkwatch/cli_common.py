"""What every command shares: settings, the store, errors, signals, console."""

from __future__ import annotations

import signal
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from linkwatch.clock import Clock, system_clock
from linkwatch.config import ConfigError, Settings, load_settings
from linkwatch.lock import LockHeld, StateLock, acquire_state_lock
from linkwatch.store import Store, StoreError
from linkwatch.urls import InvalidURL, normalise_url

T = TypeVar("T")


class FatalError(click.ClickException):
    """Configuration or database trouble: nothing was done."""

    exit_code = 2


def settings_from(ctx: click.Context) -> Settings:
    path: Path = ctx.obj["config_path"]
    try:
        return load_settings(path)
    except ConfigError as err:
        raise FatalError(str(err)) from err


def clock_from(ctx: click.Context) -> Clock:
    """The clock every command reads: the wall clock, or the one a test passed in `obj`.

    Passed in-process (`main(obj={"clock": ...})`, as click's test runner allows)
    rather than through an environment variable: a variable that moves time would
    misdate every check if it leaked into a real run, while an `obj` exists only
    where a program calls `main` itself.
    """
    clock: Clock = ctx.find_root().obj.get("clock", system_clock)
    return clock


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    try:
        store = Store.open(settings.state.dir)
    except StoreError as err:
        raise FatalError(str(err)) from err
    try:
        yield store
    finally:
        store.close()


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def run_until_signal(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; SIGINT and SIGTERM cancel it so that it can save and return."""
    import asyncio  # only the networked commands pay for it, not `report` or `scan`

    async def main() -> T:
        task = asyncio.ensure_future(coro)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            return await task
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())


def url_key(store: Store, url: str) -> str:
    """The store's key for a URL given on the command line, or a usage error."""
    try:
        key = normalise_url(url)
    except InvalidURL as err:
        raise click.BadParameter(f"{url}: {err}", param_hint="URL") from err
    if store.url_status(key) is None:
        raise click.BadParameter(f"{url} is not cited by any scanned release", param_hint="URL")
    return key


@contextmanager
def exclusive_state(settings: Settings) -> Iterator[StateLock]:
    """Hold the state directory's lock, or fail at once (exit 2) naming the holder.

    Every command that writes check results or release files takes it, so that
    nothing writes beside a running daemon.
    """
    try:
        lock = acquire_state_lock(settings.state.dir)
    except LockHeld as err:
        raise FatalError(str(err)) from err
    except OSError as err:
        raise FatalError(f"{settings.state.dir}: cannot take the state lock: {err}") from err
    try:
        yield lock
    finally:
        lock.release()
