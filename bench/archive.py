"""Benchmark `linkwatch archive` against the fake Wayback Machine with 100 ms latency.

What it measures, on 10,000 cited URLs (500 releases of 20 footnotes, 500
hosts; 3,000 URLs already have a capture from before the releases' date):

* **look-ups**: the look-up phase of an archive run, every URL looked up
  over HTTP (concurrent, `LOOKUP_CONCURRENCY` in flight), in URLs per second;
* **choosing**: the same run's choice phase, each captured URL's candidate
  replayed through the checker (and its site's front page, once per day);
* **queue bookkeeping**: the store's work per queued save (pick the next
  due entry, write the attempt down, record the outcome with its capture,
  read the pace and the pause), with no network, in milliseconds per URL;
* **pace**: a save phase of `--pace-seconds` at `--saves-per-minute`, with
  every save request's arrival recorded by the fake: the most saves in any
  60 s window, and the shortest gap between two.

If waybackpy is installed it also times its CDX client (synchronous, run in
threads under `asyncio.to_thread`) on `--waybackpy-urls` look-ups of the same
fake, for the README's comparison.

The fake runs as its own process (`tests/support/fake_wayback.py serve`), so its work
does not share a core's time with linkwatch's. Run from the project root:

    .venv/bin/python bench/archive.py
    .venv/bin/python bench/archive.py --urls 2000 --pace-seconds 10

It prints a Markdown table and exits 1 when the pace was exceeded.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from linkwatch.archive.backends.factory import LOOKUP_CONCURRENCY
from linkwatch.archive.run import archive_run
from linkwatch.check.verdict import Streak, Verdict
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.model import CheckResult, QueueStatus, Snapshot, State
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, Store
from linkwatch.store.writer import AsyncStore

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "support" / "fake_wayback.py"
PER_RELEASE = 20
HOSTS = 500  # the fake's --captured URLs are http://site{n % 500}.example/page/{n}


class PhaseClock:
    """A RunProgress that notes when each phase starts and how many steps it took."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, int]] = []
        self.steps = 0

    def phase(self, name: str, total: int) -> None:
        self.marks.append((name, time.perf_counter(), total))

    def step(self, url: str, step: object, detail: str = "") -> None:
        self.steps += 1

    def durations(self, end: float) -> dict[str, tuple[float, int]]:
        times = [mark[1] for mark in self.marks[1:]] + [end]
        return {
            name: (stop - start, total)
            for (name, start, total), stop in zip(self.marks, times, strict=True)
        }


@contextmanager
def fake_archive(latency: float, captured: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(FAKE),
            "serve",
            "--latency",
            str(latency),
            "--captured",
            str(captured),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    ready = process.stdout.readline().split()
    if not ready or ready[0] != "READY":
        process.kill()
        raise SystemExit(f"the fake archive did not start: {ready}")
    try:
        yield f"http://127.0.0.1:{ready[1]}", process
    finally:
        process.stdin.write("quit\n")
        process.stdin.flush()
        process.wait(10)


def fake_stats(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("stats\n")
    process.stdin.flush()
    stats: dict[str, Any] = json.loads(process.stdout.readline())
    return stats


def write_corpus(directory: Path, base: str, urls: int) -> Settings:
    releases = directory / "releases"
    releases.mkdir(parents=True)
    for first in range(0, urls, PER_RELEASE):
        numbers = range(first, min(first + PER_RELEASE, urls))
        notes = "\n\n".join(f"[^{n}]: <http://site{n % HOSTS}.example/page/{n}>" for n in numbers)
        refs = " ".join(f"[^{n}]" for n in numbers)
        text = f"Warsaw, 7 April 2016\n\nStatement {refs}\n\n{notes}\n"
        (releases / f"r{first:05d}.md").write_text(text, encoding="utf-8")
    (directory / "config.toml").write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n'
        f'[archive]\nwayback_url = "{base}"\nsaves_per_minute = 600\n',
        encoding="utf-8",
    )
    settings = load_settings(directory / "config.toml")
    now = dt.datetime.now(dt.UTC)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        store.record_checks(
            [
                CheckRecord(
                    target.id,
                    CheckResult(url=target.key, checked_at=now, status=200),
                    Verdict(State.ALIVE, Streak(), "alive"),
                    now + dt.timedelta(days=1),
                )
                for target in store.urls_to_check()
            ]
        )
    return settings


def first_run(settings: Settings) -> tuple[dict[str, tuple[float, int]], int]:
    """Look up everything and choose, with no time for saves (they stay queued)."""
    clock = PhaseClock()
    with AsyncStore.open(settings.state.dir) as db:
        summary = asyncio.run(
            archive_run(settings, db, progress=clock, until=dt.datetime.now(dt.UTC), environ={})
        )
    if summary.unreachable:
        raise SystemExit(f"fake archive unreachable: {summary.unreachable}")
    return clock.durations(time.perf_counter()), summary.queued


def bookkeeping(settings: Settings, entries: int) -> float:
    """Seconds of store work per queued save, network left out.

    On a copy of the state: the attempts it writes down would count against
    the pace of the run measured next.
    """
    source = "wayback"
    copy = settings.state.dir.with_name("state-copy")
    shutil.copytree(settings.state.dir, copy)
    with Store.open(copy) as store:
        started = time.perf_counter()
        done = 0
        for _ in range(entries):
            moment = dt.datetime.now(dt.UTC)
            entry = store.next_due_save(source, moment)
            if entry is None:
                break
            store.pause(source)
            store.recent_save_starts(source, moment.timestamp() - 3600)
            store.start_save_attempt(source, entry.url_id, moment)
            capture = Snapshot(f"http://bench/web/x/{entry.url}", moment, 200, source)
            store.finish_save(source, entry.url_id, QueueStatus.SAVED, moment, snapshot=capture)
            done += 1
        return (time.perf_counter() - started) / max(1, done)


def pace_run(settings: Settings, per_minute: float, seconds: float) -> int:
    paced = dataclasses.replace(
        settings, archive=dataclasses.replace(settings.archive, saves_per_minute=per_minute)
    )
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    with AsyncStore.open(settings.state.dir) as db:
        summary = asyncio.run(archive_run(paced, db, until=until, environ={}))
    return summary.saved


def waybackpy_rate(base: str, urls: int) -> float | None:
    """Look-ups per second through waybackpy's CDX client, threads under asyncio.to_thread."""
    try:
        from waybackpy import WaybackMachineCDXServerAPI
    except ImportError:
        return None

    def one(n: int) -> None:
        api = WaybackMachineCDXServerAPI(f"http://site{n % HOSTS}.example/page/{n}")
        api.endpoint = f"{base}/cdx/search/cdx"
        list(api.snapshots())

    async def all_of_them() -> None:
        await asyncio.gather(*(asyncio.to_thread(one, n) for n in range(urls)))

    started = time.perf_counter()
    asyncio.run(all_of_them())
    return urls / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--captured", type=int, default=3_000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--bookkeeping", type=int, default=2_000, help="queue entries timed")
    parser.add_argument("--saves-per-minute", type=float, default=120)
    parser.add_argument("--pace-seconds", type=float, default=20)
    parser.add_argument("--waybackpy-urls", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, fake_archive(args.latency, args.captured) as fake:
        base, process = fake
        settings = write_corpus(Path(tmp), base, args.urls)
        phases, queued = first_run(settings)
        per_entry = bookkeeping(settings, min(args.bookkeeping, queued))
        saved = pace_run(settings, args.saves_per_minute, args.pace_seconds)
        stats = fake_stats(process)
        via_waybackpy = waybackpy_rate(base, args.waybackpy_urls) if args.waybackpy_urls else None

    look_s, looked = phases["looking up"]
    choose_s, chose = phases["choosing"]
    most = int(stats["max_saves_in_window"])
    gap = float(stats["min_save_gap"] or "nan")
    pace_ok = most <= args.saves_per_minute
    print(
        f"linkwatch archive on {platform.python_version()}, {args.urls} URLs, "
        f"fake archive latency {args.latency * 1000:.0f} ms, "
        f"{LOOKUP_CONCURRENCY} requests in flight\n"
    )
    print("| measure | result |")
    print("|---|---|")
    print(f"| look-ups | {looked} in {look_s:.1f} s = {looked / look_s:.0f} URLs/s |")
    print(f"| snapshot choice (replays) | {chose} URLs in {choose_s:.1f} s |")
    print(f"| saves queued by the policy | {queued} |")
    print(f"| queue bookkeeping | {per_entry * 1000:.2f} ms per URL |")
    print(
        f"| pace at {args.saves_per_minute:g}/min for {args.pace_seconds:g} s | {saved} saved; "
        f"most in any 60 s: {most}; shortest gap {gap:.3f} s |"
    )
    if via_waybackpy is not None:
        print(
            f"| waybackpy CDX in threads ({args.waybackpy_urls} URLs) | "
            f"{via_waybackpy:.0f} URLs/s |"
        )
    print("\npace kept" if pace_ok else "\npace EXCEEDED")
    return 0 if pace_ok else 1


if __name__ == "__main__":
    sys.exit(main())
