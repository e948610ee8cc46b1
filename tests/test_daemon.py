"""`linkwatch run` as a real process: endpoint, jobs, the state lock, signals, `--once`.

Every daemon here is the installed console script on a temporary state
directory, with schedules of seconds, checking sites served from a thread of
this process on 127.0.0.1. The daemon listens on port 0 and says where in its
"listening on" log line. Nothing sleeps to wait: each wait polls a condition
until a deadline.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from linkwatch.check.verdict import Streak, Verdict
from linkwatch.config.loading import load_settings
from linkwatch.model import CheckResult, State
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, Store
from linkwatch.store.archive import ChosenSnapshot
from support.daemon import EXE, DaemonProcess, LoopbackWeb, history_rows, write_project
from support.polling import wait_until


@pytest.fixture
def start_daemon() -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config: Path, *args: str) -> DaemonProcess:
        started.append(DaemonProcess(config, *args))
        return started[-1]

    yield start
    for daemon in started:
        daemon.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaemonProcess, Path]]:
    """One daemon for the tests that only look at it: its process and its config."""
    site = LoopbackWeb().start()
    root = tmp_path_factory.mktemp("running")
    config = write_project(root, [f"{site.base}/page/1", f"{site.base}/gone/2"])
    daemon = DaemonProcess(config)
    daemon.line(r"check: checked 2 URLs")
    yield daemon, config
    daemon.close()
    site.stop()


# --------------------------------------------------------------------------- tests


def test_healthz_answers_200_with_json_detail(running: tuple[DaemonProcess, Path]) -> None:
    daemon, _ = running
    status, body = daemon.get("/healthz")
    detail = json.loads(body)
    assert status == 200
    assert detail["status"] == "ok" and detail["scheduler"] == "running"
    assert detail["database"] == "ok" and detail["pid"] == daemon.pid
    assert detail["jobs"]["check"]["last_success"] is not None


def test_metrics_are_prometheus_text_with_linkwatch_series(
    running: tuple[DaemonProcess, Path],
) -> None:
    daemon, _ = running
    # The counts are refreshed once the check's results are stored, just after its log line.
    wait_until(
        lambda: 'linkwatch_citations{state="alive"} 1.0' in daemon.get("/metrics")[1],
        what="the checked citation counted",
    )
    status, body = daemon.get("/metrics")
    assert status == 200
    assert re.search(r'linkwatch_checks_total\{outcome="2xx"\} [1-9]', body)
    assert 'linkwatch_job_last_success_timestamp_seconds{job="scan"}' in body
    assert "linkwatch_check_duration_seconds_bucket" in body
    assert "linkwatch_archive_queue_length" in body
    assert "python_gc" not in body  # a registry of its own, not the global one


def test_root_serves_the_html_report(running: tuple[DaemonProcess, Path]) -> None:
    daemon, _ = running
    status, body = daemon.get("/")
    assert status == 200
    assert "<html" in body and "/gone/2" in body


def test_endpoints_are_read_only(running: tuple[DaemonProcess, Path]) -> None:
    daemon, _ = running
    request = urllib.request.Request(daemon.url + "/healthz", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 405


def test_jobs_ran_and_history_rows_appear(running: tuple[DaemonProcess, Path]) -> None:
    _, config = running
    rows = wait_until(lambda: history_rows(config.parent / "state"), what="history rows")
    assert {url_id for _, url_id, _, _ in rows} == {1, 2}


def test_second_instance_exits_non_zero_naming_the_holder(
    running: tuple[DaemonProcess, Path],
) -> None:
    daemon, config = running
    second = subprocess.run(
        [str(EXE), "--config", str(config), "run"], capture_output=True, text=True, timeout=30
    )
    assert second.returncode == 2
    assert f"pid {daemon.pid}" in second.stderr


def test_check_command_is_refused_while_the_daemon_runs(
    running: tuple[DaemonProcess, Path],
) -> None:
    daemon, config = running
    check = subprocess.run(
        [str(EXE), "--config", str(config), "check", "--all"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 2 and f"pid {daemon.pid}" in check.stderr


def busy_project(tmp_path: Path, site: LoopbackWeb) -> Path:
    """Ten fast pages and forty that answer only after half a minute."""
    urls = [f"{site.base}/page/{n}" for n in range(10)]
    urls += [f"{site.base}/slow/{n}" for n in range(40)]
    return write_project(tmp_path, urls, run={"grace": "3s"})


def test_healthz_answers_while_a_check_waits_on_slow_servers(
    tmp_path: Path, loopback_web: LoopbackWeb, start_daemon: Callable[..., DaemonProcess]
) -> None:
    daemon = start_daemon(busy_project(tmp_path, loopback_web))
    wait_until(lambda: loopback_web.in_flight >= 40, what="slow requests in flight")
    started = time.monotonic()
    status, body = daemon.get("/healthz", timeout=2)
    assert status == 200 and json.loads(body)["jobs"]["check"]["running"] is True
    assert time.monotonic() - started < 2.0


def test_sigterm_exits_0_within_the_grace_period_with_results_saved(
    tmp_path: Path, loopback_web: LoopbackWeb, start_daemon: Callable[..., DaemonProcess]
) -> None:
    daemon = start_daemon(busy_project(tmp_path, loopback_web))
    state = tmp_path / "state"
    wait_until(lambda: loopback_web.in_flight >= 40, what="slow requests in flight")
    signalled = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - signalled < 3.0 + 1.5  # run.grace, and slack for a busy machine
    rows = history_rows(state)
    assert len({url_id for _, url_id, _, _ in rows}) == 10  # the fast pages, all saved
    assert any("interrupted" in line for line in daemon.lines)


def test_sigint_stops_an_idle_daemon_at_once(
    tmp_path: Path, loopback_web: LoopbackWeb, start_daemon: Callable[..., DaemonProcess]
) -> None:
    daemon = start_daemon(write_project(tmp_path, [f"{loopback_web.base}/page/1"]))
    daemon.line(r"check: checked 1 URLs")
    signalled = time.monotonic()
    assert daemon.stop(signal.SIGINT) == 0
    assert time.monotonic() - signalled < 2.5
    assert "stopped" in daemon.lines[-1]


def test_once_runs_a_full_cycle_and_exits_0(tmp_path: Path, loopback_web: LoopbackWeb) -> None:
    config = write_project(tmp_path, [f"{loopback_web.base}/page/1", f"{loopback_web.base}/x"])
    once = subprocess.run(
        [str(EXE), "--config", str(config), "run", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert once.returncode == 0, once.stderr
    assert "scan: 1 releases" in once.stderr and "check: checked 2 URLs" in once.stderr
    assert len(history_rows(tmp_path / "state")) == 2


def test_json_log_format_gives_one_object_per_line(
    tmp_path: Path, loopback_web: LoopbackWeb
) -> None:
    config = write_project(tmp_path, [f"{loopback_web.base}/page/1"], run={"log_format": "json"})
    once = subprocess.run(
        [str(EXE), "--config", str(config), "run", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    events = [json.loads(line) for line in once.stderr.splitlines()]
    check = next(e for e in events if e.get("job") == "check")
    assert check["level"] == "info" and check["checked"] == 1
    assert all({"time", "level", "logger", "message"} <= set(e) for e in events)


def test_a_taken_port_exits_2_with_the_address(tmp_path: Path, loopback_web: LoopbackWeb) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_project(
            tmp_path, [f"{loopback_web.base}/page/1"], run={"listen": f"127.0.0.1:{port}"}
        )
        result = subprocess.run(
            [str(EXE), "--config", str(config), "run"], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr and "cannot listen" in result.stderr


class Inbox:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(bytes(envelope.content))
        return "250 2.0.0 queued"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_due_digest_is_sent_once_and_not_again_after_a_restart(
    tmp_path: Path,
    loopback_web: LoopbackWeb,
    smtp: tuple[Inbox, int],
    start_daemon: Callable[..., DaemonProcess],
) -> None:
    inbox, port = smtp
    config = write_project(
        tmp_path,
        [f"{loopback_web.base}/page/1"],
        extra=(
            f'\n[digest]\nto = "press@example.org"\nsmtp_host = "127.0.0.1"\n'
            f'smtp_port = {port}\ntls = "none"\nschedule = "* * * * *"\n'
        ),
    )
    first = start_daemon(config)
    first.line(r"digest: sent: ")
    assert first.stop() == 0
    second = start_daemon(config)
    second.line(r"digest: already sent")
    assert second.stop() == 0
    assert len(inbox.messages) == 1 and b"press@example.org" in inbox.messages[0]


def test_archive_saves_show_in_the_log_and_the_metrics(
    tmp_path: Path, loopback_web: LoopbackWeb, start_daemon: Callable[..., DaemonProcess]
) -> None:
    from support.fake_wayback import FakeWayback, serve_in_thread

    fake = FakeWayback()
    with serve_in_thread(fake) as archive:
        config = write_project(tmp_path, [f"{loopback_web.base}/page/1"])
        text = config.read_text(encoding="utf-8").replace(
            "enabled = false", f'wayback_url = "{archive}"\nsaves_per_minute = 600\nlookup = []'
        )
        config.write_text(text, encoding="utf-8")
        daemon = start_daemon(config)
        daemon.line(r"archive: \d+ looked up, 1 saved")
        _, metrics = daemon.get("/metrics")
        assert daemon.stop() == 0
    assert 'linkwatch_archive_saves_total{outcome="saved"} 1.0' in metrics
    assert "linkwatch_archive_queue_length 0.0" in metrics
    assert fake.saves_of(f"{loopback_web.base}/page/1") == 1


def _raise_open_files_limit(wanted: int) -> int:
    """As many sockets as `wanted` if the hard limit allows (a clean machine may say 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = hard if hard != resource.RLIM_INFINITY else wanted + 256
    if soft < wanted + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(ceiling, wanted + 256), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(wanted, soft - 256)


def test_a_slowloris_leaves_healthz_answering_and_the_log_quiet(
    tmp_path: Path, loopback_web: LoopbackWeb, start_daemon: Callable[..., DaemonProcess]
) -> None:
    """1,100 connections from one address (127.0.0.2), each sending the start of a request
    and never the end: at most the per-peer limit is held, the rest are answered 503 and
    closed, /healthz from another address answers every time, and the log stays short."""
    config = write_project(tmp_path, [f"{loopback_web.base}/page/1"])
    daemon = start_daemon(config)
    daemon.line(r"check: checked 1 URL")
    host, port = daemon.url.removeprefix("http://").rsplit(":", 1)
    count = _raise_open_files_limit(1100)
    logged_before = len(daemon.lines)
    attackers: list[socket.socket] = []
    try:
        for _ in range(count):
            attacker = socket.create_connection((host, int(port)), 5, ("127.0.0.2", 0))
            attacker.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
            attackers.append(attacker)
        answers = [daemon.get("/healthz", timeout=5)[0] for _ in range(12)]
        descriptors = len(list(Path(f"/proc/{daemon.pid}/fd").iterdir()))
    finally:
        for attacker in attackers:
            attacker.close()
    assert count >= 500, f"only {count} sockets could be opened"
    assert answers == [200] * 12
    assert descriptors < 64 + 150, descriptors  # the held ones (64) and the daemon's own
    assert len(daemon.lines) - logged_before < 30, daemon.lines[logged_before:]


def test_a_recovered_citation_is_reverted_by_the_daemon_after_a_check(
    tmp_path: Path, loopback_web: LoopbackWeb, start_daemon: Callable[..., DaemonProcess]
) -> None:
    """`rewrite.on_recovery = "revert"`: no state change marks the day a recovery is
    complete, so the daemon lets the rewrite look after every check run. The URL died
    40 days ago (the release was rewritten to its snapshot) and has been alive for a week;
    the daemon's first check finds it alive, and the release is its author's text again."""
    url = f"{loopback_web.base}/page/7"
    config = write_project(
        tmp_path, [url], extra='\n[rewrite]\nmode = "dead"\non_recovery = "revert"\n'
    )
    config.write_text(
        config.read_text(encoding="utf-8").replace('[rewrite]\nmode = "off"\n\n', ""),
        encoding="utf-8",
    )
    release = tmp_path / "releases" / "r000.md"
    original = release.read_bytes()
    settings = load_settings(config)
    now = dt.datetime.now(dt.UTC)
    day = dt.timedelta(days=1)

    def checked(store: Store, state: State, at: dt.datetime) -> None:
        status = store.url_status(url)
        assert status is not None
        code = 200 if state is State.ALIVE else 404
        result = CheckResult(url=url, checked_at=at, status=code)
        verdict = Verdict(state, Streak(), f"{state} in the test")
        store.record_checks([CheckRecord(status.id, result, verdict, at + day)])

    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        for ago in (40, 38, 36):
            checked(store, State.DEAD, now - ago * day)
        snapshot = ChosenSnapshot(f"https://web.archive.org/web/20160406120000/{url}", now)
        store.set_chosen_snapshot("releases/r000.md", url, snapshot, now - 36 * day)
        assert rewrite_releases(settings, store, now=now - 35 * day, workers=0).added == 1
        for ago in (8, 4, 1):
            checked(store, State.ALIVE, now - ago * day)
    assert release.read_bytes() != original
    daemon = start_daemon(config)
    daemon.line(r"check: checked 1 URLs")
    wait_until(lambda: release.read_bytes() == original, what="the archive link removed")
