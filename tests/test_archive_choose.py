"""Choosing a capture per citation and judging replays: pure functions, table-tested."""

from __future__ import annotations

import datetime as dt

import pytest

from linkwatch.archive.captures import (
    from_wayback_timestamp,
    original_of,
    raw_replay_url,
    replay_prefix,
    wayback_timestamp,
)
from linkwatch.archive.choose import candidate_order, closest, publication_moment, replay_rejection
from linkwatch.model import CheckResult, Hop, Snapshot

BASE = "http://archive.test/web"
PAGE = "http://news.example/2016/04/story"
PUBLISHED = publication_moment(dt.date(2016, 4, 7))


def capture(stamp: str, status: int | None = 200) -> Snapshot:
    return Snapshot(f"{BASE}/{stamp}/{PAGE}", from_wayback_timestamp(stamp), status, "wayback")


def stamps(snapshots: list[Snapshot]) -> list[str]:
    return [wayback_timestamp(s.timestamp) for s in snapshots]


@pytest.mark.parametrize(
    ("captures", "expected"),
    [
        # closest before beats a nearer capture after
        (["20160301000000", "20160408000000"], ["20160301000000", "20160408000000"]),
        # nothing before: the nearest after first
        (["20170101000000", "20160501000000"], ["20160501000000", "20170101000000"]),
        # the publication day itself counts as before, late in the day too
        (["20160407235959", "20160101000000"], ["20160407235959", "20160101000000"]),
        (["20160408000000"], ["20160408000000"]),
        ([], []),
    ],
)
def test_candidates_before_closest_first_then_after(
    captures: list[str], expected: list[str]
) -> None:
    assert stamps(candidate_order([capture(s) for s in captures], PUBLISHED)) == expected


def test_captures_of_errors_are_never_candidates() -> None:
    snapshots = [
        capture("20160406000000", 404),
        capture("20160405000000", 500),
        capture("20160403000000", 302),
        capture("20150101000000", 200),
    ]
    assert stamps(candidate_order(snapshots, PUBLISHED)) == ["20160403000000", "20150101000000"]


def test_a_capture_without_a_status_stays_a_candidate_for_its_replay_to_judge() -> None:
    """A Memento TimeMap records no status: the replay tells a page from an error."""
    snapshots = [capture("20160404000000", None), capture("20160405000000", 404)]
    assert stamps(candidate_order(snapshots, PUBLISHED)) == ["20160404000000"]


def test_closest_is_the_first_candidate_or_none() -> None:
    chosen = closest([capture("20160101000000"), capture("20160401000000")], PUBLISHED)
    assert chosen is not None and wayback_timestamp(chosen.timestamp) == "20160401000000"
    assert closest([capture("20160406000000", 404)], PUBLISHED) is None


def result(
    status: int | None = 200,
    *,
    title: str | None = "Kazakhstan: report",
    fingerprint: str | None = "00ff00ff00ff00ff",
    final: str = f"{BASE}/20160401000000id_/{PAGE}",
    hops: tuple[Hop, ...] = (),
    soft404: str | None = None,
) -> CheckResult:
    return CheckResult(
        url=f"{BASE}/20160401000000id_/{PAGE}",
        checked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        status=status,
        final_url=final,
        hops=hops,
        title=title,
        fingerprint=fingerprint,
        soft404_reason=soft404,
    )


HOME = result(title="News front page", fingerprint="123456789abcdef0")
TO_HOME = (
    Hop(f"{BASE}/20160401000000id_/{PAGE}", 302, f"{BASE}/20160401000000id_/http://news.example/"),
)


@pytest.mark.parametrize(
    ("replay", "home", "rejected_because"),
    [
        (result(), HOME, None),
        (result(), None, None),
        (result(404), HOME, "replays as HTTP 404"),
        (result(None), None, "does not replay"),
        (
            result(final=f"{BASE}/20160401000000id_/http://news.example/", hops=TO_HOME),
            None,
            "redirects to the home page",
        ),
        (result(title="Page not found | News"), HOME, "'not found' page"),
        (result(title="Error 404"), HOME, "'not found' page"),
        (result(title="Seite nicht gefunden"), HOME, "'not found' page"),
        (
            result(title="News front page", fingerprint="123456789abcdef1"),
            HOME,
            "the site's home page",
        ),
        (result(soft404="meta refresh to the home page"), HOME, "soft 404"),
    ],
)
def test_replay_judgement(
    replay: CheckResult, home: CheckResult | None, rejected_because: str | None
) -> None:
    reason = replay_rejection(PAGE, replay, home)
    if rejected_because is None:
        assert reason is None
    else:
        assert reason is not None and rejected_because in reason


def test_a_cited_home_page_may_replay_as_a_home_page() -> None:
    replay = result(final=f"{BASE}/20160401000000id_/http://news.example/", hops=TO_HOME)
    assert replay_rejection("http://news.example/", replay, None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20160407101500", dt.datetime(2016, 4, 7, 10, 15, tzinfo=dt.UTC)),
        ("2016", dt.datetime(2016, 1, 1, tzinfo=dt.UTC)),
        ("201604", dt.datetime(2016, 4, 1, tzinfo=dt.UTC)),
    ],
)
def test_wayback_timestamps_parse_short_and_long(text: str, expected: dt.datetime) -> None:
    assert from_wayback_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "16", "2016-04-07", "201604071015001"])
def test_bad_wayback_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        from_wayback_timestamp(text)


def test_replay_urls_are_read_and_written_without_knowing_the_host() -> None:
    url = "http://mirror.test:8080/coll/20160407101500/http://x.org/a?b=1"
    assert (
        raw_replay_url(url) == "http://mirror.test:8080/coll/20160407101500id_/http://x.org/a?b=1"
    )
    assert original_of(url) == "http://x.org/a?b=1"
    assert original_of(raw_replay_url(url)) == "http://x.org/a?b=1"
    assert replay_prefix(url) == "http://mirror.test:8080/coll"
    assert original_of("http://x.org/plain") is None
