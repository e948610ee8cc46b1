"""Value parsers: TOML values to typed ones, each failing with what was expected.

A parser takes the raw value and the config file's folder (for relative paths)
and raises `Invalid` naming what it expected; the loader adds the file, the line
and the key. Durations and sizes have public parsers of their own, used by the
command line too (`report --since 7d`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zoneinfo
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkwatch.notify.kinds import NotifyEvent, NotifyTarget
from linkwatch.redact import register

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


class Invalid(Exception):
    """A value of the wrong type or out of range; `subkey` names an entry inside a table."""

    def __init__(self, expected: str, *, wrong_type: bool, subkey: str | None = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.wrong_type = wrong_type
        self.subkey = subkey


Convert = Callable[[object, Path], Any]

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


def describe(value: object, *, with_type: bool) -> str:
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


def as_integer(minimum: int, maximum: int | None = None) -> Convert:
    expected = f"an integer >= {minimum}" if maximum is None else f"an integer {minimum}..{maximum}"

    def convert(value: object, base_dir: Path) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(expected, wrong_type=True)
        if value < minimum or (maximum is not None and value > maximum):
            raise Invalid(expected, wrong_type=False)
        return value

    return convert


def as_positive_number(value: object, base_dir: Path) -> float:
    expected = "a number > 0"
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise Invalid(expected, wrong_type=True)
    if not value > 0 or value == float("inf"):
        raise Invalid(expected, wrong_type=False)
    return float(value)


def as_boolean(value: object, base_dir: Path) -> bool:
    if not isinstance(value, bool):
        raise Invalid("true or false", wrong_type=True)
    return value


def _string(value: object, *, expected: str) -> str:
    if not isinstance(value, str):
        raise Invalid(expected, wrong_type=True)
    return value


def as_one_line(*, allow_empty: bool) -> Convert:
    """Strings that end up in protocol headers: a line break there would inject a header."""
    expected = "a string on one line" if allow_empty else "a non-empty string on one line"

    def convert(value: object, base_dir: Path) -> str:
        text = _string(value, expected=expected)
        if (not text.strip() and not allow_empty) or any(ord(c) < 32 or c == "\x7f" for c in text):
            raise Invalid(expected, wrong_type=False)
        return text

    return convert


def as_choice(enum: type[StrEnum]) -> Convert:
    expected = "one of " + ", ".join(member.value for member in enum)

    def convert(value: object, base_dir: Path) -> StrEnum:
        text = _string(value, expected=expected)
        try:
            return enum(text)
        except ValueError:
            raise Invalid(expected, wrong_type=False) from None

    return convert


def as_choices(enum: type[StrEnum], *, allow_empty: bool = False) -> Convert:
    """An array of an enum's values, each once, in the order written."""
    expected = "an array of " + ", ".join(f'"{member.value}"' for member in enum)

    def convert(value: object, base_dir: Path) -> tuple[StrEnum, ...]:
        if not isinstance(value, list):
            raise Invalid(expected, wrong_type=True)
        if not value and not allow_empty:
            raise Invalid(expected + " (at least one)", wrong_type=False)
        members: list[StrEnum] = []
        for item in value:
            if not isinstance(item, str):
                raise Invalid(expected, wrong_type=False)
            try:
                member = enum(item)
            except ValueError:
                raise Invalid(expected, wrong_type=False) from None
            if member in members:
                raise Invalid(expected + f" (each once; {item!r} is twice)", wrong_type=False)
            members.append(member)
        return tuple(members)

    return convert


def as_duration(*, allow_zero: bool) -> Convert:
    expected = "a duration like '500ms', '30s', '6h', '3d'"

    def convert(value: object, base_dir: Path) -> dt.timedelta:
        try:
            duration = parse_duration(_string(value, expected=expected))
        except ValueError:
            raise Invalid(expected, wrong_type=False) from None
        if not duration and not allow_zero:
            raise Invalid(expected + " longer than zero", wrong_type=False)
        return duration

    return convert


def as_size(value: object, base_dir: Path) -> int:
    expected = "a size like '5MB', '256KiB' or a number of bytes"
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Invalid(expected, wrong_type=True)
    try:
        size = parse_size(value)
    except ValueError:
        raise Invalid(expected, wrong_type=False) from None
    if size < 1:
        raise Invalid(expected + " of at least 1 byte", wrong_type=False)
    return size


def as_globs(value: object, base_dir: Path) -> tuple[str, ...]:
    """Kept as written, not resolved: globbing is relative to base_dir by whoever expands them."""
    expected = "an array of glob strings"
    if not isinstance(value, list):
        raise Invalid(expected, wrong_type=True)
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise Invalid(expected, wrong_type=False)
    return tuple(value)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: object) -> dt.date:
    """A TOML date or a 'YYYY-MM-DD' string; a datetime is refused rather than truncated."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return dt.date.fromisoformat(value)
    raise ValueError(value)


def as_dates(value: object, base_dir: Path) -> tuple[tuple[str, dt.date], ...]:
    if not isinstance(value, dict):
        raise Invalid("a table of path or glob = date", wrong_type=True)
    pairs = []
    for pattern, day in value.items():
        try:
            pairs.append((pattern, _date(day)))
        except ValueError:
            expected = "a date like 2016-04-07"
            raise Invalid(expected, wrong_type=not isinstance(day, str), subkey=pattern) from None
    return tuple(pairs)


def as_path(value: object, base_dir: Path) -> Path:
    expected = "a path"
    text = _string(value, expected=expected)
    if not text.strip():
        raise Invalid(expected, wrong_type=False)
    return (base_dir / Path(text).expanduser()).resolve()


def as_optional_path(value: object, base_dir: Path) -> Path | None:
    """An empty string means "not set": TOML has no null."""
    text = _string(value, expected='a path, or "" for none')
    return (base_dir / Path(text).expanduser()).resolve() if text.strip() else None


def as_http_url(value: object, base_dir: Path) -> str:
    expected = "an http(s) URL like 'https://web.archive.org'"
    text = _string(value, expected=expected)
    if not _is_base_url(text):
        raise Invalid(expected, wrong_type=False)
    return text.rstrip("/")


def is_http_url(text: str) -> bool:
    """http(s), a host, a valid port, no white space."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not any(c.isspace() for c in text)
    )


def _is_base_url(text: str) -> bool:
    """An http(s) URL, maybe with a path (pywb lives under one); nothing after it."""
    parts = urlsplit(text)
    return is_http_url(text) and not (parts.query or parts.fragment)


_ADDRESS = r"[^@\s<>,\"]+@[^@\s<>,\"]+"

_MAILBOX = re.compile(rf"{_ADDRESS}|[^<>@,\"\r\n]*<{_ADDRESS}>")


def as_mailbox(value: object, base_dir: Path) -> str:
    """'ops@example.org' or 'Ops <ops@example.org>'; anything more exotic is refused."""
    expected = "an e-mail address like 'ops@example.org'"
    text = _string(value, expected=expected).strip()
    if not _MAILBOX.fullmatch(text):
        raise Invalid(expected, wrong_type=False)
    return text


def as_mailboxes(value: object, base_dir: Path) -> tuple[str, ...]:
    """A single string is accepted too: `to = "ops@example.org"` is too natural to refuse."""
    expected = "an e-mail address or an array of them"
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(expected, wrong_type=True)
    return tuple(as_mailbox(item, base_dir) for item in value)


def as_cron(value: object, base_dir: Path) -> str:
    expected = "a 5-field cron expression like '0 8 * * mon'"
    text = _string(value, expected=expected)
    if len(text.split()) != 5:
        raise Invalid(expected, wrong_type=False)
    return " ".join(text.split())


def as_timezone(value: object, base_dir: Path) -> str:
    expected = "an IANA time zone like 'Europe/Brussels'"
    text = _string(value, expected=expected)
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(expected, wrong_type=False) from None
    return text


_HOST_NAME = re.compile(r"(\*|\*?\.?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?)")


def as_host_names(value: object, base_dir: Path) -> tuple[str, ...]:
    """Host names without scheme or port, lower-cased; `*` alone is any host, and
    `.example.org` is that domain and every name under it."""
    expected = 'an array of host names like ["linkwatch.example.org", ".example.org"] or ["*"]'
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(expected, wrong_type=True)
    names = tuple(item.strip().lower() for item in value)
    if not all(_HOST_NAME.fullmatch(name) for name in names):
        raise Invalid(expected, wrong_type=False)
    return names


def split_listen(text: str) -> tuple[str, int]:
    """'127.0.0.1:8421' or '[::1]:8421'; port 0 asks the system for a free port."""
    host, colon, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"not host:port: {text!r}")
    return host, int(port)


def as_listen(value: object, base_dir: Path) -> str:
    expected = "host:port like '127.0.0.1:8421' (port 0..65535)"
    text = _string(value, expected=expected)
    try:
        split_listen(text)
    except ValueError:
        raise Invalid(expected, wrong_type=False) from None
    return text


_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_NAME = re.compile(r"LINKWATCH_[A-Z0-9_]+")
_APPRISE_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def expand_variables(text: str, environ: Mapping[str, str], *, key: str) -> str:
    """`${LINKWATCH_...}` replaced by the variable's value; each value becomes a secret to
    hide in every log line and stored text (`redact.register`), whatever its name."""

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if not _VARIABLE_NAME.fullmatch(name):
            raise Invalid(
                f"only ${{LINKWATCH_...}} variables (upper case), not ${{{name}}}",
                wrong_type=False,
            )
        found = environ.get(name)
        if found is None:
            raise Invalid(
                f"the environment variable {name} to be set (it is used in {key})",
                wrong_type=False,
            )
        register(found)
        return found

    return _VARIABLE.sub(value, text)


def as_notify_urls(value: object, base_dir: Path) -> tuple[NotifyTarget, ...]:
    """Apprise URLs (`json://host/path`, `slack://...`); secrets from the environment.

    Only the form is checked here (a scheme and something after it): which services
    Apprise knows is asked when a message is sent, so that loading a config for
    `report` never imports Apprise.
    """
    expected = 'an array of Apprise URLs like ["json://hooks.example.org/linkwatch"]'
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(expected, wrong_type=True)
    targets = []
    for item in value:
        url = expand_variables(item.strip(), os.environ, key="notify.urls")
        if not _APPRISE_URL.fullmatch(url):
            raise Invalid(expected, wrong_type=False)
        targets.append(NotifyTarget(url, item.strip()))
    return tuple(targets)


def as_events(value: object, base_dir: Path) -> frozenset[NotifyEvent]:
    expected = "an array of events among " + ", ".join(event.value for event in NotifyEvent)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid(expected, wrong_type=True)
    try:
        return frozenset(NotifyEvent(item.strip().lower()) for item in value)
    except ValueError:
        raise Invalid(expected, wrong_type=False) from None


def as_public_url(value: object, base_dir: Path) -> str:
    """The daemon's report as people reach it (behind a reverse proxy), or "" for none."""
    expected = "an http(s) URL like 'https://linkwatch.example.org/', or \"\" for none"
    text = _string(value, expected=expected).strip()
    if text and not _is_base_url(text):
        raise Invalid(expected, wrong_type=False)
    return text.rstrip("/")
