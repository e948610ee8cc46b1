"""A release folder the daemon cannot write, while rewriting is on: one warning at start-up.

The case of the container: compose (or `docker run -v`) creates a missing
./releases owned by root, and the image's user (uid 10001) cannot rename a
rewritten file into it. The folders here are really unwritable, in a way that
holds for root too (root ignores permission bits): as root, a tmpfs remounted
read-only (support/disks.py); otherwise, a folder of mode 0555.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from linkwatch.rewrite.folders import release_folders, unwritable, unwritable_warning
from support.daemon import DaemonProcess, LoopbackWeb, write_project
from support.disks import remount_read_only, tmpfs


@contextmanager
def cannot_write(folder: Path) -> Iterator[Path]:
    """`folder` with whatever files were put in it by then, made unwritable for this process."""
    if os.geteuid() == 0:
        with tmpfs(folder.with_name(folder.name + ".disk"), "1m") as disk:
            for item in folder.iterdir():
                (disk / item.name).write_bytes(item.read_bytes())
            remount_read_only(disk)
            yield disk
    else:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


def test_each_glob_starts_from_its_fixed_folder(tmp_path: Path) -> None:
    patterns = [
        "releases/*.md",
        "/releases/**/*.md",
        "/releases/**/*.html",  # the same folder, named once
        "/srv/site/news/2016-??-*.htm",
        "archive/[0-9]*/*.txt",
        "one/release.md",  # no wildcard: the file's folder
        "*.md",
        "~/press/*.md",
    ]
    assert release_folders(patterns, tmp_path) == [
        tmp_path / "releases",
        Path("/releases"),
        Path("/srv/site/news"),
        tmp_path / "archive",
        tmp_path / "one",
        tmp_path,
        Path.home() / "press",
    ]


def test_a_folder_this_process_cannot_write_is_found(tmp_path: Path) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "open").mkdir()
    with cannot_write(tmp_path / "locked") as locked:
        with pytest.raises(OSError):  # the fixture is real: a file cannot be made there
            (locked / "probe").write_bytes(b"")
        folders = [locked, tmp_path / "open", tmp_path / "missing"]
        assert unwritable(folders) == [locked]
        assert not (locked / "probe").exists()


def test_the_warning_names_the_folders_the_uid_and_the_way_out() -> None:
    line = unwritable_warning([Path("/releases"), Path("/srv/news")], "dead")
    assert f"uid {os.geteuid()} (gid {os.getegid()}) cannot write to /releases, /srv/news" in line
    assert line.startswith("rewrite.mode = 'dead'")
    assert f"chown {os.geteuid()}" in line and 'rewrite.mode = "off"' in line
    assert "\n" not in line


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackWeb]:
    web = LoopbackWeb().start()
    yield web
    web.stop()


@contextmanager
def daemon_with(root: Path, site: LoopbackWeb, mode: str, locked: bool) -> Iterator[DaemonProcess]:
    """A daemon whose releases are `root/releases` (unwritable if `locked`), with
    rewrite.mode = `mode`, once its first scan and check are done."""
    config = write_project(root, [f"{site.base}/page/1"])
    text = config.read_text(encoding="utf-8").replace('mode = "off"', f'mode = "{mode}"')
    with cannot_write(root / "releases") if locked else _same(root / "releases") as releases:
        text = text.replace('paths = ["releases/*.md"]', f'paths = ["{releases}/*.md"]')
        config.write_text(text, encoding="utf-8")
        daemon = DaemonProcess(config)
        try:
            daemon.line(r"scan: 1 releases")
            daemon.line(r"check: checked 1 URLs")
            yield daemon
        finally:
            daemon.close()


@contextmanager
def _same(folder: Path) -> Iterator[Path]:
    yield folder


def warnings_about_folders(daemon: DaemonProcess) -> list[str]:
    return [line for line in daemon.lines if "cannot write to" in line]


def test_the_daemon_warns_once_and_keeps_running(tmp_path: Path, site: LoopbackWeb) -> None:
    with daemon_with(tmp_path, site, "dead", locked=True) as daemon:
        [line] = warnings_about_folders(daemon)
        assert re.search(r"\bWARNING\b", line), line
        folder = tmp_path / ("releases.disk" if os.geteuid() == 0 else "releases")
        assert f"uid {os.geteuid()} (gid {os.getegid()}) cannot write to {folder}:" in line
        assert daemon.get("/healthz")[0] == 200
        assert not [ln for ln in daemon.lines if re.search(r"\b(ERROR|CRITICAL)\b", ln)]
        assert daemon.stop() == 0
    assert len(warnings_about_folders(daemon)) == 1


@pytest.mark.parametrize(
    ("mode", "locked"), [("off", True), ("dead", False)], ids=["rewrite-off", "writable"]
)
def test_no_warning_when_rewriting_is_off_or_the_folder_is_writable(
    tmp_path: Path, site: LoopbackWeb, mode: str, locked: bool
) -> None:
    with daemon_with(tmp_path, site, mode, locked) as daemon:
        assert daemon.get("/healthz")[0] == 200
        assert daemon.stop() == 0
    assert warnings_about_folders(daemon) == []
