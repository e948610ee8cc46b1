"""Benchmark look-ups across five archives, each answering after 100 ms, then with one down.

10,000 cited URLs (500 releases of 20 footnotes) are looked up in five
archives at once: the fake Wayback Machine (the backend, its CDX API) and four
fake Memento archives (`tests/support/fake_memento.py`: link-format TimeMaps,
a third of the URLs with a capture), every request answered after
`--latency`. Each archive has `--concurrency` look-ups in flight, so the
concurrency allows at best `urls * latency / concurrency` seconds for the
phase (the archives are asked side by side). The fakes run in processes of
their own, so their work does not share a core's time with linkwatch's.

Then the same look-ups with one Memento archive silent (it never answers):
the phase may take at most its `timeout` more, once, after which the archive
is rested and the others go on.

Only the look-up phase is timed (`archive.lookups.look_up`, as an archive run
calls it); the choice and saves are measured by `bench/archive.py`.

    .venv/bin/python bench/archive_lookups.py
    .venv/bin/python bench/archive_lookups.py --urls 2000

It prints a Markdown table; exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from pathlib import Path

from linkwatch.archive.archives import archives_to_ask
from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.factory import open_archive
from linkwatch.archive.backends.memento import MementoArchive
from linkwatch.archive.lookups import LookupSource, look_up
from linkwatch.archive.run_state import ArchiveRunSummary, Run, Silent
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore

ROOT = Path(__file__).resolve().parents[1]
WAYBACK = ROOT / "tests" / "support" / "fake_wayback.py"
MEMENTO = ROOT / "tests" / "support" / "fake_memento.py"
PER_RELEASE = 20
HOSTS = 500


@contextmanager
def process(command: list[str]) -> Iterator[list[str]]:
    """A fake in its own process; yields the ports it printed after READY."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    proc = subprocess.Popen(
        [sys.executable, *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stdin is not None
    ready = proc.stdout.readline().split()
    if not ready or ready[0] != "READY":
        proc.kill()
        raise SystemExit(f"a fake archive did not start: {ready}")
    try:
        yield ready[1:]
    finally:
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def write_corpus(directory: Path, wayback: str, lookup: str, urls: int) -> Settings:
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
        f'[archive]\nwayback_url = "{wayback}"\nlookup = {lookup}\n',
        encoding="utf-8",
    )
    settings = load_settings(directory / "config.toml")
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
    return settings


def lookup_toml(ports: list[str], concurrency: int, timeout: float) -> str:
    entries = [
        f'{{ id = "m{n}", name = "Memento {n}", '
        f'timemap = "http://127.0.0.1:{port}/timemap/link/", '
        f'timegate = "http://127.0.0.1:{port}/timegate/", '
        f"concurrency = {concurrency}, timeout = {timeout} }}"
        for n, port in enumerate(ports)
    ]
    return "[" + ", ".join(entries) + "]"


async def timed_lookups(
    settings: Settings, concurrency: int
) -> tuple[float, ArchiveRunSummary, dict[str, float]]:
    """The look-up phase of an archive run over every archive, timed."""
    summary = ArchiveRunSummary()
    backend = open_archive(settings, {}, concurrency=concurrency)
    specs = archives_to_ask(settings.archive.lookup, None, settings.archive.wayback_url)
    options = archive_options(settings.check.user_agent)
    others = [MementoArchive(spec, options) for spec in specs]
    with AsyncStore.open(settings.state.dir) as db:
        run = Run(settings, db, backend, Silent(), lambda: dt.datetime.now(dt.UTC), None, summary)
        async with AsyncExitStack() as stack:
            for archive in (backend, *others):
                await stack.enter_async_context(archive)
            sources = [LookupSource(backend, concurrency, backend=True)]
            sources += [LookupSource(other, other.spec.concurrency) for other in others]
            started = time.perf_counter()
            await look_up(run, sources)
            each = {source.archive.name: source.elapsed for source in sources}
            return time.perf_counter() - started, summary, each


def one_run(
    args: argparse.Namespace, silent_first: bool
) -> tuple[float, ArchiveRunSummary, dict[str, float]]:
    """Each fake archive in a process of its own, as separate servers are."""
    wayback_cmd = [str(WAYBACK), "serve", "--latency", str(args.latency), "--captured", "3000"]
    memento_cmd = [str(MEMENTO), "serve", "--archives", "1", "--latency", str(args.latency)]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        [wayback_port] = stack.enter_context(process(wayback_cmd))
        ports = []
        for n in range(4):
            mode = "silent" if silent_first and n == 0 else "up"
            ports += stack.enter_context(process([*memento_cmd, "--mode", mode]))
        lookup = lookup_toml(ports, args.concurrency, args.timeout)
        settings = write_corpus(Path(tmp), f"http://127.0.0.1:{wayback_port}", lookup, args.urls)
        return asyncio.run(timed_lookups(settings, args.concurrency))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--urls", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=16, help="per archive")
    parser.add_argument("--timeout", type=float, default=5.0, help="per Memento archive")
    args = parser.parse_args()

    ideal = args.urls * args.latency / args.concurrency
    all_up, summary, _ = one_run(args, silent_first=False)
    one_down, down_summary, each = one_run(args, silent_first=True)
    asked = sum(summary.looked_up_in.values())
    within = all_up <= ideal * 1.10
    silent_cost = each.get("m0", 0.0)
    others = max(elapsed for name, elapsed in each.items() if name != "m0")
    bounded = one_down <= others + args.timeout  # what the silent archive may add
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"look-ups across 5 archives on {platform.python_version()}, {args.urls} URLs, "
        f"{args.latency * 1000:.0f} ms per answer, {args.concurrency} in flight per archive; "
        f"{os.cpu_count()} cores, load average {load}\n"
    )
    print("| measure | result | target |")
    print("|---|---|---|")
    print(
        f"| 5 archives up: {asked:,} look-ups | {all_up:.1f} s "
        f"({asked / all_up:.0f} look-ups/s; the concurrency allows {ideal:.1f} s) | "
        f"<= {ideal * 1.1:.1f} s: {'met' if within else 'missed'} |"
    )
    print(
        f"| one archive silent (timeout {args.timeout:g} s): time spent on it, then rested "
        f"({', '.join(sorted(down_summary.rested)) or 'none'}) | {silent_cost:.1f} s | "
        f"its timeout ({args.timeout:g} s), once |"
    )
    print(
        f"| the same run: whole phase, and the slowest other archive | {one_down:.1f} s, "
        f"{others:.1f} s | phase <= slowest other + {args.timeout:g} s: "
        f"{'met' if bounded else 'missed'} |"
    )
    return 0 if within and bounded else 1


if __name__ == "__main__":
    sys.exit(main())
