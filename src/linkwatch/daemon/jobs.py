"""The daemon's jobs: each calls the same library function as its CLI command.

- scan (`run.scan_every`): `scan.scan`, in a worker process with its own
  database connection (`workers`), because reading and parsing files is CPU
  work the loop must not wait behind; a scan that finds new URLs starts a
  check at once.
- check (`run.check_every`): `check.run.check_urls` on the URLs due, in the
  loop (it is async; its writes go to the store's writer thread). A check
  that changes a state starts a rewrite.
- archive (`run.archive_every`): `archive.run.archive_run`, in the loop; its
  save phase ends before the next run is due. New snapshots start a rewrite.
- rewrite (only when `rewrite.mode` is not off): `rewrite.run.rewrite_releases`,
  in a worker process like the scan. It has no schedule of its own: scan, check and
  archive start it when they changed something it depends on.
- digest (`digest.schedule`, cron, in `digest.timezone`): `send_due_digest`,
  which itself knows whether this week's digest is due or done.

Check, archive and rewrite end with `notify_after`, the notify pass the CLI's
commands end with too (`notify.run.notify_pass`): what they found new is told,
and deliveries that failed before are retried once their backoff is over.

A job returns a `JobReport`: one summary line, and the fields of the run's
summary for the log, read from the summary in one place (`summary_fields`),
never picked field by field.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from linkwatch.archive.run import archive_run
from linkwatch.archive.run_state import ArchiveRunSummary
from linkwatch.check.run import check_urls
from linkwatch.check.verdict import describe
from linkwatch.clock import Clock
from linkwatch.config.settings import OnRecovery, RewriteMode, Settings
from linkwatch.daemon.logs import event
from linkwatch.daemon.server import Metrics
from linkwatch.daemon.workers import Stop, in_process
from linkwatch.digest.send import DigestStatus, send_due_digest
from linkwatch.model import CheckResult
from linkwatch.notify.run import notify_pass
from linkwatch.rewrite.run import RewriteSummary, rewrite_releases
from linkwatch.scan import ScanSummary, scan
from linkwatch.store import Store, Totals, UrlToCheck
from linkwatch.store.writer import AsyncStore

log = logging.getLogger("linkwatch.daemon")

SCAN, CHECK, ARCHIVE, REWRITE, DIGEST = "scan", "check", "archive", "rewrite", "digest"
YIELD_EVERY = 500  # database look-ups between two yields to the loop


@dataclass(frozen=True, slots=True)
class JobReport:
    """What one run did: a summary line, its fields, and problems `--once` fails for."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


WARNINGS_PER_RUN = 20  # lines a job logs of one kind; the rest are counted in one line


def warn_each(job: str, lines: Iterable[str], count: int) -> None:
    """One warning per line, up to WARNINGS_PER_RUN, then one line counting the rest: a
    run that skips thousands of releases must not hold the loop writing thousands of
    lines, nor bury the log."""
    for line in itertools.islice(lines, WARNINGS_PER_RUN):
        event(log, logging.WARNING, f"{job}: {line}", job=job)
    if count > WARNINGS_PER_RUN:
        left = count - WARNINGS_PER_RUN
        event(log, logging.WARNING, f"{job}: and {left} more like these", job=job, more=left)


def summary_fields(summary: object) -> dict[str, Any]:
    """A run's summary as log fields: numbers, flags and words as they are, lists by their
    length, counts by name (`states_alive`). One reading for every job."""
    fields: dict[str, Any] = {}
    assert dataclasses.is_dataclass(summary)
    for spec in dataclasses.fields(summary):
        value = getattr(summary, spec.name)
        if value is None or isinstance(value, bool | int | float | str):
            fields[spec.name] = value
        elif isinstance(value, Counter):
            fields.update({f"{spec.name}_{key}": count for key, count in sorted(value.items())})
        elif isinstance(value, Mapping | Sequence | set):
            fields[spec.name] = len(value)
    return fields


class JobHost(Protocol):
    """What a job needs from the daemon that runs it."""

    settings: Settings
    clock: Clock
    metrics: Metrics

    @property
    def db(self) -> AsyncStore: ...

    def counted(self, states: Counter[str], totals: Totals) -> None: ...

    @property
    def stopping(self) -> bool: ...

    def kick(self, job_id: str) -> None: ...

    def stopper(self, job_id: str) -> Stop: ...

    def retry_digest_later(self) -> None: ...

    def refresh_gauges_soon(self) -> None: ...


def count_citations(store: Store) -> tuple[Counter[str], Totals]:
    """Citations of present releases by effective state, and the store's totals: counted
    in a thread, so that neither the gauges nor `/healthz` make the loop count rows."""
    return store.citation_state_counts(), store.totals()


def scan_in_worker(
    settings: Settings, moment: dt.datetime, stop: Stop
) -> tuple[ScanSummary, tuple[Counter[str], Totals]]:
    """The scan and a fresh count of citations, in the worker, on its own connection."""
    with Store.open(settings.state.dir) as store:
        summary = scan(settings, store, now=moment, progress=stop.progress)
        return summary, count_citations(store)


def rewrite_in_worker(settings: Settings, moment: dt.datetime, stop: Stop) -> RewriteSummary:
    """The rewrite, in the worker; what each citation came to stays there (the CLI's `-v`
    shows it, the daemon logs counts): unpickled on the loop, it would hold it up."""
    with Store.open(settings.state.dir) as store:
        summary = rewrite_releases(settings, store, now=moment, progress=stop.progress)
    return dataclasses.replace(summary, outcomes={}, diffs=[], written=[])


NOTIFY = "notify"


async def notify_after(host: JobHost, job: str) -> None:
    """The notify pass after a job that may have found something new. Its trouble is
    logged, never the job's: a Slack that is down must not make a check fail."""
    if not host.settings.notify.urls or host.stopping:
        return
    try:
        summary = await notify_pass(host.settings, host.db, host.clock)
    except Exception as err:  # the store or Apprise failing here is logged, not raised
        event(log, logging.WARNING, f"notify after {job}: failed: {err}", job=NOTIFY)
        return
    for line in summary.errors:
        event(log, logging.WARNING, f"notify: {line}", job=NOTIFY)
    if summary.message_id is not None or summary.sent or summary.failed or summary.unconfirmed:
        event(log, logging.INFO, summary.line, job=NOTIFY, after=job, **summary_fields(summary))


def unmatched_rules(settings: Settings) -> tuple[str, ...]:
    """The `[[rules]]` matching no cited URL (in a thread: it reads every URL's key)."""
    with Store.open(settings.state.dir, writing=False) as store:
        keys = [url.key for url in store.report_urls().values()]
    return settings.rules.unmatched_warnings(keys) if keys else ()


async def scan_job(host: JobHost, *, first: bool) -> JobReport:
    summary, counts = await in_process(
        scan_in_worker, host.settings, host.clock(), host.stopper(SCAN), name=SCAN
    )
    host.counted(*counts)
    warn_each(SCAN, (f"cannot read {line}" for line in summary.errors), len(summary.errors))
    missing = (f"{path} is missing (kept in the store)" for path in summary.missing)
    warn_each(SCAN, missing, len(summary.missing))
    if host.settings.rules and (first or summary.new_urls):
        unmatched = await asyncio.to_thread(unmatched_rules, host.settings)
        warn_each(SCAN, unmatched, len(unmatched))
    if summary.new_urls:
        host.kick(CHECK)
    if summary.parsed or first:  # changed releases, or a rewrite cut short by a crash
        host.kick(REWRITE)
    return JobReport(
        f"{summary.releases} releases, {summary.parsed} parsed, {summary.new_urls} new URLs",
        summary_fields(summary),
        problems=tuple(f"scan: {line}" for line in summary.errors),
    )


async def rewrite_job(host: JobHost) -> JobReport:
    summary = await in_process(
        rewrite_in_worker, host.settings, host.clock(), host.stopper(REWRITE), name=REWRITE
    )
    warn_each(REWRITE, (f"skipped {line}" for line in summary.skipped), len(summary.skipped))
    if summary.needs_scan:
        host.kick(SCAN)  # the scan kicks the rewrite again once it has the new offsets
    by_hand = (
        f", {len(summary.by_hand)} web pages wait for a person (rewrite --output DIR)"
        if summary.by_hand
        else ""
    )
    await notify_after(host, REWRITE)
    return JobReport(
        f"{len(summary.changed)} files changed, {summary.rewritten} citations now point "
        f"at their archived copy{by_hand}",
        summary_fields(summary),
        problems=tuple(f"rewrite: {line}" for line in summary.skipped),
    )


async def check_job(host: JobHost) -> JobReport:
    db = host.db
    targets = db.read.urls_to_check(host.clock())
    if not targets:
        await notify_after(host, CHECK)  # failed deliveries are retried on this beat too
        return JobReport("nothing due", {"checked": 0})

    def observe(target: UrlToCheck, result: CheckResult) -> None:
        host.metrics.observe_check(result)
        if log.isEnabledFor(logging.DEBUG):
            event(log, logging.DEBUG, f"checked {target.url}: {describe(result)}", job=CHECK)

    summary = await check_urls(
        host.settings,
        db,
        targets,
        on_result=observe,
        now=host.clock,
        should_stop=lambda: host.stopping,
    )
    if summary.interrupted:
        raise asyncio.CancelledError  # results received are saved; the stop goes on
    for line in summary.outage:
        event(log, logging.WARNING, f"check: {line}", job=CHECK)
    changed = await _count_changed(db.read, targets)
    if changed or (summary.drifted and host.settings.rewrite.mode is RewriteMode.DRIFTED):
        host.kick(REWRITE)
    elif host.settings.rewrite.on_recovery is OnRecovery.REVERT and summary.checked:
        # A recovery is complete days after the state changed (policy.recovered_after):
        # no state change marks the moment, so each check run lets the rewrite look.
        host.kick(REWRITE)
    host.refresh_gauges_soon()  # after every run that checked something: counts never lag
    await notify_after(host, CHECK)
    return JobReport(
        f"checked {summary.checked} URLs, {changed} changed state",
        summary_fields(summary) | {"changed": changed},
    )


async def _count_changed(store: Store, targets: Sequence[UrlToCheck]) -> int:
    """How many of `targets` now have another state than before the run."""
    changed = 0
    for index, target in enumerate(targets, start=1):
        now = store.url_to_check(target.key)
        if now is not None and now.state != target.state:
            changed += 1
        if index % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # a large run must not hold the loop
    return changed


async def archive_job(host: JobHost) -> JobReport:
    now = host.clock()
    summary = await archive_run(
        host.settings, host.db, now=host.clock, until=now + host.settings.run.archive_every
    )
    if summary.interrupted:
        raise asyncio.CancelledError  # what finished is stored; the stop goes on
    fields = summary_fields(summary) | {"unreachable": summary.unreachable}  # derived
    if summary.disabled:
        return JobReport("skipped: archive.enabled is false", fields)
    for name, reason in summary.down.items():  # its queue waits; the others went on
        if not summary.all_down or name != summary.source:  # the backend's is said below
            event(log, logging.WARNING, f"archive {name}: skipped this run: {reason}", job=ARCHIVE)
    if summary.all_down:
        # Not a failure of linkwatch: the queue waits in the store for the next run.
        event(
            log,
            logging.WARNING,
            f"archive: skipped, the archive cannot be reached: {summary.unreachable}",
            job=ARCHIVE,
            source=summary.source,
        )
        if not summary.chosen:
            return JobReport("skipped (archive unreachable)", fields)
    for name, why in summary.rested.items():
        event(log, logging.WARNING, f"archive: {name} not asked: {why}", job=ARCHIVE)
    _count_saves(host.metrics, summary)
    for name, reason in summary.held.items():
        event(log, logging.INFO, f"archive {name}: {reason}", job=ARCHIVE)
    for line in summary.errors:
        event(log, logging.WARNING, f"archive: {line}", job=ARCHIVE)
    if summary.chosen:
        host.kick(REWRITE)  # new snapshots: rotten citations may now be rewritten
    await notify_after(host, ARCHIVE)
    return JobReport(
        f"{summary.looked_up} looked up, {summary.saved} saved, "
        f"{summary.chosen} snapshots chosen, {summary.queue_left} queued",
        fields,
    )


# Save outcomes as the metrics count them, each a field of ArchiveRunSummary.
SAVE_OUTCOMES = ("saved", "fresh", "refused", "rate_limited", "failed")


def _count_saves(metrics: Metrics, summary: ArchiveRunSummary) -> None:
    for outcome in SAVE_OUTCOMES:
        count = getattr(summary, outcome)
        if count:
            metrics.saves.labels(outcome).inc(count)
    metrics.archive_queue.set(summary.queue_left)


async def digest_job(host: JobHost) -> JobReport:
    outcome = await send_due_digest(host.settings, host.db, host.clock())
    fields = summary_fields(outcome)
    if outcome.status is DigestStatus.UNCONFIGURED and not host.settings.digest.to:
        return JobReport("not configured (digest.to is empty)", fields)
    if outcome.status is DigestStatus.FAILED:
        host.retry_digest_later()
    if not outcome.ok:
        problem = f"digest: {outcome.status.value}: {outcome.error}"
        event(log, logging.WARNING, problem, job=DIGEST, **fields)
        return JobReport(outcome.status.value, fields, problems=(problem,))
    if outcome.status is DigestStatus.SENT:
        return JobReport(f"sent: {outcome.subject}", fields)
    return JobReport(outcome.status.value.replace("_", " "), fields)
