"""Crash safety: `linkwatch rewrite` killed with SIGKILL at random moments, again and again.

After every kill each release must be exactly its old or its new version (never a
mix, never truncated), a scan must bring the store in line with the files, and a
second run must finish the job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.model import State
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot
from support.polling import wait_until

RELEASES = 36
KILLS = 20
CAPTURED = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
LINKWATCH = Path(sys.executable).parent / "linkwatch"


def release_text(n: int) -> tuple[str, str]:
    """A release of a few kilobytes with six citations, in one of the three formats."""
    prose = "The statement was widely reported and disputed. " * 20
    urls = [f"http://host{n}-{k}.example/report/{n}/{k}?id={k}" for k in range(6)]
    if n % 3 == 0:
        notes = "\n\n".join(f"{'¹²³⁴⁵⁶'[k]} <{url}>" for k, url in enumerate(urls))
        return f"r{n:03}.md", f"Warsaw, 7 April 2016\n\n{prose}\n\n{notes}\n"
    if n % 3 == 1:
        notes = "\n".join(
            f'<li id="fn{k}"><a href="{url}">Source {k}</a></li>' for k, url in enumerate(urls)
        )
        return f"r{n:03}.html", f"<html><body><p>{prose}</p>\n<ol>\n{notes}\n</ol></body></html>\n"
    notes = "\r\n".join(f"[{k + 1}] {url}" for k, url in enumerate(urls))
    return f"r{n:03}.txt", f"WARSAW, 7 APRIL 2016\r\n\r\n{prose}\r\n\r\n{notes}\r\n"


def build_project(root: Path) -> Settings:
    releases = root / "releases"
    releases.mkdir(parents=True)
    for n in range(RELEASES):
        name, text = release_text(n)
        (releases / name).write_text(text, encoding="utf-8", newline="")
    (root / "config.toml").write_text(
        '[sources]\npaths = ["releases/*"]\n\n[state]\ndir = "state"\n', encoding="utf-8"
    )
    settings = load_settings(root / "config.toml")
    with Store.open(settings.state.dir) as store:
        scan(settings, store, workers=1)
        for release in store.releases_with_citations():
            for index, citation in enumerate(release.citations):
                if index % 2:
                    continue
                status = store.url_status(citation.url_key)
                assert status is not None
                store.set_pin(status.id, State.DEAD)
                snapshot = ChosenSnapshot(
                    f"https://web.archive.org/web/20160406120000/{citation.url}", CAPTURED
                )
                store.set_chosen_snapshot(release.path, citation.url_key, snapshot, CAPTURED)
    return settings


def files(root: Path) -> dict[str, bytes]:
    """The releases: a temp file a killed writer left is hidden, so no scan reads it."""
    found = sorted((root / "releases").iterdir())
    assert all(p.name.endswith(".linkwatch-tmp") for p in found if p.name.startswith("."))
    return {p.name: p.read_bytes() for p in found if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A scanned project ready to rewrite, and every release as the rewrite leaves it."""
    root = tmp_path_factory.mktemp("pristine")
    build_project(root)
    finished = tmp_path_factory.mktemp("finished") / "project"
    shutil.copytree(root, finished)
    settings = load_settings(finished / "config.toml")
    with Store.open(settings.state.dir) as store:
        summary = rewrite_releases(settings, store)
    assert len(summary.changed) == RELEASES
    return root, files(finished)


def killed_run(work: Path, delay: float) -> bool:
    """`linkwatch rewrite` as a user runs it, SIGKILLed `delay` seconds into its writing;
    whether the kill came before the run ended."""
    process = subprocess.Popen(
        [str(LINKWATCH), "--config", str(work / "config.toml"), "rewrite"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        backups = work / "state" / "backups"
        wait_until(
            lambda: backups.exists() or process.poll() is not None,
            what="the rewrite to start writing (its first backup)",
            interval=0.002,
        )
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.kill()
    finally:
        process.kill()
        process.wait()
    return process.returncode == -signal.SIGKILL


def check_after_kill(
    work: Path, old: dict[str, bytes], new: dict[str, bytes], *, rerun: bool
) -> None:
    """Every release old or new, the store in line after a scan, and (with `rerun`) a second
    run finishes the job."""
    now = files(work)
    assert set(now) == set(old)
    for name, data in now.items():
        assert data in (old[name], new[name]), f"{work.name}: {name} is partial"
    settings = load_settings(work / "config.toml")
    with Store.open(settings.state.dir) as store:
        scan(settings, store, workers=1)
        for name, data in now.items():
            assert store.release_sha256(f"releases/{name}") == hashlib.sha256(data).hexdigest()
        assert store.totals().urls == RELEASES * 6
        if rerun:
            rewrite_releases(settings, store)
    if rerun:
        assert files(work) == new
        assert not [p for p in (work / "releases").iterdir() if p.name.startswith(".")]


def test_sigkill_at_random_moments_leaves_every_release_old_or_new(
    pristine: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    root, new = pristine
    old = files(root)
    chance = random.Random(20160407)
    interrupted = 0
    with ThreadPoolExecutor(max_workers=2) as pool:  # two runs at a time: start-up dominates
        for pair in range(KILLS // 2):
            works = [tmp_path / f"attempt{pair}-{side}" for side in (0, 1)]
            for work in works:
                shutil.copytree(root, work)
            delays = [chance.uniform(0.0, 0.2) for _ in works]
            interrupted += sum(pool.map(killed_run, works, delays))
            for side, work in enumerate(works):
                check_after_kill(work, old, new, rerun=(pair + side) % 3 == 0)
                shutil.rmtree(work)
    assert interrupted > 0, "every run ended before its kill: nothing was tested"
