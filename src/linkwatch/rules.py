"""Rules per site: the `[[rules]]` tables of config.toml, and what they say for one URL.

A rule matches a host (`host = "example.org"`, with `subdomains = true` its
subdomains too) or a URL glob (`url = "https://intranet.example/*"`, `*` spanning
`/`). Every rule that matches a URL applies, and where two of them set the same
key the one written first wins (headers are merged by name, likewise): a narrow
rule written above a broad one refines it, as in a firewall's list, without
repeating it. Check (through `net.polite.Net`), archive, rewrite, report and
notify all ask `RuleSet.for_url`, so they cannot disagree about a URL.

Header values are secrets (a partner's cookie): they are registered with
`redact` at load, are never part of `describe`, and `Rule.__repr__` leaves them out.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from linkwatch.model import State

_T = TypeVar("_T")


class TreatAs(StrEnum):
    """The state a rule shows for its URLs, whatever the checks say."""

    ALIVE = "alive"
    BLOCKED = "blocked"

    @property
    def state(self) -> State:
        return State(self.value)


def url_host(url: str) -> str:
    """The host of a URL as rules compare it: lower case, no trailing dot; "" if none."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return ""
    return (host or "").lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class Rule:
    """One `[[rules]]` table. A key left out is None (or empty): the rule says nothing of it."""

    number: int  # 1-based, in file order: "rule 2" in messages
    host: str | None = None
    subdomains: bool = False
    url: str | None = None  # a glob over the whole URL
    exclude: bool | None = None
    accept: frozenset[int] = frozenset()
    treat_as: TreatAs | None = None
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    per_host: int | None = None
    host_delay: dt.timedelta | None = None
    timeout: dt.timedelta | None = None
    archive: bool | None = None
    line: int | None = None  # of its `[[rules]]` header, when known

    def matches(self, url: str, host: str | None = None) -> bool:
        if self.url is not None:
            return fnmatch.fnmatchcase(url, self.url)
        wanted = self.host or ""
        found = url_host(url) if host is None else host
        return found == wanted or (self.subdomains and found.endswith("." + wanted))

    @property
    def scope(self) -> str:
        """What it matches, as written: 'host example.org (and subdomains)', 'url https://x/*'."""
        if self.url is not None:
            return f"url {self.url}"
        return f"host {self.host}" + (" (and subdomains)" if self.subdomains else "")

    def settings(self) -> tuple[str, ...]:
        """What it says, one `key = value` each; header names only, never their values."""
        said: list[str] = []
        if self.exclude is not None:
            said.append(f"exclude = {str(self.exclude).lower()}")
        if self.accept:
            said.append(f"accept = [{', '.join(str(s) for s in sorted(self.accept))}]")
        if self.treat_as is not None:
            said.append(f'treat_as = "{self.treat_as}"')
        if self.headers:
            said.append(f"headers = {', '.join(name for name, _ in self.headers)} (values hidden)")
        if self.per_host is not None:
            said.append(f"per_host = {self.per_host}")
        if self.host_delay is not None:
            said.append(f"host_delay = {_seconds(self.host_delay)}")
        if self.timeout is not None:
            said.append(f"timeout = {_seconds(self.timeout)}")
        if self.archive is not None:
            said.append(f"archive = {str(self.archive).lower()}")
        return tuple(said)

    def describe(self) -> str:
        """'rule 2 (host example.org): accept = [403], archive = false'."""
        return f"rule {self.number} ({self.scope}): " + ("; ".join(self.settings()) or "nothing")


def _seconds(delta: dt.timedelta) -> str:
    return f'"{delta.total_seconds():g}s"'


@dataclass(frozen=True, slots=True)
class Applied:
    """What the rules say for one URL, merged: the first matching rule setting a key wins."""

    rules: tuple[Rule, ...] = ()  # every rule that matches, in file order
    exclude: bool = False
    accept: frozenset[int] = frozenset()
    treat_as: TreatAs | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    per_host: int | None = None
    host_delay: dt.timedelta | None = None
    timeout: dt.timedelta | None = None
    archive: bool = True

    @property
    def archived(self) -> bool:
        """Whether the URL may be saved to an archive: not excluded, not `archive = false`."""
        return self.archive and not self.exclude

    def shown_state(self, state: State, pinned: State | None) -> State:
        """The state to show: a person's pin, else the rule's `treat_as`, else `state`."""
        if pinned is not None:
            return pinned
        return self.treat_as.state if self.treat_as is not None else state


NO_RULES = Applied()


def _first(values: Iterable[_T | None]) -> _T | None:
    return next((value for value in values if value is not None), None)


def merge(rules: Iterable[Rule]) -> Applied:
    """What `rules` (those matching one URL, in file order) say together."""
    matched = tuple(rules)
    if not matched:
        return NO_RULES
    headers: dict[str, str] = {}
    for rule in matched:
        for name, value in rule.headers:
            if not any(known.lower() == name.lower() for known in headers):
                headers[name] = value
    archive = _first(r.archive for r in matched)
    return Applied(
        rules=matched,
        exclude=bool(_first(r.exclude for r in matched)),
        accept=next((r.accept for r in matched if r.accept), frozenset()),
        treat_as=_first(r.treat_as for r in matched),
        headers=headers,
        per_host=_first(r.per_host for r in matched),
        host_delay=_first(r.host_delay for r in matched),
        timeout=_first(r.timeout for r in matched),
        archive=True if archive is None else archive,
    )


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules of a config file, in file order; `for_url` is what every stage asks."""

    rules: tuple[Rule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def for_url(self, url: str) -> Applied:
        if not self.rules:
            return NO_RULES
        host = url_host(url)
        return merge(rule for rule in self.rules if rule.matches(url, host))

    def unmatched(self, urls: Iterable[str]) -> tuple[Rule, ...]:
        """The rules that match none of `urls`: most likely a typo in a host name."""
        left = list(self.rules)
        for url in urls:
            if not left:
                break
            host = url_host(url)
            left = [rule for rule in left if not rule.matches(url, host)]
        return tuple(left)

    def unmatched_warnings(self, urls: Iterable[str]) -> tuple[str, ...]:
        return tuple(f"{rule.describe()}: matches no cited URL" for rule in self.unmatched(urls))


NO_RULE_SET = RuleSet()
