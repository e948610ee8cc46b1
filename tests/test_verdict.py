"""The verdict policy, table-driven over the hostile-web behaviours the checker reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkwatch.check.verdict import (
    CheckOutcome,
    CheckPolicy,
    Streak,
    Verdict,
    classify,
    decide,
    describe,
    is_outage,
    next_check_at,
)
from linkwatch.model import CheckResult, ErrorKind, Hop, State

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
URL = "https://example.org/press/2026/report.html"
HOME = "https://example.org/"
NEW = "https://example.org/archive/2026/report.html"
POLICY = CheckPolicy()
NO_STREAK = Streak()
DAILY = [T0 + timedelta(days=day) for day in range(4)]


def result(url: str = URL, **fields: Any) -> CheckResult:
    return CheckResult(url=url, checked_at=T0, **fields)


def redirected(*statuses: int, final: str = NEW, **fields: Any) -> CheckResult:
    """A chain of redirects with the given statuses, ending at `final` answering 200."""
    urls = [URL, *(f"https://example.org/hop/{n}" for n in range(1, len(statuses))), final]
    hops = tuple(Hop(urls[n], status, urls[n + 1]) for n, status in enumerate(statuses))
    fields.setdefault("status", 200)
    return result(final_url=final, hops=hops, **fields)


def failed(error: ErrorKind, detail: str | None = None, **fields: Any) -> CheckResult:
    return result(error=error, error_detail=detail, **fields)


def run_checks(
    check: CheckResult | Sequence[CheckResult],
    times: Sequence[datetime],
    *,
    previous: State = State.UNCHECKED,
    streak: Streak = NO_STREAK,
    policy: CheckPolicy = POLICY,
    pinned: State | None = None,
    outage: bool = False,
) -> list[Verdict]:
    """Feed the checks to decide() one after the other, carrying state and streak along."""
    checks = [check] * len(times) if isinstance(check, CheckResult) else list(check)
    assert len(checks) == len(times)
    verdicts = []
    for each, now in zip(checks, times, strict=True):
        verdict = decide(previous, streak, each, policy, now, pinned=pinned, outage=outage)
        previous, streak = verdict.state, verdict.streak
        verdicts.append(verdict)
    return verdicts


@dataclass(frozen=True)
class Behaviour:
    """One server behaviour: what one check says, the state after it, and after 4 days."""

    name: str
    result: CheckResult
    outcome: CheckOutcome
    first: State
    settled: State


BEHAVIOURS = [
    Behaviour(
        "plain-page-200",
        result(status=200, final_url=URL, title="Report"),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "large-pdf-200",
        result(status=200, final_url=URL, bytes_read=0),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "not-found-404", result(status=404), CheckOutcome.FAILURE, State.TRANSIENT, State.DEAD
    ),
    Behaviour("gone-410", result(status=410), CheckOutcome.FAILURE, State.TRANSIENT, State.DEAD),
    Behaviour(
        "server-error-500-every-time",
        result(status=500),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "bad-request-400",
        result(status=400),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "request-timeout-408",
        result(status=408),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "permanent-redirect-301-to-200",
        redirected(301),
        CheckOutcome.MOVED,
        State.MOVED,
        State.MOVED,
    ),
    Behaviour(
        "permanent-redirect-308-to-200",
        redirected(308),
        CheckOutcome.MOVED,
        State.MOVED,
        State.MOVED,
    ),
    Behaviour(
        "chain-302-302-301-to-200",
        redirected(302, 302, 301),
        CheckOutcome.MOVED,
        State.MOVED,
        State.MOVED,
    ),
    Behaviour(
        "chain-of-temporary-redirects-to-200",
        redirected(302, 307, 302),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "redirect-loop",
        failed(ErrorKind.REDIRECT_LOOP, "https://example.org/b redirects back to an earlier URL"),
        CheckOutcome.FAILURE,
        State.TRANSIENT,
        State.DEAD,
    ),
    Behaviour(
        "too-many-redirects",
        failed(ErrorKind.TOO_MANY_REDIRECTS),
        CheckOutcome.FAILURE,
        State.TRANSIENT,
        State.DEAD,
    ),
    Behaviour(
        "redirect-to-home",
        redirected(301, final=HOME, soft404_reason="redirects to the home page"),
        CheckOutcome.SOFT404,
        State.TRANSIENT,
        State.SOFT404,
    ),
    Behaviour(
        "soft-404-page",
        result(status=200, final_url=URL, soft404_reason="same answer as a random path"),
        CheckOutcome.SOFT404,
        State.TRANSIENT,
        State.SOFT404,
    ),
    Behaviour(
        "meta-refresh-to-home",
        result(status=200, final_url=URL, soft404_reason="meta refresh to /"),
        CheckOutcome.SOFT404,
        State.TRANSIENT,
        State.SOFT404,
    ),
    Behaviour(
        "parked-domain",
        result(status=200, final_url=URL, usurped_reason="same page as for a random path; Sedo"),
        CheckOutcome.USURPED,
        State.TRANSIENT,
        State.USURPED,
    ),
    Behaviour(
        "parked-wins-over-soft-404",
        redirected(301, final=HOME, soft404_reason="home", usurped_reason="parking markup"),
        CheckOutcome.USURPED,
        State.TRANSIENT,
        State.USURPED,
    ),
    Behaviour(
        "meta-refresh-to-another-page",
        result(status=200, final_url=URL, refresh_to=NEW),
        CheckOutcome.MOVED,
        State.MOVED,
        State.MOVED,
    ),
    Behaviour(
        "unavailable-for-legal-reasons-451",
        result(status=451, final_url=URL),
        CheckOutcome.BLOCKED,
        State.BLOCKED,
        State.BLOCKED,
    ),
    Behaviour(
        "bot-wall-403",
        result(status=403, bot_wall=True, title="Just a moment..."),
        CheckOutcome.BLOCKED,
        State.BLOCKED,
        State.BLOCKED,
    ),
    Behaviour(
        "bot-wall-503",
        result(status=503, bot_wall=True),
        CheckOutcome.BLOCKED,
        State.BLOCKED,
        State.BLOCKED,
    ),
    Behaviour(
        "forbidden-403", result(status=403), CheckOutcome.BLOCKED, State.BLOCKED, State.BLOCKED
    ),
    Behaviour(
        "unauthorized-401", result(status=401), CheckOutcome.BLOCKED, State.BLOCKED, State.BLOCKED
    ),
    Behaviour(
        "linkedin-999", result(status=999), CheckOutcome.BLOCKED, State.BLOCKED, State.BLOCKED
    ),
    Behaviour(
        "rate-limited-429-retry-after-too-long",
        result(status=429, retry_after=3600.0),
        CheckOutcome.BLOCKED,
        State.BLOCKED,
        State.BLOCKED,
    ),
    Behaviour(
        "rate-limited-429-then-200",
        result(status=200, final_url=URL, retry_after=1.0),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "flaky-503-then-200",
        result(status=200, final_url=URL),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "head-refused-then-get-200",
        result(status=200, final_url=URL),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "silent-server-timeout",
        failed(ErrorKind.TIMEOUT, "no answer within 20 s"),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "slow-drip-timeout",
        failed(ErrorKind.TIMEOUT, status=200),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "connection-reset",
        failed(ErrorKind.RESET),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "broken-http",
        failed(ErrorKind.PROTOCOL),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "no-status-no-error",
        result(),
        CheckOutcome.INCONCLUSIVE,
        State.TRANSIENT,
        State.TRANSIENT,
    ),
    Behaviour(
        "endless-body-200",
        result(status=200, final_url=URL, bytes_read=256 * 1024),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "gzip-bomb-200",
        result(status=200, final_url=URL, bytes_read=256 * 1024),
        CheckOutcome.SUCCESS,
        State.ALIVE,
        State.ALIVE,
    ),
    Behaviour(
        "connection-refused",
        failed(ErrorKind.REFUSED),
        CheckOutcome.FAILURE,
        State.TRANSIENT,
        State.DEAD,
    ),
    Behaviour(
        "no-such-host",
        failed(ErrorKind.DNS, "Name or service not known"),
        CheckOutcome.FAILURE,
        State.TRANSIENT,
        State.DEAD,
    ),
    Behaviour(
        "bad-certificate",
        failed(ErrorKind.TLS, "certificate verify failed: self-signed certificate"),
        CheckOutcome.FAILURE,
        State.TRANSIENT,
        State.DEAD,
    ),
    Behaviour(
        "private-address",
        failed(ErrorKind.PRIVATE_ADDRESS, "refused private address 127.0.0.1"),
        CheckOutcome.INVALID,
        State.UNCHECKED,
        State.UNCHECKED,
    ),
    Behaviour(
        "invalid-url",
        failed(ErrorKind.INVALID_URL, "scheme ftp is not http(s)"),
        CheckOutcome.INVALID,
        State.UNCHECKED,
        State.UNCHECKED,
    ),
]
BEHAVIOUR_PARAMS = [pytest.param(b, id=b.name) for b in BEHAVIOURS]


@pytest.mark.parametrize("behaviour", BEHAVIOUR_PARAMS)
def test_classify_server_behaviour(behaviour: Behaviour) -> None:
    assert classify(behaviour.result) is behaviour.outcome


@pytest.mark.parametrize("behaviour", BEHAVIOUR_PARAMS)
def test_state_after_first_check(behaviour: Behaviour) -> None:
    [verdict] = run_checks(behaviour.result, DAILY[:1])
    assert verdict.state is behaviour.first


@pytest.mark.parametrize("behaviour", BEHAVIOUR_PARAMS)
def test_state_after_four_daily_checks(behaviour: Behaviour) -> None:
    verdicts = run_checks(behaviour.result, DAILY)
    assert verdicts[-1].state is behaviour.settled


@pytest.mark.parametrize("behaviour", BEHAVIOUR_PARAMS)
def test_reason_is_one_line(behaviour: Behaviour) -> None:
    verdicts = run_checks(behaviour.result, DAILY)
    assert all(v.reason and "\n" not in v.reason for v in verdicts)


# --- the dead policy -------------------------------------------------------------------

NOT_FOUND = result(status=404)
OK = result(status=200, final_url=URL)
SERVER_ERROR = result(status=500)
BOT_WALL = result(status=403, bot_wall=True)
SOFT_404 = result(status=200, final_url=URL, soft404_reason="same answer as a random path")


def test_three_failures_spanning_three_days_make_dead() -> None:
    times = [T0, T0 + timedelta(days=1.5), T0 + timedelta(days=3)]
    assert run_checks(NOT_FOUND, times)[-1].state is State.DEAD


def test_three_failures_in_one_hour_are_not_dead() -> None:
    times = [T0, T0 + timedelta(minutes=30), T0 + timedelta(hours=1)]
    assert run_checks(NOT_FOUND, times)[-1].state is State.TRANSIENT


def test_many_failures_short_of_the_days_are_not_dead() -> None:
    times = [T0 + timedelta(hours=6 * n) for n in range(12)]  # 12 failures over 2.75 days
    assert run_checks(NOT_FOUND, times)[-1].state is State.TRANSIENT


def test_two_failures_far_apart_are_not_dead() -> None:
    times = [T0, T0 + timedelta(days=30)]
    assert run_checks(NOT_FOUND, times)[-1].state is State.TRANSIENT


def test_single_failure_is_transient() -> None:
    assert run_checks(NOT_FOUND, [T0])[-1].state is State.TRANSIENT


def test_lax_policy_still_needs_two_failures() -> None:
    lax = CheckPolicy(dead_after_failures=2, dead_after_days=0.0)
    states = [v.state for v in run_checks(NOT_FOUND, DAILY[:2], policy=lax)]
    assert states == [State.TRANSIENT, State.DEAD]


def test_failure_streak_records_first_failure_and_count() -> None:
    verdicts = run_checks(NOT_FOUND, DAILY[:2])
    assert verdicts[-1].streak == Streak(failures=2, first_failure_at=T0)


def test_failure_reason_shows_progress_and_earliest_death() -> None:
    verdicts = run_checks(NOT_FOUND, DAILY[:2])
    assert verdicts[-1].reason == "404 (failure 2 of 3, dead after 2026-11-28 12:00+00:00)"


def test_dead_reason_says_dead() -> None:
    assert run_checks(NOT_FOUND, DAILY)[-1].reason.endswith(": dead)")


def test_dead_stays_dead_on_further_failures() -> None:
    verdicts = run_checks(NOT_FOUND, [*DAILY, T0 + timedelta(days=10)])
    assert verdicts[-1].state is State.DEAD


def test_failure_after_dead_stays_dead_under_a_stricter_policy() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    stricter = CheckPolicy(dead_after_failures=10)
    verdict = decide(dead.state, dead.streak, NOT_FOUND, stricter, T0 + timedelta(days=4))
    assert verdict.state is State.DEAD


def test_recovery_after_dead_makes_alive() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    recovered = decide(dead.state, dead.streak, OK, POLICY, T0 + timedelta(days=10))
    assert recovered.state is State.ALIVE


def test_recovery_after_dead_resets_streak() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    recovered = decide(dead.state, dead.streak, OK, POLICY, T0 + timedelta(days=10))
    assert recovered.streak == Streak()


def test_recovery_reason_mentions_recovery_and_reset() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    recovered = decide(dead.state, dead.streak, OK, POLICY, T0 + timedelta(days=10))
    assert recovered.reason == "200 (recovered from dead, failure streak of 4 reset)"


def test_recovery_through_permanent_redirect_makes_moved() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    recovered = decide(dead.state, dead.streak, redirected(301), POLICY, DAILY[-1])
    assert recovered.state is State.MOVED


def test_success_in_the_middle_restarts_the_count() -> None:
    checks = [NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, NOT_FOUND]
    times = [T0 + timedelta(days=day) for day in range(5)]
    last = run_checks(checks, times)[-1]
    assert (last.state, last.streak.failures) == (State.TRANSIENT, 2)


def test_moved_then_404_starts_a_streak() -> None:
    moved = decide(State.UNCHECKED, Streak(), redirected(301), POLICY, T0)
    gone = redirected(301, status=404)
    verdict = decide(moved.state, moved.streak, gone, POLICY, DAILY[1])
    assert (classify(gone), verdict.state, verdict.streak.failures) == (
        CheckOutcome.FAILURE,
        State.TRANSIENT,
        1,
    )


def test_moved_then_404_goes_dead_after_the_policy() -> None:
    checks = [redirected(301), *[redirected(301, status=404)] * 4]
    times = [T0 + timedelta(days=day) for day in range(5)]
    assert run_checks(checks, times)[-1].state is State.DEAD


# --- inconclusive and blocked checks ---------------------------------------------------


def test_inconclusive_neither_counts_nor_resets_the_streak() -> None:
    before = Streak(failures=2, first_failure_at=T0)
    verdict = decide(State.TRANSIENT, before, SERVER_ERROR, POLICY, DAILY[2])
    assert verdict.streak == before


def test_inconclusive_in_the_middle_of_a_failure_streak_does_not_break_it() -> None:
    checks = [NOT_FOUND, SERVER_ERROR, NOT_FOUND, NOT_FOUND]
    states = [v.state for v in run_checks(checks, DAILY)]
    assert states == [State.TRANSIENT, State.TRANSIENT, State.TRANSIENT, State.DEAD]


def test_inconclusive_in_the_middle_of_a_failure_streak_does_not_count() -> None:
    checks = [NOT_FOUND, SERVER_ERROR, SERVER_ERROR, NOT_FOUND]
    last = run_checks(checks, DAILY)[-1]
    assert (last.state, last.streak.failures) == (State.TRANSIENT, 2)


def test_inconclusive_after_alive_is_transient() -> None:
    verdict = decide(State.ALIVE, Streak(), SERVER_ERROR, POLICY, T0)
    assert verdict.state is State.TRANSIENT


def test_inconclusive_after_dead_stays_dead() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    verdict = decide(dead.state, dead.streak, SERVER_ERROR, POLICY, T0 + timedelta(days=10))
    assert verdict.state is State.DEAD


def test_inconclusive_after_soft404_stays_soft404() -> None:
    rotten = run_checks(SOFT_404, DAILY)[-1]
    timeout = failed(ErrorKind.TIMEOUT)
    verdict = decide(rotten.state, rotten.streak, timeout, POLICY, T0 + timedelta(days=10))
    assert verdict.state is State.SOFT404


def test_blocked_neither_counts_nor_resets_the_streak() -> None:
    before = Streak(failures=2, first_failure_at=T0)
    verdict = decide(State.TRANSIENT, before, BOT_WALL, POLICY, DAILY[2])
    assert (verdict.state, verdict.streak) == (State.BLOCKED, before)


def test_blocked_for_weeks_is_never_dead() -> None:
    times = [T0 + timedelta(days=day) for day in range(60)]
    verdicts = run_checks(result(status=999), times)
    assert {v.state for v in verdicts} == {State.BLOCKED}


def test_blocked_after_dead_stays_dead() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    verdict = decide(dead.state, dead.streak, BOT_WALL, POLICY, T0 + timedelta(days=10))
    assert verdict.state is State.DEAD


def test_rate_limited_then_200_makes_alive() -> None:
    checks = [result(status=429, retry_after=3600.0), OK]
    assert [v.state for v in run_checks(checks, DAILY[:2])] == [State.BLOCKED, State.ALIVE]


# --- soft 404 --------------------------------------------------------------------------


def test_single_soft404_is_only_transient() -> None:
    verdict = decide(State.ALIVE, Streak(), SOFT_404, POLICY, T0)
    assert verdict.state is State.TRANSIENT


def test_soft404_counts_toward_the_streak() -> None:
    verdict = decide(State.ALIVE, Streak(), SOFT_404, POLICY, T0)
    assert verdict.streak == Streak(failures=1, first_failure_at=T0)


def test_soft404_confirmed_after_same_policy_as_dead() -> None:
    states = [v.state for v in run_checks(SOFT_404, DAILY)]
    assert states == [State.TRANSIENT, State.TRANSIENT, State.TRANSIENT, State.SOFT404]


def test_maintenance_redirect_to_home_then_back_is_alive() -> None:
    to_home = redirected(302, final=HOME, soft404_reason="redirects to the home page")
    assert [v.state for v in run_checks([to_home, OK], DAILY[:2])] == [
        State.TRANSIENT,
        State.ALIVE,
    ]


def test_confirmed_state_names_the_latest_evidence() -> None:
    checks = [SOFT_404, SOFT_404, SOFT_404, NOT_FOUND]
    assert run_checks(checks, DAILY)[-1].state is State.DEAD


def test_soft404_with_error_status_is_judged_by_status() -> None:
    home_broken = redirected(301, final=HOME, status=500, soft404_reason="redirects home")
    assert classify(home_broken) is CheckOutcome.INCONCLUSIVE


# --- invalid URLs ----------------------------------------------------------------------


def test_invalid_keeps_the_previous_state() -> None:
    private = failed(ErrorKind.PRIVATE_ADDRESS, "refused private address 10.0.0.1")
    verdict = decide(State.ALIVE, Streak(), private, POLICY, T0)
    assert verdict.state is State.ALIVE


def test_invalid_keeps_the_streak() -> None:
    before = Streak(failures=2, first_failure_at=T0)
    verdict = decide(State.TRANSIENT, before, failed(ErrorKind.INVALID_URL), POLICY, DAILY[3])
    assert verdict.streak == before


def test_invalid_reason_says_why() -> None:
    private = failed(ErrorKind.PRIVATE_ADDRESS, "refused private address 10.0.0.1")
    verdict = decide(State.UNCHECKED, Streak(), private, POLICY, T0)
    assert verdict.reason == (
        "private_address: refused private address 10.0.0.1 "
        "(not evidence about the site; state kept)"
    )


# --- pins ------------------------------------------------------------------------------


def test_pin_beats_evidence() -> None:
    verdicts = run_checks(NOT_FOUND, DAILY, pinned=State.ALIVE)
    assert {v.state for v in verdicts} == {State.ALIVE}


def test_pin_reason_says_pinned_and_what_evidence_says() -> None:
    verdicts = run_checks(NOT_FOUND, DAILY, pinned=State.ALIVE)
    assert verdicts[-1].reason.startswith("pinned alive; evidence says dead: 404")


def test_pin_still_updates_the_streak() -> None:
    verdicts = run_checks(NOT_FOUND, DAILY, pinned=State.ALIVE)
    assert verdicts[-1].streak == Streak(failures=4, first_failure_at=T0)


def test_pinned_dead_stays_dead_on_success() -> None:
    verdict = decide(State.ALIVE, Streak(), OK, POLICY, T0, pinned=State.DEAD)
    assert verdict.state is State.DEAD


def test_unpin_after_pinned_failures_gives_dead() -> None:
    pinned = run_checks(NOT_FOUND, DAILY, pinned=State.ALIVE)[-1]
    verdict = decide(pinned.state, pinned.streak, NOT_FOUND, POLICY, T0 + timedelta(days=4))
    assert verdict.state is State.DEAD


def test_unpin_after_pinned_dead_with_success_gives_alive() -> None:
    pinned = run_checks(OK, DAILY, pinned=State.DEAD)[-1]
    verdict = decide(pinned.state, pinned.streak, OK, POLICY, T0 + timedelta(days=4))
    assert verdict.state is State.ALIVE


# --- network outage --------------------------------------------------------------------

NO_HOST = failed(ErrorKind.DNS, "Temporary failure in name resolution")


def test_outage_failures_are_not_counted() -> None:
    before = Streak(failures=2, first_failure_at=T0)
    verdict = decide(State.TRANSIENT, before, NO_HOST, POLICY, DAILY[3], outage=True)
    assert (verdict.state, verdict.streak) == (State.TRANSIENT, before)


def test_outage_run_after_alive_is_transient() -> None:
    verdict = decide(State.ALIVE, Streak(), NO_HOST, POLICY, T0, outage=True)
    assert verdict.state is State.TRANSIENT


def test_outage_run_after_dead_stays_dead() -> None:
    dead = run_checks(NOT_FOUND, DAILY)[-1]
    verdict = decide(dead.state, dead.streak, NO_HOST, POLICY, DAILY[3], outage=True)
    assert verdict.state is State.DEAD


def test_outage_days_never_make_dead() -> None:
    verdicts = run_checks(NO_HOST, [T0 + timedelta(days=day) for day in range(10)], outage=True)
    assert {v.state for v in verdicts} == {State.TRANSIENT}


def test_outage_reason_says_not_counted() -> None:
    verdict = decide(State.ALIVE, Streak(), NO_HOST, POLICY, T0, outage=True)
    assert verdict.reason.endswith("(network outage suspected, not counted)")


def test_success_during_outage_still_counts() -> None:
    before = Streak(failures=2, first_failure_at=T0)
    verdict = decide(State.TRANSIENT, before, OK, POLICY, DAILY[1], outage=True)
    assert (verdict.state, verdict.streak) == (State.ALIVE, Streak())


# --- describe --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        pytest.param(result(status=404), "404", id="status"),
        pytest.param(failed(ErrorKind.TIMEOUT), "timeout", id="error-without-detail"),
        pytest.param(failed(ErrorKind.TLS, "bad\ncert "), "tls: bad cert", id="detail-one-line"),
        pytest.param(BOT_WALL, "bot wall (403)", id="bot-wall"),
        pytest.param(SOFT_404, "soft 404 (same answer as a random path)", id="soft404"),
        pytest.param(redirected(301), f"200 at {NEW} after a permanent redirect", id="moved"),
        pytest.param(result(status=429, retry_after=120.0), "429 (retry after 120 s)", id="429"),
        pytest.param(result(), "no answer", id="nothing"),
    ],
)
def test_describe_says_what_the_check_saw(check: CheckResult, expected: str) -> None:
    assert describe(check) == expected


# --- scheduling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "interval"),
    [
        pytest.param(State.ALIVE, POLICY.check_every, id="alive"),
        pytest.param(State.MOVED, POLICY.check_every, id="moved"),
        pytest.param(State.BLOCKED, POLICY.check_every, id="blocked"),
        pytest.param(State.SOFT404, POLICY.check_every, id="soft404"),
        pytest.param(State.TRANSIENT, POLICY.transient_every, id="transient"),
        pytest.param(State.DEAD, POLICY.dead_every, id="dead"),
    ],
)
def test_next_check_uses_the_state_interval(state: State, interval: timedelta) -> None:
    assert next_check_at(state, T0, POLICY, rand=0.5) == T0 + interval


def test_unchecked_is_due_now() -> None:
    assert next_check_at(State.UNCHECKED, T0, POLICY, rand=0.99) == T0


@pytest.mark.parametrize("state", [s for s in State if s is not State.UNCHECKED], ids=str)
def test_next_check_jitter_lower_bound(state: State) -> None:
    interval = next_check_at(state, T0, POLICY, rand=0.5) - T0  # no spread at the middle
    assert next_check_at(state, T0, POLICY, rand=0.0) - T0 == interval * 0.9


@pytest.mark.parametrize("state", [s for s in State if s is not State.UNCHECKED], ids=str)
def test_next_check_jitter_upper_bound(state: State) -> None:
    interval = next_check_at(state, T0, POLICY, rand=0.5) - T0
    latest = next_check_at(state, T0, POLICY, rand=0.999999) - T0
    assert interval * 1.0999 < latest <= interval * 1.1


@given(rand=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_next_check_is_never_outside_jitter(rand: float) -> None:
    delay = next_check_at(State.ALIVE, T0, POLICY, rand=rand) - T0
    assert POLICY.check_every * 0.9 <= delay <= POLICY.check_every * 1.1


@pytest.mark.parametrize("rand", [-0.1, 1.0, 2.0], ids=str)
def test_next_check_rejects_rand_outside_unit_interval(rand: float) -> None:
    with pytest.raises(ValueError, match="rand"):
        next_check_at(State.ALIVE, T0, POLICY, rand=rand)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"dead_after_failures": 1}, id="single-failure"),
        pytest.param({"dead_after_days": -1.0}, id="negative-days"),
        pytest.param({"transient_every": timedelta(0)}, id="zero-interval"),
        pytest.param({"jitter": 1.0}, id="jitter-too-large"),
    ],
)
def test_policy_rejects_nonsense(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CheckPolicy(**fields)


# --- outage detection ------------------------------------------------------------------


def run_of(*results_by_host: tuple[str, CheckResult]) -> list[CheckResult]:
    return [
        CheckResult(
            url=f"https://{host}/page",
            checked_at=T0,
            status=check.status,
            error=check.error,
        )
        for host, check in results_by_host
    ]


def hosts(count: int, check: CheckResult, prefix: str = "site") -> list[tuple[str, CheckResult]]:
    return [(f"{prefix}{n}.example", check) for n in range(count)]


def test_outage_when_every_host_fails_dns() -> None:
    outage, _ = is_outage(run_of(*hosts(10, NO_HOST)))
    assert outage


def test_outage_reason_names_the_share_and_kind() -> None:
    _, reason = is_outage(run_of(*hosts(10, NO_HOST)))
    assert reason == (
        "network outage suspected: 10 of 10 hosts (100%) failed with dns; "
        "failures of this run not counted"
    )


def test_outage_at_exactly_the_share() -> None:
    outage, _ = is_outage(run_of(*hosts(8, NO_HOST), *hosts(2, OK, prefix="up")))
    assert outage


def test_no_outage_just_below_the_share() -> None:
    outage, _ = is_outage(run_of(*hosts(7, NO_HOST), *hosts(3, OK, prefix="up")))
    assert not outage


def test_no_outage_when_hosts_fail_in_different_ways() -> None:
    mixed = [*hosts(5, NO_HOST), *hosts(5, failed(ErrorKind.REFUSED), prefix="other")]
    outage, _ = is_outage(run_of(*mixed))
    assert not outage


def test_few_hosts_are_never_an_outage() -> None:
    outage, reason = is_outage(run_of(*hosts(4, NO_HOST)))
    assert (outage, reason) == (False, "no outage: 4 hosts checked, too few to tell (need 5)")


def test_many_urls_on_one_host_count_once() -> None:
    one_host = [("only.example", NO_HOST)] * 50
    outage, _ = is_outage(run_of(*one_host))
    assert not outage


def test_host_that_answered_once_is_not_down() -> None:
    flapping = [(host, check) for host, _ in hosts(10, NO_HOST) for check in (OK, NO_HOST)]
    outage, _ = is_outage(run_of(*flapping))
    assert not outage


def test_all_timeouts_are_an_outage() -> None:
    outage, _ = is_outage(run_of(*hosts(6, failed(ErrorKind.TIMEOUT))))
    assert outage


def test_no_outage_when_all_answer() -> None:
    outage, reason = is_outage(run_of(*hosts(10, NOT_FOUND)))
    assert (outage, reason) == (False, "no outage: no host of 10 failed on every check")


def test_invalid_urls_are_not_hosts() -> None:
    junk = [
        CheckResult(url=f"ftp://h{n}.example/", checked_at=T0, error=ErrorKind.INVALID_URL)
        for n in range(10)
    ]
    outage, _ = is_outage([*junk, *run_of(*hosts(3, NO_HOST))])
    assert not outage


# --- properties ------------------------------------------------------------------------

ANY_CHECK = st.sampled_from([b.result for b in BEHAVIOURS])
COUNTED = (CheckOutcome.FAILURE, CheckOutcome.SOFT404, CheckOutcome.USURPED)
NEVER_DEAD_CHECK = st.sampled_from([b.result for b in BEHAVIOURS if b.outcome not in COUNTED])


@settings(max_examples=200, deadline=None)
@given(
    checks=st.lists(ANY_CHECK, min_size=1, max_size=20),
    offsets=st.lists(st.floats(min_value=0, max_value=2.99), min_size=20, max_size=20),
)
def test_nothing_is_rotten_within_dead_after_days(
    checks: list[CheckResult], offsets: list[float]
) -> None:
    times = sorted(T0 + timedelta(days=offset) for offset in offsets)[: len(checks)]
    assert not any(v.state.is_rotten for v in run_checks(checks, times))


@settings(max_examples=200, deadline=None)
@given(checks=st.lists(NEVER_DEAD_CHECK, min_size=1, max_size=30))
def test_without_failures_nothing_is_ever_rotten(checks: list[CheckResult]) -> None:
    times = [T0 + timedelta(days=day) for day in range(len(checks))]
    assert not any(v.state.is_rotten for v in run_checks(checks, times))
