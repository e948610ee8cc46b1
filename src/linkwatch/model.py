"""The values that flow between linkwatch's modules.

Outcomes are typed values, not strings: a `State` enum and frozen dataclasses,
so that policy code asks predicates instead of comparing text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Format(StrEnum):
    """The syntax a release is written in; it decides extractor and rewrite syntax."""

    MARKDOWN = "markdown"
    HTML = "html"
    TEXT = "text"
    DOCX = "docx"  # read, checked and reported; never rewritten
    PDF = "pdf"  # read, checked and reported; never rewritten

    @property
    def is_document(self) -> bool:
        """A Word or PDF release: linkwatch reads it but cannot edit it."""
        return self in (Format.DOCX, Format.PDF)


class State(StrEnum):
    """Where a cited URL stands. The values are part of the JSON report contract."""

    UNCHECKED = "unchecked"
    ALIVE = "alive"
    MOVED = "moved"
    TRANSIENT = "transient"
    BLOCKED = "blocked"
    SOFT404 = "soft404"
    USURPED = "usurped"  # the domain lapsed: parked, for sale (Wikipedia's url-status=usurped)
    DEAD = "dead"

    @property
    def is_rotten(self) -> bool:
        """A reader following the link no longer gets what the author cited."""
        return self in ROTTEN_STATES


ROTTEN_STATES: frozenset[State] = frozenset({State.DEAD, State.SOFT404, State.USURPED})


class DateSource(StrEnum):
    """Where a release's publication date came from, most trusted first."""

    OVERRIDE = "override"
    FRONT_MATTER = "front_matter"
    HTML_META = "html_meta"
    DOCUMENT = "document"  # a .docx's core properties, a PDF's /CreationDate
    DATELINE = "dateline"
    MTIME = "mtime"  # a guess: the file's modification time

    @property
    def is_guess(self) -> bool:
        return self is DateSource.MTIME


@dataclass(frozen=True, slots=True)
class Citation:
    """One URL cited by a release, located exactly in the file's bytes.

    `start`/`end` are byte offsets into the file as stored on disk (BOM
    included), so that the rewrite step can splice without re-parsing.
    `url` is the URL as written, with HTML entities decoded; slicing the file
    at the offsets gives the raw text it was written as. `archived` is the link
    to an archived copy of this URL written right after it (by `rewrite`), so
    that the archive link is not taken for a citation of its own.

    `scheme_assumed` says the release wrote the URL protocol-relative (`//host/path`,
    as Wikipedia does): `url` carries the `https:` linkwatch assumed, while the file's
    bytes at the offsets hold the `//...` as written.
    """

    label: str | None
    url: str
    start: int
    end: int
    context: str
    archived: str | None = None
    scheme_assumed: bool = False


@dataclass(frozen=True, slots=True)
class ReleaseMeta:
    """What a release says about itself."""

    title: str | None
    published: dt.date
    date_source: DateSource


class ErrorKind(StrEnum):
    """Why a check got no usable HTTP answer. Translated from aiohttp/ssl/DNS in net.py only."""

    INVALID_URL = "invalid_url"  # malformed, non-http(s) scheme, spaces/control characters
    PRIVATE_ADDRESS = "private_address"  # SSRF guard: resolves to loopback/private/link-local
    DNS = "dns"  # the name does not resolve
    REFUSED = "refused"  # nothing listens
    UNREACHABLE = "unreachable"  # no route to the host (may be our own network): inconclusive
    RESET = "reset"  # connection reset / closed mid-answer
    TIMEOUT = "timeout"
    TLS = "tls"  # bad, self-signed or wrong-host certificate
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    PROTOCOL = "protocol"  # the server spoke broken HTTP
    EXCLUDED = "excluded"  # a redirect led to a URL a [[rules]] table excludes: not asked

    @property
    def is_failure(self) -> bool:
        """Counts toward dead (the site is gone), as opposed to inconclusive."""
        return self in (
            ErrorKind.DNS,
            ErrorKind.REFUSED,
            ErrorKind.TLS,
            ErrorKind.TOO_MANY_REDIRECTS,
            ErrorKind.REDIRECT_LOOP,
        )


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a redirect chain, as the server answered it."""

    url: str
    status: int
    location: str | None


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """How a site answered a path that cannot exist: what its soft 404s look like.

    Kept in the store for `check.probe_every`, per site and URL `shape`, so that a
    daemon checking a few of a site's URLs every ten minutes does not ask the site
    each time. `shape` is '' for a random path, else the template of the URLs the
    probe imitated ('/news/view/#', '/a/#,~'): many CMSs answer a real 404 for a
    random path and a 200 "article not found" for a URL shaped like their own.
    `title` and `fingerprint` are the page's gist (variable parts discounted).
    """

    origin: str  # scheme://host[:port]
    asked_at: dt.datetime
    status: int | None  # None: no answer (such answers are not kept)
    final_url: str | None
    redirected: bool
    title: str | None
    fingerprint: str | None  # of the answer page's gist
    shape: str = ""
    words: int | None = None  # stable words of the answer page's main text


@dataclass(frozen=True, slots=True)
class ContentPrint:
    """What a page says, small enough to keep: its title and a sketch of its main text.

    Made and compared by `linkwatch.drift.prints`; a snapshot's is kept in the store
    so that its capture is replayed once, a live page's is made from the body the
    check already read.
    """

    title: str  # the title's words, lower case
    sketch: tuple[int, ...]  # the smallest 64-bit hashes of the main text's word shingles
    shingles: int  # distinct shingles of the main text


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything one check of one URL learned; the verdict turns it into a State."""

    url: str
    checked_at: dt.datetime
    status: int | None = None  # final HTTP status, None when there was no answer
    final_url: str | None = None
    hops: tuple[Hop, ...] = ()  # every redirect hop, in order (empty when none)
    error: ErrorKind | None = None
    error_detail: str | None = None  # one line, human-readable
    elapsed: float = 0.0
    bytes_read: int = 0
    title: str | None = None
    fingerprint: str | None = None  # of the page text, when asked for (check_url)
    soft404_reason: str | None = None  # set when the page is a soft 404, says why
    usurped_reason: str | None = None  # set when the domain is parked or for sale, says why
    refresh_to: str | None = None  # another page a meta refresh (or script) sends readers to
    bot_wall: bool = False  # a challenge page (Cloudflare, captcha) rather than the content
    retry_after: float | None = None  # seconds the server asked us to wait, if it did
    content: ContentPrint | None = None  # of the page, when asked for (content drift)
    # with `content`, on a page as short as a lander: a parking service's or a for-sale
    # page's marks, weighed against the archived copy (`drift.compare.usurped_by_drift`)
    landing_signs: str | None = None

    @property
    def permanently_moved(self) -> bool:
        """Ended somewhere else after at least one permanent (301/308) redirect."""
        return any(h.status in (301, 308) for h in self.hops) and self.final_url != self.url


class DigestState(StrEnum):
    """Where one week's digest stands in the store (see `store.digests`)."""

    SENDING = "sending"  # claimed: the SMTP conversation is under way
    SENT = "sent"
    FAILED = "failed"  # the next claim of the week retries it, as the same message
    SKIPPED = "skipped"  # nothing changed and digest.skip_empty is on

    @property
    def is_done(self) -> bool:
        return self in (DigestState.SENT, DigestState.SKIPPED)


class QueueStatus(StrEnum):
    """Where a URL stands in an archive's save queue (one entry per URL and archive)."""

    QUEUED = "queued"  # waiting for its save
    SAVED = "saved"  # a capture we asked for replays
    FRESH = "fresh"  # a recent capture existed: no save needed
    REFUSED = "refused"  # the archive will never keep this page (final)
    FAILED = "failed"  # given up after repeated failures
    DROPPED = "dropped"  # no longer wanted (the URL died while it waited)

    @property
    def is_done(self) -> bool:
        return self is not QueueStatus.QUEUED


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One capture of a URL, as the archive recorded it."""

    archive_url: str  # the replay URL a reader follows
    timestamp: dt.datetime  # capture time, UTC
    status: int | None  # HTTP status the archive recorded, None when it did not say
    source: str  # the archive's name: "wayback", "pywb", ...
