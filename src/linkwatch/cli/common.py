"""What every command shares: settings, the clock, the store, the state lock, signals, console."""

from __future__ import annotations

import signal
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from linkwatch.clock import Clock, system_clock
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from linkwatch.urls import InvalidURL, normalise_url
from linkwatch.wrappers import unwrap

T = TypeVar("T")


def settings_from(ctx: click.Context) -> Settings:
    path: Path = ctx.find_root().obj["config_path"]
    return load_settings(path)


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
def open_store(settings: Settings, *, writing: bool = True) -> Iterator[Store]:
    """The store; `writing=False` for commands that only read (they work beside a daemon,
    and on a database another process holds locked)."""
    store = Store.open(settings.state.dir, writing=writing)
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
        key = normalise_url(unwrap(url))
    except InvalidURL as err:
        raise click.BadParameter(f"{url}: {err}", param_hint="URL") from err
    if store.url_status(key) is None:
        raise click.BadParameter(f"{url} is not cited by any scanned release", param_hint="URL")
    return key


def warn_unmatched_rules(settings: Settings, store: Store) -> None:
    """One warning line per `[[rules]]` table that matches none of the URLs cited: a
    rule can only be judged once the URLs are known, so `check` and `report` tell."""
    if not settings.rules:
        return
    keys = [url.key for url in store.report_urls().values()]
    if not keys:
        return
    where = f"{settings.config_path}:" if settings.config_path else ""
    for rule in settings.rules.unmatched(keys):
        line = f"{where}{rule.line}: " if where and rule.line else (f"{where} " if where else "")
        stderr_console().print(
            f"[yellow]warning:[/] {escape(line + rule.describe())}: matches no cited URL",
            highlight=False,
        )


def notify_after(settings: Settings, clock: Clock, db: AsyncStore | None = None) -> None:
    """The notify pass that `check`, `archive` and `rewrite` end with (the daemon's jobs run
    the same `notify_pass`): what is new is told, failed deliveries due are retried."""
    if not settings.notify.urls:
        return
    from linkwatch.notify.run import notify_pass

    if db is None:
        with AsyncStore.open(settings.state.dir) as own:
            summary = run_until_signal(notify_pass(settings, own, clock))
    else:
        summary = run_until_signal(notify_pass(settings, db, clock))
    err = stderr_console()
    for line in summary.errors:
        err.print(f"[yellow]warning:[/] notify: {line}", markup=True, highlight=False)
    click.echo(summary.line, err=True)
