"""An archive run: look-ups, the save queue, and the capture chosen for each citation.

One function serves the CLI's `archive` and the daemon's archive job. A run
has four phases, each safe to interrupt:

1. **look up** every cited URL never looked up in this archive (or due for
   another look), concurrently, storing the captures found in small batches;
2. **decide** (no network): `policy.decide_save` for each looked-up URL,
   queueing the saves it asks for;
3. **save** the queue, one request at a time, paced to
   `archive.saves_per_minute` from start times kept in the store, so that
   the pace holds across restarts; after a rate limit every save waits;
4. **choose** for each citation the capture closest to its release's date
   (`choose.candidate_order`), replaying candidates until one is a real
   page, and store it with `set_chosen_snapshot`.

SQLite is written from this coroutine only; the network work runs in tasks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from linkwatch.archive.base import (
    Archive,
    ArchiveError,
    ArchiveRateLimited,
    ArchiveUnreachable,
    SaveOutcome,
    SaveStatus,
    Snapshot,
    is_good_capture_status,
)
from linkwatch.archive.choose import candidate_order, publication_moment
from linkwatch.archive.factory import LOOKUP_CONCURRENCY, archive_host, open_archive
from linkwatch.archive.policy import (
    MAX_ATTEMPTS,
    SAVABLE_STATES,
    SaveDecision,
    backoff,
    decide_save,
    next_save_at,
)
from linkwatch.archive.replay import ReplayChecker, ReplayInconclusive
from linkwatch.config import Settings
from linkwatch.net import Net, NetOptions
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot, CitationToChoose, LookupRecord, QueuedSave
from linkwatch.tasks import run_together

__all__ = ["ArchiveRunSummary", "RunProgress", "archive_run"]

FLUSH_EVERY = 50  # look-ups per write batch
LOOKUP_RETRY = dt.timedelta(hours=1)  # after a look-up that failed
MIN_RELOOKUP = dt.timedelta(days=1)  # captures made by others show up at the next look
MAX_PAUSE_WAIT = 60.0  # seconds a run waits out a rate limit; longer ones go to a later run
MAX_TRIES = 5  # candidates replayed per citation per run; the next run goes on
OWN_CAPTURE_SLACK = dt.timedelta(minutes=2)  # clocks of archive and host differ a little
REPLAY_TIMEOUT = 30.0


class RunProgress(Protocol):
    """What a run reports as it goes: the CLI draws a bar or logs lines from it."""

    def phase(self, name: str, total: int) -> None: ...

    def step(self, url: str, outcome: str) -> None: ...


class _Silent:
    def phase(self, name: str, total: int) -> None:
        pass

    def step(self, url: str, outcome: str) -> None:
        pass


@dataclass(slots=True)
class ArchiveRunSummary:
    """What one archive run did, for the CLI to print and the daemon to log."""

    source: str = ""
    disabled: bool = False
    unreachable: str | None = None  # one line: why the archive could not be reached
    interrupted: bool = False
    looked_up: int = 0
    lookup_errors: int = 0
    lookups_deferred: int = 0  # left for a later run after a long rate limit
    queued: int = 0  # saves newly queued
    saved: int = 0
    fresh: int = 0  # URLs with a recent capture: no save needed
    refused: int = 0
    rate_limited: int = 0
    failed: int = 0  # save attempts that did not work (retried later, up to a limit)
    dropped: int = 0  # queued saves no longer wanted (the URL died meanwhile)
    not_savable: int = 0  # looked up but not saved in their state (dead, unchecked, ...)
    chosen: int = 0  # citations given a (different) snapshot
    rejected: int = 0  # captures whose replay was not the cited page
    no_snapshot: int = 0  # citations left without a snapshot
    queue_left: int = 0
    paused_until: dt.datetime | None = None
    errors: list[str] = field(default_factory=list)  # a few look-up errors, for the log


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class _Run:
    settings: Settings
    store: Store
    archive: Archive
    progress: RunProgress
    now: Callable[[], dt.datetime]
    until: dt.datetime | None
    summary: ArchiveRunSummary
    looked_up_now: set[int] = field(default_factory=set)  # URL ids looked up in this run

    @property
    def source(self) -> str:
        return self.archive.name


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
        trusted_hosts=frozenset({archive_host(settings)}),
    )


async def archive_run(
    settings: Settings,
    store: Store,
    *,
    archive: Archive | None = None,
    progress: RunProgress | None = None,
    now: Callable[[], dt.datetime] = _utc_now,
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
    run = _Run(settings, store, backend, progress or _Silent(), now, until, summary)
    try:
        async with backend, Net(replay_options(settings)) as net:
            await backend.check_reachable()
            await _look_up(run)
            _decide(run)
            await _save_queue(run)
            replays = ReplayChecker(net)
            try:
                await _choose(run, replays)
            finally:
                await replays.close()  # before the session closes under it
    except ArchiveUnreachable as err:
        summary.unreachable = str(err)
    except asyncio.CancelledError:
        summary.interrupted = True
    state = store.queue_state(backend.name, now())
    summary.queue_left = state.counts.get("queued", 0)
    return summary


# 1. look-ups --------------------------------------------------------------------


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


async def _look_up(run: _Run) -> None:
    targets = run.store.urls_to_look_up(run.source, run.now())
    run.progress.phase("looking up", len(targets))
    todo = deque(targets)
    pending: list[LookupRecord] = []
    pause = _Pause()
    relookup = max(run.settings.archive.fresh_within, MIN_RELOOKUP)

    def flush() -> None:
        batch = pending[:]
        pending.clear()
        if batch:
            run.store.record_lookups(run.source, batch)

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
                run.progress.step(target.url, "look-up failed")
            else:
                run.summary.looked_up += 1
                run.looked_up_now.add(target.id)
                pending.append(LookupRecord(target.id, snapshots, started, started + relookup))
                found = f"{len(snapshots)} captures" if snapshots else "no capture"
                run.progress.step(target.url, found)
            if len(pending) >= FLUSH_EVERY:
                flush()

    try:
        await run_together(worker() for _ in range(min(len(targets), LOOKUP_CONCURRENCY)))
    finally:
        flush()
        run.summary.lookups_deferred = len(todo)


def _note_error(summary: ArchiveRunSummary, line: str) -> None:
    summary.lookup_errors += 1
    if len(summary.errors) < 5:
        summary.errors.append(line)


# 2. decisions -------------------------------------------------------------------


def _decide(run: _Run) -> None:
    moment = run.now()
    fresh_within = run.settings.archive.fresh_within
    wanted: list[int] = []
    for candidate in run.store.save_candidates(run.source):
        decision = decide_save(
            candidate.state,
            candidate.newest_capture,
            candidate.queue_status,
            candidate.queue_done_at,
            moment,
            fresh_within,
        )
        if decision is SaveDecision.QUEUE:
            wanted.append(candidate.url_id)
        elif decision is SaveDecision.FRESH:
            run.summary.fresh += 1
        elif decision is SaveDecision.NOT_SAVABLE:
            run.summary.not_savable += 1
    run.summary.queued = run.store.enqueue_saves(run.source, wanted, moment)


# 3. the save queue --------------------------------------------------------------


async def _save_queue(run: _Run) -> None:
    run.progress.phase("saving", run.store.queue_state(run.source, run.now()).due_now)
    while await _waited(run, _pause_wait):
        entry = run.store.next_due_save(run.source, run.now())
        if entry is None:
            return
        outcome = await _attempt(run, entry)
        if outcome is None:
            return  # no room left in this run: the entry stays queued as it was
        run.progress.step(entry.url, outcome)


async def _waited(run: _Run, wait_for: Callable[[_Run, dt.datetime], float | None]) -> bool:
    """Sleep until `wait_for` says go (True), or until it says not in this run (False).

    The store is asked again after each sleep: another process may have saved
    or been rate-limited meanwhile.
    """
    while True:
        moment = run.now()
        if run.until is not None and moment >= run.until:
            return False
        wait = wait_for(run, moment)
        if wait is None:
            return False
        if wait <= 0:
            return True
        await asyncio.sleep(wait)


def _pause_wait(run: _Run, moment: dt.datetime) -> float | None:
    """Seconds left of a rate-limit pause; None when it outlasts what this run may wait."""
    paused_until, _streak = run.store.pause(run.source)
    if paused_until is None or paused_until <= moment:
        return 0.0
    wait = (paused_until - moment).total_seconds()
    if wait > MAX_PAUSE_WAIT or (run.until is not None and paused_until > run.until):
        run.summary.paused_until = paused_until
        return None
    return wait


def _pace_wait(run: _Run, moment: dt.datetime) -> float | None:
    """Seconds until the pace allows a save (a pause counts too); None: not in this run."""
    pause = _pause_wait(run, moment)
    if pause != 0.0:
        return pause
    now_s = moment.timestamp()
    recent = run.store.recent_save_starts(run.source, now_s - 3600)
    start = next_save_at(recent, now_s, run.settings.archive.saves_per_minute)
    if run.until is not None and start > run.until.timestamp():
        return None
    return max(0.0, start - now_s)


async def _attempt(run: _Run, entry: QueuedSave) -> str | None:
    """One queue entry: skip it if unwanted, settle an earlier attempt, else save when paced.

    Returns one word for the progress display, or None when the pace leaves
    no room for the save in this run. The look before saving is not a save,
    so it does not wait for the pace.
    """
    if entry.state not in SAVABLE_STATES:
        reason = f"not saved: the URL is {entry.state.value} now"
        run.store.finish_save(run.source, entry.url_id, "dropped", run.now(), reason=reason)
        run.summary.dropped += 1
        return "dropped"
    try:
        settled = await _settle_earlier(run, entry)
    except ArchiveRateLimited as err:
        outcome = SaveOutcome.rate_limited(err.retry_after, str(err))
        return _rate_limited(run, entry, outcome, refund=False)
    except ArchiveUnreachable:
        raise
    except ArchiveError as err:
        if entry.attempt_started_at is not None:  # saving blind might save twice
            _failed(run, entry, entry.attempts, f"look-up before saving failed: {err}", None, True)
            return "failed"
        settled = None  # the look was only to spare a save: save anyway
    if settled is not None:
        return settled
    if not await _waited(run, _pace_wait):
        return None
    run.store.start_save_attempt(run.source, entry.url_id, run.now())
    outcome = await run.archive.save(entry.url)
    return await _record_outcome(run, entry, outcome)


async def _settle_earlier(run: _Run, entry: QueuedSave) -> str | None:
    """Before saving, look for a capture that makes the save needless.

    An attempt written down but never settled (a kill, a capture that did
    not replay yet) may have worked: a capture made since it started is ours.
    A URL that waited in the queue may have been captured by someone else.
    A URL looked up in this very run (or whose look-up just failed) needs no
    second look.
    """
    if entry.attempt_started_at is None and entry.url_id in run.looked_up_now:
        return None
    moment = run.now()
    newest = await run.archive.lookup(entry.url, moment)
    if newest is None:
        return None
    started = entry.attempt_started_at
    if started is not None and newest.timestamp >= started - OWN_CAPTURE_SLACK:
        run.store.finish_save(
            run.source, entry.url_id, "saved", moment, snapshot=newest, saved_by_us=True
        )
        run.summary.saved += 1
        return "saved"
    if moment - newest.timestamp <= run.settings.archive.fresh_within:
        run.store.finish_save(run.source, entry.url_id, "fresh", moment, snapshot=newest)
        run.summary.fresh += 1
        return "already fresh"
    return None


async def _record_outcome(run: _Run, entry: QueuedSave, outcome: SaveOutcome) -> str:
    attempts = entry.attempts + 1
    if outcome.status is SaveStatus.CAPTURED and outcome.snapshot is not None:
        return await _captured(run, entry, attempts, outcome.snapshot)
    if outcome.status is SaveStatus.FRESH and outcome.snapshot is not None:
        run.store.finish_save(
            run.source, entry.url_id, "fresh", run.now(), snapshot=outcome.snapshot
        )
        run.summary.fresh += 1
        _clear_pause(run)
        return "already fresh"
    if outcome.status is SaveStatus.RATE_LIMITED:
        return _rate_limited(run, entry, outcome, refund=True)
    if outcome.status is SaveStatus.REFUSED:
        run.store.finish_save(run.source, entry.url_id, "refused", run.now(), reason=outcome.reason)
        run.summary.refused += 1
        return "refused"
    # A failure may come after the archive started capturing (a timeout): look first next time.
    _failed(run, entry, attempts, outcome.reason or "failed", outcome.retry_after, True)
    return "failed"


async def _captured(run: _Run, entry: QueuedSave, attempts: int, snapshot: Snapshot) -> str:
    """A capture is recorded only once the archive replays it."""
    try:
        replayed = await run.archive.verify(snapshot)
    except ArchiveError as err:
        replayed, why = None, f"capture could not be verified: {err}"
    else:
        why = f"capture {snapshot.archive_url} does not replay"
    _clear_pause(run)
    if replayed is None:
        _failed(run, entry, attempts, why, None, True)
        return "failed"
    if replayed.status is not None and not is_good_capture_status(replayed.status):
        run.store.record_snapshot(entry.url_id, replayed, run.now(), saved_by_us=True)
        _failed(
            run, entry, attempts, f"captured an error page (HTTP {replayed.status})", None, False
        )
        return "failed"
    run.store.finish_save(
        run.source, entry.url_id, "saved", run.now(), snapshot=replayed, saved_by_us=True
    )
    run.summary.saved += 1
    return "saved"


def _failed(
    run: _Run,
    entry: QueuedSave,
    attempts: int,
    reason: str,
    retry_after: float | None,
    unsettled: bool,
) -> None:
    """Retry later with exponential backoff, or give up after MAX_ATTEMPTS."""
    run.summary.failed += 1
    moment = run.now()
    if attempts >= MAX_ATTEMPTS:
        run.store.finish_save(
            run.source, entry.url_id, "failed", moment, reason=f"gave up: {reason}"
        )
        return
    delay = dt.timedelta(seconds=backoff(attempts, retry_after))
    run.store.retry_save(
        run.source, entry.url_id, moment + delay, reason, attempt_unsettled=unsettled
    )


def _rate_limited(run: _Run, entry: QueuedSave, outcome: SaveOutcome, *, refund: bool) -> str:
    """Every save waits (the limit is on us, not on the page); the entry keeps its tries."""
    _paused_until, streak = run.store.pause(run.source)
    moment = run.now()
    until = moment + dt.timedelta(seconds=backoff(streak + 1, outcome.retry_after))
    reason = outcome.reason or "rate limited"
    run.store.set_pause(run.source, until, streak + 1, reason)
    run.store.retry_save(
        run.source,
        entry.url_id,
        until,
        reason,
        attempt_unsettled=entry.attempt_started_at is not None and not refund,
        refund=refund,
    )
    run.summary.rate_limited += 1
    return "rate-limited"


def _clear_pause(run: _Run) -> None:
    paused_until, streak = run.store.pause(run.source)
    if streak or paused_until is not None:
        run.store.set_pause(run.source, None, 0)


# 4. choosing --------------------------------------------------------------------


@dataclass(slots=True)
class _Choice:
    citation: CitationToChoose
    snapshot: Snapshot | None
    keep: bool  # inconclusive or out of tries: judged again by a later run


@dataclass(slots=True)
class _UrlChoices:
    url_id: int
    choices: list[_Choice]
    verdicts: list[tuple[Snapshot, str | None]]  # replays judged: (capture, rejection or None)


async def _choose(run: _Run, replays: ReplayChecker) -> None:
    citations = run.store.citations_to_choose()
    by_url: dict[int, list[CitationToChoose]] = {}
    for citation in citations:
        by_url.setdefault(citation.url_id, []).append(citation)
    candidates = run.store.candidate_snapshots(by_url)
    verified = run.store.verified_snapshots(by_url)
    chosen = run.store.chosen_snapshots()
    work = {
        url_id: group
        for url_id, group in by_url.items()
        if any(_needs_choice(c, candidates.get(url_id, []), chosen) for c in group)
    }
    run.progress.phase("choosing", len(work))
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def one_url(url_id: int, group: list[CitationToChoose]) -> _UrlChoices:
        async with gate:
            judged: dict[str, str | None] = {}
            snapshots = candidates.get(url_id, [])
            choices = [
                await _choose_one(c, snapshots, chosen, verified, judged, replays) for c in group
            ]
            verdicts = [(s, judged[s.archive_url]) for s in snapshots if s.archive_url in judged]
            return _UrlChoices(url_id, choices, verdicts)

    tasks = [asyncio.create_task(one_url(url_id, group)) for url_id, group in work.items()]
    try:
        for next_done in asyncio.as_completed(tasks):
            done = await next_done
            for snapshot, rejection in done.verdicts:
                run.store.judge_snapshot(done.url_id, snapshot, rejection, run.now())
                run.summary.rejected += rejection is not None
            _store_choices(run, done.choices, chosen)
            run.progress.step(by_url[done.url_id][0].url_key, _choice_word(done.choices))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    final = run.store.chosen_snapshots()
    run.summary.no_snapshot = sum(1 for c in citations if (c.release_path, c.url_key) not in final)


def _needs_choice(
    citation: CitationToChoose,
    snapshots: Sequence[Snapshot],
    chosen: Mapping[tuple[str, str], ChosenSnapshot],
) -> bool:
    order = candidate_order(snapshots, publication_moment(citation.published))
    current = chosen.get((citation.release_path, citation.url_key))
    if not order:
        return False  # nothing to choose from; a choice made before stays
    return current is None or current.archive_url != order[0].archive_url


async def _choose_one(
    citation: CitationToChoose,
    snapshots: Sequence[Snapshot],
    chosen: Mapping[tuple[str, str], ChosenSnapshot],
    verified: set[str],
    judged: dict[str, str | None],
    replays: ReplayChecker,
) -> _Choice:
    """Walk the candidates in order; the first real page wins, the current choice stands."""
    current = chosen.get((citation.release_path, citation.url_key))
    order = candidate_order(snapshots, publication_moment(citation.published))
    tries = 0
    for candidate in order:
        url = candidate.archive_url
        if url in verified or (current is not None and url == current.archive_url):
            return _Choice(citation, candidate, keep=False)
        if url not in judged:
            if tries >= MAX_TRIES:
                return _Choice(citation, None, keep=True)
            tries += 1
            try:
                judged[url] = await replays.rejection(candidate, citation.url_key)
            except ReplayInconclusive:
                return _Choice(citation, None, keep=True)
        if judged[url] is None:
            verified.add(url)
            return _Choice(citation, candidate, keep=False)
    return _Choice(citation, None, keep=False)


def _store_choices(
    run: _Run, choices: Iterable[_Choice], chosen: Mapping[tuple[str, str], ChosenSnapshot]
) -> None:
    moment = run.now()
    for choice in choices:
        key = (choice.citation.release_path, choice.citation.url_key)
        current = chosen.get(key)
        if choice.snapshot is None:
            continue  # every candidate rejected, or judged later: a choice made before stays
        if current is not None and current.archive_url == choice.snapshot.archive_url:
            continue
        snapshot = ChosenSnapshot(
            choice.snapshot.archive_url, choice.snapshot.timestamp, choice.snapshot.status
        )
        run.store.set_chosen_snapshot(*key, snapshot, moment)
        run.summary.chosen += 1


def _choice_word(choices: Sequence[_Choice]) -> str:
    if any(choice.snapshot is not None for choice in choices):
        return "chosen"
    return "kept" if any(choice.keep for choice in choices) else "no snapshot"
