"""A check run: many URLs checked concurrently, judged, and stored as they finish.

One function serves the CLI's `check` and the daemon's check job. Results are
judged and written in small batches (one transaction each), so an interrupted
run keeps every result it received, and the single writer is this coroutine:
checks run concurrently, but SQLite is written from one place.

The verdict of a batch knows whether the batch looks like a network outage
(most hosts failing the same way): then none of its failures count toward dead.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver

from linkwatch.check.checker import check_url
from linkwatch.check.soft404 import SoftNotFoundProbe
from linkwatch.check.verdict import CheckPolicy, decide, is_outage, next_check_at
from linkwatch.clock import Clock, system_clock
from linkwatch.config.settings import Settings
from linkwatch.drift.compare import DriftStep
from linkwatch.model import CheckResult
from linkwatch.net.polite import Net, NetOptions
from linkwatch.rules import RuleSet
from linkwatch.store import CheckRecord, Store, UrlToCheck
from linkwatch.store.writer import AsyncStore
from linkwatch.tasks import run_together

FLUSH_EVERY = 50  # results per write batch
FLUSH_SECONDS = 2.0  # or this long since the last write, whichever first


@dataclass(slots=True)
class CheckRunSummary:
    """What one check run did, for the CLI to print and the daemon to log."""

    checked: int = 0
    states: Counter[str] = field(default_factory=Counter)
    outage: list[str] = field(default_factory=list)  # one line per batch judged an outage
    interrupted: bool = False
    drifted: int = 0  # citations whose page no longer is the document of their snapshot
    excluded: int = 0  # URLs a rule excludes: not asked anything


def net_options(settings: Settings) -> NetOptions:
    check = settings.check
    return NetOptions(
        user_agent=check.user_agent,
        timeout=check.timeout.total_seconds(),
        read_timeout=min(10.0, check.timeout.total_seconds()),
        concurrency=check.concurrency,
        # the connector's own cap per host: as high as any rule's, the gate keeps each host's
        per_host=max([check.per_host, *(r.per_host or 0 for r in settings.rules.rules)]),
        host_delay=check.host_delay.total_seconds(),
        allow_private=check.allow_private,
        max_body=check.max_body,
    )


def policy(settings: Settings) -> CheckPolicy:
    return CheckPolicy(
        dead_after_failures=settings.policy.dead_after_failures,
        dead_after_days=float(settings.policy.dead_after_days),
        check_every=settings.check.every,
    )


def by_host(targets: Sequence[UrlToCheck]) -> dict[str, list[UrlToCheck]]:
    groups: dict[str, list[UrlToCheck]] = {}
    for target in targets:
        groups.setdefault(urlsplit(target.key).netloc, []).append(target)
    return groups


def interleave(groups: dict[str, list[UrlToCheck]]) -> list[UrlToCheck]:
    """Round-robin over hosts, so that workers are not all queued behind one slow site."""
    return [t for group in zip_longest(*groups.values()) for t in group if t is not None]


class _Judge:
    """Turns finished checks into stored records, batch by batch.

    A batch is judged at once, but written by the store's writer thread: the
    checks go on meanwhile, and the next batch waits for the last write only
    when it is itself due (`flush`).
    """

    def __init__(
        self,
        db: AsyncStore,
        policy: CheckPolicy,
        summary: CheckRunSummary,
        drift: DriftStep,
        rules: RuleSet,
    ) -> None:
        self.db = db
        self.rules = rules
        self.drift = drift
        self.policy = policy
        self.summary = summary
        self.pending: list[tuple[UrlToCheck, CheckResult]] = []
        self.last_flush = time.monotonic()

    async def add(self, target: UrlToCheck, result: CheckResult) -> None:
        self.pending.append((target, result))
        if len(self.pending) >= FLUSH_EVERY or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        batch, self.pending = self.pending, []
        self.last_flush = time.monotonic()
        drifts = self.drift.take()
        if drifts:
            await self.db.write(Store.record_drift, drifts)
        if not batch:
            return
        outage, why = is_outage([result for _, result in batch])
        if outage:
            self.summary.outage.append(why)
        records = []
        for target, result in batch:
            applied = self.rules.for_url(target.key)
            verdict = decide(
                target.state,
                target.streak,
                result,
                self.policy,
                result.checked_at,
                outage=outage,
                accept=applied.accept,
            )
            due = next_check_at(verdict.state, result.checked_at, self.policy, rand=random.random())
            records.append(CheckRecord(target.id, result, verdict, due))
            self.summary.checked += 1
            self.summary.states[applied.shown_state(verdict.state, target.pinned).value] += 1
        await self.db.write(Store.record_checks, records)


async def check_urls(
    settings: Settings,
    db: AsyncStore,
    targets: Sequence[UrlToCheck],
    *,
    on_result: Callable[[UrlToCheck, CheckResult], None] | None = None,
    resolver: AbstractResolver | None = None,
    now: Clock = system_clock,
    should_stop: Callable[[], bool] | None = None,
) -> CheckRunSummary:
    """Check `targets`, judge each result and store it; survives cancellation.

    When cancelled (Ctrl-C, SIGTERM) the checks in flight are abandoned and
    every result already received is judged and stored before returning.
    `should_stop` lets a graceful shutdown stop taking new URLs while the
    checks in flight finish.
    """
    summary = CheckRunSummary()
    rules = settings.rules
    if rules:
        kept = [target for target in targets if not rules.for_url(target.key).exclude]
        summary.excluded = len(targets) - len(kept)
        targets = kept
    drift = DriftStep(db.read.drift_targets())
    judge = _Judge(db, policy(settings), summary, drift, rules)
    probe = SoftNotFoundProbe(
        db.read.probe_answers(since=now() - settings.check.probe_every), now=now, shaped=True
    )
    queue: asyncio.Queue[UrlToCheck] = asyncio.Queue()
    groups = by_host(targets)
    for target in interleave(groups):
        queue.put_nowait(target)

    async def worker(net: Net) -> None:
        while not queue.empty() and not (should_stop is not None and should_stop()):
            target = queue.get_nowait()
            wants_content = drift.wants(target.id)
            result = await check_url(
                net, target.key, now=now, probe_cache=probe, content=wants_content
            )
            if wants_content:
                result = drift.judge(target.id, result, result.checked_at)
            await judge.add(target, result)
            if on_result is not None:
                on_result(target, result)

    # Every check holds its worker through the host delay between its requests, so
    # workers wait on per-host gates far more than on the network: enough of them for
    # every host's slots keeps the global limit (enforced in Net) busy.
    slots = max(settings.check.concurrency * 2, len(groups) * settings.check.per_host)
    workers = max(1, min(len(targets), slots))
    try:
        async with Net(net_options(settings), resolver=resolver, rules=rules) as net:
            try:
                await run_together(worker(net) for _ in range(workers))
            finally:
                await probe.close()  # before the session closes under it
    except asyncio.CancelledError:
        summary.interrupted = True
    finally:
        await judge.flush()
        summary.drifted = drift.drifted
        await db.write(Store.save_probe_answers, probe.new_answers())
    return summary
