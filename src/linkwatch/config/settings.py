"""The typed, frozen settings: one dataclass per table of config.toml, and their enums.

Each field is a key of `keys.KEYS` (a key without its field fails on every load),
so the README's key table, the starter file and these classes cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from linkwatch.config.values import split_listen

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


class SmtpTls(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class SourcesSettings:
    paths: tuple[str, ...]  # globs, relative to Settings.base_dir
    dates: tuple[tuple[str, dt.date], ...]  # (path or glob, publication date), file order
    max_size: int
    max_citations: int


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


@dataclass(frozen=True, slots=True)
class ArchiveSettings:
    enabled: bool
    wayback_url: str  # no trailing slash
    saves_per_minute: float
    fresh_within: dt.timedelta
    backend: ArchiveBackend
    pywb_url: str  # no trailing slash
    pywb_collection: str


@dataclass(frozen=True, slots=True)
class RewriteSettings:
    mode: RewriteMode
    template_dir: Path | None  # None: the built-in templates


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
class RunSettings:
    listen: str  # "host:port"
    allowed_hosts: tuple[str, ...]  # names the report is served under (daemon.hosts)
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
    run: RunSettings
