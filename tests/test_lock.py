"""The state lock: one linkwatch per state directory, never blocked by a dead holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.errors import StateLocked
from linkwatch.store.lock import LOCK_NAME, acquire_state_lock, hold_state_lock

HOLDER = """
import sys
from pathlib import Path
from linkwatch.store.lock import acquire_state_lock
lock = acquire_state_lock(Path(sys.argv[1]))
print("locked", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of tmp_path/state until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "state")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(10)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    process.stdout.close()


def test_second_holder_fails_at_once_naming_the_holder_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(StateLocked) as raised:
        acquire_state_lock(tmp_path / "state")
    assert raised.value.holder == holder.pid
    assert f"pid {holder.pid}" in str(raised.value)


def test_stale_lock_of_a_killed_process_never_blocks(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    lock_file = tmp_path / "state" / LOCK_NAME
    assert lock_file.read_text().strip() == str(holder.pid)  # the dead pid is still written
    with hold_state_lock(tmp_path / "state"):
        assert lock_file.read_text().strip() == str(os.getpid())


def test_two_opens_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    with hold_state_lock(tmp_path / "state"), pytest.raises(StateLocked) as raised:
        acquire_state_lock(tmp_path / "state")
    assert raised.value.holder == os.getpid()


def test_release_lets_the_next_holder_in(tmp_path: Path) -> None:
    first = acquire_state_lock(tmp_path / "state")
    first.release()
    first.release()  # twice is harmless
    second = acquire_state_lock(tmp_path / "state")
    assert second.held and not first.held
    second.release()


def test_lock_is_not_inherited_by_child_processes(tmp_path: Path) -> None:
    with hold_state_lock(tmp_path / "state") as lock:
        fd = lock._fd
        assert fd is not None and not os.get_inheritable(fd)


@pytest.mark.parametrize("command", ["scan", "check", "archive", "rewrite"])
def test_writing_commands_exit_2_while_the_state_is_locked(project: Path, command: str) -> None:
    with hold_state_lock(project / "state"):
        result = CliRunner().invoke(main, ["--config", str(project / "config.toml"), command])
    assert result.exit_code == 2
    assert f"pid {os.getpid()}" in result.output
