"""An archive run: look-ups, the save queues, and the capture chosen for each citation.

One function serves the CLI's `archive` and the daemon's archive job. A run
has four phases, each safe to interrupt: `lookups` (the backend and every
archive of the look-up list, each on its own), the decisions and the paced
saves of `save_queue` (for every archive of `archive.save_to` at once, each
with its own queue and pace), and `assign` (each citation's snapshot).

An archive that cannot be reached costs one try and is left alone for the
rest of the run: the backend down skips its look-ups and its saves, a save
archive down skips its saves, and the other archives go on, so that a
citation is preserved as long as one archive holds a capture of it. SQLite is
written from this coroutine only; the network work runs in tasks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack

from linkwatch.archive.archives import ArchiveSpec, archives_to_ask
from linkwatch.archive.assign import choose
from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.factory import (
    LOOKUP_CONCURRENCY,
    archive_base_url,
    open_archive,
    open_save_archives,
    save_base_url,
)
from linkwatch.archive.backends.memento import MementoArchive
from linkwatch.archive.lookups import LookupSource, look_up
from linkwatch.archive.protocol import Archive
from linkwatch.archive.replay import ReplayChecker
from linkwatch.archive.run_state import ArchiveRunSummary, Run, RunProgress, Silent
from linkwatch.archive.save_queue import decide, save_queue
from linkwatch.clock import Clock, system_clock
from linkwatch.config.settings import Settings
from linkwatch.drift.replays import fingerprint_snapshots
from linkwatch.errors import ArchiveError, ArchiveSilent, ArchiveUnreachable
from linkwatch.model import QueueStatus
from linkwatch.net.polite import Net, NetOptions
from linkwatch.net.session import endpoint_of
from linkwatch.store.writer import AsyncStore
from linkwatch.tasks import run_together

REPLAY_TIMEOUT = 30.0


def replay_options(settings: Settings, specs: Sequence[ArchiveSpec] = ()) -> NetOptions:
    """The checker's network settings for replays: each archive trusted for its own
    endpoints only (the backend, the save archives, the look-up list), no delay."""
    trusted = {endpoint_of(archive_base_url(settings))}
    for target in settings.archive.save_to:
        trusted |= {endpoint_of(base) for base in save_base_url(target, settings)}
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
    archives: Mapping[str, Archive] | None = None,
    progress: RunProgress | None = None,
    now: Clock = system_clock,
    until: dt.datetime | None = None,
    environ: Mapping[str, str] = os.environ,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> ArchiveRunSummary:
    """Look up, queue, save and choose; returns a summary, never raises for the network.

    `until` bounds the save phase (the daemon passes its next tick): saves
    that cannot start before it stay queued. Raises ArchiveError only for a
    misconfiguration (an archive that answers, but not like one; one Save
    Page Now key without the other; "perma" in `archive.save_to` without
    its key), ConfigError for an unreadable `archive.lookup_file`. The
    backend being down (refused, 5xx, silent) skips its look-ups and its
    saves; the other archives are still asked and saved to, and snapshots
    still chosen. Cancellation (Ctrl-C, SIGTERM) stops the run; everything
    finished so far is stored, and a save in flight is settled by the next
    run. `archives` stands in for save archives by name (tests), `sleep` is
    how the save phase waits for its pace.
    """
    summary = ArchiveRunSummary()
    if not settings.archive.enabled:
        summary.disabled = True
        return summary
    backend = archive if archive is not None else open_archive(settings, environ)
    savers = open_save_archives(settings, environ, primary=backend, given=archives)
    summary.source = backend.name
    summary.save_to = list(savers)
    specs = archives_to_ask(
        settings.archive.lookup, settings.archive.lookup_file, archive_base_url(settings)
    )
    options = archive_options(settings.check.user_agent, allow_private=settings.check.allow_private)
    others = [MementoArchive(spec, options) for spec in specs]
    run = Run(settings, db, backend, progress or Silent(), now, until, summary, sleep=sleep)
    try:
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(backend)
            for saver in savers.values():
                if saver is not backend:
                    await stack.enter_async_context(saver)
            for other in others:
                await stack.enter_async_context(other)
            net = await stack.enter_async_context(Net(replay_options(settings, specs)))
            run.net = net
            sources = [LookupSource(other, other.spec.concurrency) for other in others]
            try:
                await backend.check_reachable()
            except ArchiveUnreachable as err:
                summary.down[backend.name] = str(err)
            else:
                sources.insert(0, LookupSource(backend, LOOKUP_CONCURRENCY, backend=True))
            await look_up(run, sources)  # the backend failing as a whole is `down` too
            await _save_everywhere(run, savers)
            replays = ReplayChecker(net)
            try:
                await choose(run, replays)
                await fingerprint_snapshots(run, replays)
            finally:
                await replays.close()  # before the session closes under it
    except asyncio.CancelledError:
        summary.interrupted = True
    summary.asked_others = len(others)
    summary.queue_left = sum(
        db.read.queue_state(name, now()).counts.get(QueueStatus.QUEUED, 0)
        for name in dict.fromkeys([backend.name, *savers])
    )
    return summary


async def _save_everywhere(run: Run, savers: Mapping[str, Archive]) -> None:
    """Phases 2 and 3 for every save archive at once, each with its own queue and pace.

    The backend's saves use the look-ups just made; an archive the run only
    saves to (Perma.cc, or pywb beside the Wayback Machine) is asked once
    whether it is there. An archive that does not answer (refused, 5xx,
    silent) is skipped for the rest of the run, its queue waiting in the
    store, and so is one that stops answering mid-run (a save, a look or a
    quota read with no answer in time): its timeout is spent once, not once
    per queued URL, and the attempt in flight is settled by a later run. One
    that answers but refuses to work with us (a Perma.cc key it rejects) is
    skipped the same way, with its reason. The others' saves go on. The
    backend answering, but not like an archive, is a misconfiguration and
    raises.
    """

    async def one(name: str, archive: Archive) -> None:
        own = archive is run.archive
        if name in run.summary.down:
            return  # down: said once already
        sub = dataclasses.replace(
            run,
            archive=archive,
            looks_up=own,
            looked_up_now=run.looked_up_now if own else set(),
        )
        try:
            if not own:
                await archive.check_reachable()
            await decide(sub)
            await save_queue(sub)
        except (ArchiveUnreachable, ArchiveSilent) as err:  # before or during its saves
            run.summary.down[name] = str(err)
        except ArchiveError as err:
            if own:
                raise
            run.summary.down[name] = str(err)

    await run_together(one(name, archive) for name, archive in savers.items())
