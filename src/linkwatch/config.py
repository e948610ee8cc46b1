"""config.toml -> one typed, frozen `Settings` object, passed to whatever needs it.

Precedence, highest first:

1. the command line: `--config` chooses the file, and a command may override single
   fields of the loaded object with `dataclasses.replace`;
2. the environment: `LINKWATCH_CONFIG` chooses the file when `--config` is absent,
   `LINKWATCH_SMTP_PASSWORD` is the only source of the SMTP password, and the standard
   proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are honoured by the HTTP client;
3. the config file;
4. the defaults declared in `KEYS`.

This module implements layers 3 and 4 and never reads the environment itself, so a
given file yields the same Settings wherever it is loaded.

Every key is declared once, in `KEYS`: its type, its default (as TOML text, run through
the same validation as a value from the file), and a one-line doc. Defaults, validation,
the starter config and the README's key table all derive from that table, so they cannot
drift apart.

A bad file raises `ConfigError` with one line naming the file, the line and the key, for
the first problem only. tomllib reports no line numbers for values, so lines are found by
scanning the text for table headers and `key =` assignments: good enough for ordinary
files; when it fails the line is left out rather than guessed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import keyword
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from linkwatch import __version__

SMTP_PASSWORD_ENV = "LINKWATCH_SMTP_PASSWORD"


class ConfigError(Exception):
    """A configuration file that cannot be used; str() is one line naming file, line, key."""


class RewriteMode(StrEnum):
    """Which citations `rewrite` points at archived copies."""

    DEAD = "dead"  # only rotten ones
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
    scan_every: dt.timedelta
    check_every: dt.timedelta
    archive_every: dt.timedelta
    grace: dt.timedelta
    log_format: LogFormat

    @property
    def listen_host(self) -> str:
        return _split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return _split_listen(self.listen)[1]


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


# --------------------------------------------------------------------------- values


_DURATION_PART = re.compile(r"\s*([0-9]+)\s*(ms|[smhdw])\s*")
_DURATION_MILLISECONDS = {
    "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000
}  # fmt: skip
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", re.IGNORECASE)


def parse_duration(text: str) -> dt.timedelta:
    """'500ms', '30s', '10m', '6h', '3d', '2w', or parts added up as in '1h30m'.

    A bare number is refused: whether `20` meant seconds or minutes is the kind of
    guess a configuration should not make.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"not a duration: {text!r}")
    position, milliseconds = 0, 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise ValueError(f"not a duration: {text!r}")
        milliseconds += int(match[1]) * _DURATION_MILLISECONDS[match[2]]
        position = match.end()
    try:
        return dt.timedelta(milliseconds=milliseconds)
    except OverflowError:
        raise ValueError(f"duration too long: {text!r}") from None


def parse_size(value: str | int) -> int:
    """Bytes from 262144, '256KiB', '5MB' or '5 MiB': KB/MB are powers of 1000, KiB/MiB of 1024."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"negative size: {value}")
        return value
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not a size: {value!r}")
    unit = (match[2] or "b").lower()
    base = 1024 if unit.endswith("ib") else 1000
    multiplier = int(base ** "bkmgt".index(unit[0]))
    return int(Decimal(match[1]) * multiplier)  # exact: '1.5KiB' is 1536, not 1535.99...


# --------------------------------------------------------------------------- validation


class _Invalid(Exception):
    """A value of the wrong type or out of range; `subkey` names an entry inside a table."""

    def __init__(self, expected: str, *, wrong_type: bool, subkey: str | None = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.wrong_type = wrong_type
        self.subkey = subkey


_Convert = Callable[[object, Path], Any]

_TOML_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "float"),
    (str, "string"),
    (dt.datetime, "datetime"),
    (dt.date, "date"),
    (dt.time, "time"),
    (list, "array"),
)


def _describe(value: object, *, with_type: bool) -> str:
    """How a rejected value is shown: as written in TOML, shortened, optionally typed."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dt.date | dt.time):
        text = value.isoformat()
    else:
        text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if not with_type:
        return text
    type_name = next((name for cls, name in _TOML_TYPE_NAMES if isinstance(value, cls)), "value")
    return f"{text} ({type_name})"


def _integer(minimum: int, maximum: int | None = None) -> _Convert:
    expected = f"an integer >= {minimum}" if maximum is None else f"an integer {minimum}..{maximum}"

    def convert(value: object, base_dir: Path) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(expected, wrong_type=True)
        if value < minimum or (maximum is not None and value > maximum):
            raise _Invalid(expected, wrong_type=False)
        return value

    return convert


def _positive_number(value: object, base_dir: Path) -> float:
    expected = "a number > 0"
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Invalid(expected, wrong_type=True)
    if not value > 0 or value == float("inf"):
        raise _Invalid(expected, wrong_type=False)
    return float(value)


def _boolean(value: object, base_dir: Path) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true or false", wrong_type=True)
    return value


def _string(value: object, *, expected: str) -> str:
    if not isinstance(value, str):
        raise _Invalid(expected, wrong_type=True)
    return value


def _one_line(*, allow_empty: bool) -> _Convert:
    """Strings that end up in protocol headers: a line break there would inject a header."""
    expected = "a string on one line" if allow_empty else "a non-empty string on one line"

    def convert(value: object, base_dir: Path) -> str:
        text = _string(value, expected=expected)
        if (not text.strip() and not allow_empty) or any(ord(c) < 32 or c == "\x7f" for c in text):
            raise _Invalid(expected, wrong_type=False)
        return text

    return convert


def _choice(enum: type[StrEnum]) -> _Convert:
    expected = "one of " + ", ".join(member.value for member in enum)

    def convert(value: object, base_dir: Path) -> StrEnum:
        text = _string(value, expected=expected)
        try:
            return enum(text)
        except ValueError:
            raise _Invalid(expected, wrong_type=False) from None

    return convert


def _duration(*, allow_zero: bool) -> _Convert:
    expected = "a duration like '500ms', '30s', '6h', '3d'"

    def convert(value: object, base_dir: Path) -> dt.timedelta:
        try:
            duration = parse_duration(_string(value, expected=expected))
        except ValueError:
            raise _Invalid(expected, wrong_type=False) from None
        if not duration and not allow_zero:
            raise _Invalid(expected + " longer than zero", wrong_type=False)
        return duration

    return convert


def _size(value: object, base_dir: Path) -> int:
    expected = "a size like '5MB', '256KiB' or a number of bytes"
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise _Invalid(expected, wrong_type=True)
    try:
        size = parse_size(value)
    except ValueError:
        raise _Invalid(expected, wrong_type=False) from None
    if size < 1:
        raise _Invalid(expected + " of at least 1 byte", wrong_type=False)
    return size


def _globs(value: object, base_dir: Path) -> tuple[str, ...]:
    """Kept as written, not resolved: globbing is relative to base_dir by whoever expands them."""
    expected = "an array of glob strings"
    if not isinstance(value, list):
        raise _Invalid(expected, wrong_type=True)
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise _Invalid(expected, wrong_type=False)
    return tuple(value)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: object) -> dt.date:
    """A TOML date or a 'YYYY-MM-DD' string; a datetime is refused rather than truncated."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    raise ValueError(value)


def _dates(value: object, base_dir: Path) -> tuple[tuple[str, dt.date], ...]:
    if not isinstance(value, dict):
        raise _Invalid("a table of path or glob = date", wrong_type=True)
    pairs = []
    for pattern, day in value.items():
        try:
            pairs.append((pattern, _date(day)))
        except ValueError:
            expected = "a date like 2016-04-07"
            raise _Invalid(expected, wrong_type=not isinstance(day, str), subkey=pattern) from None
    return tuple(pairs)


def _path(value: object, base_dir: Path) -> Path:
    expected = "a path"
    text = _string(value, expected=expected)
    if not text.strip():
        raise _Invalid(expected, wrong_type=False)
    return (base_dir / Path(text).expanduser()).resolve()


def _optional_path(value: object, base_dir: Path) -> Path | None:
    """An empty string means "not set": TOML has no null."""
    text = _string(value, expected='a path, or "" for none')
    return (base_dir / Path(text).expanduser()).resolve() if text.strip() else None


def _http_url(value: object, base_dir: Path) -> str:
    expected = "an http(s) URL like 'https://web.archive.org'"
    text = _string(value, expected=expected)
    if not _is_base_url(text):
        raise _Invalid(expected, wrong_type=False)
    return text.rstrip("/")


def _is_base_url(text: str) -> bool:
    """http(s), a host, a valid port, maybe a path (pywb lives under one); nothing after it."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.query or parts.fragment)
        and not any(c.isspace() for c in text)
    )


_ADDRESS = r"[^@\s<>,\"]+@[^@\s<>,\"]+"
_MAILBOX = re.compile(rf"{_ADDRESS}|[^<>@,\"\r\n]*<{_ADDRESS}>")


def _mailbox(value: object, base_dir: Path) -> str:
    """'ops@example.org' or 'Ops <ops@example.org>'; anything more exotic is refused."""
    expected = "an e-mail address like 'ops@example.org'"
    text = _string(value, expected=expected).strip()
    if not _MAILBOX.fullmatch(text):
        raise _Invalid(expected, wrong_type=False)
    return text


def _mailboxes(value: object, base_dir: Path) -> tuple[str, ...]:
    """A single string is accepted too: `to = "ops@example.org"` is too natural to refuse."""
    expected = "an e-mail address or an array of them"
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Invalid(expected, wrong_type=True)
    return tuple(_mailbox(item, base_dir) for item in value)


def _cron(value: object, base_dir: Path) -> str:
    expected = "a 5-field cron expression like '0 8 * * mon'"
    text = _string(value, expected=expected)
    if len(text.split()) != 5:
        raise _Invalid(expected, wrong_type=False)
    return " ".join(text.split())


def _timezone(value: object, base_dir: Path) -> str:
    expected = "an IANA time zone like 'Europe/Brussels'"
    text = _string(value, expected=expected)
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _Invalid(expected, wrong_type=False) from None
    return text


def _split_listen(text: str) -> tuple[str, int]:
    """'127.0.0.1:8421' or '[::1]:8421'; port 0 asks the system for a free port."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"not host:port: {text!r}")
    return host, int(port)


def _listen(value: object, base_dir: Path) -> str:
    expected = "host:port like '127.0.0.1:8421' (port 0..65535)"
    text = _string(value, expected=expected)
    try:
        _split_listen(text)
    except ValueError:
        raise _Invalid(expected, wrong_type=False) from None
    return text


# --------------------------------------------------------------------------- the keys


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One configuration key: the single source for validation, defaults and docs."""

    name: str  # dotted, e.g. "check.per_host"
    type: str  # for people, e.g. "integer >= 1"
    default: str  # as TOML text
    doc: str  # one line
    convert: _Convert = field(repr=False, compare=False)

    @property
    def section(self) -> str:
        return self.name.partition(".")[0]

    @property
    def leaf(self) -> str:
        return self.name.partition(".")[2]


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_USER_AGENT = f"linkwatch/{__version__} (+https://github.com/linkwatch/linkwatch)"
_DEFAULT_GLOBS = (
    "releases/**/*.md",
    "releases/**/*.html",
    "releases/**/*.htm",
    "releases/**/*.txt",
)

KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "sources.paths",
        "array of globs",
        "[" + ", ".join(_toml_string(glob) for glob in _DEFAULT_GLOBS) + "]",
        "Release files to read, as globs relative to the config file ('**' spans directories).",
        _globs,
    ),
    KeySpec(
        "sources.dates",
        "table: path or glob = date",
        "{}",
        "Publication dates that override what a release says about itself.",
        _dates,
    ),
    KeySpec(
        "sources.max_size",
        "size",
        '"5MB"',
        "Release files larger than this are refused with an error.",
        _size,
    ),
    KeySpec(
        "state.dir",
        "path",
        '"state"',
        "Directory of the database (linkwatch.db), relative to the config file.",
        _path,
    ),
    KeySpec(
        "check.concurrency",
        "integer >= 1",
        "64",
        "Most checks in flight at once, over all hosts.",
        _integer(1),
    ),
    KeySpec(
        "check.per_host",
        "integer >= 1",
        "2",
        "Most requests in flight to one host at once.",
        _integer(1),
    ),
    KeySpec(
        "check.timeout",
        "duration > 0",
        '"20s"',
        "Total time allowed for one check, redirects included.",
        _duration(allow_zero=False),
    ),
    KeySpec(
        "check.user_agent",
        "string",
        _toml_string(_USER_AGENT),
        "User-Agent header: names the tool and a contact URL, as polite robots do.",
        _one_line(allow_empty=False),
    ),
    KeySpec(
        "check.allow_private",
        "boolean",
        "false",
        "Check URLs resolving to loopback, private or link-local addresses (off: SSRF guard).",
        _boolean,
    ),
    KeySpec(
        "check.host_delay",
        "duration",
        '"1s"',
        "Minimum pause between two requests to the same host.",
        _duration(allow_zero=True),
    ),
    KeySpec(
        "check.every",
        "duration > 0",
        '"1d"',
        "How often a healthy URL is checked again.",
        _duration(allow_zero=False),
    ),
    KeySpec(
        "check.max_body",
        "size",
        '"256KiB"',
        "Most bytes of a page body read (and decompressed) per check.",
        _size,
    ),
    KeySpec(
        "check.probe_every",
        "duration > 0",
        '"7d"',
        "How long a site's answer to a path that cannot exist (the soft-404 probe) is kept "
        "before the site is asked again.",
        _duration(allow_zero=False),
    ),
    KeySpec(
        "policy.dead_after_failures",
        "integer >= 2",
        "3",
        "Failed checks in a row before a URL is dead (one failure never is).",
        _integer(2),
    ),
    KeySpec(
        "policy.dead_after_days",
        "integer >= 0",
        "3",
        "Days those failures must span before a URL is dead.",
        _integer(0),
    ),
    KeySpec(
        "archive.enabled",
        "boolean",
        "true",
        "Save cited pages to the archive while they are alive.",
        _boolean,
    ),
    KeySpec(
        "archive.wayback_url",
        "http(s) URL",
        '"https://web.archive.org"',
        "Wayback-compatible archive (the Internet Archive, or a self-hosted pywb).",
        _http_url,
    ),
    KeySpec(
        "archive.saves_per_minute",
        "number > 0",
        "10",
        "Most Save Page Now requests per minute.",
        _positive_number,
    ),
    KeySpec(
        "archive.fresh_within",
        "duration",
        '"30d"',
        "An existing snapshot this recent makes a new save unnecessary.",
        _duration(allow_zero=True),
    ),
    KeySpec(
        "archive.backend",
        "wayback | pywb",
        '"wayback"',
        "Archive to look up and save in: the Wayback Machine API, or a self-hosted pywb.",
        _choice(ArchiveBackend),
    ),
    KeySpec(
        "archive.pywb_url",
        "http(s) URL",
        '"http://localhost:8080"',
        'Base URL of the pywb server (archive.backend = "pywb").',
        _http_url,
    ),
    KeySpec(
        "archive.pywb_collection",
        "string",
        '"linkwatch"',
        "pywb collection that holds the captures.",
        _one_line(allow_empty=False),
    ),
    KeySpec(
        "rewrite.mode",
        "dead | all | off",
        '"dead"',
        "Which citations rewrite points at archived copies: rotten ones, all, or none.",
        _choice(RewriteMode),
    ),
    KeySpec(
        "rewrite.template_dir",
        'path or ""',
        '""',
        "Folder of jinja2 templates overriding the wording of added archive links.",
        _optional_path,
    ),
    KeySpec(
        "digest.to",
        "e-mail address or array of them",
        "[]",
        "Recipients of the digest e-mail.",
        _mailboxes,
    ),
    KeySpec(
        "digest.from",
        "e-mail address",
        '"linkwatch@localhost"',
        "Sender of the digest e-mail.",
        _mailbox,
    ),
    KeySpec(
        "digest.smtp_host",
        "string",
        '"localhost"',
        "SMTP server the digest is sent through.",
        _one_line(allow_empty=False),
    ),
    KeySpec(
        "digest.smtp_port",
        "integer 1..65535",
        "25",
        "SMTP server port.",
        _integer(1, 65535),
    ),
    KeySpec(
        "digest.tls",
        "starttls | tls | none",
        '"starttls"',
        "How the SMTP connection is encrypted.",
        _choice(SmtpTls),
    ),
    KeySpec(
        "digest.username",
        "string",
        '""',
        f"SMTP login, empty for none; the password comes only from env {SMTP_PASSWORD_ENV}.",
        _one_line(allow_empty=True),
    ),
    KeySpec(
        "digest.schedule",
        "cron expression",
        '"0 8 * * mon"',
        "When the daemon sends the digest (minute hour day month weekday).",
        _cron,
    ),
    KeySpec(
        "digest.timezone",
        "IANA time zone",
        '"UTC"',
        "Time zone of digest.schedule and of dates in the digest.",
        _timezone,
    ),
    KeySpec(
        "digest.skip_empty",
        "boolean",
        "false",
        "Send no digest when nothing changed since the last one.",
        _boolean,
    ),
    KeySpec(
        "run.listen",
        "host:port",
        '"127.0.0.1:8421"',
        "Address of the daemon's health and metrics endpoint.",
        _listen,
    ),
    KeySpec(
        "run.scan_every",
        "duration > 0",
        '"1h"',
        "How often the daemon looks for new or changed releases.",
        _duration(allow_zero=False),
    ),
    KeySpec(
        "run.check_every",
        "duration > 0",
        '"10m"',
        "How often the daemon checks the URLs that are due.",
        _duration(allow_zero=False),
    ),
    KeySpec(
        "run.archive_every",
        "duration > 0",
        '"5m"',
        "How often the daemon works through the archive queue.",
        _duration(allow_zero=False),
    ),
    KeySpec(
        "run.grace",
        "duration",
        '"10s"',
        "On shutdown, how long running work may take to finish.",
        _duration(allow_zero=True),
    ),
    KeySpec(
        "run.log_format",
        "text | json",
        '"text"',
        "Log lines for people (text) or for log collectors (json).",
        _choice(LogFormat),
    ),
)

_KEY_BY_NAME = {spec.name: spec for spec in KEYS}
_SECTIONS = tuple(dict.fromkeys(spec.section for spec in KEYS))
_FORBIDDEN = {
    "digest.password": f"do not put the password in the file; set env {SMTP_PASSWORD_ENV}",
}


# --------------------------------------------------------------------------- loading


class _Problem(Exception):
    """The first thing wrong with a parsed file, with the TOML key path to find its line."""

    def __init__(self, key_path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.key_path = key_path
        self.message = message


def _hint(name: str, candidates: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown_section(section: str, value: object) -> _Problem:
    if isinstance(value, dict):
        return _Problem((section,), f"unknown table '{section}'" + _hint(section, _SECTIONS))
    return _Problem((section,), f"unknown key '{section}'" + _hint(section, list(_KEY_BY_NAME)))


def _unknown_key(section: str, leaf: str) -> _Problem:
    name = f"{section}.{leaf}"
    if name in _FORBIDDEN:
        return _Problem((section, leaf), f"{name}: {_FORBIDDEN[name]}")
    return _Problem((section, leaf), f"unknown key '{name}'" + _hint(name, list(_KEY_BY_NAME)))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _convert(spec: KeySpec, raw: object, base_dir: Path) -> Any:
    try:
        return spec.convert(raw, base_dir)
    except _Invalid as invalid:
        key_path: tuple[str, ...] = (spec.section, spec.leaf)
        name = spec.name
        if invalid.subkey is not None:
            key_path += (invalid.subkey,)
            name += "." + _toml_key(invalid.subkey)
            raw = raw[invalid.subkey] if isinstance(raw, dict) else raw
        got = _describe(raw, with_type=invalid.wrong_type)
        raise _Problem(key_path, f"{name}: expected {invalid.expected}, got {got}") from None


def _validate(document: Mapping[str, object], base_dir: Path) -> dict[str, Any]:
    """Typed values by dotted name, in file order, defaults filled in; the first problem raises."""
    values: dict[str, Any] = {}
    for section, table in document.items():
        if section not in _SECTIONS:
            raise _unknown_section(section, table)
        if not isinstance(table, dict):
            got = _describe(table, with_type=True)
            raise _Problem((section,), f"{section}: expected a table, got {got}")
        for leaf, raw in table.items():
            spec = _KEY_BY_NAME.get(f"{section}.{leaf}")
            if spec is None:
                raise _unknown_key(section, leaf)
            values[spec.name] = _convert(spec, raw, base_dir)
    for spec in KEYS:
        if spec.name not in values:
            values[spec.name] = _convert(spec, tomllib.loads(f"v = {spec.default}")["v"], base_dir)
    return values


_T = TypeVar("_T")


def _field_name(leaf: str) -> str:
    """`digest.from` is a Python keyword, so its field is `from_`."""
    return leaf + "_" if keyword.iskeyword(leaf) else leaf


def _section(factory: Callable[..., _T], section: str, values: Mapping[str, Any]) -> _T:
    """One section's dataclass; a KEYS entry without a field fails here, on every load."""
    prefix = section + "."
    return factory(
        **{
            _field_name(name.removeprefix(prefix)): value
            for name, value in values.items()
            if name.startswith(prefix)
        }
    )


def _assemble(values: Mapping[str, Any], base_dir: Path, config_path: Path | None) -> Settings:
    return Settings(
        config_path=config_path,
        base_dir=base_dir,
        sources=_section(SourcesSettings, "sources", values),
        state=_section(StateSettings, "state", values),
        check=_section(CheckSettings, "check", values),
        policy=_section(PolicySettings, "policy", values),
        archive=_section(ArchiveSettings, "archive", values),
        rewrite=_section(RewriteSettings, "rewrite", values),
        digest=_section(DigestSettings, "digest", values),
        run=_section(RunSettings, "run", values),
    )


def default_settings(base_dir: Path) -> Settings:
    base_dir = base_dir.resolve()
    return _assemble(_validate({}, base_dir), base_dir, None)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (run `linkwatch init` to write one)"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")  # tolerate the BOM some editors write
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: invalid TOML: not UTF-8") from None


_TOML_ERROR_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        match = _TOML_ERROR_LINE.search(message)
        where = f"{path}:{match[1]}" if match else str(path)
        raise ConfigError(f"{where}: invalid TOML: {message}") from None


def load_settings(path: Path) -> Settings:
    """Read, validate and type one config file; raises ConfigError naming the first problem."""
    text = _read_text(path)
    document = _parse(text, path)
    config_path = path.resolve()
    base_dir = config_path.parent
    try:
        values = _validate(document, base_dir)
    except _Problem as problem:
        line = _KeyLines(text).find(problem.key_path)
        where = f"{path}:{line}" if line is not None else str(path)
        raise ConfigError(f"{where}: {problem.message}") from None
    return _assemble(values, base_dir, config_path)


# --------------------------------------------------------------------------- line numbers


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_KEY_PATH = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"\s*\[\[?\s*(?P<key>{_KEY_PATH})\s*\]")
_ASSIGNMENT = re.compile(rf"\s*(?P<key>{_KEY_PATH})\s*=")


def _parse_key_path(text: str) -> tuple[str, ...]:
    """Let tomllib itself unquote and split a dotted key: quoting rules are subtle."""
    node: object = tomllib.loads(f"{text} = 0")
    parts: list[str] = []
    while isinstance(node, dict):
        key, node = next(iter(node.items()))
        parts.append(key)
    return tuple(parts)


class _KeyLines:
    """Where each key path is first written: `[table]` headers and `key =` assignments.

    A line inside a multi-line string that looks like an assignment can mislead it;
    that is the accepted price of not writing a second TOML parser.
    """

    def __init__(self, text: str) -> None:
        self.headers: dict[tuple[str, ...], int] = {}
        self.assignments: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _HEADER.match(line):
                table = _parse_key_path(header["key"])
                self.headers.setdefault(table, number)
            elif assignment := _ASSIGNMENT.match(line):
                key_path = table + _parse_key_path(assignment["key"])
                for length in range(len(table) + 1, len(key_path) + 1):
                    self.assignments.setdefault(key_path[:length], number)

    def find(self, key_path: tuple[str, ...]) -> int | None:
        """The key's own line, else the line of an enclosing inline table or dotted key."""
        for candidate in (self.assignments, self.headers):
            if key_path in candidate:
                return candidate[key_path]
        for length in range(len(key_path) - 1, 0, -1):
            if key_path[:length] in self.assignments:
                return self.assignments[key_path[:length]]
        return None


# --------------------------------------------------------------------------- starter file


_STARTER_HEADER = f"""\
# linkwatch configuration (TOML).
#
# Every key is listed with its default value, commented out: uncomment a line to
# change it. Relative paths and globs are relative to this file's directory.
# Durations: "30s", "10m", "6h", "3d", "2w", "1h30m".  Sizes: "5MB", "256KiB", or bytes.
# The SMTP password is never read from this file: set {SMTP_PASSWORD_ENV}.
# Precedence: command line > environment > this file > defaults.
"""

_STARTER_EXAMPLES = {
    "sources.dates": 'for example: dates = { "releases/2012/*.html" = 2012-05-01 }',
    "check.user_agent": "(the default follows the installed version)",
}


def _starter_lines() -> Iterator[str]:
    yield _STARTER_HEADER
    section = ""
    for spec in KEYS:
        if spec.section != section:
            section = spec.section
            yield f"\n[{section}]\n"
        else:
            yield "\n"
        yield f"# {spec.doc}\n"
        if spec.name in _STARTER_EXAMPLES:
            yield f"#   {_STARTER_EXAMPLES[spec.name]}\n"
        yield f"# {spec.leaf} = {spec.default}\n"


STARTER_CONFIG: str = "".join(_starter_lines())


def write_starter_config(path: Path, *, force: bool = False) -> None:
    """Write STARTER_CONFIG; an existing file is kept unless `force`."""
    try:
        with path.open("w" if force else "x", encoding="utf-8") as file:
            file.write(STARTER_CONFIG)
    except FileExistsError:
        raise ConfigError(
            f"{path}: already exists; not overwritten (use `linkwatch init --force`)"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot write: {err.strerror or err}") from None
