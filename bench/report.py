"""Benchmark `linkwatch report` and the digest on a store with five years of daily history.

What it measures:

* `linkwatch report --format json` on a store with 100,000 URLs cited by
  20,000 releases (about 150,000 citations), each URL checked daily for five
  years: wall-clock seconds of the whole command, as a user runs it
  (interpreter start-up and imports included), best of three runs;
* the history's size on disk per stable URL-year: a second, small store gets
  a year of daily checks of stable URLs through the real write path
  (`Store.record_checks`, which extends a span instead of adding a row), and
  the history table and its indexes are measured with SQLite's dbstat;
* the digest's query (`Store.state_changes` for the last week) and the whole
  digest build (that query, the archive events and the full report), best
  of three.

The big store is generated with SQL directly (a benchmark, not library code):
the history is written as the run-length spans `record_checks` would have
left. Most URLs (80 %) were alive all along: one span of about 1,826 checks.
15 % died once (alive, a few days transient, dead), 4 % flap between blocked
and alive (a dozen spans), and 1 % changed state during the last week, so
that the digest has something to say. URLs come from 3,000 hosts with a long
tail of popularity.

Run from the project root:

    .venv/bin/python bench/report.py                   # 100,000 URLs, temp dir
    .venv/bin/python bench/report.py --urls 20000 --keep /tmp/lw-report

It prints a Markdown table (ready for the README) with the targets:
report <= 2 s, history <= 1 KB per stable URL-year, digest query <= 1 s.
Exits 0 when every target is met, 1 when one is missed, 2 when a command fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from linkwatch.check.verdict import Streak, Verdict
from linkwatch.config.loading import load_settings
from linkwatch.digest.build import build_digest
from linkwatch.model import CheckResult, State
from linkwatch.report.build import build_report
from linkwatch.report.to_json import render_json
from linkwatch.store import CheckRecord, ParsedRelease, Store

T = TypeVar("T")
REPORT_TARGET_S = 2.0
HISTORY_TARGET_BYTES = 1000.0
DIGEST_TARGET_S = 1.0
YEARS = 5
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
STABLE_URLS = 2000  # for the bytes-per-URL-year measurement


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def host_names(count: int, rng: random.Random) -> list[str]:
    words = ("news", "rights", "gov", "press", "media", "watch", "law", "info", "org", "eu")
    tlds = ("org", "com", "eu", "kz", "ua", "pl", "int", "net")
    return [f"{rng.choice(words)}{n}.{rng.choice(words)}.{rng.choice(tlds)}" for n in range(count)]


def spans_for(index: int, start: dt.datetime, rng: random.Random) -> list[tuple[object, ...]]:
    """(state, status, error, first_at, last_at, count) spans for one URL, oldest first."""
    fate = index % 100
    days = (NOW - start).days
    if fate < 80:
        return [("alive", 200, None, iso(start), iso(NOW), days + 1)]
    if fate < 95:
        died = start + dt.timedelta(days=rng.randrange(30, days - 30))
        dead_from = died + dt.timedelta(days=3)
        return [
            ("alive", 200, None, iso(start), iso(died - dt.timedelta(days=1)), (died - start).days),
            ("transient", 404, None, iso(died), iso(dead_from - dt.timedelta(hours=6)), 12),
            ("dead", 404, None, iso(dead_from), iso(NOW), (NOW - dead_from).days // 7 + 1),
        ]
    if fate < 99:
        spans: list[tuple[object, ...]] = []
        moment = start
        blocked = False
        while moment < NOW - dt.timedelta(days=10):
            length = dt.timedelta(days=rng.randrange(30, 300))
            end = min(moment + length, NOW - dt.timedelta(days=10))
            state, status = ("blocked", 403) if blocked else ("alive", 200)
            spans.append((state, status, None, iso(moment), iso(end), max(1, (end - moment).days)))
            moment, blocked = end + dt.timedelta(days=1), not blocked
        spans.append(("alive", 200, None, iso(moment), iso(NOW), (NOW - moment).days + 1))
        return spans
    changed = NOW - dt.timedelta(days=rng.randrange(1, 6))
    return [
        ("alive", 200, None, iso(start), iso(changed - dt.timedelta(days=4)), days - 5),
        ("transient", None, "dns", iso(changed - dt.timedelta(days=3)), iso(changed), 12),
        ("dead", None, "dns", iso(changed), iso(NOW), 1),
    ]


def generate(store: Store, urls: int, seed: int) -> None:
    """Releases, URLs, citations, spans, snapshots and last week's archive events, in SQL."""
    rng = random.Random(seed)
    hosts = host_names(3000, rng)
    weights = [1 / (rank + 1) for rank in range(len(hosts))]
    start = NOW - dt.timedelta(days=365 * YEARS)
    db = store.db.conn
    url_rows, history_rows = [], []
    for uid in range(1, urls + 1):
        host = rng.choices(hosts, weights)[0]
        section = rng.choice(("news", "a", "documents", "press"))
        url = f"https://{host}/{section}/{uid}-{rng.randrange(10**6)}"
        spans = spans_for(uid, start, rng)
        last = spans[-1]
        run = len(spans) - 1  # the first span of the last run of one state: state_since
        while run > 0 and spans[run - 1][0] == last[0]:
            run -= 1
        since = spans[run][3]
        url_rows.append((uid, url, url, iso(start), last[0], last[1], url, last[4], last[2], since))
        history_rows += [(uid, *span) for span in spans]
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO urls (id, key, url, first_seen, state, http_status, final_url, "
        "last_checked, error, state_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        url_rows,
    )
    db.executemany(
        "INSERT INTO history (url_id, state, http_status, error, first_at, last_at, count) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        history_rows,
    )
    releases = max(1, urls // 5)
    release_rows, citation_rows, snapshot_rows = [], [], []
    cited = list(range(1, urls + 1))
    rng.shuffle(cited)
    for rid in range(1, releases + 1):
        published = start + dt.timedelta(days=rng.randrange(365 * YEARS))
        path = f"releases/{published:%Y/%m}/{rid:06d}-statement.md"
        release_rows.append(
            (rid, path, f"{rid:064x}", 4000, "markdown", "utf-8", f"Statement {rid}",
             published.date().isoformat(), "dateline", iso(start), iso(NOW))
        )  # fmt: skip
        own = cited[(rid - 1) * 5 : rid * 5] + rng.sample(range(1, urls + 1), rng.randrange(0, 6))
        for position, uid in enumerate(own):
            key = url_rows[uid - 1][1]
            citation_rows.append(
                (rid, uid, position, str(position + 1), key, 100 * position, 100 * position + 60,
                 "footnote")
            )  # fmt: skip
            if rng.random() < 0.5:
                snapshot_rows.append(
                    (path, key, f"https://web.archive.org/web/{published:%Y%m%d}000000/{key}",
                     iso(published), 200, iso(NOW))
                )  # fmt: skip
    db.executemany(
        "INSERT INTO releases (id, path, sha256, size, format, encoding, title, published, "
        "date_source, first_seen, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        release_rows,
    )
    db.executemany(
        'INSERT INTO citations (release_id, url_id, position, label, url, start, "end", context) '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        citation_rows,
    )
    db.executemany(
        "INSERT OR IGNORE INTO citation_snapshots (release_path, url_key, archive_url, "
        "timestamp, status, chosen_at) VALUES (?, ?, ?, ?, ?, ?)",
        snapshot_rows,
    )
    db.executemany(
        "INSERT INTO save_queue (url_id, status, queued_at, attempts, archive_url, done_at) "
        "VALUES (?, 'saved', ?, 1, ?, ?)",
        [
            (uid, iso(NOW - dt.timedelta(days=3)), f"https://web.archive.org/web/2026/{uid}",
             iso(NOW - dt.timedelta(days=2)))
            for uid in rng.sample(range(1, urls + 1), min(500, urls))
        ],
    )  # fmt: skip
    db.execute("COMMIT")
    db.execute("ANALYZE")


def history_bytes(store: Store) -> int | None:
    """Bytes of the history table and its indexes, or None without SQLite's dbstat."""
    try:
        row = store.db.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master "
            "WHERE tbl_name = 'history')"
        ).fetchone()
    except sqlite3.Error:  # dbstat is a compile-time option of SQLite
        return None
    return int(row[0] or 0)


def bytes_per_stable_url_year(workdir: Path) -> float | None:
    """A year of daily checks of stable URLs, through the real write path."""
    store = Store.open(workdir / "stable")
    try:
        keys = [f"https://stable{n % 97}.example.org/page/{n}" for n in range(STABLE_URLS)]
        from linkwatch.model import Citation, DateSource, Format, ReleaseMeta

        store.save_releases(
            [
                ParsedRelease(
                    path="stable.md",
                    sha256="0" * 64,
                    size=1,
                    format=Format.MARKDOWN,
                    encoding="utf-8",
                    meta=ReleaseMeta("stable", NOW.date(), DateSource.DATELINE),
                    citations=[Citation(str(i), k, i, i + 1, "") for i, k in enumerate(keys)],
                    url_keys=keys,
                    invalid=[None] * len(keys),
                )
            ],
            NOW,
        )
        ids = [target.id for target in store.urls_to_check()]
        verdict = Verdict(State.ALIVE, Streak(), "200 OK")
        begin = NOW - dt.timedelta(days=365)
        for day in range(365):
            moment = begin + dt.timedelta(days=day)
            store.record_checks(
                [
                    CheckRecord(
                        uid,
                        CheckResult(url=key, checked_at=moment, status=200, final_url=key),
                        verdict,
                        moment + dt.timedelta(days=1),
                    )
                    for uid, key in zip(ids, keys, strict=True)
                ]
            )
        size = history_bytes(store)
        return None if size is None else size / STABLE_URLS
    finally:
        store.close()


def best_of(runs: int, action: Callable[[], T]) -> tuple[float, T]:
    timings, results = [], []
    for _ in range(runs):
        started = time.perf_counter()
        results.append(action())
        timings.append(time.perf_counter() - started)
    return min(timings), results[-1]


def run_report(config: Path, output: Path) -> None:
    command = [
        sys.executable, "-c", "from linkwatch.cli import main; main()",
        "--config", str(config), "report",
        "--format", "json", "--output", str(output),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"report failed ({completed.returncode}): {completed.stderr.strip()}")


def import_seconds() -> float:
    """Start-up of `linkwatch` before any work: the interpreter and every command's imports."""
    command = [sys.executable, "-c", "import linkwatch.cli"]
    bare = [sys.executable, "-c", "pass"]
    with_cli, _ = best_of(3, lambda: subprocess.run(command, check=True))
    interpreter, _ = best_of(3, lambda: subprocess.run(bare, check=True))
    return with_cli - interpreter


def rows(figures: list[tuple[str, str, str, bool]]) -> Iterator[str]:
    yield "| measure | result | target | met |"
    yield "|---|---:|---:|---|"
    for name, result, target, met in figures:
        yield f"| {name} | {result} | {target} | {'yes' if met else 'NO'} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=48)
    parser.add_argument("--keep", type=Path, help="build the store here and keep it")
    parser.add_argument(
        "--generate-only", action="store_true", help="build the store, measure nothing"
    )
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="linkwatch-report-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.toml"
    config.write_text('[state]\ndir = "state"\n\n[digest]\nto = ["x@example.org"]\n')
    settings = load_settings(config)

    started = time.perf_counter()
    store = Store.open(settings.state.dir)
    if not store.totals().urls:
        generate(store, args.urls, args.seed)
    generated = time.perf_counter() - started
    if args.generate_only:
        print(f"generated in {generated:.1f} s: {workdir}")
        return 0
    spans = store.db.execute("SELECT count(*) FROM history").fetchone()[0]
    totals = store.totals()

    output = workdir / "report.json"
    report_s, _ = best_of(3, lambda: run_report(config, output))
    since = NOW - dt.timedelta(days=7)
    query_s, changes = best_of(3, lambda: store.state_changes(since))
    digest_s, digest = best_of(
        3, lambda: build_digest(settings, store, period_start=since, now=NOW)
    )
    build_s, report = best_of(3, lambda: build_report(store, now=NOW))
    render_s, _ = best_of(3, lambda: render_json(report))
    import_s = import_seconds()
    per_url_year = bytes_per_stable_url_year(workdir)
    store.close()

    figures = [
        (
            f"`report --format json`, {totals.urls:,} URLs, {totals.citations:,} citations",
            f"{report_s:.2f} s",
            f"<= {REPORT_TARGET_S:.0f} s",
            report_s <= REPORT_TARGET_S,
        ),
        (
            "of which: importing the CLI / building the report / writing the JSON",
            f"{import_s:.2f} s / {build_s:.2f} s / {render_s:.2f} s",
            "",
            True,
        ),
        (
            "history per stable URL-year (daily checks)",
            "n/a" if per_url_year is None else f"{per_url_year:.0f} bytes",
            f"<= {HISTORY_TARGET_BYTES / 1000:.0f} KB",
            per_url_year is not None and per_url_year <= HISTORY_TARGET_BYTES,
        ),
        (
            f"digest query (changes of the last week: {len(changes):,} URLs)",
            f"{query_s * 1000:.0f} ms",
            f"<= {DIGEST_TARGET_S:.0f} s",
            query_s <= DIGEST_TARGET_S,
        ),
        (
            "whole digest build (query, archive events, full report)",
            f"{digest_s:.2f} s",
            "",
            True,
        ),
    ]
    print("\n".join(rows(figures)))
    print(
        f"\n{spans:,} history spans for {YEARS} years of daily checks "
        f"({spans / totals.urls:.1f} per URL); {output.stat().st_size / 1e6:.0f} MB of JSON; "
        f"digest subject: {digest.subject!r}. Store generated in {generated:.1f} s. "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {workdir}"
    )
    return 0 if all(met for *_rest, met in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
