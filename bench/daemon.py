"""Benchmark `linkwatch run`: idle cost with a large store, and how fast SIGTERM ends it.

What it measures:

* **idle**: a store of 100,000 cited URLs (1,000 releases of 100 footnotes),
  none of them due; the daemon runs with its default schedules (the archive
  switched off: there is no network here). Once its start-up jobs are done
  (a rescan of the unchanged releases, an empty check, the digest), its CPU
  time over 60 s is read from /proc (target <= 1% of one core), then its
  resident memory, now and at its peak (target <= 150 MB).
* **/healthz under load**: 10,000 generated releases (bench/scan.py's corpus)
  with a tenth of their citations dead and archived (bench/rewrite.py's
  setup), so that the daemon's start-up rewrite has about 5,500 releases to
  write, while the scan job runs every 2 s and a thread of this process keeps
  editing releases, so that scans parse and store changed files throughout.
  `/healthz` is asked every 20 ms from start-up until the rewrite has
  finished; the longest answer is the figure (target < 100 ms): the event
  loop never waits for the database while threads write to it.
* **the report under load**: about 39,500 citations (5,100 generated
  releases, a tenth of their URLs dead), 16 clients asking `/` at once,
  4 times each, as a browser does without a cached copy (no ETag, no gzip),
  then with gzip, then with the ETag they were given (304). The figures:
  the first answer (one rendering), the slowest later one, the page's size,
  and the daemon's resident memory before and at its peak (target: the peak
  under 16 clients stays within 150 MB of the memory before).
* **slowloris**: 1,100 connections from one address (127.0.0.2), each
  sending the start of a request and never its end; meanwhile `/healthz` is
  asked 12 times from 127.0.0.1 (target: 12 answers, each under a second),
  and the log lines written during the attack are counted (target: < 30).
* **the API's report**: bench/report.py's store of 100,000 URLs (149,631
  citations, five years of daily checks), `GET /api/v1/report` against the
  daemon's endpoint (its server, page cache and store, in this process; the
  requests from a thread), first without a rendering to share (best of three,
  a commit from another connection before each, as a job's would), then again
  (the store unchanged: the cached rendering), with gzip, and with its ETag
  (304); beside the real `linkwatch report --format json` on the same store
  (a process, best of three). Target: the first answer within the JSON
  report's time, and the same bytes.
* **stop**: 500 URLs due, on a loopback server that holds every request for
  `--hold` seconds (longer than the grace period) or answers after 2 s;
  `check.concurrency = 500`, so all 500 are in flight. Then SIGTERM, and the
  time until the process has exited (target: within `run.grace`, 10 s). A
  check is up to three requests (HEAD, GET, the soft-404 probe), so with 2 s
  answers the checks under way end after about three answers.

Every daemon is the real console script (`linkwatch run`) on a temporary
state directory, started exactly as a container would start it.

    .venv/bin/python bench/daemon.py              # everything, about two minutes
    .venv/bin/python bench/daemon.py --idle 20    # a shorter idle window
    .venv/bin/python bench/daemon.py --only-report  # the report and slowloris phases
    .venv/bin/python bench/daemon.py --only-api     # /api/v1/report on 100,000 URLs

It prints a Markdown table (ready for the README) and exits 0 when every
target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).parent))

from rewrite import kill_a_tenth
from scan import generate

EXE = Path(sys.executable).parent / "linkwatch"
IDLE_CPU_TARGET = 0.01  # share of one core
RSS_TARGET_MB = 150.0
IN_FLIGHT = 500
HEALTHZ_TARGET_S = 0.100
LOAD_RELEASES = 10_000
REPORT_RELEASES = 5_100  # about 39,500 citations
REPORT_CLIENTS = 16
REPORT_PEAK_TARGET_MB = 150.0
SLOWLORIS = 1_100
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- processes --------------------------------------------------------------------


class Daemon:
    """`linkwatch --config CONFIG run`, its stderr kept line by line."""

    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            [str(EXE), "--config", str(config), "run"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float) -> None:
        regex = re.compile(pattern)
        poll(lambda: any(regex.search(line) for line in list(self.lines)), timeout, pattern)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def memory_mb(self) -> tuple[float, float]:
        """Resident memory now and at its peak (VmRSS, VmHWM), in MB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
        return int(values["VmRSS"]) / 1024, int(values["VmHWM"]) / 1024

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def poll(condition: Callable[[], object], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def write_config(root: Path, *, archive: str = "", check: str = "", run: str = "") -> Path:
    config = root / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n[state]\ndir = "state"\n\n'
        f'[check]\nallow_private = true\nhost_delay = "0s"\n{check}\n'
        f"[archive]\nenabled = false\n{archive}\n"
        f'[run]\nlisten = "127.0.0.1:0"\n{run}',
        encoding="utf-8",
    )
    return config


def write_releases(root: Path, urls: list[str], per_release: int) -> None:
    releases = root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    for number, start in enumerate(range(0, len(urls), per_release)):
        chunk = urls[start : start + per_release]
        notes = "\n".join(f"[^{n}]: <{url}>" for n, url in enumerate(chunk, start=1))
        refs = " ".join(f"[^{n}]" for n in range(1, len(chunk) + 1))
        text = f"Warsaw, 7 April 2016\n\n# Release {number}\n\nText {refs}\n\n{notes}\n"
        (releases / f"r{number:05}.md").write_text(text, encoding="utf-8")


def scan(config: Path) -> None:
    subprocess.run(
        [str(EXE), "--config", str(config), "scan"], check=True, capture_output=True, timeout=600
    )


def mark_checked_and_not_due(database: Path) -> None:
    """As if every URL had been checked a moment ago: alive, next check in a day."""
    with sqlite3.connect(database) as conn:
        conn.execute(
            "UPDATE urls SET state = 'alive', http_status = 200, "
            "last_checked = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), "
            "next_check_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '+1 day')"
        )


# --- idle -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdleResult:
    urls: int
    seconds: float
    cpu_share: float
    rss_mb: float
    peak_mb: float


def bench_idle(root: Path, urls: int, window: float) -> IdleResult:
    addresses = [f"http://site{n % 2000}.example.org/news/{n}/report" for n in range(urls)]
    write_releases(root, addresses, per_release=100)
    config = write_config(root)
    scan(config)
    mark_checked_and_not_due(root / "state" / "linkwatch.db")
    daemon = Daemon(config)
    try:
        for job in ("scan", "check", "digest"):
            daemon.wait_for(rf"daemon: {job}: ", timeout=300)
        time.sleep(2.0)  # the citation gauges are counted in a thread after the scan
        before, started = daemon.cpu_seconds(), time.monotonic()
        time.sleep(window)
        used, elapsed = daemon.cpu_seconds() - before, time.monotonic() - started
        rss, peak = daemon.memory_mb()
    finally:
        daemon.stop()
    return IdleResult(urls, elapsed, used / elapsed, rss, peak)


# --- stop -------------------------------------------------------------------------


class HoldingServer:
    """Answers every request after `hold` seconds; counts those in flight."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.in_flight = 0
        self.base = ""
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        try:
            await asyncio.sleep(self.hold)
            return web.Response(text="<html><title>late</title></html>", content_type="text/html")
        finally:
            self.in_flight -= 1

    async def _start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        # handlers end with their connection, so that stopping leaves no task behind
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.1, handler_cancellation=True
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        self.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return runner

    def __enter__(self) -> HoldingServer:
        self.thread.start()
        self.runner = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _stop(self) -> None:
        await self.runner.cleanup()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass(frozen=True, slots=True)
class StopResult:
    hold: float
    grace: float
    in_flight: int
    seconds: float
    exit_code: int


def bench_stop(root: Path, hold: float, grace: float) -> StopResult:
    with HoldingServer(hold) as server:
        addresses = [f"{server.base}/page/{n}" for n in range(IN_FLIGHT)]
        write_releases(root, addresses, per_release=50)
        config = write_config(
            root,
            check=f'concurrency = {IN_FLIGHT}\nper_host = {IN_FLIGHT}\ntimeout = "120s"\n',
            run=f'grace = "{grace:g}s"\n',
        )
        scan(config)
        daemon = Daemon(config)
        try:
            poll(lambda: server.in_flight >= IN_FLIGHT, 120, f"{IN_FLIGHT} requests in flight")
            in_flight = server.in_flight
            signalled = time.monotonic()
            daemon.process.send_signal(signal.SIGTERM)
            code = daemon.process.wait(60)
            seconds = time.monotonic() - signalled
        finally:
            daemon.stop()
    return StopResult(hold, grace, in_flight, seconds, code)


# --- /healthz under load ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthzResult:
    releases: int
    asked: int
    longest: float
    p99: float
    failures: int
    rewrite_seconds: float
    edited: int


def bench_healthz(root: Path) -> HealthzResult:
    generate(root, LOAD_RELEASES, seed=7)
    config = root / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/**/*"]\n\n[state]\ndir = "state"\n\n'
        '[archive]\nenabled = false\n\n[rewrite]\nmode = "dead"\n\n'
        '[run]\nlisten = "127.0.0.1:0"\nscan_every = "2s"\n',
        encoding="utf-8",
    )
    scan(config)
    mark_checked_and_not_due(root / "state" / "linkwatch.db")
    kill_a_tenth(config, seed=7)
    releases = sorted((root / "releases").rglob("*.md"))
    daemon = Daemon(config)
    timings: list[float] = []
    failures = 0
    edited = 0
    stop = threading.Event()

    def edit() -> None:  # a release changed every few milliseconds: every scan has work
        nonlocal edited
        for path in releases:
            if stop.wait(0.005):
                return
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\nEdited.\n")
            edited += 1

    try:
        daemon.wait_for(r"listening on http://", timeout=120)
        url = re.search(r"listening on (http://\S+)", "\n".join(daemon.lines))
        assert url is not None
        editor = threading.Thread(target=edit, daemon=True)
        editor.start()
        started = time.monotonic()
        rewrite = re.compile(r"daemon: rewrite: ")
        while not any(rewrite.search(line) for line in list(daemon.lines)):
            if time.monotonic() - started > 600:
                raise TimeoutError("the rewrite did not finish in 10 minutes")
            asked = time.monotonic()
            try:
                with urllib.request.urlopen(url[1] + "/healthz", timeout=10) as answer:
                    answer.read()
            except urllib.error.HTTPError as err:  # 503 while starting: an answer all the same
                err.read()
            except OSError:
                failures += 1
            timings.append(time.monotonic() - asked)
            time.sleep(0.02)
        rewrite_seconds = time.monotonic() - started
    finally:
        stop.set()
        daemon.stop()
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    return HealthzResult(
        LOAD_RELEASES, len(timings), timings[-1], p99, failures, rewrite_seconds, edited
    )


# --- the report under load, slowloris --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportResult:
    citations: int
    page_mb: float
    gzip_mb: float
    first_s: float
    slowest_later_s: float
    slowest_gzip_s: float
    not_modified: int
    rss_before_mb: float
    peak_mb: float
    healthz_answers: int
    healthz_longest_s: float
    attack_log_lines: int


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, int, float, str]:
    """Status, body bytes, seconds, ETag of one GET."""
    asked = time.monotonic()
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            body = answer.read()
            return answer.status, len(body), time.monotonic() - asked, answer.headers["ETag"]
    except urllib.error.HTTPError as err:
        err.read()
        return err.code, 0, time.monotonic() - asked, err.headers.get("ETag", "")


def _clients(url: str, headers: dict[str, str], rounds: int) -> list[tuple[int, int, float, str]]:
    results: list[tuple[int, int, float, str]] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(rounds):
            outcome = _fetch(url, headers)
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(REPORT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def bench_report(root: Path) -> ReportResult:
    generate(root, REPORT_RELEASES, seed=7)
    config = root / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/**/*"]\n\n[state]\ndir = "state"\n\n'
        '[archive]\nenabled = false\n\n[run]\nlisten = "127.0.0.1:0"\n',
        encoding="utf-8",
    )
    scan(config)
    mark_checked_and_not_due(root / "state" / "linkwatch.db")
    kill_a_tenth(config, seed=7)
    with sqlite3.connect(root / "state" / "linkwatch.db") as conn:
        citations = int(conn.execute("SELECT count(*) FROM citations").fetchone()[0])
    daemon = Daemon(config)
    try:
        daemon.wait_for(r"daemon: scan: ", timeout=300)
        daemon.wait_for(r"daemon: check: ", timeout=300)
        found = re.search(r"listening on (http://\S+)", "\n".join(daemon.lines))
        assert found is not None
        base = found[1]
        rss_before, _ = daemon.memory_mb()
        plain = _clients(base + "/", {"Accept-Encoding": "identity"}, rounds=4)
        zipped = _clients(base + "/", {"Accept-Encoding": "gzip"}, rounds=2)
        etag = plain[-1][3]
        cached = _clients(base + "/", {"If-None-Match": etag}, rounds=2)
        _, peak = daemon.memory_mb()
        plain_times = sorted(seconds for _, _, seconds, _ in plain)
        attack = slowloris(daemon, base)
    finally:
        daemon.stop()
    return ReportResult(
        citations=citations,
        page_mb=plain[0][1] / 1e6,
        gzip_mb=zipped[0][1] / 1e6,
        first_s=plain_times[-1],  # the clients of the first round all wait for the rendering
        slowest_later_s=max(s for _, _, s, _ in plain[REPORT_CLIENTS:]),
        slowest_gzip_s=max(s for _, _, s, _ in zipped),
        not_modified=sum(1 for status, *_ in cached if status == 304),
        rss_before_mb=rss_before,
        peak_mb=peak,
        **attack,
    )


def slowloris(daemon: Daemon, base: str) -> dict[str, Any]:
    """SLOWLORIS half-sent requests from 127.0.0.2, and /healthz asked meanwhile."""
    import resource
    import socket

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SLOWLORIS + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, wanted), hard))
    host, port = base.removeprefix("http://").rsplit(":", 1)
    logged = len(daemon.lines)
    attackers = []
    timings: list[float] = []
    try:
        for _ in range(SLOWLORIS):
            attacker = socket.create_connection((host, int(port)), 5, ("127.0.0.2", 0))
            attacker.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
            attackers.append(attacker)
        for _ in range(12):
            status, _, seconds, _ = _fetch(base + "/healthz", {})
            if status == 200:
                timings.append(seconds)
    finally:
        for attacker in attackers:
            attacker.close()
    return {
        "healthz_answers": len(timings),
        "healthz_longest_s": max(timings, default=float("inf")),
        "attack_log_lines": len(daemon.lines) - logged,
    }


def report_rows(result: ReportResult) -> list[tuple[str, str, str, bool]]:
    growth = result.peak_mb - result.rss_before_mb
    return [
        (
            f"GET / with {result.citations:,} citations, {REPORT_CLIENTS} clients at once:"
            f" first answer (one rendering), slowest later answer, slowest gzip answer",
            f"{result.first_s:.2f} s, {result.slowest_later_s:.2f} s,"
            f" {result.slowest_gzip_s:.2f} s ({result.page_mb:.1f} MB, gzip"
            f" {result.gzip_mb:.1f} MB)",
            "",
            True,
        ),
        (
            f"resident memory before and at its peak under {REPORT_CLIENTS} clients",
            f"{result.rss_before_mb:.0f} MB, {result.peak_mb:.0f} MB (+{growth:.0f} MB)",
            f"+{REPORT_PEAK_TARGET_MB:.0f} MB at most",
            growth <= REPORT_PEAK_TARGET_MB,
        ),
        (
            f"GET / with the ETag given ({REPORT_CLIENTS * 2} requests)",
            f"{result.not_modified} answered 304",
            f"{REPORT_CLIENTS * 2}",
            result.not_modified == REPORT_CLIENTS * 2,
        ),
        (
            f"slowloris of {SLOWLORIS:,} connections from one address: /healthz answered"
            f" (longest), log lines written",
            f"{result.healthz_answers}/12 ({result.healthz_longest_s * 1000:.0f} ms),"
            f" {result.attack_log_lines} lines",
            "12/12 under 1 s, < 30 lines",
            result.healthz_answers == 12
            and result.healthz_longest_s < 1.0
            and result.attack_log_lines < 30,
        ),
    ]


# --- the API's report ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiResult:
    urls: int
    citations: int
    cli_s: float
    first_s: float
    cached_s: float
    gzip_s: float
    not_modified: bool
    same_bytes: bool
    mb: float
    gzip_mb: float


def bench_api(root: Path, urls: int = 100_000) -> ApiResult:
    import report as report_bench  # bench/report.py: its store and its way of timing
    from linkwatch.clock import fixed_clock
    from linkwatch.config.loading import load_settings
    from linkwatch.daemon.server import start_server
    from linkwatch.daemon.service import Daemon as InProcess
    from linkwatch.store import Store

    root.mkdir(parents=True)
    config = root / "config.toml"
    config.write_text('[state]\ndir = "state"\n', encoding="utf-8")
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        report_bench.generate(store, urls, 48)
        totals = store.totals()
    output = root / "report.json"
    cli_s, _ = report_bench.best_of(3, lambda: report_bench.run_report(config, output))
    cli_bytes = output.read_bytes()

    # The bench store is dated report_bench.NOW; the command reads the wall clock, so
    # the two bodies are compared without their `generated_at`.
    daemon = InProcess(settings, clock=fixed_clock(report_bench.NOW))
    ready: concurrent.futures.Future[str] = concurrent.futures.Future()
    stopped = threading.Event()

    async def serve() -> None:
        with daemon.store_open():  # the loop's store is opened on the loop's thread
            runner, base = await start_server(daemon.endpoints(), "127.0.0.1", 0)
            ready.set_result(base)
            while not stopped.is_set():
                await asyncio.sleep(0.05)
            await runner.cleanup()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    try:
        url = ready.result(60) + "/api/v1/report"
        firsts = []
        for _ in range(3):  # best of three, as the command's: each a rendering of its own
            with sqlite3.connect(settings.state.dir / "linkwatch.db") as other:
                other.execute("CREATE TABLE IF NOT EXISTS bench_touch (at REAL)")
                other.execute("INSERT INTO bench_touch VALUES (?)", [time.time()])
            first_status, size, seconds, etag = _fetch(url, {"Accept-Encoding": "identity"})
            assert first_status == 200, first_status
            firsts.append(seconds)
        first_s = min(firsts)
        body = urllib.request.urlopen(url, timeout=120).read()
        cached_s = min(_fetch(url, {"Accept-Encoding": "identity"})[2] for _ in range(3))
        _, gzip_size, gzip_s, _ = _fetch(url, {"Accept-Encoding": "gzip"})
        status, *_ = _fetch(url, {"If-None-Match": etag})
    finally:
        stopped.set()
        thread.join(30)
    stamp = re.compile(rb'^\{"generated_at":"[^"]*"')
    same = stamp.sub(b"", body) == stamp.sub(b"", cli_bytes)
    return ApiResult(
        totals.urls,
        totals.citations,
        cli_s,
        first_s,
        cached_s,
        gzip_s,
        status == 304,
        same,
        size / 1e6,
        gzip_size / 1e6,
    )


def api_rows(result: ApiResult) -> list[tuple[str, str, str, bool]]:
    return [
        (
            f"`linkwatch report --format json`, {result.urls:,} URLs, "
            f"{result.citations:,} citations (a process, best of 3)",
            f"{result.cli_s:.2f} s",
            "",
            True,
        ),
        (
            "GET /api/v1/report, answer after a change of the store (build, render, send "
            f"{result.mb:.0f} MB; best of 3); same bytes as the command",
            f"{result.first_s:.2f} s; {'same' if result.same_bytes else 'DIFFERENT'}",
            f"<= {result.cli_s:.2f} s (the command's), same",
            result.first_s <= result.cli_s and result.same_bytes,
        ),
        (
            "GET /api/v1/report again, store unchanged (the shared rendering), "
            f"with gzip ({result.gzip_mb:.1f} MB), with its ETag",
            f"{result.cached_s:.2f} s, {result.gzip_s:.2f} s, "
            f"{'304' if result.not_modified else 'NOT 304'}",
            "304",
            result.not_modified,
        ),
    ]


# --- report -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=100_000, help="URLs in the idle store")
    parser.add_argument("--idle", type=float, default=60.0, help="idle window, seconds")
    parser.add_argument("--hold", type=float, default=60.0, help="how long slow servers hold")
    parser.add_argument("--only-healthz", action="store_true", help="only the load phase")
    parser.add_argument(
        "--only-report", action="store_true", help="only the report and slowloris phases"
    )
    parser.add_argument("--only-api", action="store_true", help="only /api/v1/report")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, str, bool]] = []
    with tempfile.TemporaryDirectory(prefix="lw-bench-daemon-") as temp:
        if args.only_api:
            rows += api_rows(bench_api(Path(temp) / "api"))
        elif not (args.only_healthz or args.only_report):
            idle = bench_idle(Path(temp) / "idle", args.urls, args.idle)
            stuck = bench_stop(Path(temp) / "stuck", args.hold, grace=10.0)
            finishing = bench_stop(Path(temp) / "finishing", 2.0, grace=10.0)
            rows += general_rows(idle, stuck, finishing)
        if not (args.only_report or args.only_api):
            rows.append(healthz_row(bench_healthz(Path(temp) / "loaded")))
        if not (args.only_healthz or args.only_api):
            rows += report_rows(bench_report(Path(temp) / "report"))
        if not (args.only_healthz or args.only_report or args.only_api):
            rows += api_rows(bench_api(Path(temp) / "api"))
    print(
        f"`bench/daemon.py` on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}:\n"
    )
    print("| measure | result | target | met |")
    print("|---|---|---|---|")
    for name, value, target, met in rows:
        print(f"| {name} | {value} | {target} | {'yes' if met else 'NO'} |")
    return 0 if all(met for *_, met in rows) else 1


def general_rows(
    idle: IdleResult, stuck: StopResult, finishing: StopResult
) -> list[tuple[str, str, str, bool]]:
    rows = [
        (
            f"idle CPU, {idle.urls:,} URLs none due, over {idle.seconds:.0f} s",
            f"{idle.cpu_share * 100:.2f}% of a core",
            "<= 1%",
            idle.cpu_share <= IDLE_CPU_TARGET,
        ),
        (
            "idle resident memory (peak since start)",
            f"{idle.rss_mb:.0f} MB ({idle.peak_mb:.0f} MB)",
            f"<= {RSS_TARGET_MB:.0f} MB",
            idle.rss_mb <= RSS_TARGET_MB,
        ),
    ]
    for result in (stuck, finishing):
        rows.append(
            (
                f"SIGTERM to exit, {result.in_flight} requests in flight, "
                f"servers answering after {result.hold:g} s (grace {result.grace:g} s)",
                f"{result.seconds:.2f} s, exit {result.exit_code}",
                f"<= {result.grace:g} s, exit 0",
                result.seconds <= result.grace and result.exit_code == 0,
            )
        )
    return rows


def healthz_row(loaded: HealthzResult) -> tuple[str, str, str, bool]:
    return (
        f"longest /healthz answer while a {loaded.releases:,}-release rewrite "
        f"({loaded.rewrite_seconds:.0f} s) and scans of {loaded.edited:,} edited releases "
        f"ran ({loaded.asked:,} asked, 99th percentile {loaded.p99 * 1000:.0f} ms)",
        f"{loaded.longest * 1000:.0f} ms, {loaded.failures} unanswered",
        f"< {HEALTHZ_TARGET_S * 1000:.0f} ms",
        loaded.longest < HEALTHZ_TARGET_S and loaded.failures == 0,
    )


if __name__ == "__main__":
    sys.exit(main())
