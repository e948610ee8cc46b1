"""The weekly digest: what it says, how it renders, and the once-a-week bookkeeping."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import RewriteMode, Settings
from linkwatch.digest.build import Digest, build_digest
from linkwatch.digest.render import render_digest
from linkwatch.digest.send import (
    DigestStatus,
    preview_digest,
    send_due_digest,
)
from linkwatch.digest.weeks import iso_week, scheduled_in_week
from linkwatch.model import DigestState, State
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.report_example import (
    AMNESTY,
    BITLY,
    EUOBSERVER,
    HRW,
    JUNCKER,
    KOZLOV,
    NOW,
    ODF_6264,
    ODF_7228,
    RFERL,
    WEEK_AGO,
    ZAKON,
    at,
    build_example_store,
    check,
    seed,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "config.toml"
    config.write_text(
        '[state]\ndir = "state"\n\n[digest]\nto = ["press@example.org"]\n'
        'timezone = "Europe/Brussels"\n',
        encoding="utf-8",
    )
    return load_settings(config)


@pytest.fixture
def example(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings.state.dir)
    build_example_store(store)
    yield store
    store.close()


def digest_of(settings: Settings, store: Store, since: dt.datetime = WEEK_AGO) -> Digest:
    return build_digest(settings, store, period_start=since, now=NOW)


def urls(items: tuple[object, ...]) -> list[str]:
    return [item.url for item in items]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- content


def test_newly_dead_lists_urls_that_died_in_the_period(settings: Settings, example: Store) -> None:
    dead = digest_of(settings, example).newly_dead
    assert len(dead) == 5 and ODF_7228 in urls(dead)
    [shared] = [d for d in dead if d.url == ODF_7228]
    assert shared.releases == (JUNCKER, KOZLOV) and shared.citations == 2


def test_newly_soft404_moved_and_recovered_are_told_apart(
    settings: Settings, example: Store
) -> None:
    digest = digest_of(settings, example)
    assert urls(digest.newly_soft404) == [RFERL]
    assert urls(digest.moved) == [HRW]
    assert urls(digest.recovered) == [EUOBSERVER]
    assert digest.recovered[0].before == "dead"


def test_archive_events_of_the_period_are_listed(settings: Settings, example: Store) -> None:
    digest = digest_of(settings, example)
    assert urls(digest.archived) == [HRW, ZAKON]
    assert urls(digest.refused) == [BITLY]
    assert "robots.txt" in (digest.refused[0].reason or "")


def test_needs_a_person_lists_rotten_urls_without_any_copy(
    settings: Settings, example: Store
) -> None:
    without = urls(digest_of(settings, example).without_copy)
    assert set(without) == {
        "http://en.odfoundation.eu/a/5465,kazakhstan-reform-of-the-criminal-legislation"
        "-endangers-human-rights",
        ODF_6264,
        BITLY,
        RFERL,
    }


def test_needs_a_person_lists_pins(settings: Settings, example: Store) -> None:
    [pinned] = digest_of(settings, example).pinned
    assert (pinned.url, pinned.pinned, pinned.evidence) == (AMNESTY, "alive", "blocked")


def test_releases_not_yet_rewritten_follow_the_rewrite_mode(
    settings: Settings, example: Store
) -> None:
    pending = {r.path: r.citations for r in digest_of(settings, example).to_rewrite}
    assert pending[JUNCKER] == 4  # five rotten with a copy, one already linked
    off = dataclasses.replace(
        settings, rewrite=dataclasses.replace(settings.rewrite, mode=RewriteMode.OFF)
    )
    assert digest_of(off, example).to_rewrite == ()
    every = dataclasses.replace(
        settings, rewrite=dataclasses.replace(settings.rewrite, mode=RewriteMode.ALL)
    )
    assert {r.path: r.citations for r in digest_of(every, example).to_rewrite}[JUNCKER] == 7


def test_subject_carries_the_counts_and_the_iso_week(settings: Settings, example: Store) -> None:
    assert digest_of(settings, example).subject == (
        "linkwatch: 7 citations died, 1 recovered, 1 moved, 2 saved, "
        "1 refused by the archive — week 2026-W48"
    )


def test_a_quiet_period_says_nothing_changed(settings: Settings, example: Store) -> None:
    digest = build_digest(settings, example, period_start=NOW, now=NOW)
    assert not digest.changed
    assert digest.subject == "linkwatch: nothing changed — week 2026-W48"
    assert "Nothing changed since the last digest." in render_digest(digest).text


def test_a_quiet_digest_is_short(settings: Settings, example: Store) -> None:
    rendered = render_digest(build_digest(settings, example, period_start=NOW, now=NOW))
    assert "NEEDS A PERSON" not in rendered.text and BITLY not in rendered.text
    assert "Still waiting for a person: 4 rotten" in rendered.text
    assert len(rendered.text.splitlines()) < 15
    assert "Still waiting for a person" in rendered.html


def test_text_and_html_carry_the_same_urls(settings: Settings, example: Store) -> None:
    digest = digest_of(settings, example)
    rendered = render_digest(digest)
    for url in (*urls(digest.newly_dead), *urls(digest.recovered), *urls(digest.without_copy)):
        assert url in rendered.text
        assert url.replace("&", "&amp;") in rendered.html


def test_html_part_escapes_titles_and_fetches_nothing(settings: Settings) -> None:
    store = Store.open(settings.state.dir)
    [url_id] = seed(store, ["http://example.org/<script>x</script>"])
    check(store, url_id, WEEK_AGO - dt.timedelta(days=5), State.ALIVE, 200)
    check(store, url_id, NOW - dt.timedelta(days=1), State.DEAD, 404)
    html = render_digest(digest_of(settings, store)).html

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: set[str] = set()
            self.fetched: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.seen.add(tag)
            self.fetched += [v or "" for k, v in attrs if k in ("src", "background")]

    parser = Tags()
    parser.feed(html)
    assert "script" not in parser.seen and parser.fetched == []
    assert "&lt;script&gt;" in html


def test_dates_are_shown_in_the_digest_time_zone(settings: Settings, example: Store) -> None:
    text = render_digest(digest_of(settings, example)).text
    assert "Changes from 18 Nov 2026 to 25 Nov 2026 (Europe/Brussels)" in text


def test_iso_week_is_taken_in_the_digest_time_zone() -> None:
    sunday_night = dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC)  # Monday 00:30 in Brussels
    assert iso_week(sunday_night, "UTC") == "2026-W47"
    assert iso_week(sunday_night, "Europe/Brussels") == "2026-W48"


def test_schedule_gives_the_first_slot_of_the_week(settings: Settings) -> None:
    fire = scheduled_in_week(settings.digest, NOW)  # default schedule: Mondays 08:00
    assert fire is not None
    assert (fire.isoformat(), fire.tzname()) == ("2026-11-23T08:00:00+01:00", "CET")


# --------------------------------------------------------------------------- bookkeeping


def claim(store: Store, now: dt.datetime, *, force: bool = False, week: str = "2026-W48") -> int:
    record = store.claim_digest(
        week,
        message_id=f"<{now.timestamp()}@example.org>",
        period_start=now - dt.timedelta(days=7),
        now=now,
        force=force,
        stale_after=dt.timedelta(minutes=15),
    )
    return -1 if record is None else record.id


def test_a_week_is_claimed_once(fresh_store: Store) -> None:
    first = claim(fresh_store, NOW)
    fresh_store.finish_digest(first, DigestState.SENT, now=NOW, period_end=NOW)
    assert claim(fresh_store, NOW + dt.timedelta(hours=1)) == -1


def test_a_week_being_sent_is_not_claimed_twice(fresh_store: Store) -> None:
    assert claim(fresh_store, NOW) != -1
    assert claim(fresh_store, NOW + dt.timedelta(minutes=1)) == -1


def test_a_stale_claim_is_taken_over_with_its_message_id(fresh_store: Store) -> None:
    first = claim(fresh_store, NOW)
    again = claim(fresh_store, NOW + dt.timedelta(hours=1))
    assert again == first
    [record] = fresh_store.digests()
    assert record.attempts == 2 and record.message_id == f"<{NOW.timestamp()}@example.org>"


def test_a_failed_week_is_claimed_again_as_the_same_digest(fresh_store: Store) -> None:
    first = claim(fresh_store, NOW)
    fresh_store.finish_digest(first, DigestState.FAILED, now=NOW, error="451 try later")
    assert claim(fresh_store, NOW + dt.timedelta(minutes=5)) == first


def test_force_claims_a_new_digest_for_a_done_week(fresh_store: Store) -> None:
    first = claim(fresh_store, NOW)
    fresh_store.finish_digest(first, DigestState.SENT, now=NOW, period_end=NOW)
    second = claim(fresh_store, NOW + dt.timedelta(hours=1), force=True)
    assert second not in (-1, first)


def test_the_next_period_starts_where_the_last_sent_one_ended(fresh_store: Store) -> None:
    first = claim(fresh_store, NOW)
    fresh_store.finish_digest(first, DigestState.FAILED, now=NOW, error="down")
    assert fresh_store.last_digest_end() is None
    fresh_store.finish_digest(first, DigestState.SENT, now=NOW, period_end=NOW)
    assert fresh_store.last_digest_end() == NOW


async def test_not_due_before_the_schedule_fires(settings: Settings, example: Store) -> None:
    monday_early = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)  # 07:00 in Brussels
    outcome = await send_with(settings, example, monday_early)
    assert outcome.status == DigestStatus.NOT_DUE
    assert example.digests() == []


async def test_no_recipients_is_a_configuration_problem(settings: Settings, example: Store) -> None:
    nobody = dataclasses.replace(settings, digest=dataclasses.replace(settings.digest, to=()))
    outcome = await send_with(nobody, example, NOW, on_schedule=False)
    assert outcome.status == DigestStatus.UNCONFIGURED and "digest.to" in (outcome.error or "")


async def test_login_without_a_password_is_a_configuration_problem(
    settings: Settings, example: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINKWATCH_SMTP_PASSWORD", raising=False)
    login = dataclasses.replace(
        settings, digest=dataclasses.replace(settings.digest, username="press")
    )
    outcome = await send_with(login, example, NOW, on_schedule=False)
    assert outcome.status == DigestStatus.UNCONFIGURED
    assert "LINKWATCH_SMTP_PASSWORD" in (outcome.error or "")


# --------------------------------------------------------------------------- preview


def test_preview_covers_the_week_before_a_first_digest(settings: Settings, example: Store) -> None:
    rendered = preview_digest(settings, example, NOW)
    assert rendered.subject.startswith("linkwatch: 7 citations died")
    assert example.digests() == []  # a preview claims nothing


def test_cli_preview_prints_the_text(settings: Settings, example: Store) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(settings.config_path), "digest", "--preview"], obj=at(NOW)
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Subject: linkwatch: ")
    assert "NEEDS A PERSON" in result.output


def test_cli_preview_writes_text_and_html(
    settings: Settings, example: Store, tmp_path: Path
) -> None:
    out = tmp_path / "preview"
    result = CliRunner().invoke(
        main,
        ["--config", str(settings.config_path), "digest", "--preview", "--output", str(out)],
        obj=at(NOW),
    )
    assert result.exit_code == 0, result.output
    assert (out / "digest.txt").read_text(encoding="utf-8").startswith("Subject: ")
    assert "<html" in (out / "digest.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args", [[], ["--preview", "--send"], ["--preview", "--force"], ["--send", "--output", "x"]]
)
def test_cli_refuses_contradictory_options(settings: Settings, args: list[str]) -> None:
    result = CliRunner().invoke(main, ["--config", str(settings.config_path), "digest", *args])
    assert result.exit_code == 2


def test_numeric_weekday_in_the_schedule_means_what_cron_means() -> None:
    from linkwatch.config.loading import default_settings
    from linkwatch.digest.weeks import scheduled_in_week

    digest = dataclasses.replace(default_settings(Path(".")).digest, schedule="0 8 * * 1")
    wednesday = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    fire = scheduled_in_week(digest, wednesday)
    assert fire is not None and fire.weekday() == 0 and fire.hour == 8  # Monday, as in cron


async def send_with(settings: Settings, store: Store, now: dt.datetime, **options: Any) -> Any:
    with AsyncStore.open(store.path.parent) as db:
        return await send_due_digest(settings, db, now, **options)
