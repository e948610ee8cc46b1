"""Sending the digest: at most one per ISO week, retried until it went out.

A send claims its week in the store before it talks to the SMTP server and
settles the claim after, so that two senders, or a crash between sending and
recording, never deliver a week twice in a way the store does not know of.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

import aiosmtplib

from linkwatch.config.settings import (
    SMTP_PASSWORD_ENV,
    DigestSettings,
    Settings,
    SmtpTls,
)
from linkwatch.digest.build import build_digest
from linkwatch.digest.render import RenderedDigest, compose_message, new_message_id, render_digest
from linkwatch.digest.weeks import iso_week, scheduled_in_week
from linkwatch.errors import SendError
from linkwatch.model import DigestState
from linkwatch.redact import redact, register
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore

log = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=15)  # a claim older than this was left by a crashed sender

SMTP_TIMEOUT = 60.0  # seconds for the whole SMTP conversation


class DigestStatus(StrEnum):
    """How a call of `send_due_digest` ended."""

    SENT = "sent"
    FAILED = "failed"  # recorded; the next call retries
    ALREADY_SENT = "already_sent"  # this week's digest went out (or was skipped)
    IN_PROGRESS = "in_progress"  # another process is sending it right now
    NOT_DUE = "not_due"  # digest.schedule has not come round yet this week
    SKIPPED = "skipped_empty"  # nothing changed and digest.skip_empty is on
    UNCONFIGURED = "unconfigured"  # no recipients, or a login without a password


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What `send_due_digest` did."""

    status: DigestStatus
    week: str
    message_id: str | None = None
    subject: str | None = None
    error: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        """Nothing for an operator to fix: sent, or nothing was due."""
        return self.status not in (DigestStatus.FAILED, DigestStatus.UNCONFIGURED)


async def send_message(
    message: EmailMessage,
    settings: DigestSettings,
    *,
    password: str | None,
    ssl_context: ssl.SSLContext | None = None,
    timeout: float = SMTP_TIMEOUT,
) -> None:
    """One SMTP conversation; `ssl_context` replaces the system trust store (tests)."""
    login = bool(settings.username)
    if login and password:  # a server may echo the AUTH exchange: hide it in every form
        user = settings.username
        register(password, f"\0{user}\0{password}", f"{user}:{password}")
    try:
        _accepted, _reply = await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.tls is SmtpTls.TLS,
            start_tls=settings.tls is SmtpTls.STARTTLS,  # False, not None: "none" means none
            username=settings.username if login else None,
            password=password if login else None,
            tls_context=ssl_context,
            timeout=timeout,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as err:
        raise SendError(redact(" ".join(f"{type(err).__name__}: {err}".split()))) from None


async def send_due_digest(
    settings: Settings,
    db: AsyncStore,
    now: dt.datetime,
    *,
    force: bool = False,
    on_schedule: bool = True,
    ssl_context: ssl.SSLContext | None = None,
) -> DigestOutcome:
    """Send this week's digest if it is due (or failed before); else do nothing.

    Due means: not yet sent (or skipped) this ISO week and, with `on_schedule`,
    `digest.schedule` has fired this week. `force` sends another one anyway;
    the CLI passes `on_schedule=False`, since a person asking is the schedule.
    """
    config = settings.digest
    week = iso_week(now, config.timezone)
    password = os.environ.get(SMTP_PASSWORD_ENV) or None
    problem = _configuration_problem(config, password)
    if problem:
        return DigestOutcome(DigestStatus.UNCONFIGURED, week, error=problem)
    if on_schedule and not force:
        fire = scheduled_in_week(config, now)
        if fire is None or now < fire:
            return DigestOutcome(DigestStatus.NOT_DUE, week)
    period_start = db.read.last_digest_end() or now - dt.timedelta(days=7)
    claim = await db.write(
        Store.claim_digest,
        week,
        message_id=new_message_id(config, week),
        period_start=period_start,
        now=now,
        force=force,
        stale_after=STALE_CLAIM,
    )
    if claim is None:
        return _unclaimed(db.read, week)
    digest = build_digest(settings, db.read, period_start=claim.period_start, now=now)
    counts = digest.counts
    if not digest.changed and config.skip_empty:
        await db.write(
            Store.finish_digest,
            claim.id,
            DigestState.SKIPPED,
            now=now,
            period_end=now,
            counts=counts,
        )
        log.info("digest %s: nothing changed, skipped (digest.skip_empty)", week)
        return DigestOutcome(DigestStatus.SKIPPED, week, claim.message_id, attempts=claim.attempts)
    rendered = render_digest(digest)
    message = compose_message(rendered, config, now=now, message_id=claim.message_id)
    try:
        await send_message(message, config, password=password, ssl_context=ssl_context)
    except SendError as err:
        await db.write(Store.finish_digest, claim.id, DigestState.FAILED, now=now, error=str(err))
        log.warning("digest %s not sent (attempt %d), will retry: %s", week, claim.attempts, err)
        return DigestOutcome(
            DigestStatus.FAILED, week, claim.message_id, rendered.subject, str(err), claim.attempts
        )
    except BaseException:
        await db.write(
            Store.finish_digest,
            claim.id,
            DigestState.FAILED,
            now=now,
            error="interrupted while sending",
        )
        raise
    await db.write(
        Store.finish_digest,
        claim.id,
        DigestState.SENT,
        now=now,
        subject=rendered.subject,
        period_end=now,
        counts=counts,
    )
    log.info("digest %s sent to %d recipients: %s", week, len(config.to), rendered.subject)
    return DigestOutcome(
        DigestStatus.SENT, week, claim.message_id, rendered.subject, attempts=claim.attempts
    )


def _configuration_problem(config: DigestSettings, password: str | None) -> str | None:
    if not config.to:
        return "digest.to is empty: no one to send the digest to"
    if config.username and password is None:
        return f"digest.username is set but {SMTP_PASSWORD_ENV} is not"
    return None


def _unclaimed(store: Store, week: str) -> DigestOutcome:
    done = [r for r in store.digests(limit=50) if r.week == week and r.status.is_done]
    if done:
        return DigestOutcome(DigestStatus.ALREADY_SENT, week, done[0].message_id, done[0].subject)
    return DigestOutcome(DigestStatus.IN_PROGRESS, week)


def preview_digest(settings: Settings, store: Store, now: dt.datetime) -> RenderedDigest:
    """The digest a send now would deliver, without claiming or sending anything."""
    period_start = store.last_digest_end() or now - dt.timedelta(days=7)
    return render_digest(build_digest(settings, store, period_start=period_start, now=now))
