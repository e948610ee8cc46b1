"""Phase 1 of an archive run: look every cited URL up in every archive, storing what is found.

Each archive is asked on its own: the backend (its CDX API; saved to as well
when `archive.save_to` lists it) and each archive of the look-up list
(`archive.lookup`, Memento TimeMaps). Every archive has its own queue of URLs,
its own workers (as many as its `concurrency`) and its own deadline, and all
archives are asked at the same time, so a slow one delays none of the others. A
cited URL is asked again `archive.fresh_within` later (a day at least), so that
captures made by others show up.

An archive that fails as a whole (refuses connections, answers 5xx, does not
answer in time) stops being asked at its first such failure, so it costs at
most one deadline per run; an archive of the list is then rested, in the
store, for `archive.lookup_rest` (one hour by default), so that the next runs
do not pay that deadline again. After a rate limit the archive's workers wait,
or, when the wait is long, its rest is left to a later run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from linkwatch.archive.run_state import ArchiveRunSummary, ArchiveStep, Run
from linkwatch.archive.save_policy import backoff
from linkwatch.errors import ArchiveDown, ArchiveError, ArchiveRateLimited, ArchiveUnreachable
from linkwatch.model import Snapshot
from linkwatch.store import Store
from linkwatch.store.archive import LookupRecord, UrlRef
from linkwatch.tasks import run_together

FLUSH_EVERY = 50  # look-ups per write batch

LOOKUP_RETRY = dt.timedelta(hours=1)  # after a look-up that failed

MIN_RELOOKUP = dt.timedelta(days=1)  # captures made by others show up at the next look

MAX_PAUSE_WAIT = 60.0  # seconds a run waits out a rate limit; longer ones go to a later run


class LooksUp(Protocol):
    """What the look-up phase needs of an archive."""

    name: str

    async def snapshots(self, url: str) -> list[Snapshot]: ...


@dataclass(slots=True)
class LookupSource:
    """One archive as the phase asks it."""

    archive: LooksUp
    concurrency: int
    backend: bool = False  # not rested; its failure stops its own saves, not the others'
    todo: deque[UrlRef] = field(default_factory=deque)
    down: str | None = None  # why it stopped being asked in this run
    elapsed: float = 0.0  # seconds this archive's look-ups took in the run


class _Pause:
    """Shared by one archive's workers: after a 429 they all wait, or all stop."""

    def __init__(self) -> None:
        self.until = 0.0  # loop time
        self.stopped = False

    def hold(self, retry_after: float | None) -> None:
        wait = backoff(1, retry_after)
        if wait > MAX_PAUSE_WAIT:
            self.stopped = True
        loop_now = asyncio.get_running_loop().time()
        self.until = max(self.until, loop_now + wait)

    async def wait(self) -> None:
        delay = self.until - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)


async def look_up(run: Run, sources: Sequence[LookupSource]) -> None:
    """Ask every archive in `sources` about the cited URLs due for a look there."""
    moment = run.now()
    resting = run.db.read.archive_rests(moment)
    active: list[LookupSource] = []
    for source in sources:
        rest = resting.get(source.archive.name)
        if rest is not None and not source.backend:
            until, reason = rest
            run.summary.rested[source.archive.name] = f"resting until {until:%H:%M} UTC: {reason}"
            continue
        todo = run.db.read.urls_to_look_up(source.archive.name, moment)
        rules = run.settings.rules
        source.todo = deque(t for t in todo if not (rules and rules.for_url(t.url).exclude))
        active.append(source)
    run.progress.phase("looking up", sum(len(source.todo) for source in active))
    await run_together(_look_up_in(run, source) for source in active if source.todo)


async def _look_up_in(run: Run, source: LookupSource) -> None:
    name = source.archive.name
    pending: list[LookupRecord] = []
    pause = _Pause()
    relookup = max(run.settings.archive.fresh_within, MIN_RELOOKUP)

    async def flush() -> None:
        batch = pending[:]
        pending.clear()
        if batch:
            await run.db.write(Store.record_lookups, name, batch)

    async def worker() -> None:
        while source.todo and not pause.stopped and source.down is None:
            target = source.todo.popleft()
            await pause.wait()
            if source.down is not None:
                source.todo.appendleft(target)
                return
            started = run.now()
            try:
                snapshots = await source.archive.snapshots(target.url)
            except ArchiveRateLimited as err:
                source.todo.append(target)
                pause.hold(err.retry_after)
                continue
            except (ArchiveUnreachable, ArchiveDown) as err:
                source.todo.appendleft(target)  # not the URL's fault: asked again later
                if source.down is None:
                    source.down = str(err)
                    await _stopped(run, source, err)
                return
            except ArchiveError as err:
                if source.backend:
                    run.looked_up_now.add(target.id)  # a second look would fail alike
                _note_error(run.summary, f"{target.url}: {err}")
                pending.append(
                    LookupRecord(target.id, [], started, started + LOOKUP_RETRY, str(err))
                )
                run.progress.step(target.url, ArchiveStep.LOOKUP_FAILED)
            else:
                run.summary.looked_up += source.backend
                run.summary.looked_up_in[name] = run.summary.looked_up_in.get(name, 0) + 1
                if source.backend:
                    run.looked_up_now.add(target.id)
                pending.append(LookupRecord(target.id, snapshots, started, started + relookup))
                if snapshots:
                    detail = f"{len(snapshots)} captures in {name}"
                    run.progress.step(target.url, ArchiveStep.CAPTURES, detail)
                else:
                    run.progress.step(target.url, ArchiveStep.NO_CAPTURE, f"none in {name}")
            if len(pending) >= FLUSH_EVERY:
                await flush()

    started = asyncio.get_running_loop().time()
    try:
        await run_together(worker() for _ in range(min(len(source.todo), source.concurrency)))
    finally:
        source.elapsed = asyncio.get_running_loop().time() - started
        await flush()
        if source.backend:
            run.summary.lookups_deferred = len(source.todo)


async def _stopped(run: Run, source: LookupSource, err: ArchiveError) -> None:
    """An archive failed as a whole: ask it no more in this run; rest one of the list."""
    if source.backend:
        if isinstance(err, ArchiveUnreachable):
            # none of its saves this run; the others go on
            run.summary.down[source.archive.name] = str(err)
        else:
            run.summary.rested[source.archive.name] = f"look-ups stopped for this run: {err}"
        return
    until = run.now() + run.settings.archive.lookup_rest
    await run.db.write(Store.rest_archive, source.archive.name, until, str(err))
    run.summary.rested[source.archive.name] = f"rested until {until:%H:%M} UTC: {err}"


def _note_error(summary: ArchiveRunSummary, line: str) -> None:
    summary.lookup_errors += 1
    if len(summary.errors) < 5:
        summary.errors.append(line)
