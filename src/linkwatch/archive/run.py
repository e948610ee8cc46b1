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
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack

from linkwatch.archive.archives import ArchiveSpec, archives_to_ask
from linkwatch.archive.assign import choose
from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.factory import LOOKUP_CONCURRENCY, archive_base_url, open_archive
from linkwatch.archive.backends.memento import MementoArchive
from linkwatch.archive.lookups import LookupSource, look_up
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


def replay_options(settings: Settings, specs: Sequence[ArchiveSpec] = ()) -> NetOptions:
    """The checker's network settings for replays: each archive trusted for its own
    endpoints only, no delay."""
    trusted = {endpoint_of(archive_base_url(settings))}
    trusted |= {endpoint_of(url) for spec in specs for url in spec.endpoints}
    return NetOptions(
        user_agent=settings.check.user_agent,
        timeout=REPLAY_TIMEOUT,
        read_timeout=REPLAY_TIMEOUT,
        concurrency=LOOKUP_CONCURRENCY,
        per_host=LOOKUP_CONCURRENCY,
        host_delay=0.0,
        allow_private=settings.check.allow_private,
        max_body=settings.check.max_body,
        trusted=frozenset(trusted),
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
    Page Now key without the other), ConfigError for an unreadable
    `archive.lookup_file`. The backend being down (refused, 5xx, silent)
    skips its look-ups and the saves; the other archives are still asked and
    snapshots still chosen. Cancellation (Ctrl-C, SIGTERM) stops the run;
    everything finished so far is stored, and a save in flight is settled
    by the next run.
    """
    summary = ArchiveRunSummary()
    if not settings.archive.enabled:
        summary.disabled = True
        return summary
    backend = archive if archive is not None else open_archive(settings, environ)
    summary.source = backend.name
    specs = archives_to_ask(
        settings.archive.lookup, settings.archive.lookup_file, archive_base_url(settings)
    )
    options = archive_options(settings.check.user_agent, allow_private=settings.check.allow_private)
    others = [MementoArchive(spec, options) for spec in specs]
    run = Run(settings, db, backend, progress or Silent(), now, until, summary)
    try:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(backend)
            for other in others:
                await stack.enter_async_context(other)
            net = await stack.enter_async_context(Net(replay_options(settings, specs)))
            run.net = net
            sources = [LookupSource(other, other.spec.concurrency) for other in others]
            try:
                await backend.check_reachable()
            except ArchiveUnreachable as err:
                summary.unreachable = str(err)
            else:
                sources.insert(0, LookupSource(backend, LOOKUP_CONCURRENCY, backend=True))
            await look_up(run, sources)
            if summary.unreachable is None:
                try:
                    await decide(run)
                    await save_queue(run)
                except ArchiveUnreachable as err:
                    summary.unreachable = str(err)
            replays = ReplayChecker(net)
            try:
                await choose(run, replays)
                await fingerprint_snapshots(run, replays)
            finally:
                await replays.close()  # before the session closes under it
    except asyncio.CancelledError:
        summary.interrupted = True
    summary.asked_others = len(others)
    state = db.read.queue_state(backend.name, now())
    summary.queue_left = state.counts.get(QueueStatus.QUEUED, 0)
    return summary
