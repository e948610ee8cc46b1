"""Turns check results plus history into a URL's state: pure functions, no I/O, no clock.

Calling a live page dead is worse than saying nothing: a later step replaces a dead
citation with an archive link. So every rule below leans towards "not dead yet":

- One check gives an `CheckOutcome` (`classify`). Only FAILURE (404, 410, DNS, refused,
  TLS, redirect loop, too many redirects), SOFT404 and USURPED advance the failure
  streak.
- Dead needs `dead_after_failures` failures in a row *and* at least `dead_after_days`
  from the streak's first failure to now. Three failures within an hour are one bad
  hour, not a dead site. Until both hold, a failing URL is `transient`.
- A soft 404 needs the same confirmation before the state says `soft404`: one
  observation may be a maintenance redirect to the home page, and rewriting a
  footnote on that would be wrong. So does a parked or for-sale domain (`usurped`,
  as Wikipedia's url-status calls it). Once confirmed, the state names the latest
  evidence (`soft404`, `usurped` or `dead`); all are rotten.
- INCONCLUSIVE (timeouts, resets, broken HTTP, 5xx, other 4xx) and BLOCKED (401, 403,
  429, 451, 999, bot walls and challenge pages) neither count nor reset the streak:
  they say nothing about whether the page exists (S3 answers 403 for missing keys; a
  bot wall hides every path alike). Inconclusive means `transient`; blocked means
  `blocked`, never dead. 429 is blocked rather than inconclusive: the server is up
  and refusing robots.
- Only a success (SUCCESS or MOVED) leaves a rotten state (dead, soft404, usurped): anything
  else is no evidence of resurrection. A success always resets the streak.
- INVALID (invalid URL, private address refused by the SSRF guard) is about the URL
  or our resolver, not the site: the state and streak stay as they were (`unchecked`
  if never checked).
- In a suspected network outage (`is_outage`) the run's failures are not counted:
  the streak stays, the state becomes `transient` (rechecked sooner), rotten stays.
- A pin (set by a human) wins over the evidence for the state; the streak is still
  updated, so unpinning later lands on what the evidence says.

Times: the streak is measured with the `now` passed in (the decision time), never
with the wall clock; callers must pass all datetimes either naive or aware, alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from linkwatch.model import CheckResult, ErrorKind, State

__all__ = [
    "CheckOutcome",
    "CheckPolicy",
    "Streak",
    "Verdict",
    "classify",
    "decide",
    "describe",
    "is_outage",
    "next_check_at",
]


class CheckOutcome(StrEnum):
    """What ONE check says, before history is taken into account."""

    SUCCESS = "success"  # 2xx after redirects, not a soft 404
    MOVED = "moved"  # 2xx after a permanent redirect to another URL
    FAILURE = "failure"  # evidence the page is gone; counts toward dead
    INCONCLUSIVE = "inconclusive"  # no usable evidence either way
    BLOCKED = "blocked"  # alive for people, refused to robots
    SOFT404 = "soft404"  # a 2xx that is really a "not found"; counts toward dead
    USURPED = "usurped"  # the domain is parked or for sale; counts toward dead
    INVALID = "invalid"  # the URL itself (or its address) is unusable: not the site's fault


# 451: unavailable for legal reasons, in this country, to this client: not gone.
_BLOCKING_STATUSES = frozenset({401, 403, 429, 451, 999})
_GONE_STATUSES = frozenset({404, 410})
_NOT_ABOUT_THE_SITE = frozenset({ErrorKind.INVALID_URL, ErrorKind.PRIVATE_ADDRESS})


@dataclass(frozen=True, slots=True)
class CheckPolicy:
    """How much evidence makes a URL dead, and how often each state is rechecked."""

    dead_after_failures: int = 3
    dead_after_days: float = 3.0
    check_every: timedelta = timedelta(days=1)
    transient_every: timedelta = timedelta(hours=6)  # sooner, so the dead policy can be met
    dead_every: timedelta = timedelta(days=7)  # rarely, but resurrections get noticed
    jitter: float = 0.1  # +-10%, so that one run's URLs do not all fall due together

    def __post_init__(self) -> None:
        if self.dead_after_failures < 2:
            raise ValueError("dead_after_failures must be at least 2: one failure is never dead")
        if self.dead_after_days < 0:
            raise ValueError("dead_after_days must not be negative")
        intervals = (self.check_every, self.transient_every, self.dead_every)
        if any(interval <= timedelta(0) for interval in intervals):
            raise ValueError("check intervals must be positive")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    @property
    def dead_after(self) -> timedelta:
        return timedelta(days=self.dead_after_days)


@dataclass(frozen=True, slots=True)
class Streak:
    """The current run of consecutive FAILURE/SOFT404 outcomes.

    Inconclusive, blocked and invalid checks are skipped over: they neither count
    nor break the run. Only a success resets it.
    """

    failures: int = 0
    first_failure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    state: State
    streak: Streak  # to be stored for the next decision
    reason: str  # one line for history and logs


def classify(result: CheckResult, accept: frozenset[int] = frozenset()) -> CheckOutcome:
    """Judge one check on its own. Transport errors win over any status they came with.

    `accept`: statuses a site's rule says mean alive there (a 403 from a site that
    answers robots so, known to the operator): a success, wall or not.
    """
    if result.error is not None:
        return _classify_error(result.error)
    if result.status is not None and result.status in accept:
        return CheckOutcome.SUCCESS
    if result.bot_wall:
        return CheckOutcome.BLOCKED
    status = result.status
    if status is None:
        return CheckOutcome.INCONCLUSIVE
    if 200 <= status < 300:
        return _classify_success(result)
    if status in _BLOCKING_STATUSES:
        return CheckOutcome.BLOCKED
    if status in _GONE_STATUSES:
        return CheckOutcome.FAILURE
    return CheckOutcome.INCONCLUSIVE


def _classify_error(error: ErrorKind) -> CheckOutcome:
    if error in _NOT_ABOUT_THE_SITE:
        return CheckOutcome.INVALID
    return CheckOutcome.FAILURE if error.is_failure else CheckOutcome.INCONCLUSIVE


def _classify_success(result: CheckResult) -> CheckOutcome:
    """A soft 404 wins over a permanent redirect: a 301 to the home page is the page gone.
    A meta refresh to another page is a move, as a permanent redirect is."""
    if result.usurped_reason is not None:
        return CheckOutcome.USURPED
    if result.soft404_reason is not None:
        return CheckOutcome.SOFT404
    if result.permanently_moved or result.refresh_to is not None:
        return CheckOutcome.MOVED
    return CheckOutcome.SUCCESS


def decide(
    previous: State,
    streak: Streak,
    result: CheckResult,
    policy: CheckPolicy,
    now: datetime,
    *,
    pinned: State | None = None,
    outage: bool = False,
    accept: frozenset[int] = frozenset(),
) -> Verdict:
    """The state after `result`, given the previous state and failure streak."""
    outcome = classify(result, accept)
    verdict = _judge(previous, streak, result, outcome, policy, now, outage)
    if pinned is None:
        return verdict
    reason = f"pinned {pinned}; evidence says {verdict.state}: {verdict.reason}"
    return Verdict(pinned, verdict.streak, reason)


def _judge(
    previous: State,
    streak: Streak,
    result: CheckResult,
    outcome: CheckOutcome,
    policy: CheckPolicy,
    now: datetime,
    outage: bool,
) -> Verdict:
    said = describe(result)
    if outcome in (CheckOutcome.SUCCESS, CheckOutcome.MOVED):
        return _succeeded(previous, streak, outcome, said)
    if outcome is CheckOutcome.INVALID:
        return Verdict(previous, streak, f"{said} (not evidence about the site; state kept)")
    if outcome in (CheckOutcome.FAILURE, CheckOutcome.SOFT404, CheckOutcome.USURPED):
        if outage:
            return _not_counted(previous, streak, said)
        return _failed(previous, streak, outcome, policy, now, said)
    if outcome is CheckOutcome.BLOCKED:
        return _without_evidence(previous, streak, State.BLOCKED, said, "blocked for robots")
    return _without_evidence(previous, streak, State.TRANSIENT, said, "inconclusive")


def _succeeded(previous: State, streak: Streak, outcome: CheckOutcome, said: str) -> Verdict:
    state = State.MOVED if outcome is CheckOutcome.MOVED else State.ALIVE
    notes = []
    if previous.is_rotten:
        notes.append(f"recovered from {previous}")
    if streak.failures:
        notes.append(f"failure streak of {streak.failures} reset")
    reason = f"{said} ({', '.join(notes)})" if notes else said
    return Verdict(state, Streak(), reason)


def _failed(
    previous: State,
    streak: Streak,
    outcome: CheckOutcome,
    policy: CheckPolicy,
    now: datetime,
    said: str,
) -> Verdict:
    first = streak.first_failure_at or now
    advanced = Streak(streak.failures + 1, first)
    dead_no_sooner_than = first + policy.dead_after
    confirmed = advanced.failures >= policy.dead_after_failures and now >= dead_no_sooner_than
    if not (confirmed or previous.is_rotten):
        progress = f"failure {advanced.failures} of {policy.dead_after_failures}"
        reason = f"{said} ({progress}, dead after {_when(dead_no_sooner_than)})"
        return Verdict(State.TRANSIENT, advanced, reason)
    state = _ROTTEN_STATE_OF.get(outcome, State.DEAD)
    reason = f"{said} (failure {advanced.failures} since {_when(first)}: {state})"
    return Verdict(state, advanced, reason)


_ROTTEN_STATE_OF = {CheckOutcome.SOFT404: State.SOFT404, CheckOutcome.USURPED: State.USURPED}


def _not_counted(previous: State, streak: Streak, said: str) -> Verdict:
    """The network, not the site, is suspected: learn nothing, but recheck soon."""
    state = previous if previous.is_rotten else State.TRANSIENT
    return Verdict(state, streak, f"{said} (network outage suspected, not counted)")


def _without_evidence(
    previous: State, streak: Streak, state: State, said: str, label: str
) -> Verdict:
    """Neither counts toward dead nor resets the streak; a rotten state stays rotten."""
    if previous.is_rotten:
        reason = f"{said} ({label}; no evidence of recovery, stays {previous})"
        return Verdict(previous, streak, reason)
    return Verdict(state, streak, f"{said} ({label}, not counted toward dead)")


def describe(result: CheckResult) -> str:
    """What the check saw, in a few words on one line."""
    if result.error is not None:
        detail = _one_line(result.error_detail)
        return f"{result.error}: {detail}" if detail else str(result.error)
    if result.bot_wall:
        return f"bot wall ({result.status})"
    if result.status is None:
        return "no answer"
    if result.usurped_reason is not None:
        return f"usurped ({_one_line(result.usurped_reason)})"
    if result.soft404_reason is not None:
        return f"soft 404 ({_one_line(result.soft404_reason)})"
    if result.permanently_moved and 200 <= result.status < 300:
        return f"{result.status} at {result.final_url} after a permanent redirect"
    if result.refresh_to is not None and 200 <= result.status < 300:
        return f"{result.status}, sends readers on to {result.refresh_to}"
    if result.retry_after is not None and not 200 <= result.status < 300:
        return f"{result.status} (retry after {result.retry_after:g} s)"
    return str(result.status)


def _one_line(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="minutes")


def next_check_at(state: State, now: datetime, policy: CheckPolicy, *, rand: float) -> datetime:
    """When to check again. `rand` in [0, 1) comes from the caller so this stays pure.

    An unchecked URL is due at once; the others get their interval spread by
    +-jitter, so URLs first checked together do not stay in lockstep.
    """
    if not 0 <= rand < 1:
        raise ValueError(f"rand must be in [0, 1), got {rand}")
    if state is State.UNCHECKED:
        return now
    spread = 1 + policy.jitter * (2 * rand - 1)
    return now + _interval(state, policy) * spread


def _interval(state: State, policy: CheckPolicy) -> timedelta:
    if state is State.TRANSIENT:
        return policy.transient_every
    if state is State.DEAD:
        return policy.dead_every
    return policy.check_every


def is_outage(
    results: Sequence[CheckResult], *, min_hosts: int = 5, share: float = 0.8
) -> tuple[bool, str]:
    """Did most hosts of one run fail the same way? Then the resolver or network is down.

    Each distinct host counts once, and only when all its results share one error
    kind; a host with any HTTP answer was reachable. A TLS-intercepting proxy or a
    hijacking resolver shows up the same way (all TLS, all private addresses).
    With fewer than `min_hosts` hosts there is too little to tell: never an outage.
    """
    if min_hosts < 1 or not 0 < share <= 1:
        raise ValueError("min_hosts must be >= 1 and share in (0, 1]")
    kinds_by_host = _error_kinds_by_host(results)
    hosts = len(kinds_by_host)
    if hosts < min_hosts:
        return False, f"no outage: {hosts} hosts checked, too few to tell (need {min_hosts})"
    common = Counter(kind for kind in kinds_by_host.values() if kind is not None)
    if not common:
        return False, f"no outage: no host of {hosts} failed on every check"
    kind, failed = common.most_common(1)[0]
    summary = f"{failed} of {hosts} hosts ({failed / hosts:.0%}) failed with {kind}"
    if failed >= share * hosts:
        return True, f"network outage suspected: {summary}; failures of this run not counted"
    return False, f"no outage: at most {summary}"


def _error_kinds_by_host(results: Sequence[CheckResult]) -> dict[str, ErrorKind | None]:
    """Per host, the error kind all its results share, or None (answered, or mixed)."""
    kinds: dict[str, ErrorKind | None] = {}
    for result in results:
        host = _host(result.url)
        if host is None or result.error is ErrorKind.INVALID_URL:
            continue
        if host in kinds and kinds[host] != result.error:
            kinds[host] = None
        else:
            kinds[host] = result.error
    return kinds


def _host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname or None
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
