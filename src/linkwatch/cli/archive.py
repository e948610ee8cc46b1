"""The `archive` command: look-ups, the save queue and each citation's snapshot."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from linkwatch.archive.backends.factory import archive_base_url, save_base_url
from linkwatch.archive.run import archive_run
from linkwatch.archive.run_state import ArchiveRunSummary, ArchiveStep
from linkwatch.cli.common import (
    clock_from,
    notify_after,
    open_store,
    run_until_signal,
    settings_from,
    stderr_console,
)
from linkwatch.clock import Clock
from linkwatch.config.settings import ArchiveBackend, SaveTarget, Settings
from linkwatch.model import QueueStatus
from linkwatch.store import Store
from linkwatch.store.archive import QueueState
from linkwatch.store.lock import hold_state_lock
from linkwatch.store.writer import AsyncStore
from linkwatch.text import plural, printable


class _Bar:
    """A progress bar per phase, with a count of each outcome."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None
        self._counts: Counter[ArchiveStep] = Counter()

    def phase(self, name: str, total: int) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._counts.clear()
        self._task = self._progress.add_task("", total=total, phase=name)

    def step(self, url: str, step: ArchiveStep, detail: str = "") -> None:
        if self._task is None:
            return
        self._counts[step] += 1
        words = " ".join(f"{k.value} {v}" for k, v in sorted(self._counts.items()))
        self._progress.update(self._task, advance=1, description=words)


class _Log:
    """One line per URL, for logs and pipes."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._phase = ""

    def phase(self, name: str, total: int) -> None:
        self._phase = name
        if total:
            self._console.print(f"{name}: {total}", markup=False)

    def step(self, url: str, step: ArchiveStep, detail: str = "") -> None:
        line = f"{self._phase} {url}: {detail or step.value}"
        self._console.print(printable(line), markup=False)


@click.command("archive")
@click.option("--status", "show_status", is_flag=True, help="Show the save queue; change nothing.")
@click.pass_context
def archive_command(ctx: click.Context, show_status: bool) -> None:
    """Look cited URLs up in the archive, save live pages, choose each citation's snapshot.

    Every cited URL is looked up (again after archive.fresh_within). Alive,
    moved and blocked URLs with no capture that recent are queued for a
    save, at most archive.saves_per_minute, with backoff after a rate limit;
    refusals (excluded sites) are recorded and never retried. Each citation
    gets the capture closest to its release's date, before it when there is
    one, replayed to make sure it is a real page. When the archive cannot be
    reached, the run says so and exits 0. Ctrl-C or SIGTERM stop it; the
    queue is kept for the next run.

    Example: linkwatch archive --status
    """
    settings = settings_from(ctx)
    if show_status:
        with open_store(settings, writing=False) as store:
            _print_status(settings, store, clock_from(ctx)())
        return
    with hold_state_lock(settings.state.dir), AsyncStore.open(settings.state.dir) as db:
        summary = _run(settings, db, clock_from(ctx))
        if not summary.interrupted:
            notify_after(settings, clock_from(ctx), db)
    _print_summary(summary)


def _run(settings: Settings, db: AsyncStore, clock: Clock) -> ArchiveRunSummary:
    err = stderr_console()
    if not err.is_terminal:
        return run_until_signal(archive_run(settings, db, progress=_Log(err), now=clock))
    columns = (
        TextColumn("{task.fields[phase]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        return run_until_signal(archive_run(settings, db, progress=_Bar(progress), now=clock))


def _print_summary(summary: ArchiveRunSummary) -> None:
    if summary.disabled:
        click.echo("archiving is disabled (archive.enabled = false): skipped")
        return
    if summary.all_down and len(summary.down) == 1:
        click.echo(f"archive unreachable: {summary.unreachable}: skipped")
    else:
        for name, reason in summary.down.items():
            waits = "saves" if name in summary.save_to else "look-ups"
            click.echo(
                printable(
                    f"archive {name} unreachable: {reason}: skipped, its {waits} wait "
                    "for a later run"
                )
            )
    if summary.all_down and not summary.asked_others:
        return
    for name, reason in summary.held.items():
        click.echo(f"archive {name}: {reason}")
    err = stderr_console()
    for name, why in summary.rested.items():
        err.print(printable(f"warning: {name} not asked: {why}"), highlight=False, markup=False)
    for line in summary.errors:
        err.print(f"[yellow]warning:[/] look-up failed: {line}", highlight=False)
    if summary.paused_until is not None:
        err.print(
            f"[yellow]warning:[/] the archive asked us to slow down: saves wait until "
            f"{_when(summary.paused_until)}",
            highlight=False,
        )
    click.echo(
        f"archive ({summary.source}): looked up {summary.looked_up}, saved {summary.saved}, "
        f"already fresh {summary.fresh}, refused {summary.refused}, "
        f"rate-limited {summary.rate_limited}, failed {summary.failed}, "
        f"no snapshot {summary.no_snapshot}; {summary.chosen} citations given a snapshot, "
        f"{summary.queue_left} saves still queued" + _saved_in(summary)
    )
    if summary.not_by_rule:
        click.echo(f"not saved, as [[rules]] say: {plural(summary.not_by_rule, 'URL')}")
    others = {k: v for k, v in summary.looked_up_in.items() if k != summary.source}
    if others:
        counts = ", ".join(f"{name} {count}" for name, count in sorted(others.items()))
        click.echo(f"looked up in other archives: {counts}")
    if summary.interrupted:
        click.echo("interrupted: the queue is kept; a save in flight is settled by the next run")
        sys.exit(130)


def _saved_in(summary: ArchiveRunSummary) -> str:
    """Where the saves went, when they go to more than one archive."""
    if len(summary.save_to) < 2:
        return ""
    each = ", ".join(f"{name} {summary.saved_in.get(name, 0)}" for name in summary.save_to)
    return f" (saved in {each})"


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _print_status(settings: Settings, store: Store, now: dt.datetime) -> None:
    backend = settings.archive.backend.value
    if settings.archive.backend is ArchiveBackend.PYWB:
        backend += f" collection {settings.archive.pywb_collection}"
    state = store.queue_state(settings.archive.backend.value, now)
    click.echo(f"archive: {backend} at {archive_base_url(settings)}")
    click.echo(f"look-ups: {state.looked_up} URLs looked up, {state.not_looked_up} not yet")
    for source, (until, reason) in sorted(store.archive_rests(now).items()):
        click.echo(printable(f"resting: {source} until {_when(until)}: {reason or ''}"))
    targets = settings.archive.save_to
    for target in targets:
        if len(targets) > 1 or target.value != settings.archive.backend.value:
            click.echo(f"saves to {target.value} at {save_base_url(target, settings)[0]}:")
        _print_queue(settings, store.queue_state(target.value, now), target, now)
    total, once, several = store.preservation()
    click.echo(
        f"preserved: {once} of {total} cited URLs in at least one archive, {several} in two or more"
    )


def _print_queue(
    settings: Settings, state: QueueState, target: SaveTarget, now: dt.datetime
) -> None:
    counts = state.counts
    pace = (
        settings.archive.perma_saves_per_minute
        if target is SaveTarget.PERMA
        else settings.archive.saves_per_minute
    )
    click.echo(
        f"queue: {counts.get(QueueStatus.QUEUED, 0)} saves queued ({state.due_now} due now), "
        f"next attempt {_when(state.next_attempt_at)}, pace {pace:g} saves per minute"
    )
    if state.paused_until is not None and state.paused_until > now:
        click.echo(f"paused until {_when(state.paused_until)}: {state.pause_reason or ''}")
    done = ", ".join(
        f"{counts.get(status, 0)} {status.value}" for status in QueueStatus if status.is_done
    )
    click.echo(f"done: {done}; last save request {_when(state.last_save_start)}")
    click.echo(f"refusals: {len(state.refusals)}")
    for refusal in state.refusals:
        click.echo(f"  {refusal.url}: {refusal.reason or 'refused'} ({refusal.at or '-'})")
