"""The daemon: the scheduler, its jobs and the HTTP endpoint, in one asyncio loop.

The jobs (`jobs`) call the same library functions as the CLI; each runs once
at start-up and then on its schedule (`schedule`). Database writes made on the
loop go to the store's writer thread (`store.writer.AsyncStore`), so that the
loop, and `/healthz`, never wait for a lock a scan or rewrite thread holds.

Shutdown (SIGTERM, SIGINT): the scheduler stops starting jobs, running jobs
get until `run.grace` to finish, then they are cancelled: a check keeps every
result it received (it writes as it goes), a scan or a rewrite stops before
its next file. Then the endpoint and the database close. A second signal skips
the wait. After `kill -9` nothing needs repair: the store is in WAL mode with
short transactions, and everything queued lives in the store.

Job state that matters across restarts (which URLs are due, the archive
queue, which digest week is done) lives in the database, never in the
scheduler: its job store is in memory, rebuilt at every start, and each job
runs once at start-up to pick up where the last process stopped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING  # type: ignore[import-untyped]
from apscheduler.triggers.date import DateTrigger  # type: ignore[import-untyped]

from linkwatch import __version__
from linkwatch.clock import Clock, system_clock
from linkwatch.config.settings import RewriteMode, Settings
from linkwatch.daemon.api import JSON, ApiQuery
from linkwatch.daemon.api import render as render_api
from linkwatch.daemon.jobs import (
    ARCHIVE,
    CHECK,
    DIGEST,
    REWRITE,
    SCAN,
    JobReport,
    archive_job,
    check_job,
    count_citations,
    digest_job,
    rewrite_job,
    scan_job,
)
from linkwatch.daemon.logs import event
from linkwatch.daemon.report_page import Page, Pages, ReportPage
from linkwatch.daemon.schedule import JOB_DEFAULTS, add_cron_job, add_interval_job
from linkwatch.daemon.server import Endpoints, Health, Metrics, start_server
from linkwatch.daemon.workers import Stop, in_thread, start_fork_server
from linkwatch.digest.schedule import cron_trigger
from linkwatch.errors import DaemonError, StoreError
from linkwatch.report.build import build_report
from linkwatch.report.charts import load_html_extras
from linkwatch.report.rows import NO_FILTERS, Filters
from linkwatch.report.to_html import render_html
from linkwatch.rewrite.folders import release_folders, unwritable, unwritable_warning
from linkwatch.store import Store, Totals
from linkwatch.store.writer import AsyncStore
from linkwatch.text import iso_or_none

log = logging.getLogger("linkwatch.daemon")

DIGEST_RETRY = dt.timedelta(minutes=15)  # after a failed send; the next cron run is a week off


@dataclass(slots=True)
class JobState:
    running: bool = False
    rerun: bool = False  # asked to run again while running: runs once more right after
    runs: int = 0
    last_started: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class CycleOutcome:
    """What `run --once` did."""

    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems and not self.interrupted


class Daemon:
    """The scheduler, its jobs and the endpoint, over one state directory.

    `serve()` runs until `request_stop()` (wired to SIGTERM and SIGINT);
    `run_cycle()` runs every job once, in order, and returns.
    The caller holds the state lock.
    """

    def __init__(self, settings: Settings, *, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = Metrics()
        self.scheduler: AsyncIOScheduler | None = None
        self._db: AsyncStore | None = None  # the loop's store; threads open their own
        self.url: str | None = None  # where the endpoint listens, once it does
        self.started_at = clock()
        self.jobs: dict[str, JobState] = {}
        self._bodies: dict[str, Callable[[], Awaitable[JobReport]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()  # job runs in progress
        self._background: set[asyncio.Task[Any]] = set()  # the loop holds tasks weakly
        self._stop: asyncio.Event | None = None
        self._stopping = False
        self._stops: dict[str, Stop] = {}  # per job run in a worker
        self._totals: Totals | None = None
        self.report_page = ReportPage(
            lambda: self._render_report(NO_FILTERS),
            lambda: self.db.read.data_version(),
            lambda render: in_thread(render, "report"),
        )
        self.pages = Pages(  # the filtered report and the API, one rendering per query
            lambda: self.db.read.data_version(), lambda render: in_thread(render, "report")
        )
        self._register_jobs()

    # -- job table -----------------------------------------------------------

    def _register_jobs(self) -> None:
        """The jobs of one cycle, in the order `run_cycle` runs them."""
        self._bodies[SCAN] = lambda: scan_job(self, first=self.jobs[SCAN].last_success is None)
        self._bodies[CHECK] = lambda: check_job(self)
        self._bodies[ARCHIVE] = lambda: archive_job(self)
        if self.settings.rewrite.mode is not RewriteMode.OFF:
            self._bodies[REWRITE] = lambda: rewrite_job(self)
        self._bodies[DIGEST] = lambda: digest_job(self)
        for job_id in self._bodies:
            self.jobs[job_id] = JobState()

    @property
    def db(self) -> AsyncStore:
        if self._db is None:
            raise RuntimeError("the daemon's store is not open")
        return self._db

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- lifecycle -----------------------------------------------------------

    async def serve(self, *, ready: Callable[[str], None] | None = None) -> None:
        """Run until a stop is requested; then stop gracefully (see the module doc)."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        signals = self._install_signal_handlers(loop)
        try:
            self._db = self._open_store()
            self._warn_if_releases_unwritable()
            start_fork_server()
            runner = await self._start_endpoint()
            try:
                if ready is not None and self.url is not None:
                    ready(self.url)
                self.scheduler = self._start_scheduler()
                await self._stop.wait()
                await self._shut_down()
            finally:
                await runner.cleanup()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            self._close_store()
        event(log, logging.INFO, "stopped", pid=os.getpid())

    async def run_cycle(self) -> CycleOutcome:
        """Every job once, in order: scan, check, and the others configured."""
        outcome = CycleOutcome()
        self._db = self._open_store()
        self._warn_if_releases_unwritable()
        try:
            for job_id, body in self._bodies.items():
                try:
                    report = await self._run(job_id, body)
                except asyncio.CancelledError:
                    outcome.interrupted = True
                    break
                if report is not None:
                    outcome.problems.extend(report.problems)
        finally:
            self._close_store()
        return outcome

    def request_stop(self) -> None:
        """Stop gracefully; a second request stops the running jobs without waiting."""
        if self._stop is None:
            return
        if self._stopping:
            event(log, logging.WARNING, "second stop signal: cancelling running jobs now")
            for task in list(self._tasks):
                task.cancel()
            self._stop_workers()
            return
        self._stopping = True
        self._stop.set()

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> list[int]:
        installed: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self.request_stop)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread (tests): the caller stops us instead
            installed.append(sig)
        return installed

    def _open_store(self) -> AsyncStore:
        try:
            return AsyncStore.open(self.settings.state.dir)
        except StoreError as err:
            raise DaemonError(str(err)) from err

    def _warn_if_releases_unwritable(self) -> None:
        """One warning, at start, when rewrites could not replace the releases (a root-owned
        or read-only mount): better now than file by file at the first rotten link."""
        mode = self.settings.rewrite.mode
        if mode is RewriteMode.OFF:
            return
        folders = unwritable(release_folders(self.settings.sources.paths, self.settings.base_dir))
        if folders:
            event(
                log,
                logging.WARNING,
                unwritable_warning(folders, mode.value),
                folders=[str(folder) for folder in folders],
                uid=os.geteuid(),
            )

    def _close_store(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def endpoints(self) -> Endpoints:
        """What the HTTP routes read (the store must be open: `serve`, or `store_open`)."""
        return Endpoints(
            health=self.health,
            metrics=self.metrics,
            report=self._report_page,
            api=self._api_page,
            allowed_hosts=self.settings.run.report_hosts,
            now=self.clock,
        )

    @contextmanager
    def store_open(self) -> Iterator[None]:
        """The loop's store open without the scheduler: the endpoint alone (tests, bench)."""
        self._db = self._open_store()
        try:
            yield
        finally:
            self._close_store()

    async def _start_endpoint(self) -> Any:
        run = self.settings.run
        endpoints = self.endpoints()
        try:
            runner, self.url = await start_server(endpoints, run.listen_host, run.listen_port)
        except OSError as err:
            raise DaemonError(f"run.listen = {run.listen!r}: cannot listen: {err}") from err
        event(log, logging.INFO, f"listening on {self.url}", url=self.url, pid=os.getpid())
        return runner

    def _start_scheduler(self) -> AsyncIOScheduler:
        """Every job runs once at start (picking up what the last process left), then on
        its schedule; the rewrite runs when scan, check or archive ask for it."""
        digest = self.settings.digest
        try:
            digest_trigger = cron_trigger(digest.schedule, digest.timezone)
        except ValueError as err:
            raise DaemonError(f"digest.schedule = {digest.schedule!r}: {err}") from err
        scheduler = AsyncIOScheduler(timezone=dt.UTC)
        run, now = self.settings.run, self.clock()
        add_interval_job(scheduler, SCAN, self._job(SCAN), run.scan_every, first_run=now)
        add_interval_job(scheduler, CHECK, self._job(CHECK), run.check_every, first_run=now)
        add_interval_job(scheduler, ARCHIVE, self._job(ARCHIVE), run.archive_every, first_run=now)
        job = add_cron_job(scheduler, DIGEST, self._job(DIGEST), digest_trigger)
        job.modify(next_run_time=now)  # a digest missed while down goes out now, if still due
        scheduler.start()
        return scheduler

    def _job(self, job_id: str) -> Callable[[], Awaitable[None]]:
        """The coroutine function the scheduler calls for `job_id`."""
        body = self._bodies[job_id]

        async def job() -> None:
            await self._run(job_id, body)

        job.__name__ = job.__qualname__ = f"linkwatch_{job_id}"
        return job

    async def _shut_down(self) -> None:
        grace = self.settings.run.grace.total_seconds()
        if self.scheduler is not None:
            self.scheduler.pause()
        running = sorted(name for name, state in self.jobs.items() if state.running)
        event(
            log,
            logging.INFO,
            "stopping: no new jobs; "
            + (f"waiting up to {grace:g} s for " if running else "")
            + (", ".join(running) if running else "nothing running"),
            grace=grace,
        )
        # Leave a little of the grace period for the cancelled jobs to save their
        # results, so that the whole exit fits in run.grace (an orchestrator's kill
        # timeout is usually set to the same value).
        reserve = min(1.0, grace / 5)
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=max(0.0, grace - reserve))
            if pending:
                event(log, logging.WARNING, "grace period over: cancelling unfinished jobs")
                self._stop_workers()
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=max(reserve, 0.5))
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)

    # -- running one job -------------------------------------------------------

    async def _run(self, job_id: str, body: Callable[[], Awaitable[JobReport]]) -> JobReport | None:
        """One run of a job: bookkeeping, metrics and its one summary line."""
        state = self.jobs[job_id]
        task = asyncio.current_task()
        if self._stopping or task is None:
            return None
        state.running, state.last_started = True, self.clock()
        state.runs += 1
        self._tasks.add(task)
        self.metrics.job_running.labels(job_id).set(1)
        started = time.monotonic()
        try:
            report = await body()
        except asyncio.CancelledError:
            self.metrics.job_runs.labels(job_id, "interrupted").inc()
            event(log, logging.WARNING, f"{job_id}: interrupted", job=job_id)
            raise
        except Exception as err:
            state.last_error = f"{type(err).__name__}: {err}"
            self.metrics.job_runs.labels(job_id, "error").inc()
            log.error("%s: failed", job_id, exc_info=True, extra={"fields": {"job": job_id}})
            return JobReport("failed", problems=(f"{job_id}: {state.last_error}",))
        else:
            state.last_success, state.last_error = self.clock(), None
            self.metrics.last_success.labels(job_id).set(time.time())
            self.metrics.job_runs.labels(job_id, "ok").inc()
            seconds = round(time.monotonic() - started, 3)
            event(
                log,
                logging.INFO,
                f"{job_id}: {report.message}",
                job=job_id,
                seconds=seconds,
                **report.fields,
            )
            return report
        finally:
            state.running = False
            self._tasks.discard(task)
            self.metrics.job_running.labels(job_id).set(0)
            if state.rerun:
                state.rerun = False
                # After the executor's own completion callback, which frees the
                # max_instances slot: a kick before that would be refused.
                task.add_done_callback(lambda _: self.kick(job_id))

    def kick(self, job_id: str) -> None:
        """Run `job_id` now (or right after its current run); nothing in `run --once`."""
        state = self.jobs.get(job_id)
        if self.scheduler is None or self._stopping or state is None:
            return
        if state.running:
            state.rerun = True
            return
        job = self.scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=self.clock())
        else:  # a one-off job (rewrite) that already ran: schedule it afresh
            self.scheduler.add_job(
                self._job(job_id),
                DateTrigger(run_date=self.clock(), timezone=dt.UTC),
                id=job_id,
                name=job_id,
                misfire_grace_time=None,
                **JOB_DEFAULTS,
            )

    def _stop_workers(self) -> None:
        for stop in self._stops.values():
            stop.set()

    def stopper(self, job_id: str) -> Stop:
        """A stop request for a job run in a worker: it ends the job between two files."""
        stop = self._stops[job_id] = Stop()
        return stop

    def retry_digest_later(self) -> None:
        """Move the digest's next run close: the store keeps the failed week claimed, and the
        next call retries it as the same message."""
        job = self.scheduler.get_job(DIGEST) if self.scheduler is not None else None
        if job is not None and not self._stopping:
            job.modify(next_run_time=self.clock() + DIGEST_RETRY)

    # -- gauges, health, report ------------------------------------------------

    def refresh_gauges_soon(self) -> None:
        """Recount citation states in a thread (a large store takes a moment)."""
        if self.scheduler is None:
            return  # run --once: nobody reads the gauges
        task = asyncio.get_running_loop().create_task(self._refresh_gauges())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _refresh_gauges(self) -> None:
        def count() -> tuple[Counter[str], Totals]:
            with Store.open(self.settings.state.dir, writing=False) as store:
                return count_citations(store)

        try:
            self.counted(*await in_thread(count, "gauges"))
        except (StoreError, OSError) as err:
            event(log, logging.WARNING, f"metrics: cannot count citations: {err}")

    def counted(self, states: Counter[str], totals: Totals) -> None:
        """Fresh counts from a thread: the gauges, and what `/healthz` shows."""
        self.metrics.set_citation_states(states)
        self._totals = totals

    def health(self) -> Health:
        scheduler = self.scheduler
        if scheduler is None or self._stopping:
            scheduler_state = "stopping" if self._stopping else "starting"
        else:
            scheduler_state = {STATE_RUNNING: "running", STATE_PAUSED: "paused"}.get(
                scheduler.state, "stopped"
            )
        detail: dict[str, Any] = {
            "scheduler": scheduler_state,
            "version": __version__,
            "pid": os.getpid(),
            "started_at": iso_or_none(self.started_at),
        }
        database_ok = False
        try:
            self.db.read.schema_version  # noqa: B018 - reads the database header: does it answer?
        except Exception as err:  # any failure to answer is what this endpoint reports
            detail["database"] = f"error: {type(err).__name__}: {err}"
        else:
            database_ok = True
            detail["database"] = "ok"
        totals = self._totals  # counted by the last scan, in its thread: never on the loop
        if totals is not None:
            detail.update(releases=totals.releases, citations=totals.citations, urls=totals.urls)
        detail["jobs"] = {job_id: self._job_detail(job_id) for job_id in self.jobs}
        return Health(ok=database_ok and scheduler_state == "running", detail=detail)

    def _job_detail(self, job_id: str) -> dict[str, Any]:
        state = self.jobs[job_id]
        job = self.scheduler.get_job(job_id) if self.scheduler is not None else None
        return {
            "running": state.running,
            "runs": state.runs,
            "last_success": iso_or_none(state.last_success),
            "last_error": state.last_error,
            "next_run": iso_or_none(job.next_run_time) if job is not None else None,
        }

    async def _report_page(self, filters: Filters) -> Page:
        """`/`: the whole report shared by all; a filtered one per query (`self.pages`)."""
        if filters == NO_FILTERS:
            return await self.report_page.page()
        page = self.pages.get(filters, lambda: self._render_report(filters), "text/html")
        return await page.page()

    async def _api_page(self, query: ApiQuery) -> Page:
        def render() -> bytes:
            with Store.open(self.settings.state.dir, writing=False) as store:
                return render_api(query, store, self.clock(), self.settings.rules)

        return await self.pages.get(query, render, JSON).page()

    def _render_report(self, filters: Filters) -> str:
        """The HTML report, as `linkwatch report --format html` writes it (in a thread),
        with the filter form."""
        with Store.open(self.settings.state.dir, writing=False) as store:
            report = build_report(
                store, now=self.clock(), filters=filters, rules=self.settings.rules
            )
            return render_html(report, load_html_extras(store, report), form=True)
