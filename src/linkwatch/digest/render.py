"""The digest as an e-mail: a text part and an HTML part (jinja2), and the message around them."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from linkwatch.config.settings import (
    DigestSettings,
)
from linkwatch.digest.build import LIST_LIMIT, Digest
from linkwatch.report.rows import Summary, summary_sentence
from linkwatch.report.to_html import template_environment
from linkwatch.text import plural


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    subject: str
    text: str
    html: str


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


def preserved_sentence(totals: Summary) -> str:
    """'12 citations preserved in at least one archive, 5 of them in two or more'."""
    if not totals.citations:
        return ""
    return (
        f"{plural(totals.preserved, 'citation')} preserved in at least one archive, "
        f"{totals.preserved_in_several} of them in two or more"
    )


def render_digest(digest: Digest) -> RenderedDigest:
    """Text and HTML parts from the same data and the same templates' structure."""
    env = template_environment()
    env.filters["local_day"] = lambda value: _local_day(value, digest.timezone)
    context = {
        "digest": digest,
        "counts": digest.counts,
        "subject": digest.subject,
        "totals_sentence": summary_sentence(digest.totals),
        "preserved_sentence": preserved_sentence(digest.totals),
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


def write_preview(rendered: RenderedDigest, directory: Path) -> Sequence[Path]:
    """digest.txt and digest.html in `directory` (created if needed); returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    text, html = directory / "digest.txt", directory / "digest.html"
    text.write_text(f"Subject: {rendered.subject}\n\n{rendered.text}", encoding="utf-8")
    html.write_text(rendered.html, encoding="utf-8")
    return (text, html)
