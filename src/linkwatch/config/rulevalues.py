"""Value parsers for the keys of a `[[rules]]` table (see `linkwatch.rules`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from linkwatch.config.values import Invalid, expand_variables
from linkwatch.redact import register
from linkwatch.rules import TreatAs

_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})*|\[[0-9a-f:.]+\]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an RFC 9110 token
# Headers the checker owns: a rule setting them would break the request or its framing.
_OWNED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def as_rule_host(value: object, base_dir: Path) -> str:
    expected = "a host name like 'example.org' (no scheme, no path)"
    if not isinstance(value, str):
        raise Invalid(expected, wrong_type=True)
    host = value.strip().lower().rstrip(".")
    if not _HOST.fullmatch(host):
        raise Invalid(expected, wrong_type=False)
    return host


def as_rule_url(value: object, base_dir: Path) -> str:
    expected = "an http(s) URL glob like 'https://intranet.example/*'"
    if not isinstance(value, str):
        raise Invalid(expected, wrong_type=True)
    glob = value.strip()
    if not re.match(r"(?i)(https?|\*)://\S", glob) or any(c.isspace() for c in glob):
        raise Invalid(expected, wrong_type=False)
    return glob


def as_statuses(value: object, base_dir: Path) -> frozenset[int]:
    expected = "an array of HTTP statuses 100..599 like [403, 429]"
    if not isinstance(value, list):
        raise Invalid(expected, wrong_type=True)
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        raise Invalid(expected, wrong_type=True)
    if not all(100 <= s <= 599 for s in value):
        raise Invalid(expected, wrong_type=False)
    return frozenset(value)


def as_treat_as(value: object, base_dir: Path) -> TreatAs:
    expected = "one of " + ", ".join(f'"{t.value}"' for t in TreatAs)
    if not isinstance(value, str):
        raise Invalid(expected, wrong_type=True)
    try:
        return TreatAs(value.strip().lower())
    except ValueError:
        raise Invalid(expected, wrong_type=False) from None


def as_headers(value: object, base_dir: Path) -> tuple[tuple[str, str], ...]:
    """Request headers for a rule's URLs; ${LINKWATCH_...} filled in, every value a secret."""
    expected = 'a table of header = "value" like { Cookie = "${LINKWATCH_PARTNER_COOKIE}" }'
    if not isinstance(value, dict):
        raise Invalid(expected, wrong_type=True)
    headers = []
    for name, raw in value.items():
        if not isinstance(raw, str):
            raise Invalid("a string", wrong_type=True, subkey=name)
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _OWNED_HEADERS:
            raise Invalid("a header name linkwatch does not set itself", wrong_type=False)
        try:
            text = expand_variables(raw, os.environ, key="rules.headers")
        except Invalid as invalid:
            raise Invalid(invalid.expected, wrong_type=False, subkey=name) from None
        if any(ord(c) < 32 or c == "\x7f" for c in text):
            raise Invalid("a value on one line", wrong_type=False, subkey=name)
        register(text)
        headers.append((name, text))
    return tuple(headers)
