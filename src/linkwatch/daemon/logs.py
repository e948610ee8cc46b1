"""The daemon's log: one line per event on stderr, for people (text) or collectors (json).

A line never spans two lines, whatever it carries: a log collector splits on
newlines, and a traceback cut in thirty pieces is thirty useless events. An
exception is therefore shown as its type, message and innermost frame in
text, and whole (as one JSON string) in json.

Nothing secret reaches a line: every line passes through `redact` (the
credentials part of any URL, the value of every `LINKWATCH_*` variable whose
name says KEY, SECRET, TOKEN or PASSWORD, in every encoding it may be echoed
in), terminal escape sequences are removed, and every field is cut at
`MAX_FIELD` characters so that no page body can slip in whole.

Structured fields go in `extra={"fields": {...}}`; `event()` is the short way.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from linkwatch.config.settings import LogFormat
from linkwatch.redact import Redactor, redact, secret_values
from linkwatch.text import printable

MAX_FIELD = 500
_QUIET = {  # chatty libraries: their routine lines are not events worth a line
    "apscheduler": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "aiohttp.server": logging.WARNING,
    "asyncio": logging.WARNING,
}


class _Scrubber:
    """Every line through `redact.redact` (the secrets of this process), and through a
    redactor of the environment given to `configure_logging` (the same one, but in tests)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._local = Redactor(secret_values(environ))

    def __call__(self, text: str, limit: int | None = MAX_FIELD) -> str:
        text = printable(" ".join(redact(self._local(text)).splitlines()))
        return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, Mapping) else {}


def _short_exception(record: logging.LogRecord) -> str | None:
    """'ValueError: boom (at scan.py:120 in scan)': what a person needs on one line."""
    if not record.exc_info or record.exc_info[1] is None:
        return None
    exc = record.exc_info[1]
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})"
    return f"{type(exc).__name__}: {exc}{where}"


def _quote(text: str) -> str:
    """Bare when it is one word, JSON-quoted otherwise, so that key=value stays parseable."""
    return (
        text
        if text and not any(c.isspace() or c in '"=' for c in text)
        else json.dumps(text, ensure_ascii=False)
    )


def _timestamp(record: logging.LogRecord) -> str:
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """`2026-11-25T08:00:00.000Z INFO  check: checked 12 URLs checked=12 alive=11`."""

    def __init__(self, scrub: _Scrubber) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        name = record.name.removeprefix("linkwatch.")
        message = self.scrub(record.getMessage())
        parts = [_timestamp(record), f"{record.levelname:<5}", f"{name}:", message]
        for key, value in _fields(record).items():
            text = self.scrub(value if isinstance(value, str) else json.dumps(value, default=str))
            parts.append(f"{key}={_quote(text)}")
        short = _short_exception(record)
        if short:
            parts.append(f"error={_quote(self.scrub(short))}")
        return " ".join(parts)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the event's fields."""

    def __init__(self, scrub: _Scrubber) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.scrub(record.getMessage()),
        }
        for key, value in _fields(record).items():
            entry.setdefault(key, self.scrub(value) if isinstance(value, str) else value)
        short = _short_exception(record)
        if short and record.exc_info:
            entry["error"] = self.scrub(short)
            whole = "".join(traceback.format_exception(*record.exc_info))
            entry["traceback"] = self.scrub(whole.replace("\n", " | "), limit=None)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RateLimit(logging.Filter):
    """At most `burst` lines of one kind (logger and message pattern) per `window` seconds.

    An attack or a broken peer can make a library log the same error thousands
    of times a second (a refused connection, a bad request line, `accept()` out
    of file descriptors); one line in a minute says as much and keeps the disk.
    The first line let through after a quiet spell says how many were dropped
    (`suppressed=N`). Lines of linkwatch's own events are never dropped.
    """

    def __init__(
        self,
        burst: int = 10,
        window: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._monotonic = monotonic
        self._kinds: dict[tuple[str, str], list[float]] = {}  # kind -> [window start, count]
        self._dropped: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "linkwatch" or record.name.startswith("linkwatch."):
            return True
        kind = (record.name, str(record.msg))
        now = self._monotonic()
        entry = self._kinds.get(kind)
        if entry is None or now - entry[0] >= self.window:
            if len(self._kinds) > 1000:  # kinds come from libraries: bound the table
                self._kinds.clear()
            entry = self._kinds[kind] = [now, 0.0]
        entry[1] += 1
        if entry[1] > self.burst:
            self._dropped[kind] = self._dropped.get(kind, 0) + 1
            return False
        dropped = self._dropped.pop(kind, 0)
        if dropped:
            record.fields = {**_fields(record), "suppressed": dropped}
        return True


def configure_logging(
    log_format: LogFormat,
    *,
    level: int = logging.INFO,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Send every log record to `stream` (stderr) in `log_format`; returns the handler.

    Replaces the root logger's handlers, so calling it twice does not double lines.
    """
    scrub = _Scrubber(os.environ if environ is None else environ)
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter(scrub) if log_format is LogFormat.JSON else TextFormatter(scrub)
    handler.setFormatter(formatter)
    handler.addFilter(RateLimit())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(level, quiet))
    return handler


def event(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """Log one event with structured fields (key=value in text, keys in json)."""
    logger.log(level, message, extra={"fields": fields})
