"""Phase 1 of an archive run: look every cited URL up, concurrently, storing what is found.

Every cited URL never looked up in this archive (or due for another look) is
asked for its captures; they are stored in small batches. After a rate limit
every worker waits, or, when the wait is long, the rest is left to a later run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque

from linkwatch.archive.backends.factory import LOOKUP_CONCURRENCY
from linkwatch.archive.run_state import ArchiveRunSummary, ArchiveStep, Run
from linkwatch.archive.save_policy import (
    backoff,
)
from linkwatch.errors import ArchiveError, ArchiveRateLimited, ArchiveUnreachable
from linkwatch.store import Store
from linkwatch.store.archive import LookupRecord
from linkwatch.tasks import run_together

FLUSH_EVERY = 50  # look-ups per write batch

LOOKUP_RETRY = dt.timedelta(hours=1)  # after a look-up that failed

MIN_RELOOKUP = dt.timedelta(days=1)  # captures made by others show up at the next look

MAX_PAUSE_WAIT = 60.0  # seconds a run waits out a rate limit; longer ones go to a later run


class _Pause:
    """Shared by the look-up workers: after a 429 they all wait, or all stop."""

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


async def look_up(run: Run) -> None:
    targets = run.db.read.urls_to_look_up(run.source, run.now())
    run.progress.phase("looking up", len(targets))
    todo = deque(targets)
    pending: list[LookupRecord] = []
    pause = _Pause()
    relookup = max(run.settings.archive.fresh_within, MIN_RELOOKUP)

    async def flush() -> None:
        batch = pending[:]
        pending.clear()
        if batch:
            await run.db.write(Store.record_lookups, run.source, batch)

    async def worker() -> None:
        while todo and not pause.stopped:
            target = todo.popleft()
            await pause.wait()
            started = run.now()
            try:
                snapshots = await run.archive.snapshots(target.url)
            except ArchiveRateLimited as err:
                todo.append(target)
                pause.hold(err.retry_after)
                continue
            except ArchiveUnreachable:
                raise
            except ArchiveError as err:
                run.looked_up_now.add(target.id)  # a second look in this run would fail alike
                _note_error(run.summary, f"{target.url}: {err}")
                pending.append(
                    LookupRecord(target.id, [], started, started + LOOKUP_RETRY, str(err))
                )
                run.progress.step(target.url, ArchiveStep.LOOKUP_FAILED)
            else:
                run.summary.looked_up += 1
                run.looked_up_now.add(target.id)
                pending.append(LookupRecord(target.id, snapshots, started, started + relookup))
                if snapshots:
                    detail = f"{len(snapshots)} captures"
                    run.progress.step(target.url, ArchiveStep.CAPTURES, detail)
                else:
                    run.progress.step(target.url, ArchiveStep.NO_CAPTURE)
            if len(pending) >= FLUSH_EVERY:
                await flush()

    try:
        await run_together(worker() for _ in range(min(len(targets), LOOKUP_CONCURRENCY)))
    finally:
        await flush()
        run.summary.lookups_deferred = len(todo)


def _note_error(summary: ArchiveRunSummary, line: str) -> None:
    summary.lookup_errors += 1
    if len(summary.errors) < 5:
        summary.errors.append(line)
