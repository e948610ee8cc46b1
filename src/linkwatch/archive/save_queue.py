"""Phases 2 and 3 of an archive run: decide which pages to save, then save them, paced.

The decisions are `save_policy.decide_save` for each looked-up URL (no
network). The queue lives in the store and survives restarts; saves are made
one at a time, paced to `archive.saves_per_minute` from start times kept in the
store, so that the pace holds across runs and processes. After a rate limit
every save waits. Each attempt is written down before the archive is asked and
settled with its outcome, so that a kill never leads to a second save.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from linkwatch.archive.captures import is_good_capture_status
from linkwatch.archive.lookups import MAX_PAUSE_WAIT
from linkwatch.archive.protocol import SaveOptions, SaveOutcome, SaveStatus
from linkwatch.archive.run_state import ArchiveStep, Run
from linkwatch.archive.save_policy import (
    MAX_ATTEMPTS,
    QUOTA_BATCH,
    SAVABLE_STATES,
    QuotaVerdict,
    SaveDecision,
    backoff,
    decide_save,
    next_save_at,
    next_utc_day,
    quota_room,
)
from linkwatch.errors import (
    ArchiveError,
    ArchiveRateLimited,
    ArchiveSilent,
    ArchiveUnreachable,
    NetError,
)
from linkwatch.model import QueueStatus, Snapshot
from linkwatch.store import Store
from linkwatch.store.archive import QueuedSave

OWN_CAPTURE_SLACK = dt.timedelta(minutes=2)  # clocks of archive and host differ a little


async def decide(run: Run) -> None:
    moment = run.now()
    fresh_within = run.settings.archive.fresh_within
    wanted: list[int] = []
    rules = run.settings.rules
    for candidate in run.db.read.save_candidates(run.source, looked_up=run.looks_up):
        if rules and not rules.for_url(candidate.url).archived:
            run.summary.not_by_rule += 1
            continue
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
    run.summary.queued += await run.db.write(Store.enqueue_saves, run.source, wanted, moment)


class _Budget:
    """Saves left before the archive's quota is read again (None: read it first)."""

    def __init__(self) -> None:
        self.left: int | None = None


async def save_queue(run: Run) -> None:
    run.progress.phase("saving", run.db.read.queue_state(run.source, run.now()).due_now)
    budget = _Budget()
    while await _waited(run, _pause_wait):
        entry = run.db.read.next_due_save(run.source, run.now())
        if entry is None:
            return
        outcome = await _attempt(run, entry, budget)
        if outcome is None:
            return  # no room left in this run: the entry stays queued as it was
        run.progress.step(entry.url, outcome)


async def _quota_allows(run: Run, budget: _Budget) -> bool:
    """Read the quota before a batch of saves; False when none may be made in this run.

    At the daily cap every queued save waits for the next UTC day, the reason
    written on each entry and on the archive's pause. A quota that cannot be
    read does not stop the saves: the archive still refuses what is over.
    """
    if budget.left:
        return True
    try:
        quota = await run.archive.quota()
    except (ArchiveUnreachable, ArchiveSilent):
        raise
    except ArchiveError as err:
        if len(run.summary.errors) < 5:
            run.summary.errors.append(f"{run.source}: quota not read: {err}")
        budget.left = QUOTA_BATCH
        return True
    verdict, room = quota_room(quota)
    if verdict is QuotaVerdict.GO:
        budget.left = room
        return True
    assert quota is not None  # GO is all a missing quota gives
    if verdict is QuotaVerdict.DAILY_CAP:
        until = next_utc_day(run.now())
        reason = (
            f"daily capture cap: {quota.daily_captures} of {quota.daily_captures_limit} "
            "used today; saves wait for the next UTC day"
        )
        await run.db.write(Store.hold_queue, run.source, until, reason)
        run.summary.paused_until = until
    else:
        reason = (
            f"every capture session is in use ({quota.processing} processing): "
            "saves wait for the next run"
        )
    run.summary.held[run.source] = reason
    return False


async def _waited(run: Run, wait_for: Callable[[Run, dt.datetime], float | None]) -> bool:
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
        await run.sleep(wait)


def _pause_wait(run: Run, moment: dt.datetime) -> float | None:
    """Seconds left of a rate-limit pause; None when it outlasts what this run may wait."""
    paused_until, _streak = run.db.read.pause(run.source)
    if paused_until is None or paused_until <= moment:
        return 0.0
    wait = (paused_until - moment).total_seconds()
    if wait > MAX_PAUSE_WAIT or (run.until is not None and paused_until > run.until):
        run.summary.paused_until = paused_until
        return None
    return wait


def _pace_wait(run: Run, moment: dt.datetime) -> float | None:
    """Seconds until the pace allows a save (a pause counts too); None: not in this run."""
    pause = _pause_wait(run, moment)
    if pause != 0.0:
        return pause
    now_s = moment.timestamp()
    recent = run.db.read.recent_save_starts(run.source, now_s - 3600)
    start = next_save_at(recent, now_s, run.saves_per_minute)
    if run.until is not None and start > run.until.timestamp():
        return None
    return max(0.0, start - now_s)


async def _attempt(run: Run, entry: QueuedSave, budget: _Budget) -> ArchiveStep | None:
    """One queue entry: skip it if unwanted, settle an earlier attempt, else save when paced.

    Returns the step for the progress display, or None when the pace leaves
    no room for the save in this run. The look before saving is not a save,
    so it does not wait for the pace.
    """
    reason = None
    rules = run.settings.rules.for_url(entry.url)
    if not rules.archived:  # queued before the rule was written
        said = "exclude = true" if rules.exclude else "archive = false"
        reason = f"not saved: a [[rules]] table says {said}"
    elif entry.state not in SAVABLE_STATES:
        reason = f"not saved: the URL is {entry.state.value} now"
    else:
        reason = await _private_target(run, entry.url)
    if reason is not None:
        await run.db.write(
            Store.finish_save,
            run.source,
            entry.url_id,
            QueueStatus.DROPPED,
            run.now(),
            reason=reason,
        )
        run.summary.dropped += 1
        return ArchiveStep.DROPPED
    try:
        settled = await _settle_earlier(run, entry)
    except ArchiveRateLimited as err:
        outcome = SaveOutcome.rate_limited(err.retry_after, str(err))
        return await _rate_limited(run, entry, outcome, refund=False)
    except (ArchiveUnreachable, ArchiveSilent):
        raise
    except ArchiveError as err:
        if entry.attempt_started_at is not None:  # saving blind might save twice
            await _failed(
                run, entry, entry.attempts, f"look-up before saving failed: {err}", None, True
            )
            return ArchiveStep.FAILED
        settled = None  # the look was only to spare a save: save anyway
    if settled is not None:
        return settled
    if not await _quota_allows(run, budget) or not await _waited(run, _pace_wait):
        return None
    await run.db.write(Store.start_save_attempt, run.source, entry.url_id, run.now())
    if budget.left is not None:
        budget.left -= 1
    outcome = await run.archive.save(entry.url, SaveOptions(looked_up=entry.looked_up))
    return await _record_outcome(run, entry, outcome)


async def _private_target(run: Run, url: str) -> str | None:
    """Why the archive must not be asked to fetch `url`: its host is a private address.

    An archive fetches what it is asked to save; a self-hosted one (pywb on the
    local network) would fetch an intranet page or a metadata endpoint for us.
    The checker never reaches such a URL, but one marked alive by hand is queued
    all the same: the guard vets it here, as if linkwatch were to connect.
    """
    if run.net is None:
        return None
    try:
        await run.net.vet(url)
    except NetError as error:
        return f"not saved: {error.detail}"
    return None


async def _settle_earlier(run: Run, entry: QueuedSave) -> ArchiveStep | None:
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
        await run.db.write(
            Store.finish_save,
            run.source,
            entry.url_id,
            QueueStatus.SAVED,
            moment,
            snapshot=newest,
            saved_by_us=True,
        )
        _count_save(run)
        return ArchiveStep.SAVED
    if moment - newest.timestamp <= run.settings.archive.fresh_within:
        await run.db.write(
            Store.finish_save, run.source, entry.url_id, QueueStatus.FRESH, moment, snapshot=newest
        )
        run.summary.fresh += 1
        return ArchiveStep.FRESH
    return None


async def _record_outcome(run: Run, entry: QueuedSave, outcome: SaveOutcome) -> ArchiveStep:
    attempts = entry.attempts + 1
    if outcome.status is SaveStatus.CAPTURED and outcome.snapshot is not None:
        return await _captured(run, entry, attempts, outcome.snapshot)
    if outcome.status is SaveStatus.FRESH and outcome.snapshot is not None:
        await run.db.write(
            Store.finish_save,
            run.source,
            entry.url_id,
            QueueStatus.FRESH,
            run.now(),
            snapshot=outcome.snapshot,
        )
        run.summary.fresh += 1
        await _clear_pause(run)
        return ArchiveStep.FRESH
    if outcome.status is SaveStatus.RATE_LIMITED:
        return await _rate_limited(run, entry, outcome, refund=True)
    if outcome.status is SaveStatus.REFUSED:
        await run.db.write(
            Store.finish_save,
            run.source,
            entry.url_id,
            QueueStatus.REFUSED,
            run.now(),
            reason=outcome.reason,
        )
        run.summary.refused += 1
        return ArchiveStep.REFUSED
    # A failure may come after the archive started capturing (a timeout): look first next time.
    await _failed(run, entry, attempts, outcome.reason or "failed", outcome.retry_after, True)
    return ArchiveStep.FAILED


async def _captured(run: Run, entry: QueuedSave, attempts: int, snapshot: Snapshot) -> ArchiveStep:
    """A capture is recorded only once the archive replays it."""
    try:
        replayed = await run.archive.verify(snapshot)
    except ArchiveError as err:
        replayed, why = None, f"capture could not be verified: {err}"
    else:
        why = f"capture {snapshot.archive_url} does not replay"
    await _clear_pause(run)
    if replayed is None:
        await _failed(run, entry, attempts, why, None, True)
        return ArchiveStep.FAILED
    if replayed.status is not None and not is_good_capture_status(replayed.status):
        await run.db.write(
            Store.record_snapshot, entry.url_id, replayed, run.now(), saved_by_us=True
        )
        await _failed(
            run, entry, attempts, f"captured an error page (HTTP {replayed.status})", None, False
        )
        return ArchiveStep.FAILED
    await run.db.write(
        Store.finish_save,
        run.source,
        entry.url_id,
        QueueStatus.SAVED,
        run.now(),
        snapshot=replayed,
        saved_by_us=True,
    )
    _count_save(run)
    return ArchiveStep.SAVED


def _count_save(run: Run) -> None:
    run.summary.saved += 1
    run.summary.saved_in[run.source] = run.summary.saved_in.get(run.source, 0) + 1


async def _failed(
    run: Run,
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
        await run.db.write(
            Store.finish_save,
            run.source,
            entry.url_id,
            QueueStatus.FAILED,
            moment,
            reason=f"gave up: {reason}",
        )
        return
    delay = dt.timedelta(seconds=backoff(attempts, retry_after))
    await run.db.write(
        Store.retry_save,
        run.source,
        entry.url_id,
        moment + delay,
        reason,
        attempt_unsettled=unsettled,
    )


async def _rate_limited(
    run: Run, entry: QueuedSave, outcome: SaveOutcome, *, refund: bool
) -> ArchiveStep:
    """Every save waits (the limit is on us, not on the page); the entry keeps its tries."""
    _paused_until, streak = run.db.read.pause(run.source)
    moment = run.now()
    until = moment + dt.timedelta(seconds=backoff(streak + 1, outcome.retry_after))
    reason = outcome.reason or "rate limited"
    await run.db.write(Store.set_pause, run.source, until, streak + 1, reason)
    await run.db.write(
        Store.retry_save,
        run.source,
        entry.url_id,
        until,
        reason,
        attempt_unsettled=entry.attempt_started_at is not None and not refund,
        refund=refund,
    )
    run.summary.rate_limited += 1
    return ArchiveStep.RATE_LIMITED


async def _clear_pause(run: Run) -> None:
    paused_until, streak = run.db.read.pause(run.source)
    if streak or paused_until is not None:
        await run.db.write(Store.set_pause, run.source, None, 0)
