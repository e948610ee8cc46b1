"""The drift phase of an archive run: each chosen snapshot's fingerprint, replayed once.

A capture replayed this run to verify it (`ReplayChecker`) gives its
fingerprint for free; a snapshot chosen before (a database older than
content drift, a capture verified earlier) is replayed raw (`id_`) once,
through the run's guarded session with the archive's endpoint trusted. The
fingerprint is stored by archive URL, so no later check or run replays it
again; a replay that fails for the network is tried by the next run, one
that answers anything but a 2xx HTML page with text is stored as "nothing
to compare".
"""

from __future__ import annotations

import asyncio

from linkwatch.archive.backends.factory import LOOKUP_CONCURRENCY
from linkwatch.archive.captures import raw_replay_url
from linkwatch.archive.replay import ReplayChecker
from linkwatch.archive.run_state import Run
from linkwatch.check.checker import check_url
from linkwatch.drift.prints import to_text
from linkwatch.model import ContentPrint
from linkwatch.store import Store
from linkwatch.store.drift import SnapshotPrint


async def fingerprint_snapshots(run: Run, replays: ReplayChecker) -> int:
    """Fingerprint every chosen snapshot that has none yet; returns how many were stored."""
    assert run.net is not None
    net = run.net
    wanted = run.db.read.snapshots_to_fingerprint()
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def one(archive_url: str) -> SnapshotPrint | None:
        if archive_url in replays.prints:  # replayed this run to verify it
            return _stored(archive_url, replays.prints[archive_url], 200)
        async with gate:
            replay = await check_url(net, raw_replay_url(archive_url), now=run.now, content=True)
        if replay.error is not None:
            return None  # the network: the next run tries again
        ok = replay.status is not None and 200 <= replay.status < 300
        return _stored(archive_url, replay.content if ok else None, replay.status)

    found = [p for p in await asyncio.gather(*(one(url) for url in wanted)) if p is not None]
    await run.db.write(Store.save_snapshot_prints, found, run.now())
    return len(found)


def _stored(
    archive_url: str, fingerprint: ContentPrint | None, status: int | None
) -> SnapshotPrint:
    return SnapshotPrint(archive_url, None if fingerprint is None else to_text(fingerprint), status)
