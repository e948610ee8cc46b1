"""Benchmark `linkwatch rewrite` on a synthetic corpus of press releases.

What it measures, on 10,000 generated releases (the corpus of bench/scan.py:
Markdown, HTML and plain text, some CRLF, some with a BOM), after a scan and
with 10% of all citations dead (pinned) and given a chosen snapshot:

* the rewrite run: for every release with a dead citation, read, hash check,
  splice, back up (fsync), write a temp file (fsync), rename, parse again and
  store, in wall-clock seconds;
* a second run, which must change nothing (every archived copy is already
  there), in wall-clock seconds;
* a scan after both, which must find every release unchanged: the store agrees
  with the rewritten files.

Each run's CPU time (user + system, its worker processes included) is shown
beside its wall time: on a busy machine the difference is time spent waiting
for a core or for the disk.

Each run is its own `linkwatch --config CFG rewrite` process, as a user runs it
(interpreter start-up and imports included). The corpus was just written, so
the files come from the page cache: the figures are for a warm disk.

Run from the project root:

    .venv/bin/python bench/rewrite.py                     # 10,000 releases, temp dir
    .venv/bin/python bench/rewrite.py --releases 1000     # a quick look

It prints a Markdown table (ready for the README) with the targets: rewrite
<= 20 s and no-op rerun <= 3 s on 2 cores. It exits 0 when the targets are met,
1 when one is missed, 2 when a run fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from linkwatch.config.loading import load_settings
from linkwatch.model import State
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot
from scan import generate, write_config

REWRITE_TARGET_S = 20.0
NOOP_TARGET_S = 3.0
DEAD_SHARE = 0.10
CAPTURED = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Run:
    label: str
    wall: float
    cpu: float  # user + system seconds of the process and its workers
    returncode: int
    stdout: str
    stderr: str


def run(label: str, config: Path, *args: str) -> Run:
    linkwatch = Path(sys.executable).parent / "linkwatch"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [str(linkwatch), "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(label, wall, cpu, proc.returncode, proc.stdout, proc.stderr)


def kill_a_tenth(config: Path, seed: int) -> tuple[int, int, int]:
    """Pin URLs dead until they account for 10% of all citations, each with a snapshot.

    Returns (citations in the store, citations made dead, releases touched).
    """
    settings = load_settings(config)
    rng = random.Random(seed)
    with Store.open(settings.state.dir) as store:
        releases = store.releases_with_citations()
        by_url: dict[str, list[tuple[str, str]]] = {}
        total = 0
        for release in releases:
            for citation in release.citations:
                by_url.setdefault(citation.url_key, []).append((release.path, citation.url))
                total += 1
        keys = sorted(by_url)
        rng.shuffle(keys)
        dead = 0
        touched: set[str] = set()
        for key in keys:
            if dead >= total * DEAD_SHARE:
                break
            status = store.url_status(key)
            if status is None or status.invalid:
                continue
            store.set_pin(status.id, State.DEAD)
            for path, url in by_url[key]:
                snapshot = ChosenSnapshot(
                    f"https://web.archive.org/web/20160406120000/{url}", CAPTURED, 200
                )
                store.set_chosen_snapshot(path, key, snapshot, CAPTURED)
                touched.add(path)
                dead += 1
    return total, dead, len(touched)


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def table(rows: list[tuple[str, str, str, str]]) -> str:
    head = ("figure", "value", "target", "result")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    fmt = "| " + " | ".join(f"{{:{w}}}" for w in widths) + " |"
    lines = [fmt.format(*head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench(root: Path, args: argparse.Namespace) -> int:
    stats = generate(root, args.releases, args.seed)
    config = write_config(root)
    log(f"corpus: {stats.files:,} releases, {stats.bytes / 1_000_000:.1f} MB")
    scanned = run("scan", config, "scan")
    if scanned.returncode != 0:
        log(scanned.stdout + scanned.stderr)
        return 2
    total, dead, releases = kill_a_tenth(config, args.seed)
    log(f"dead with a snapshot: {dead:,} of {total:,} citations, in {releases:,} releases")
    first = run("rewrite", config, "rewrite")
    log(f"rewrite: {first.wall:.2f} s, {first.cpu:.1f} s CPU: {first.stdout.strip()}")
    second = run("rewrite again", config, "rewrite")
    log(f"rewrite again: {second.wall:.2f} s: {second.stdout.strip()}")
    rescan = run("scan after", config, "scan")
    log(f"scan after: {rescan.wall:.2f} s: {rescan.stdout.strip()}")
    if any(r.returncode != 0 for r in (first, second, rescan)):
        for r in (first, second, rescan):
            log(f"{r.label}: exit {r.returncode}\n{r.stderr}")
        return 2
    changed = re.search(r"changed (\d+) files: (\d+) citations", first.stdout)
    noop = second.stdout.startswith("changed 0 files: 0 citations")
    agrees = "(0 parsed" in rescan.stdout
    rows = [
        ("releases (files)", f"{stats.files:,}", "", ""),
        ("citations / dead with a snapshot", f"{total:,} / {dead:,}", "10%", ""),
        ("releases rewritten", changed.group(1) if changed else "?", f"{releases:,}", ""),
        ("citations rewritten", changed.group(2) if changed else "?", f"{dead:,}", ""),
        (
            "rewrite",
            f"{first.wall:.2f} s ({first.cpu:.1f} s CPU)",
            f"<= {REWRITE_TARGET_S:g} s",
            verdict(first.wall <= REWRITE_TARGET_S),
        ),
        (
            "second run (no-op)",
            f"{second.wall:.2f} s ({second.cpu:.1f} s CPU)",
            f"<= {NOOP_TARGET_S:g} s",
            verdict(second.wall <= NOOP_TARGET_S and noop),
        ),
        ("scan after: releases parsed again", "0" if agrees else "some", "0", verdict(agrees)),
    ]
    print(table(rows))
    ok = first.wall <= REWRITE_TARGET_S and second.wall <= NOOP_TARGET_S and noop and agrees
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--releases", type=int, default=10_000, help="releases to generate")
    parser.add_argument("--seed", type=int, default=2016, help="random seed of the corpus")
    args = parser.parse_args()
    if args.releases < 1:
        parser.error("--releases must be at least 1")
    with tempfile.TemporaryDirectory(prefix="linkwatch-bench-rewrite-") as tmp:
        return bench(Path(tmp), args)


if __name__ == "__main__":
    sys.exit(main())
