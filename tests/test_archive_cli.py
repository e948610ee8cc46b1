"""`linkwatch archive` as people run it: CliRunner and real processes, the fake in a thread."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from linkwatch.archive.backends.wayback import ACCESS_KEY_ENV, SECRET_KEY_ENV
from linkwatch.check.verdict import Streak, Verdict
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.model import CheckResult, State
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, Store
from linkwatch.store.lock import hold_state_lock
from support.fake_wayback import FakeWayback, serve_in_thread, write_project
from support.polling import wait_until

PAGE = "http://news.example/2016/04/story"
EXCLUDED = "http://excluded.example/page"
LINKWATCH = Path(sys.executable).parent / "linkwatch"


@pytest.fixture
def fake() -> FakeWayback:
    return FakeWayback()


@pytest.fixture
def base(fake: FakeWayback) -> Iterator[str]:
    with serve_in_thread(fake) as url:
        yield url


def project(tmp_path: Path, base: str, alive: list[str], extra: str = "") -> Path:
    """A scanned release citing `alive`, every URL checked alive; returns the config path."""
    config = write_project(tmp_path, base, alive, extra=extra)
    settings = load_settings(config)
    now = dt.datetime.now(dt.UTC)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        store.record_checks(
            [
                CheckRecord(
                    target.id,
                    CheckResult(url=target.key, checked_at=now, status=200),
                    Verdict(State.ALIVE, Streak(), "alive in the test"),
                    now + dt.timedelta(days=1),
                )
                for target in store.urls_to_check()
            ]
        )
    return config


def invoke(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], env=env)


def test_archive_saves_chooses_and_the_json_report_shows_it(tmp_path: Path, base: str) -> None:
    config = project(tmp_path, base, [PAGE])
    result = invoke(config, "archive")
    assert result.exit_code == 0, result.output
    assert "archive (wayback): looked up 1, saved 1," in result.output
    report = json.loads(invoke(config, "report", "--format", "json").output)
    [citation] = report["releases"][0]["citations"]
    assert citation["archive_url"].startswith(f"{base}/web/")
    assert citation["archive_timestamp"] is not None


def test_archive_status_shows_the_queue_and_the_refusals(tmp_path: Path, base: str) -> None:
    config = project(tmp_path, base, [PAGE, EXCLUDED])
    assert invoke(config, "archive").exit_code == 0
    status = invoke(config, "archive", "--status")
    assert status.exit_code == 0, status.output
    assert "queue: 0 saves queued" in status.output
    assert "1 saved" in status.output and "refusals: 1" in status.output
    assert f"{EXCLUDED}: HTTP 403" in status.output and "excluded" in status.output


def test_status_reads_without_the_state_lock(tmp_path: Path, base: str) -> None:
    config = project(tmp_path, base, [PAGE])
    with hold_state_lock(tmp_path / "state"):
        assert invoke(config, "archive", "--status").exit_code == 0
        assert invoke(config, "archive").exit_code == 2


def test_unreachable_archive_is_one_line_and_exit_0(tmp_path: Path, unused_tcp_port: int) -> None:
    config = project(tmp_path, f"http://127.0.0.1:{unused_tcp_port}", [PAGE])
    result = invoke(config, "archive")
    assert result.exit_code == 0
    [line] = result.stdout.splitlines()
    assert line.startswith("archive unreachable: ") and line.endswith(": skipped")


def test_disabled_archiving_says_it_skipped(tmp_path: Path, base: str, fake: FakeWayback) -> None:
    config = project(tmp_path, base, [PAGE], extra="enabled = false\n")
    result = invoke(config, "archive")
    assert result.exit_code == 0 and "disabled" in result.output
    assert fake.requests["available"] == 0


def test_one_key_without_the_other_is_a_configuration_error(tmp_path: Path, base: str) -> None:
    config = project(tmp_path, base, [PAGE])
    result = invoke(config, "archive", env={ACCESS_KEY_ENV: "only-half", SECRET_KEY_ENV: ""})
    assert result.exit_code == 2 and SECRET_KEY_ENV in result.output
    assert "only-half" not in result.output


def run_linkwatch(
    config: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINKWATCH), "--config", str(config), "archive"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_the_queue_survives_a_kill_mid_queue(tmp_path: Path) -> None:
    """SIGKILL while saves are in flight; a second process saves the rest, nothing twice."""
    urls = [f"http://site{n}.example/page" for n in range(6)]
    fake = FakeWayback(save_delay=0.3)
    with serve_in_thread(fake) as base:
        config = project(tmp_path, base, urls)
        process = subprocess.Popen(
            [str(LINKWATCH), "--config", str(config), "archive"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: len(fake.save_requests) >= 3 and fake.saves_in_flight == 1)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        assert process.returncode == -signal.SIGKILL
        wait_until(lambda: fake.saves_in_flight == 0)  # the archive finishes the job it had
        assert len(fake.save_requests) < len(urls)  # the kill did land mid-queue
        second = run_linkwatch(config)
        assert second.returncode == 0, second.stderr
    assert [fake.saves_of(url) for url in urls] == [1] * len(urls)  # nothing saved twice
    with Store.open(load_settings(config).state.dir) as store:
        state = store.queue_state("wayback", dt.datetime.now(dt.UTC))
        [release] = store.releases_with_citations()
    assert state.counts == {"saved": len(urls)}  # nothing lost
    assert all(c.archive_url for c in release.citations)
    assert fake.max_saves_in_window() <= 600


def test_credentials_never_reach_output_logs_or_database(tmp_path: Path) -> None:
    access, secret = "ACCESS-5d1f0e", "SECRET-93ab27"
    fake = FakeWayback(keys=(access, secret), spn2_pending_polls=0)
    with serve_in_thread(fake) as base:
        config = project(tmp_path, base, [PAGE, EXCLUDED])
        done = run_linkwatch(config, {ACCESS_KEY_ENV: access, SECRET_KEY_ENV: secret})
    assert done.returncode == 0, done.stderr
    assert "saved 1" in done.stdout and "refused 1" in done.stdout
    assert fake.authorizations == [f"LOW {access}:{secret}"] * 2  # the keys were used
    state_dir = load_settings(config).state.dir
    stored = b"".join(p.read_bytes() for p in state_dir.iterdir() if p.is_file())
    for text in (access, secret):
        assert text not in done.stdout + done.stderr
        assert text.encode() not in stored
