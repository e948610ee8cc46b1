"""An archive run: look-ups, the save queue, and the capture chosen for each citation.

One function serves the CLI's `archive` and the daemon's archive job. A run
has four phases, each safe to interrupt: `lookups`, the decisions and the
paced saves of `save_queue`, and `assign` (each citation's snapshot).
SQLite is written from this coroutine only; the network work runs in tasks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Mapping

from linkwatch.archive.assign import choose
from linkwatch.archive.backends.factory import LOOKUP_CONCURRENCY, archive_base_url, open_archive
from linkwatch.archive.lookups import look_up
from linkwatch.archive.protocol import Archive
from linkwatch.archive.replay import ReplayChecker
from linkwatch.archive.run_state import ArchiveRunSummary, Run, RunProgress, Silent
from linkwatch.archive.save_queue import decide, save_queue
from linkwatch.clock import Clock, system_clock
from linkwatch.config.settings import Settings
from linkwatch.drift.replays import fingerprint_snapshots
from linkwatch.errors import ArchiveUnreachable
from linkwatch.model import QueueStatus
from linkwatch.net.polite import Net, NetOptions
from linkwatch.net.session import endpoint_of
from linkwatch.store.writer import AsyncStore

REPLAY_TIMEOUT = 30.0


def replay_options(settings: Settings) -> NetOptions:
    """The checker's network settings for replays: the archive's host is trusted, no delay."""
    return NetOptions(
        user_agent=settings.check.user_agent,
        timeout=REPLAY_TIMEOUT,
        read_timeout=REPLAY_TIMEOUT,
        concurrency=LOOKUP_CONCURRENCY,
        per_host=LOOKUP_CONCURRENCY,
        host_delay=0.0,
        allow_private=settings.check.allow_private,
        max_body=settings.check.max_body,
        trusted=frozenset({endpoint_of(archive_base_url(settings))}),
    )


async def archive_run(
    settings: Settings,
    db: AsyncStore,
    *,
    archive: Archive | None = None,
    progress: RunProgress | None = None,
    now: Clock = system_clock,
    until: dt.datetime | None = None,
    environ: Mapping[str, str] = os.environ,
) -> ArchiveRunSummary:
    """Look up, queue, save and choose; returns a summary, never raises for the network.

    `until` bounds the save phase (the daemon passes its next tick): saves
    that cannot start before it stay queued. Raises ArchiveError only for a
    misconfiguration (an archive that answers, but not like one; one Save
    Page Now key without the other). Cancellation (Ctrl-C, SIGTERM) stops
    the run; everything finished so far is stored, and a save in flight is
    settled by the next run.
    """
    summary = ArchiveRunSummary()
    if not settings.archive.enabled:
        summary.disabled = True
        return summary
    backend = archive if archive is not None else open_archive(settings, environ)
    summary.source = backend.name
    run = Run(settings, db, backend, progress or Silent(), now, until, summary)
    try:
        async with backend, Net(replay_options(settings)) as net:
            run.net = net
            await backend.check_reachable()
            await look_up(run)
            await decide(run)
            await save_queue(run)
            replays = ReplayChecker(net)
            try:
                await choose(run, replays)
                await fingerprint_snapshots(run, replays)
            finally:
                await replays.close()  # before the session closes under it
    except ArchiveUnreachable as err:
        summary.unreachable = str(err)
    except asyncio.CancelledError:
        summary.interrupted = True
    state = db.read.queue_state(backend.name, now())
    summary.queue_left = state.counts.get(QueueStatus.QUEUED, 0)
    return summary
