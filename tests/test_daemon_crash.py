"""kill -9 at random moments of a busy daemon: every restart finds the store and files whole.

The daemon checks 200 URLs on a loopback site that answers slowly (every URL
is due again after a second, so checks never stop), saves each of them in a
fake Wayback Machine (paced at 300 a minute, so saving spans many rounds), chooses the new
captures and rewrites the 40 releases to point at them (rewrite.mode = all).
Each round kills it with SIGKILL after a random number of requests reached
the site (mid-check), of saves reached the archive (mid-archive) or of
release backups appeared (mid-rewrite). After every kill:

- `PRAGMA integrity_check` is ok;
- every history row seen just before the kill is still there, its count
  never lower (a run-length row only ever grows);
- every release file is exactly its author's text, plus whole archive links:
  never cut short, never half written.

At the end one clean run finishes the work (every URL checked, saved and
linked) and stops on SIGTERM with exit 0, and no URL was saved twice.
"""

from __future__ import annotations

import random
import re
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.daemon import DaemonProcess, LoopbackWeb, history_rows, write_project
from support.fake_wayback import FakeWayback, serve_in_thread
from support.polling import wait_until

ROUNDS = 20  # at least; more (up to MAX_ROUNDS) while a job has been killed fewer than 3 times
MAX_ROUNDS = 40
RELEASES = 20
PER_RELEASE = 4
URLS = RELEASES * PER_RELEASE
ADDED = re.compile(r" \(archived \[[^\]\n]*\]\((http://127\.0\.0\.1:\d+/web/\d{14}/[^)\s]+)\)\)")


@pytest.fixture
def wayback() -> Iterator[tuple[FakeWayback, str]]:
    fake = FakeWayback(save_delay=0.05)
    with serve_in_thread(fake) as base:
        yield fake, base


def release_urls(site: LoopbackWeb, number: int) -> list[str]:
    rng = random.Random(number)
    return [
        f"{site.base}/wait/{rng.randrange(20, 300)}/{number * PER_RELEASE + n}"
        for n in range(PER_RELEASE)
    ]


def write_releases(root: Path, site: LoopbackWeb, archive: str) -> Path:
    """RELEASES releases citing PER_RELEASE slow URLs each; checks due again every second."""
    config = write_project(root, [], releases=0, run={"check_every": "1s", "grace": "2s"})
    text = config.read_text(encoding="utf-8")
    text = text.replace('mode = "off"', 'mode = "all"')
    text = text.replace('timeout = "60s"', 'timeout = "5s"\nevery = "1s"')
    text = text.replace(
        "enabled = false", f'wayback_url = "{archive}"\nsaves_per_minute = 300\nlookup = []'
    )
    config.write_text(text, encoding="utf-8")
    for number in range(RELEASES):
        urls = release_urls(site, number)
        notes = "\n\n".join(f"[^{n}]: <{url}>" for n, url in enumerate(urls, start=1))
        refs = " ".join(f"[^{n}]" for n in range(1, len(urls) + 1))
        body = f"Warsaw, 7 April 2016\n\n# Release {number}\n\nText {refs}\n\n{notes}\n"
        (root / "releases" / f"r{number:03}.md").write_bytes(body.encode())
    return config


def integrity(state: Path) -> str:
    with sqlite3.connect(state / "linkwatch.db", timeout=10) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def backups(state: Path) -> int:
    return sum(1 for _ in (state / "backups").rglob("*.md")) if (state / "backups").exists() else 0


def assert_release_whole(path: Path, original: bytes) -> int:
    """The author's bytes plus whole archive links, one at most per citation; returns how many."""
    text = path.read_bytes().decode("utf-8")
    links = ADDED.findall(text)
    assert len(links) <= PER_RELEASE, f"{path.name}: {len(links)} archive links\n{text}"
    assert ADDED.sub("", text).encode() == original, f"{path.name} is not whole\n{text}"
    return len(links)


def kill_point(
    rng: random.Random,
    site: LoopbackWeb,
    fake: FakeWayback,
    state: Path,
    kills: dict[str, int],
    spent: set[str],
) -> tuple[str, Callable[[], bool]]:
    """What to wait for before the kill: a random amount of more work of the job killed
    least so far among those with work left, saving and rewriting first until each was
    killed 3 times (they end; checking never does), so that each job is killed mid-work
    several times whatever the timing. Rewriting has work only once something was saved
    (it links captures); a job that had no more work when last chosen (`spent`) is not
    chosen again."""
    left = ["check"]
    saves = len(fake.save_requests)
    if saves < URLS and "archive" not in spent:
        left.append("archive")
    if saves and backups(state) < URLS and "rewrite" not in spent:
        left.append("rewrite")
    # Saving and rewriting run dry (checking never does): while either has work left and
    # fewer than 3 kills it goes first, or a busy machine may finish them between kills.
    ending = [job for job in left if job != "check" and kills[job] < 3]
    pool = ending or left
    fewest = min(kills[job] for job in pool)
    job = rng.choice([job for job in pool if kills[job] == fewest])
    if job == "archive":
        wanted = saves + rng.randrange(1, 6)
        return job, lambda: len(fake.save_requests) >= min(wanted, URLS)
    if job == "rewrite":
        target = backups(state) + rng.randrange(1, 6)
        return job, lambda: backups(state) >= target
    requests = site.requests + rng.randrange(1, 40)
    return "check", lambda: site.requests >= requests


def test_kill_9_at_random_moments_loses_nothing(
    tmp_path: Path, loopback_web: LoopbackWeb, wayback: tuple[FakeWayback, str]
) -> None:
    fake, archive = wayback
    rng = random.Random(20261125)
    config = write_releases(tmp_path, loopback_web, archive)
    state = tmp_path / "state"
    originals = {p: p.read_bytes() for p in (tmp_path / "releases").glob("*.md")}
    kills: dict[str, int] = {"check": 0, "archive": 0, "rewrite": 0, "idle": 0}
    spent: set[str] = set()
    rounds = 0
    while rounds < ROUNDS or (
        rounds < MAX_ROUNDS and min(kills["check"], kills["archive"], kills["rewrite"]) < 3
    ):
        rounds += 1
        daemon = DaemonProcess(config)
        try:
            # The first scan (in a niced worker process) may be slow on a busy machine:
            # the time allowed for more work starts once it is done.
            daemon.line(r"job=scan ", timeout=90.0)
            job, ready = kill_point(rng, loopback_web, fake, state, kills, spent)
            try:
                wait_until(ready, timeout=10.0, what=f"{job} work")
            except AssertionError:
                # No more work came: a kill at any moment will do. Saving and rewriting
                # have run dry once every URL was saved; before that, a busy machine was
                # only slow, and the job is chosen again in a later round.
                if len(fake.save_requests) >= URLS:
                    spent.add(job)
                job = "idle"
            kills[job] += 1
            before = history_rows(state)
            daemon.process.send_signal(signal.SIGKILL)
            assert daemon.process.wait(10) == -signal.SIGKILL
        finally:
            daemon.close()
        assert integrity(state) == "ok"
        after = {row[0]: row for row in history_rows(state)}
        for row_id, url_id, first_at, count in before:
            assert row_id in after, f"history row {row_id} lost"
            assert after[row_id][1:3] == (url_id, first_at) and after[row_id][3] >= count
        for path, original in originals.items():
            assert_release_whole(path, original)
    assert min(kills["check"], kills["archive"], kills["rewrite"]) >= 3, kills

    final = DaemonProcess(config)  # picks up where the last one was killed
    try:
        wait_until(
            lambda: len({row[1] for row in history_rows(state)}) == URLS, what="every URL checked"
        )
        wait_until(
            lambda: sum(assert_release_whole(p, o) for p, o in originals.items()) == URLS,
            timeout=40,
            what="every citation linked to its capture",
        )
        final.line(r"check: ")  # up, and past its first check
        assert final.stop(signal.SIGTERM) == 0
    finally:
        final.close()
    assert integrity(state) == "ok"
    saved = [request.url for request in fake.save_requests]
    assert len(saved) == len(set(saved)) == URLS  # each URL saved once, none twice
