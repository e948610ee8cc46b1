"""The save policy, the pace and the backoff: pure functions, tables and a clock we control."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkwatch.archive.save_policy import (
    BACKOFF_CAP,
    SaveDecision,
    backoff,
    decide_save,
    next_save_at,
)
from linkwatch.model import QueueStatus, State

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
MONTH = dt.timedelta(days=30)
OLD = NOW - dt.timedelta(days=400)
RECENT = NOW - dt.timedelta(days=3)


@pytest.mark.parametrize(
    ("state", "newest", "queue_status", "done_at", "expected"),
    [
        (State.ALIVE, None, None, None, SaveDecision.QUEUE),
        (State.ALIVE, OLD, None, None, SaveDecision.QUEUE),
        (State.MOVED, None, None, None, SaveDecision.QUEUE),
        (State.BLOCKED, None, None, None, SaveDecision.QUEUE),  # readers still get the page
        (State.ALIVE, RECENT, None, None, SaveDecision.FRESH),
        (State.DEAD, None, None, None, SaveDecision.NOT_SAVABLE),  # would capture the error
        (State.SOFT404, None, None, None, SaveDecision.NOT_SAVABLE),
        (State.UNCHECKED, None, None, None, SaveDecision.NOT_SAVABLE),  # not seen answering yet
        (State.TRANSIENT, None, None, None, SaveDecision.NOT_SAVABLE),
        (State.ALIVE, None, QueueStatus.QUEUED, None, SaveDecision.QUEUED),
        (State.ALIVE, None, QueueStatus.REFUSED, OLD, SaveDecision.REFUSED),  # final, however old
        (State.ALIVE, None, QueueStatus.FAILED, RECENT, SaveDecision.TRIED_RECENTLY),
        (State.ALIVE, None, QueueStatus.FAILED, OLD, SaveDecision.QUEUE),
        (
            State.ALIVE,
            OLD,
            QueueStatus.SAVED,
            OLD,
            SaveDecision.QUEUE,
        ),  # alive a year on: save again
        (State.DEAD, RECENT, None, None, SaveDecision.FRESH),
    ],
)
def test_save_decision_table(
    state: State,
    newest: dt.datetime | None,
    queue_status: QueueStatus | None,
    done_at: dt.datetime | None,
    expected: SaveDecision,
) -> None:
    assert decide_save(state, newest, queue_status, done_at, NOW, MONTH) is expected


def test_zero_fresh_within_saves_whatever_the_captures() -> None:
    just_now = NOW - dt.timedelta(seconds=5)
    decision = decide_save(State.ALIVE, just_now, QueueStatus.SAVED, just_now, NOW, dt.timedelta(0))
    assert decision is SaveDecision.QUEUE


def simulate(per_minute: float, saves: int, start_gaps: list[float] | None = None) -> list[float]:
    """Start `saves` saves as early as `next_save_at` allows, on a clock we move by hand.

    `start_gaps` adds idle time before some starts (a queue that empties and fills).
    """
    clock, starts = 1_000_000.0, list[float]()
    for n in range(saves):
        clock += (start_gaps or [0.0])[n % len(start_gaps or [0.0])]
        clock = next_save_at(starts, clock, per_minute)
        starts.append(clock)
    return starts


def most_in_any_window(starts: list[float], window: float = 60.0) -> int:
    return max(sum(1 for t in starts if s <= t < s + window) for s in starts)


@pytest.mark.parametrize("per_minute", [10, 12, 600, 2.5, 0.5, 1])
def test_pace_never_exceeds_the_rate_in_any_minute(per_minute: float) -> None:
    starts = simulate(per_minute, 200)
    assert most_in_any_window(starts) <= max(1, int(per_minute))


def test_pace_spaces_starts_evenly_instead_of_bursting() -> None:
    starts = simulate(10, 30)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 6.0


def test_pace_holds_with_a_queue_that_empties_and_fills() -> None:
    starts = simulate(12, 300, start_gaps=[0.0, 0.0, 31.0, 0.0, 7.5])
    assert most_in_any_window(starts) <= 12


@given(
    per_minute=st.floats(min_value=0.2, max_value=120),
    history=st.lists(st.floats(min_value=0, max_value=300), max_size=40),
)
def test_next_save_keeps_any_valid_history_valid(per_minute: float, history: list[float]) -> None:
    """Whatever earlier starts the store holds (if they kept the pace), the next one keeps it."""
    starts: list[float] = []
    for moment in sorted(history):
        starts.append(next_save_at(starts, moment, per_minute))
    allowed = max(1, int(per_minute))
    new = next_save_at(starts, 300.0, per_minute)
    assert new >= 300.0
    assert sum(1 for t in [*starts, new] if new - 60.0 < t <= new) <= allowed


def test_a_restart_continues_the_pace_from_stored_starts() -> None:
    before_restart = simulate(10, 5)
    shuffled = random.Random(7).sample(before_restart, len(before_restart))  # any order
    resumed = next_save_at(shuffled, before_restart[-1] + 0.1, 10)
    assert resumed == pytest.approx(before_restart[-1] + 6.0)


@pytest.mark.parametrize(
    ("failures", "retry_after", "expected"),
    [
        (1, None, 60.0),
        (2, None, 120.0),
        (5, None, 960.0),
        (30, None, BACKOFF_CAP),
        (1, 300.0, 300.0),  # never earlier than the server asks
        (3, 30.0, 240.0),  # nor earlier than the doubling says
        (1, 0.0, 60.0),  # "retry at once" is no reason for a busy loop
        (1, 10.0**9, BACKOFF_CAP),
    ],
)
def test_backoff_doubles_and_honours_retry_after(
    failures: int, retry_after: float | None, expected: float
) -> None:
    assert backoff(failures, retry_after) == expected
