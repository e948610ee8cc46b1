"""Notifications through Apprise to real receivers on 127.0.0.1: once per event, ever,
retried with backoff, never doubled by a kill between sending and recording."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from click.testing import CliRunner, Result

from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config.loading import load_settings
from linkwatch.notify.kinds import DeliveryStatus
from linkwatch.notify.run import DIE_AFTER_SEND_ENV, RETRY_FIRST, STALE, notify_pass
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.daemon import EXE, LoopbackWeb, write_project
from support.tls_proxy import TerminatingProxy
from support.webhooks import WebhookReceiver

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
TOKEN = "s3cr3t-hook-token-0042"


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests honours the proxy variables: none may send the loopback hooks elsewhere."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


@pytest.fixture
def second() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver().start()
    yield hook
    hook.stop()


def notify_table(urls: list[str], *, on: str = "", public_url: str = "") -> str:
    quoted = ", ".join(f'"{url}"' for url in urls)
    text = f"\n[notify]\nurls = [{quoted}]\n"
    if on:
        text += f"on = {on}\n"
    if public_url:
        text = f'public_url = "{public_url}"\n' + text
    return text


def project(root: Path, urls: list[str], notify: str, releases: int = 1) -> Path:
    return write_project(root, urls, releases=releases, extra=notify)


def cli(config: Path, *args: str, moment: dt.datetime = NOW) -> Result:
    return CliRunner().invoke(
        main, ["--config", str(config), *args], obj={"clock": fixed_clock(moment)}
    )


async def notify(config: Path, moment: dt.datetime = NOW) -> object:
    settings = load_settings(config)
    with AsyncStore.open(settings.state.dir) as db:
        return await notify_pass(settings, db, fixed_clock(moment))


def deliveries(config: Path) -> list[tuple[str, int]]:
    with Store.open(load_settings(config).state.dir, writing=False) as store:
        return [(r.status.value, r.attempts) for r in store.delivery_records(100)]


def scanned(config: Path) -> None:
    result = cli(config, "scan")
    assert result.exit_code == 0, result.output


async def test_a_citation_newly_dead_is_told_once_with_its_release_and_archived_copy(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    urls = ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]
    config = project(
        tmp_path,
        urls,
        notify_table(
            [f"json://127.0.0.1:{receiver.port}/hook"],
            public_url="https://linkwatch.example.org",
        ),
    )
    scanned(config)
    await notify(config)  # the baseline: nothing dead yet, nothing told
    assert receiver.received == []
    assert cli(config, "mark", urls[0], "dead").exit_code == 0
    await notify(config)
    [message] = receiver.received
    payload = message.json
    assert payload["title"] == "linkwatch: 1 URL newly dead"
    body = payload["message"]
    assert "http://127.0.0.1:9/a" in body and "http://127.0.0.1:9/b" not in body
    assert "releases/r000.md [1]" in body and "no archived copy" in body
    assert "https://linkwatch.example.org/?state=dead" in body
    assert "The report: https://linkwatch.example.org/" in body
    for moment in (NOW, NOW + dt.timedelta(days=30)):
        await notify(config, moment)
    assert len(receiver.received) == 1  # never about the same link again
    assert deliveries(config) == [("sent", 1)]


async def test_what_was_dead_before_notifications_were_set_up_is_not_told(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    urls = ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"]
    config = project(
        tmp_path,
        urls,
        notify_table([f"json://127.0.0.1:{receiver.port}/hook"], on='["soft404"]'),
    )
    scanned(config)
    assert cli(config, "mark", urls[0], "dead").exit_code == 0
    await notify(config)  # dead is not watched
    assert receiver.received == []
    (tmp_path / "config.toml").write_text(
        config.read_text().replace('on = ["soft404"]', 'on = ["soft404", "dead"]')
    )
    await notify(config)  # dead is watched from now on: what is dead already is the baseline
    assert receiver.received == []
    assert cli(config, "mark", urls[1], "dead").exit_code == 0
    await notify(config)
    [message] = receiver.received
    assert "/b" in message.json["message"] and "127.0.0.1:9/a" not in message.json["message"]


async def test_a_failed_delivery_is_retried_after_its_backoff_and_only_where_it_failed(
    tmp_path: Path, receiver: WebhookReceiver, second: WebhookReceiver
) -> None:
    urls = ["http://127.0.0.1:9/a"]
    config = project(
        tmp_path,
        urls,
        notify_table(
            [f"json://127.0.0.1:{receiver.port}/one", f"json://127.0.0.1:{second.port}/two"]
        ),
    )
    scanned(config)
    await notify(config)
    assert cli(config, "mark", urls[0], "dead").exit_code == 0
    second.fail_next = 1
    summary = await notify(config)
    assert (summary.sent, summary.failed) == (1, 1)  # type: ignore[attr-defined]
    await notify(config, NOW + RETRY_FIRST - dt.timedelta(seconds=1))  # backoff not over
    assert len(second.received) == 0
    await notify(config, NOW + RETRY_FIRST + dt.timedelta(seconds=1))
    assert len(second.received) == 1 and len(receiver.received) == 1
    assert second.received[0].body == receiver.received[0].body  # the same message
    assert sorted(deliveries(config)) == [("sent", 1), ("sent", 2)]


async def test_jsons_webhooks_go_over_tls_trusting_the_ca_in_requests_ca_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    hook = WebhookReceiver(ssl_context=context).start()
    try:
        urls = ["http://127.0.0.1:9/a"]
        config = project(tmp_path, urls, notify_table([f"jsons://127.0.0.1:{hook.port}/hook"]))
        scanned(config)
        await notify(config)
        assert cli(config, "mark", urls[0], "dead").exit_code == 0
        summary = await notify(config)  # the system store does not know the test CA
        assert summary.failed == 1 and not hook.received  # type: ignore[attr-defined]
        with ca.cert_pem.tempfile() as bundle:
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
            await notify(config, NOW + RETRY_FIRST)
        [message] = hook.received
        assert message.json["title"] == "linkwatch: 1 URL newly dead"
    finally:
        hook.stop()


async def test_matrix_webhook_form_posts_its_own_shape_to_a_self_hosted_bridge(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    """Apprise's Matrix URL takes any host: `?mode=matrix` posts the shape of
    matrix-appservice-webhooks, `?mode=slack` a Slack webhook payload."""
    urls = ["http://127.0.0.1:9/a"]
    base = f"matrix://linkwatch:{TOKEN}@127.0.0.1:{receiver.port}/"
    config = project(tmp_path, urls, notify_table([base + "?mode=matrix", base + "?mode=slack"]))
    scanned(config)
    await notify(config)
    assert cli(config, "mark", urls[0], "dead").exit_code == 0
    await notify(config)
    by_shape = {("attachments" in r.json): r for r in receiver.received}
    matrix, slack = by_shape[False], by_shape[True]
    assert matrix.path == slack.path == f"/api/v1/matrix/hook/{TOKEN}"
    assert matrix.json["displayName"] == "linkwatch" and matrix.json["format"] == "plain"
    assert matrix.json["text"].startswith("linkwatch: 1 URL newly dead")
    [attachment] = slack.json["attachments"]
    assert attachment["title"] == "linkwatch: 1 URL newly dead"
    assert "http://127.0.0.1:9/a" in attachment["text"]


def test_a_kill_between_sending_and_recording_never_sends_the_message_twice(
    tmp_path: Path, receiver: WebhookReceiver, loopback_web: LoopbackWeb
) -> None:
    """`linkwatch check` is killed (SIGKILL, by the test hook) right after the send."""
    urls = [f"{loopback_web.base}/page/1", f"{loopback_web.base}/page/2"]
    config = project(tmp_path, urls, notify_table([f"json://127.0.0.1:{receiver.port}/hook"]))
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}

    def run(*args: str, die: bool = False) -> subprocess.CompletedProcess[str]:
        extra = {DIE_AFTER_SEND_ENV: "1"} if die else {}
        return subprocess.run(
            [str(EXE), "--config", str(config), *args],
            env=env | extra,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("scan").returncode == 0
    assert run("check", "--all").returncode == 0  # the baseline
    assert run("mark", urls[0], "dead").returncode == 0
    killed = run("check", "--all", die=True)
    assert killed.returncode == -9, killed.stderr
    assert len(receiver.received) == 1
    assert deliveries(config) == [("sending", 1)]
    again = run("check", "--all")
    assert again.returncode == 0, again.stderr
    assert len(receiver.received) == 1  # the attempt in flight is not made again
    later = NOW.replace(year=2030) + STALE  # long after: the attempt is settled, not resent
    cli(config, "check", "--all", moment=later)
    # Years later other pages may have died (and are told); the first message never again.
    assert sum(urls[0].encode() in r.body for r in receiver.received) == 1
    assert (DeliveryStatus.UNCONFIRMED.value, 1) in deliveries(config)


def test_secrets_in_notify_urls_never_reach_the_store_or_the_output(
    tmp_path: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKWATCH_HOOK", TOKEN)
    urls = ["http://127.0.0.1:9/a"]
    hooks = [
        f"json://127.0.0.1:{receiver.port}/hook/${{LINKWATCH_HOOK}}",
        "json://127.0.0.1:9/down/${LINKWATCH_HOOK}",  # nothing listens: an error to log
    ]
    config = project(tmp_path, urls, notify_table(hooks))
    scanned(config)
    outputs = [cli(config, "notify", "--status").output, cli(config, "archive").output]
    assert cli(config, "mark", urls[0], "dead").exit_code == 0
    first = cli(config, "archive")  # any command that ends with a notify pass
    outputs.append(first.output)
    outputs += [  # the failed delivery is retried an hour on
        cli(config, "archive", moment=NOW + dt.timedelta(hours=1)).output,
        cli(config, "notify", "--status").output,
        cli(config, "notify", "--test").output,
    ]
    assert receiver.received and receiver.received[0].path == f"/hook/{TOKEN}"
    assert "not sent" in "".join(outputs)  # the failing URL was reported...
    for text in outputs:
        assert TOKEN not in text  # ...masked
    for path in (tmp_path / "state").iterdir():
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path.name


def test_notify_test_says_per_url_what_happened_and_fails_if_one_failed(
    tmp_path: Path, receiver: WebhookReceiver, second: WebhookReceiver
) -> None:
    second.fail_next = 1
    config = project(
        tmp_path,
        ["http://127.0.0.1:9/a"],
        notify_table(
            [f"json://127.0.0.1:{receiver.port}/ok", f"json://127.0.0.1:{second.port}/down"]
        ),
    )
    result = cli(config, "notify", "--test")
    assert result.exit_code == 1, result.output
    ok_line, failed_line = result.output.splitlines()[:2]
    assert ok_line.startswith(f"sent: json://127.0.0.1:{receiver.port}/ok")
    assert failed_line.startswith(f"failed: json://127.0.0.1:{second.port}/down")
    [test_message] = receiver.received
    assert test_message.json["title"] == "linkwatch: test message"
    second.fail_next = 0
    assert cli(config, "notify", "--test").exit_code == 0


def test_a_variable_missing_from_the_environment_is_a_config_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINKWATCH_NOT_SET", raising=False)
    config = project(tmp_path, [], notify_table(["json://hooks.test/${LINKWATCH_NOT_SET}"]))
    result = cli(config, "notify", "--test")
    assert result.exit_code == 2
    assert "notify.urls" in result.output and "LINKWATCH_NOT_SET" in result.output
    monkeypatch.setenv("LINKWATCH_NOT_SET", "now-it-is")
    config.write_text(config.read_text() + 'on = ["dead", "exploded"]\n')
    result = cli(config, "notify", "--test")
    assert result.exit_code == 2 and "notify.on" in result.output


async def test_one_message_tells_deaths_with_archived_copies_refusals_rewrites_and_undos(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    from linkwatch.store.rewrites import NewRewrite
    from support.report_example import build_example_store

    state = tmp_path / "state"
    config = tmp_path / "config.toml"
    config.write_text(
        '[state]\ndir = "state"\n\n[run]\npublic_url = "https://lw.example.org"\n'
        + notify_table([f"json://127.0.0.1:{receiver.port}/hook"]),
        encoding="utf-8",
    )
    with Store.open(state) as store:
        store.record_rewrites(
            [NewRewrite("releases/a.md", "0" * 64, "1" * 64, "backups/a.md", 3)], NOW
        )
    await notify(config)  # notifications set up: what is there is the baseline
    with Store.open(state) as store:
        build_example_store(store)  # ten years of rot arrive at once
        store.mark_undone(store.rewrites_of("releases/a.md")[0].id, NOW)
        store.record_rewrites(
            [NewRewrite("releases/b.md", "2" * 64, "3" * 64, "backups/b.md", 2)], NOW
        )
    await notify(config)
    [message] = receiver.received
    title, body = message.json["title"], message.json["message"]
    assert title == (
        "linkwatch: 7 URLs newly dead, 2 URLs newly soft-404, 1 save refused, "
        "1 release rewritten, 1 rewrite undone"
    )
    assert "the site excludes archiving (robots.txt)" in body
    assert "archived copy: https://web.archive.org/web/" in body
    assert "releases/b.md: 2 citation(s) now point at their archived copy" in body
    assert "releases/a.md: the rewrite of" in body and "was undone" in body
    assert "releases/a.md: 3 citation(s)" not in body  # the baseline rewrite is not news
    assert "https://lw.example.org/?state=dead" in body
    await notify(config, NOW + dt.timedelta(days=1))
    assert len(receiver.received) == 1


def test_the_daemon_tells_what_its_check_found_through_the_same_pass(
    tmp_path: Path, receiver: WebhookReceiver, loopback_web: LoopbackWeb
) -> None:
    """`linkwatch run --once`: its check job ends with the notify pass."""
    urls = [f"{loopback_web.base}/page/1", f"{loopback_web.base}/page/2"]
    config = project(tmp_path, urls, notify_table([f"json://127.0.0.1:{receiver.port}/hook"]))
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(EXE), "--config", str(config), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("run", "--once").returncode == 0  # the baseline
    assert receiver.received == []
    assert run("mark", urls[1], "dead").returncode == 0
    once = run("run", "--once")
    assert once.returncode == 0, once.stderr
    [message] = receiver.received
    assert urls[1] in message.json["message"] and urls[0] not in message.json["message"]
    assert "notify: 1 new events, 1 sent" in once.stderr


async def test_apprises_own_slack_form_posts_slacks_webhook_shape_through_a_tls_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Slack plugin has no host to set (hooks.slack.com is in its code): it is
    reached through HTTPS_PROXY, a loopback proxy that terminates TLS as an inspecting
    corporate proxy does, with a certificate for hooks.slack.com from a test CA."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.slack.com").configure_cert(context)
    proxy = TerminatingProxy(context).start()
    try:
        urls = ["http://127.0.0.1:9/a"]
        slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
        config = project(tmp_path, urls, notify_table([slack]))
        scanned(config)
        with ca.cert_pem.tempfile() as bundle:
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            await notify(config)
            assert cli(config, "mark", urls[0], "dead").exit_code == 0
            summary = await notify(config)
        assert summary.sent == 1, summary  # type: ignore[attr-defined]
        assert proxy.tunnels == ["hooks.slack.com:443"]
        [request] = proxy.received
        assert request.path == "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
        [attachment] = request.json["attachments"]
        assert attachment["title"] == "linkwatch: 1 URL newly dead"
        assert "http://127.0.0.1:9/a" in attachment["text"]
        assert attachment["footer"] == "linkwatch"  # the AppriseAsset's app_id
    finally:
        proxy.stop()


@pytest.mark.parametrize(
    ("attempts", "minutes"), [(1, 15), (2, 30), (3, 60), (4, 120), (5, 240), (6, 360), (9, 360)]
)
def test_retries_back_off_doubling_up_to_six_hours(attempts: int, minutes: int) -> None:
    from linkwatch.notify.run import backoff

    assert backoff(attempts) == dt.timedelta(minutes=minutes)


def test_public_url_must_be_a_web_address(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[run]\npublic_url = "ftp://reports.example.org"\n', encoding="utf-8")
    result = cli(config, "report")
    assert result.exit_code == 2 and "run.public_url" in result.output
    config.write_text('[run]\npublic_url = "https://reports.example.org/lw/"\n', encoding="utf-8")
    settings = load_settings(config)
    assert settings.run.public_url == "https://reports.example.org/lw"
    assert settings.run.report_hosts == ("reports.example.org",)
