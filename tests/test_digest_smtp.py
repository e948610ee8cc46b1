"""The digest sent for real: an aiosmtpd server on 127.0.0.1, plain, STARTTLS and TLS."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import email
import email.policy
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings, SmtpTls
from linkwatch.digest.send import (
    DigestStatus,
    send_due_digest,
)
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.report_example import NOW, at, build_example_store

PASSWORD = "s3cret-Päss-4-digest"


class Inbox:
    """An SMTP handler that keeps what it accepts; the first `refuse` DATA get a 451."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse
        self.attempts = 0
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.encrypted: list[bool] = []
        self.logins: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        self.encrypted.append(session.ssl is not None)
        return "250 2.0.0 queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
        if isinstance(data, LoginPassword):
            self.logins.append(data.login)
        return AuthResult(success=ok, handled=False)


@asynccontextmanager
async def smtp_server(
    inbox: Inbox,
    *,
    port: int = 0,
    starttls: ssl.SSLContext | None = None,
    implicit: ssl.SSLContext | None = None,
) -> AsyncIterator[int]:
    """Serve in the test's own loop; yields the port."""
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            inbox,
            hostname="mail.example.test",
            tls_context=starttls,
            require_starttls=starttls is not None,
            authenticator=inbox.authenticate,
            auth_require_tls=True,
        )

    server = await loop.create_server(protocol, "127.0.0.1", port, ssl=implicit)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def tls() -> Iterator[tuple[ssl.SSLContext, ssl.SSLContext]]:
    """(server context, client context trusting the test CA)."""
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    yield server, client


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(
        '[state]\ndir = "state"\n\n[digest]\nto = ["press@example.org", "archive@example.org"]\n'
        'from = "linkwatch@ngo.example"\nsmtp_host = "127.0.0.1"\ntls = "none"\n',
        encoding="utf-8",
    )
    return load_settings(config)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = Store.open(settings.state.dir)
    build_example_store(opened)
    yield opened
    opened.close()


def on_port(settings: Settings, port: int, **digest: Any) -> Settings:
    return dataclasses.replace(
        settings, digest=dataclasses.replace(settings.digest, smtp_port=port, **digest)
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def send(settings: Settings, store: Store, **options: Any) -> Any:
    options.setdefault("on_schedule", False)
    with AsyncStore.open(store.path.parent) as db:
        return await send_due_digest(settings, db, options.pop("now", NOW), **options)


async def test_one_message_arrives_with_a_text_and_an_html_part(
    settings: Settings, store: Store
) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        outcome = await send(on_port(settings, port), store)
    assert outcome.status == DigestStatus.SENT
    [message] = inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["Subject"] == outcome.subject
    assert message["Subject"].startswith("linkwatch: 7 citations died")
    assert message["Message-ID"] == outcome.message_id
    assert message["Date"] and message["From"] == "linkwatch@ngo.example"
    assert inbox.recipients == [["press@example.org", "archive@example.org"]]
    plain = message.get_body(("plain",))
    assert plain is not None and "NEEDS A PERSON" in plain.get_content()


async def test_a_second_send_in_the_same_week_sends_nothing(
    settings: Settings, store: Store
) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        first = await send(on_port(settings, port), store)
        second = await send(on_port(settings, port), store, now=NOW + dt.timedelta(days=2))
    assert (first.status, second.status) == (DigestStatus.SENT, DigestStatus.ALREADY_SENT)
    assert len(inbox.messages) == 1


async def test_a_new_week_gets_a_new_digest_of_what_changed_since(
    settings: Settings, store: Store
) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        await send(on_port(settings, port), store)
        later = await send(on_port(settings, port), store, now=NOW + dt.timedelta(days=7))
    assert later.status == DigestStatus.SENT
    assert later.subject == "linkwatch: nothing changed — week 2026-W49"
    assert len(inbox.messages) == 2


async def test_force_sends_again_in_the_same_week(settings: Settings, store: Store) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        await send(on_port(settings, port), store)
        again = await send(on_port(settings, port), store, force=True)
    assert again.status == DigestStatus.SENT
    assert len(inbox.messages) == 2
    assert inbox.messages[0]["Message-ID"] != inbox.messages[1]["Message-ID"]


async def test_a_refusing_server_gets_exactly_one_digest_once_it_accepts(
    settings: Settings, store: Store
) -> None:
    inbox = Inbox(refuse=1)
    async with smtp_server(inbox) as port:
        first = await send(on_port(settings, port), store)
        retry = await send(on_port(settings, port), store, now=NOW + dt.timedelta(hours=1))
        third = await send(on_port(settings, port), store, now=NOW + dt.timedelta(hours=2))
    assert (first.status, retry.status, third.status) == (
        DigestStatus.FAILED,
        DigestStatus.SENT,
        DigestStatus.ALREADY_SENT,
    )
    assert "451" in (first.error or "")
    assert inbox.attempts == 2 and len(inbox.messages) == 1
    assert inbox.messages[0]["Message-ID"] == first.message_id == retry.message_id
    [record] = store.digests()
    assert (record.status, record.attempts) == ("sent", 2)


async def test_a_server_that_is_down_gets_the_digest_when_it_is_back(
    settings: Settings, store: Store
) -> None:
    port = free_port()
    down = await send(on_port(settings, port), store)
    assert down.status == DigestStatus.FAILED
    assert store.digests()[0].status == "failed"
    inbox = Inbox()
    async with smtp_server(inbox, port=port):
        back = await send(on_port(settings, port), store, now=NOW + dt.timedelta(hours=1))
    assert back.status == DigestStatus.SENT
    assert len(inbox.messages) == 1


async def test_two_senders_at_once_deliver_one_digest(settings: Settings, store: Store) -> None:
    inbox = Inbox()
    other = Store.open(settings.state.dir)
    try:
        async with smtp_server(inbox) as port:
            outcomes = await asyncio.gather(
                send(on_port(settings, port), store), send(on_port(settings, port), other)
            )
    finally:
        other.close()
    assert sorted(o.status for o in outcomes) == [DigestStatus.IN_PROGRESS, DigestStatus.SENT]
    assert len(inbox.messages) == 1


async def test_an_empty_week_with_skip_empty_sends_nothing_and_is_done(
    settings: Settings, store: Store
) -> None:
    inbox = Inbox()
    quiet = NOW + dt.timedelta(days=7)
    async with smtp_server(inbox) as port:
        await send(on_port(settings, port), store)
        skipping = on_port(settings, port, skip_empty=True)
        skipped = await send(skipping, store, now=quiet)
        again = await send(skipping, store, now=quiet + dt.timedelta(hours=1))
    assert (skipped.status, again.status) == (DigestStatus.SKIPPED, DigestStatus.ALREADY_SENT)
    assert len(inbox.messages) == 1


async def test_starttls_with_a_trusted_certificate(
    settings: Settings, store: Store, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_context, client_context = tls
    inbox = Inbox()
    async with smtp_server(inbox, starttls=server_context) as port:
        secured = on_port(settings, port, tls=SmtpTls.STARTTLS)
        outcome = await send(secured, store, ssl_context=client_context)
    assert outcome.status == DigestStatus.SENT
    assert inbox.encrypted == [True]


async def test_starttls_refuses_an_untrusted_certificate(
    settings: Settings, store: Store, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_context, _client = tls
    inbox = Inbox()
    async with smtp_server(inbox, starttls=server_context) as port:
        outcome = await send(on_port(settings, port, tls=SmtpTls.STARTTLS), store)
    assert outcome.status == DigestStatus.FAILED
    assert "certificate" in (outcome.error or "").lower()
    assert inbox.messages == []


async def test_implicit_tls(
    settings: Settings, store: Store, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_context, client_context = tls
    inbox = Inbox()
    async with smtp_server(inbox, implicit=server_context) as port:
        outcome = await send(
            on_port(settings, port, tls=SmtpTls.TLS), store, ssl_context=client_context
        )
    assert outcome.status == DigestStatus.SENT
    assert len(inbox.messages) == 1


async def test_login_uses_the_password_from_the_environment_and_never_shows_it(
    settings: Settings,
    store: Store,
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server_context, client_context = tls
    inbox = Inbox()
    async with smtp_server(inbox, starttls=server_context) as port:
        login = on_port(settings, port, tls=SmtpTls.STARTTLS, username="press")
        monkeypatch.setenv("LINKWATCH_SMTP_PASSWORD", PASSWORD + "-wrong")
        refused = await send(login, store, ssl_context=client_context)
        monkeypatch.setenv("LINKWATCH_SMTP_PASSWORD", PASSWORD)
        accepted = await send(login, store, ssl_context=client_context)
    assert (refused.status, accepted.status) == (DigestStatus.FAILED, DigestStatus.SENT)
    assert set(inbox.logins) == {b"press"} and len(inbox.messages) == 1
    assert PASSWORD not in caplog.text
    assert PASSWORD not in (refused.error or "")
    stored = b"".join(path.read_bytes() for path in settings.state.dir.iterdir() if path.is_file())
    assert PASSWORD.encode() not in stored


class EchoingInbox(Inbox):
    """A server that refuses the login quoting the AUTH line it received, as some do."""

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        line = base64.b64encode(b"\0" + data.login + b"\0" + data.password).decode()
        quoted = f"535 5.7.8 Authentication credentials invalid: AUTH {mechanism} {line}"
        return AuthResult(success=False, handled=False, message=quoted)


async def test_a_server_echoing_the_auth_exchange_never_gets_the_password_kept(
    settings: Settings,
    store: Store,
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server_context, client_context = tls
    monkeypatch.setenv("LINKWATCH_SMTP_PASSWORD", PASSWORD)
    echoed = base64.b64encode(b"\0press\0" + PASSWORD.encode()).decode()
    async with smtp_server(EchoingInbox(), starttls=server_context) as port:
        login = on_port(settings, port, tls=SmtpTls.STARTTLS, username="press")
        refused = await send(login, store, ssl_context=client_context)
    assert refused.status is DigestStatus.FAILED and "535" in (refused.error or "")
    stored = b"".join(path.read_bytes() for path in settings.state.dir.iterdir() if path.is_file())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("linkwatch"))
    assert ours  # the failure was logged (the server's own log, "mail.log", is not ours)
    for text in (ours, refused.error or "", stored.decode("utf-8", "replace")):
        assert PASSWORD not in text and echoed not in text
        assert base64.b64encode(PASSWORD.encode()).decode()[:-4] not in text


@contextmanager
def threaded_server(inbox: Inbox) -> Iterator[int]:
    """For the CLI, which runs its own event loop in the main thread."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def with_port(settings: Settings, port: int) -> Path:
    config = settings.config_path
    assert config is not None
    config.write_text(
        config.read_text(encoding="utf-8") + f"smtp_port = {port}\n", encoding="utf-8"
    )
    return config


def test_cli_send_then_already_sent_then_force(settings: Settings, store: Store) -> None:
    inbox = Inbox()
    with threaded_server(inbox) as port:
        config = with_port(settings, port)
        first, second, forced = (
            CliRunner().invoke(
                main, ["--config", str(config), "digest", "--send", *extra], obj=at(NOW)
            )
            for extra in ([], [], ["--force"])
        )
        assert first.exit_code == 0 and first.output.startswith("sent: linkwatch: ")
        assert second.exit_code == 0 and "went out already" in second.output
        assert forced.exit_code == 0
    assert len(inbox.messages) == 2


def test_cli_send_to_a_server_that_is_down_exits_1(settings: Settings, store: Store) -> None:
    config = with_port(settings, free_port())
    result = CliRunner().invoke(main, ["--config", str(config), "digest", "--send"], obj=at(NOW))
    assert result.exit_code == 1
    assert "will be retried" in result.output


@pytest.mark.parametrize("schedule", ["0 8 * * mon", "0 8 * * sun"])
@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin"])
async def test_one_digest_a_week_across_the_53rd_week_of_2026(
    settings: Settings, store: Store, schedule: str, timezone: str
) -> None:
    """2026 has 53 ISO weeks: W53 and 2027-W01 each get exactly one digest.

    The daemon asks `send_due_digest` whenever its cron job fires and after
    restarts; asking every hour from mid-December to mid-January is at least
    as often as it ever would.
    """
    inbox = Inbox()
    start = dt.datetime(2026, 12, 14, 0, 30, tzinfo=dt.UTC)  # Monday of 2026-W51
    sent: list[str] = []
    async with smtp_server(inbox) as port:
        configured = on_port(settings, port, schedule=schedule, timezone=timezone)
        with AsyncStore.open(settings.state.dir) as db:
            for hour in range(5 * 7 * 24):
                moment = start + dt.timedelta(hours=hour)
                outcome = await send_due_digest(configured, db, moment)
                if outcome.status is DigestStatus.SENT:
                    sent.append(outcome.week)
    assert sent == ["2026-W51", "2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert len(inbox.messages) == 5
