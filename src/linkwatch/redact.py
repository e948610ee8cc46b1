"""One redaction for every text that came from a remote party, before it is kept or shown.

Secrets reach remote parties (Save Page Now keys in a header, the SMTP
password in an AUTH exchange), and remote parties echo what they got: an
archive that repeats the request's headers in its 403, an SMTP server that
quotes the AUTH line in its error. Such answers become refusal reasons,
errors and log lines, so every text that is stored, logged or sent passes
through `redact` first: the store's methods that keep a remote text, the log
formatter, the messages.

A secret is hidden in every form it may come back in: as it is, URL-encoded
(both `%20` and `+` for spaces), and base64-encoded at any of the three
alignments inside a longer base64 text (so `AUTH PLAIN` of "\\0user\\0secret"
and a `Basic` header of "user:secret" are caught too), besides the
compositions registered whole (`register`).

The secrets: the values of every `LINKWATCH_*` environment variable whose name
says KEY, SECRET, TOKEN or PASSWORD (read when first needed, in each process),
and whatever code that holds a secret registers. Credentials in URLs
(`https://user:pass@host`) are masked wherever they appear.
"""

from __future__ import annotations

import base64
import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 4  # shorter values would mask ordinary words
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD")
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Values never to show: those of LINKWATCH_* variables whose names say they are secret."""
    return tuple(
        value
        for name, value in environ.items()
        if name.startswith("LINKWATCH_") and _SECRET_NAME.search(name) and len(value) >= MIN_SECRET
    )


def _base64_forms(secret: bytes) -> set[str]:
    """The secret as it shows inside any base64 text: at each of the three alignments,
    the characters that depend on the secret's bytes alone."""
    forms: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode("ascii").rstrip("=")
        skip = -(-shift * 4 // 3)  # characters that also hold the padding bytes before
        tail = (shift + len(secret)) % 3  # a last group shared with what may follow
        end = len(encoded) - (1 if tail else 0)
        if end - skip >= MIN_SECRET:
            forms.add(encoded[skip:end])
    return forms


def _forms(secret: str) -> set[str]:
    raw = secret.encode("utf-8")
    return {secret, quote(secret, safe=""), quote_plus(secret)} | _base64_forms(raw)


class Redactor:
    """Replaces every form of every known secret with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            for secret in secrets:
                if len(secret) >= MIN_SECRET:
                    self._forms |= {form for form in _forms(secret) if len(form) >= MIN_SECRET}
            ordered = sorted(self._forms, key=len, reverse=True)  # longest first
            self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        text = _URL_CREDENTIALS.sub(r"\1***@", text)
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


_default: Redactor | None = None
_default_lock = threading.Lock()


def _redactor() -> Redactor:
    global _default
    with _default_lock:
        if _default is None:
            _default = Redactor(secret_values(os.environ))
        return _default


def register(*secrets: str) -> None:
    """Add secrets (or compositions of them, such as "user:password") to hide everywhere."""
    _redactor().add(secrets)


def redact(text: str) -> str:
    """`text` with every known secret, in any of its forms, replaced by `***`."""
    return _redactor()(text)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)
