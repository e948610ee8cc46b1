"""The typed, frozen settings: one dataclass per table of config.toml, and their enums.

Each field is a key of `keys.KEYS` (a key without its field fails on every load),
so the README's key table, the starter file and these classes cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from linkwatch.archive.archives import ArchiveSpec
from linkwatch.config.values import split_listen
from linkwatch.notify.kinds import NotifyEvent, NotifyTarget
from linkwatch.rules import NO_RULE_SET, RuleSet

SMTP_PASSWORD_ENV = "LINKWATCH_SMTP_PASSWORD"


class RewriteMode(StrEnum):
    """Which citations `rewrite` points at archived copies."""

    DEAD = "dead"  # only rotten ones
    DRIFTED = "drifted"  # rotten ones, and those whose page now says something else
    ALL = "all"  # every citation that has a snapshot
    OFF = "off"


class ArchiveBackend(StrEnum):
    """Where snapshots are looked up and saved."""

    WAYBACK = "wayback"  # the Internet Archive, or anything speaking its APIs
    PYWB = "pywb"  # a self-hosted pywb collection


class SaveTarget(StrEnum):
    """An archive that saves can go to (`archive.save_to`); each keeps its own queue."""

    WAYBACK = "wayback"  # the Internet Archive's Save Page Now (or a server speaking it)
    PYWB = "pywb"  # a self-hosted pywb collection
    PERMA = "perma"  # Perma.cc's API, with LINKWATCH_PERMA_API_KEY


class OnRecovery(StrEnum):
    """What `rewrite` does to a citation it rewrote once its URL has come back to life."""

    KEEP = "keep"  # the added archive link stays
    REVERT = "revert"  # the added text is removed, byte for byte


class SmtpTls(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class WebSource:
    """One website source (a sitemap, a feed, a WordPress site, a page), with its own
    URL patterns and main-content selector on top of the `sources.*` ones."""

    url: str
    include: tuple[str, ...] = ()  # URL globs a page must match (any), empty: every page
    exclude: tuple[str, ...] = ()  # URL globs a page must not match
    content_selector: str | None = None  # CSS selector of the main content


@dataclass(frozen=True, slots=True)
class UrlList:
    """`sources.urls`: pages named in the config, or in a file of one URL a line."""

    urls: tuple[WebSource, ...] = ()
    file: Path | None = None


@dataclass(frozen=True, slots=True)
class SourcesSettings:
    paths: tuple[str, ...]  # globs, relative to Settings.base_dir
    dates: tuple[tuple[str, dt.date], ...]  # (path or glob, publication date), file order
    max_size: int
    max_citations: int
    sitemaps: tuple[WebSource, ...] = ()
    feeds: tuple[WebSource, ...] = ()
    urls: UrlList = UrlList()
    wordpress: tuple[WebSource, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # (scope, selector): scope is "*" (every page), a host, or a source's URL; file order
    content_selector: tuple[tuple[str, str], ...] = ()

    @property
    def has_web(self) -> bool:
        return bool(
            self.sitemaps or self.feeds or self.wordpress or self.urls.urls or self.urls.file
        )


@dataclass(frozen=True, slots=True)
class StateSettings:
    dir: Path

    @property
    def database(self) -> Path:
        return self.dir / "linkwatch.db"


@dataclass(frozen=True, slots=True)
class CheckSettings:
    concurrency: int
    per_host: int
    timeout: dt.timedelta
    user_agent: str
    allow_private: bool
    host_delay: dt.timedelta
    every: dt.timedelta
    max_body: int
    probe_every: dt.timedelta


@dataclass(frozen=True, slots=True)
class PolicySettings:
    dead_after_failures: int
    dead_after_days: int
    recovered_after: dt.timedelta  # alive again this long (and for so many checks) = recovered
    recovered_after_checks: int


@dataclass(frozen=True, slots=True)
class ArchiveSettings:
    enabled: bool
    wayback_url: str  # no trailing slash
    saves_per_minute: float
    fresh_within: dt.timedelta
    backend: ArchiveBackend
    pywb_url: str  # no trailing slash
    pywb_collection: str
    lookup: tuple[ArchiveSpec, ...]  # the archives looked up (besides the backend)
    lookup_file: Path | None  # a JSON list replacing `lookup`, read at each run
    lookup_rest: dt.timedelta  # how long an archive that failed is left alone
    save_to: tuple[SaveTarget, ...]  # the archives saves go to, each with its own queue
    if_not_archived_within: dt.timedelta  # Save Page Now 2 keeps a capture this recent
    perma_api_url: str  # no trailing slash
    perma_url: str  # where Perma Links are read, no trailing slash
    perma_folder: int  # 0: the key owner's own folder
    perma_saves_per_minute: float


@dataclass(frozen=True, slots=True)
class RewriteSettings:
    mode: RewriteMode
    template_dir: Path | None  # None: the built-in templates
    on_recovery: OnRecovery


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """The SMTP password is deliberately absent: it comes from `SMTP_PASSWORD_ENV` only."""

    to: tuple[str, ...]
    from_: str
    smtp_host: str
    smtp_port: int
    tls: SmtpTls
    username: str
    schedule: str  # a 5-field cron expression
    timezone: str  # an IANA zone name known to zoneinfo
    skip_empty: bool


@dataclass(frozen=True, slots=True)
class NotifySettings:
    urls: tuple[NotifyTarget, ...]
    on: frozenset[NotifyEvent]


@dataclass(frozen=True, slots=True)
class RunSettings:
    listen: str  # "host:port"
    allowed_hosts: tuple[str, ...]  # names the report is served under (daemon.hosts)
    public_url: str  # where people reach the daemon's report ("" when not said)
    scan_every: dt.timedelta
    check_every: dt.timedelta
    archive_every: dt.timedelta
    grace: dt.timedelta
    log_format: LogFormat

    @property
    def listen_host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def report_hosts(self) -> tuple[str, ...]:
        """The names the report is served under: `allowed_hosts` and `public_url`'s host."""
        host = urlsplit(self.public_url).hostname if self.public_url else None
        return self.allowed_hosts + ((host,) if host else ())


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path | None  # the file read, None for pure defaults
    base_dir: Path  # relative paths and globs resolve against it
    sources: SourcesSettings
    state: StateSettings
    check: CheckSettings
    policy: PolicySettings
    archive: ArchiveSettings
    rewrite: RewriteSettings
    digest: DigestSettings
    notify: NotifySettings
    run: RunSettings
    rules: RuleSet = NO_RULE_SET  # the [[rules]] tables, in file order
