"""The weekly digest: build (from the store), render (jinja2: text and HTML), send (aiosmtplib).

What it says: what changed since the last digest (URLs newly dead, newly
soft-404, moved, recovered; pages newly archived and saves the archive
refused), what needs a person (rotten citations without any archived copy,
pinned states, releases whose rotten footnotes are not rewritten yet), and
totals. A change is the URL's state at the end of the period compared with
its state before it, so a link that flapped and came back is not news.

Exactly once a week: `send_due_digest` claims the ISO week (in
`digest.timezone`) in the store before it sends, and records the outcome.
A failed send stays claimed as failed and is retried by the next call, with
the same Message-ID, so it is neither lost nor doubled. Should linkwatch die
between the server's acceptance and that record, the claim goes stale after
`STALE_CLAIM` and the retry may deliver the same message (same Message-ID,
which mail clients fold into one) a second time: the one window left open.

The SMTP password comes from the environment (`LINKWATCH_SMTP_PASSWORD`)
only, and is never logged, stored or put in an error message.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import ssl
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

import aiosmtplib

from linkwatch.config import SMTP_PASSWORD_ENV, DigestSettings, RewriteMode, Settings, SmtpTls
from linkwatch.crontab import cron_trigger
from linkwatch.model import State
from linkwatch.report import (
    ROTTEN,
    CitationLine,
    Report,
    Summary,
    UrlLine,
    build_report,
    summary_sentence,
    template_environment,
)
from linkwatch.store import Store
from linkwatch.store.archive import ArchiveEvent
from linkwatch.store.digests import FAILED, SENT, SKIPPED
from linkwatch.store.reports import StateChange

log = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=15)  # a claim older than this was left by a crashed sender
SMTP_TIMEOUT = 60.0  # seconds for the whole SMTP conversation
LIST_LIMIT = 40  # items per digest list; the rest is counted and left to `linkwatch report`


@dataclass(frozen=True, slots=True)
class ChangedUrl:
    """A URL whose state changed in the period, with the releases that cite it."""

    url: str
    before: str | None
    after: str
    changed_at: str
    pinned: str | None
    final_url: str | None
    archive_url: str | None
    releases: tuple[str, ...]
    citations: int


@dataclass(frozen=True, slots=True)
class NeedsCopy:
    url: str
    state: str
    since: str | None
    releases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Pinned:
    url: str
    pinned: str
    evidence: str
    releases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToRewrite:
    path: str
    title: str | None
    citations: int  # citations with a chosen copy whose footnote does not link it yet


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything one digest says; both the text and the HTML part render this."""

    week: str
    period_start: dt.datetime
    period_end: dt.datetime
    timezone: str
    newly_dead: tuple[ChangedUrl, ...]
    newly_soft404: tuple[ChangedUrl, ...]
    moved: tuple[ChangedUrl, ...]
    recovered: tuple[ChangedUrl, ...]
    archived: tuple[ArchiveEvent, ...]
    refused: tuple[ArchiveEvent, ...]
    without_copy: tuple[NeedsCopy, ...]
    pinned: tuple[Pinned, ...]
    to_rewrite: tuple[ToRewrite, ...]
    rewrite_mode: str
    totals: Summary

    @property
    def changed(self) -> bool:
        return any(
            (
                self.newly_dead,
                self.newly_soft404,
                self.moved,
                self.recovered,
                self.archived,
                self.refused,
            )
        )

    @property
    def counts(self) -> dict[str, int]:
        """The figures of the subject line, also stored with the digest."""
        return {
            "died": sum(c.citations for c in (*self.newly_dead, *self.newly_soft404)),
            "recovered": len(self.recovered),
            "moved": len(self.moved),
            "saved": len(self.archived),
            "refused": len(self.refused),
            "without_copy": len(self.without_copy),
        }

    @property
    def headline(self) -> str:
        """'3 citations died, 2 saved', or 'nothing changed'."""
        counts = self.counts
        parts = []
        if counts["died"]:
            parts.append(_plural(counts["died"], "citation") + " died")
        for key, words in (
            ("recovered", "recovered"),
            ("moved", "moved"),
            ("saved", "saved"),
            ("refused", "refused by the archive"),
        ):
            if counts[key]:
                parts.append(f"{counts[key]} {words}")
        return ", ".join(parts) or "nothing changed"

    @property
    def subject(self) -> str:
        """'linkwatch: 3 citations died, 2 saved — week 2026-W48'."""
        return f"linkwatch: {self.headline} — week {self.week}"


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class DigestOutcome:
    """What `send_due_digest` did. `status` is one of the constants below."""

    status: str
    week: str
    message_id: str | None = None
    subject: str | None = None
    error: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        """Nothing for an operator to fix: sent, or nothing was due."""
        return self.status not in (OUTCOME_FAILED, OUTCOME_UNCONFIGURED)


OUTCOME_SENT = "sent"
OUTCOME_FAILED = "failed"  # recorded; the next call retries
OUTCOME_ALREADY_SENT = "already_sent"  # this week's digest went out (or was skipped)
OUTCOME_IN_PROGRESS = "in_progress"  # another process is sending it right now
OUTCOME_NOT_DUE = "not_due"  # digest.schedule has not come round yet this week
OUTCOME_SKIPPED = "skipped_empty"  # nothing changed and digest.skip_empty is on
OUTCOME_UNCONFIGURED = "unconfigured"  # no recipients, or a login without a password


# --------------------------------------------------------------------------- weeks


def iso_week(moment: dt.datetime, timezone: str) -> str:
    """'2026-W48': the ISO week of `moment` as seen in `timezone`."""
    year, week, _weekday = moment.astimezone(zoneinfo.ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(moment: dt.datetime, timezone: str) -> dt.datetime:
    """Monday 00:00 of the ISO week of `moment`, in `timezone`."""
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    monday = local.date() - dt.timedelta(days=local.weekday())
    return dt.datetime.combine(monday, dt.time(), tzinfo=zoneinfo.ZoneInfo(timezone))


def scheduled_in_week(settings: DigestSettings, moment: dt.datetime) -> dt.datetime | None:
    """The first time `digest.schedule` fires in the week of `moment`; None if it never does."""
    start = week_start(moment, settings.timezone)
    trigger = cron_trigger(settings.schedule, settings.timezone)
    fire: dt.datetime | None = trigger.get_next_fire_time(None, start)
    if fire is None or fire >= start + dt.timedelta(days=7):
        return None
    return fire


# --------------------------------------------------------------------------- build


def build_digest(
    settings: Settings,
    store: Store,
    *,
    period_start: dt.datetime,
    now: dt.datetime,
) -> Digest:
    """Collect what changed between `period_start` and `now`, and what needs a person."""
    report = build_report(store, now=now)
    urls = {url.first.url_id: url for url in report.urls}
    changes = [c for c in store.state_changes(period_start) if c.url_id in urls]
    events = store.archive_events(period_start)

    def changed(test: Iterable[StateChange]) -> tuple[ChangedUrl, ...]:
        return tuple(_changed_url(urls[c.url_id], c) for c in test)

    return Digest(
        week=iso_week(now, settings.digest.timezone),
        period_start=period_start,
        period_end=now,
        timezone=settings.digest.timezone,
        newly_dead=changed(c for c in changes if _entered(c, State.DEAD)),
        newly_soft404=changed(c for c in changes if _entered(c, State.SOFT404)),
        moved=changed(c for c in changes if _entered(c, State.MOVED) and c.before not in ROTTEN),
        recovered=changed(
            c for c in changes if c.before in ROTTEN and c.after in (State.ALIVE, State.MOVED)
        ),
        archived=tuple(e for e in events if e.kind == "saved"),
        refused=tuple(e for e in events if e.kind == "refused"),
        without_copy=_without_copy(report),
        pinned=tuple(
            Pinned(u.url, u.first.pinned, u.first.evidence, u.releases)
            for u in report.urls
            if u.first.pinned
        ),
        to_rewrite=_to_rewrite(report, settings.rewrite.mode),
        rewrite_mode=settings.rewrite.mode.value,
        totals=report.summary,
    )


def _entered(change: StateChange, state: State) -> bool:
    """Moved into `state`; dead -> soft404 (or back) is no news: the link was rotten already."""
    if change.after != state:
        return False
    return not (state in ROTTEN and change.before in ROTTEN)


def _changed_url(url: UrlLine, change: StateChange) -> ChangedUrl:
    line = url.first
    return ChangedUrl(
        url=url.url,
        before=change.before,
        after=change.after,
        changed_at=change.changed_at,
        pinned=line.pinned,
        final_url=line.final_url,
        archive_url=line.archive_url,
        releases=url.releases,
        citations=url.citations,
    )


def _without_copy(report: Report) -> tuple[NeedsCopy, ...]:
    """Rotten URLs none of whose citations has a chosen copy, and with no capture known."""
    with_copy = {line.url_id for line in report.citations() if line.archive_url or line.captures}
    return tuple(
        NeedsCopy(u.url, u.state, u.first.state_since, u.releases)
        for u in report.urls
        if u.state in ROTTEN and u.first.url_id not in with_copy
    )


def _to_rewrite(report: Report, mode: RewriteMode) -> tuple[ToRewrite, ...]:
    """Releases with citations `rewrite` would point at a copy but has not yet."""
    if mode is RewriteMode.OFF:
        return ()

    def pending(line: CitationLine) -> bool:
        wanted = mode is RewriteMode.ALL or line.state in ROTTEN
        return wanted and line.archive_url is not None and not line.points_at_archive

    result = []
    for release in report.releases:
        count = sum(1 for line in release.citations if pending(line))
        if count:
            result.append(ToRewrite(release.path, release.title, count))
    return tuple(result)


# --------------------------------------------------------------------------- render


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _local_day(value: str | dt.datetime | None, timezone: str) -> str:
    """'19 Nov 2026' in the digest's time zone: press officers read dates, not ISO stamps."""
    if value is None:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zoneinfo.ZoneInfo(timezone))
    return f"{local.day} {local:%b %Y}"


_BLANK_LINES = re.compile(r"\n{3,}")  # optional sections leave runs of blank lines behind


def render_digest(digest: Digest) -> RenderedDigest:
    """Text and HTML parts from the same data and the same templates' structure."""
    env = template_environment()
    env.filters["local_day"] = lambda value: _local_day(value, digest.timezone)
    context = {
        "digest": digest,
        "counts": digest.counts,
        "subject": digest.subject,
        "totals_sentence": summary_sentence(digest.totals),
        "limit": LIST_LIMIT,
    }
    return RenderedDigest(
        subject=digest.subject,
        text=_BLANK_LINES.sub("\n\n", env.get_template("digest/digest.txt").render(context)),
        html=env.get_template("digest/digest.html").render(context),
    )


def compose_message(
    rendered: RenderedDigest, settings: DigestSettings, *, now: dt.datetime, message_id: str
) -> EmailMessage:
    """multipart/alternative: text/plain first, text/html preferred by clients that can."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = settings.from_
    message["To"] = ", ".join(settings.to)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def new_message_id(settings: DigestSettings, week: str) -> str:
    """Short enough never to be folded: '<digest.2026-W48.3f9a...@ngo.example>'."""
    domain = parseaddr(settings.from_)[1].rpartition("@")[2] or "localhost"
    return f"<digest.{week}.{secrets.token_hex(8)}@{domain}>"


# --------------------------------------------------------------------------- send


class SendError(Exception):
    """The SMTP server was unreachable or refused; str() is safe to log and store."""


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
        raise SendError(_scrub(f"{type(err).__name__}: {err}", password)) from None


def _scrub(text: str, secret: str | None) -> str:
    """A server may echo what it was sent; the password never leaves this module."""
    text = " ".join(text.split())
    return text.replace(secret, "***") if secret else text


async def send_due_digest(
    settings: Settings,
    store: Store,
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
        return DigestOutcome(OUTCOME_UNCONFIGURED, week, error=problem)
    if on_schedule and not force:
        fire = scheduled_in_week(config, now)
        if fire is None or now < fire:
            return DigestOutcome(OUTCOME_NOT_DUE, week)
    period_start = store.last_digest_end() or now - dt.timedelta(days=7)
    claim = store.claim_digest(
        week,
        message_id=new_message_id(config, week),
        period_start=period_start,
        now=now,
        force=force,
        stale_after=STALE_CLAIM,
    )
    if claim is None:
        return _unclaimed(store, week)
    digest = build_digest(settings, store, period_start=claim.period_start, now=now)
    counts = digest.counts
    if not digest.changed and config.skip_empty:
        store.finish_digest(claim.id, SKIPPED, now=now, period_end=now, counts=counts)
        log.info("digest %s: nothing changed, skipped (digest.skip_empty)", week)
        return DigestOutcome(OUTCOME_SKIPPED, week, claim.message_id, attempts=claim.attempts)
    rendered = render_digest(digest)
    message = compose_message(rendered, config, now=now, message_id=claim.message_id)
    try:
        await send_message(message, config, password=password, ssl_context=ssl_context)
    except SendError as err:
        store.finish_digest(claim.id, FAILED, now=now, error=str(err))
        log.warning("digest %s not sent (attempt %d), will retry: %s", week, claim.attempts, err)
        return DigestOutcome(
            OUTCOME_FAILED, week, claim.message_id, rendered.subject, str(err), claim.attempts
        )
    except BaseException:
        store.finish_digest(claim.id, FAILED, now=now, error="interrupted while sending")
        raise
    store.finish_digest(
        claim.id, SENT, now=now, subject=rendered.subject, period_end=now, counts=counts
    )
    log.info("digest %s sent to %d recipients: %s", week, len(config.to), rendered.subject)
    return DigestOutcome(
        OUTCOME_SENT, week, claim.message_id, rendered.subject, attempts=claim.attempts
    )


def _configuration_problem(config: DigestSettings, password: str | None) -> str | None:
    if not config.to:
        return "digest.to is empty: no one to send the digest to"
    if config.username and password is None:
        return f"digest.username is set but {SMTP_PASSWORD_ENV} is not"
    return None


def _unclaimed(store: Store, week: str) -> DigestOutcome:
    done = [r for r in store.digests(limit=50) if r.week == week and r.status in (SENT, SKIPPED)]
    if done:
        return DigestOutcome(OUTCOME_ALREADY_SENT, week, done[0].message_id, done[0].subject)
    return DigestOutcome(OUTCOME_IN_PROGRESS, week)


# --------------------------------------------------------------------------- preview


def preview_digest(settings: Settings, store: Store, now: dt.datetime) -> RenderedDigest:
    """The digest a send now would deliver, without claiming or sending anything."""
    period_start = store.last_digest_end() or now - dt.timedelta(days=7)
    return render_digest(build_digest(settings, store, period_start=period_start, now=now))


def write_preview(rendered: RenderedDigest, directory: Path) -> Sequence[Path]:
    """digest.txt and digest.html in `directory` (created if needed); returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    text, html = directory / "digest.txt", directory / "digest.html"
    text.write_text(f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8")
    html.write_text(rendered.html, encoding="utf-8")
    return (text, html)
