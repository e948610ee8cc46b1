"""Bad state, clear words: a locked, read-only, damaged or full store, and interrupted work.

Each case is real: another connection holding SQLite's write lock, a tmpfs
remounted read-only, a tmpfs filled to the last bytes, a `kill -9`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot
from support.disks import fill, remount_read_only, tmpfs
from support.polling import wait_until

SEED = Path(__file__).parent / "fixtures" / "2016-04-07-juncker-kazakhstan.md"
EXE = Path(sys.executable).parent / "linkwatch"
CAPTURED = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)


def make_project(root: Path, releases: int = 1) -> Path:
    (root / "releases").mkdir(parents=True, exist_ok=True)
    for number in range(releases):
        shutil.copy(SEED, root / "releases" / f"r{number:03}.md")
    config = root / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n[state]\ndir = "state"\n\n'
        '[rewrite]\nmode = "all"\n',
        encoding="utf-8",
    )
    return config


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def snapshot_every_citation(config: Path) -> None:
    """Scanned, each URL alive and given a snapshot: ready for `rewrite --mode all`."""
    settings = load_settings(config)
    with Store.open(settings.state.dir) as store:
        scan(settings, store, workers=1)
        for release in store.releases_with_citations():
            for citation in release.citations:
                url = f"https://web.archive.org/web/20160406120000/{citation.url}"
                store.set_chosen_snapshot(
                    release.path, citation.url_key, ChosenSnapshot(url, CAPTURED, 200), CAPTURED
                )


def digest_of(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha.update(path.name.encode() + path.read_bytes())
    return sha.hexdigest()


# --- a locked database -------------------------------------------------------------


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A scanned project whose database another process holds with BEGIN EXCLUSIVE."""
    config = make_project(tmp_path)
    assert invoke(config, "scan").exit_code == 0
    holder = sqlite3.connect(tmp_path / "state" / "linkwatch.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield config
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize(
    "args",
    [
        ["scan"],
        ["mark", "http://euobserver.com/foreign/132858", "dead"],
        ["check", "--all"],
        ["rewrite"],
    ],
)
def test_a_locked_database_is_said_in_one_line_and_nothing_is_touched(
    locked: Path, args: list[str]
) -> None:
    before = digest_of(locked.parent / "releases")
    result = invoke(locked, *args)
    assert result.exit_code == 2, result.output
    assert "locked by another process" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert digest_of(locked.parent / "releases") == before


def test_a_locked_database_can_still_be_reported(locked: Path) -> None:
    """Reading needs no lock: a report works beside a process that writes."""
    result = invoke(locked, "report", "--format", "json")
    assert result.exit_code == 0 and '"releases"' in result.output


def test_a_file_that_is_not_a_database_is_said_so(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "linkwatch.db").write_bytes(b"this is a word processor file\n" * 200)
    result = invoke(config, "scan")
    assert result.exit_code == 2 and "not a linkwatch database" in result.output


def test_a_read_only_database_is_said_so(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "8m") as disk:
        config = make_project(disk)
        assert invoke(config, "scan").exit_code == 0
        before = (disk / "state" / "linkwatch.db").read_bytes()
        remount_read_only(disk)
        for args in (["scan"], ["check", "--all"], ["mark", "http://euobserver.com/", "dead"]):
            result = invoke(config, *args)
            assert result.exit_code == 2, result.output
            assert "read-only" in result.output and "Traceback" not in result.output
        assert (disk / "state" / "linkwatch.db").read_bytes() == before


# --- a full disk ---------------------------------------------------------------------


def test_a_full_disk_during_a_rewrite_records_only_what_was_written(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        config = make_project(disk, releases=3)
        snapshot_every_citation(config)
        originals = {p.name: p.read_bytes() for p in (disk / "releases").iterdir()}
        fill(disk, leave=2048)  # room for the backups (hard links), not for new versions
        result = invoke(config, "rewrite")
        assert "Traceback" not in result.output
        assert "No space left on device" in result.output or "disk is full" in result.output
        assert len(result.output.strip().splitlines()) <= 4  # a line per release, a summary
        (disk / ".filler").unlink()
        settings = load_settings(config)
        with Store.open(settings.state.dir, writing=False) as store:
            logged = {r.path for path in originals for r in store.rewrites_of(f"releases/{path}")}
            known = store.known_releases()
        for name, data in originals.items():
            now = (disk / "releases" / name).read_bytes()
            if f"releases/{name}" not in logged:
                assert now == data, f"{name} changed but its rewrite was not logged"
            assert known[f"releases/{name}"].sha256 in (
                hashlib.sha256(now).hexdigest(),
                hashlib.sha256(data).hexdigest(),
            )
        again = invoke(config, "rewrite")
        assert again.exit_code == 0, again.output  # nothing stale: it carries on


def test_a_full_disk_during_a_scan_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", "4m") as disk:
        config = make_project(disk, releases=1)
        assert invoke(config, "scan").exit_code == 0
        for number in range(1, 40):
            shutil.copy(SEED, disk / "releases" / f"r{number:03}.md")
        fill(disk, leave=4096)
        result = invoke(config, "scan")
        assert result.exit_code in (1, 2) and "Traceback" not in result.output
        assert "disk is full" in result.output or "No space left" in result.output


# --- interrupted work ------------------------------------------------------------------


def test_a_rewrite_whose_store_update_was_lost_carries_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files were replaced and the rewrite logged, but the store's update of the
    releases failed (a full disk; a kill at that moment leaves the same): the next rewrite
    knows the files by the hash it logged, reads them again and goes on, instead of
    refusing them as 'changed since scan'. The failure is stood in for by a store method
    that raises, as SQLite does on a full disk (the full-disk test above shows the rest)."""
    config = make_project(tmp_path, releases=2)
    snapshot_every_citation(config)
    settings = load_settings(config)

    def disk_full(*args: object, **kwargs: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    with Store.open(settings.state.dir) as store:
        monkeypatch.setattr(store, "save_releases", disk_full)
        with pytest.raises(sqlite3.OperationalError):
            rewrite_releases(settings, store)
    with Store.open(settings.state.dir) as store:
        assert len(store.written_hashes()) == 2  # logged, and the files replaced
        again = rewrite_releases(settings, store)
        known = store.known_releases()
    assert again.ok and not again.needs_scan, again.skipped
    for path, release in known.items():
        data = (tmp_path / path).read_bytes()
        assert release.sha256 == hashlib.sha256(data).hexdigest()
        assert b"archived" in data


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_scan_workers_die_with_a_killed_scan(tmp_path: Path) -> None:
    config = make_project(tmp_path, releases=400)  # enough for the pool of worker processes
    scanning = subprocess.Popen(
        [str(EXE), "--config", str(config), "scan"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        workers = wait_until(lambda: len(_descendants(scanning.pid)) >= 3, what="the pool")
        assert workers
        family = _descendants(scanning.pid)
        os.kill(scanning.pid, signal.SIGKILL)
        scanning.wait(10)
        wait_until(lambda: not any(_alive(pid) for pid in family), timeout=10,
                   what="the workers to exit")  # fmt: skip
    finally:
        if scanning.poll() is None:
            scanning.kill()
            scanning.wait(10)
