"""`rewrite.on_recovery = "revert"`: a citation rewritten while its URL was dead gets its
added text removed, byte for byte, once the URL has been alive long enough.

Real release files, a real SQLite store with a real check history; the digest
is built from the same store.
"""

from __future__ import annotations

import datetime as dt
from hashlib import sha256
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkwatch.check.verdict import Streak, Verdict
from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.digest.build import build_digest
from linkwatch.digest.render import render_digest
from linkwatch.model import CheckResult, State
from linkwatch.rewrite.recovery import is_recovered
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.rewrite.undo import undo_rewrite
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, HistorySpan, Store
from linkwatch.store.archive import ChosenSnapshot

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
APRIL_6 = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MD = "releases/2016-04-07-juncker-kazakhstan.md"
HTML_RELEASE = (
    '<!doctype html>\r\n<html lang="en"><head><title>Statement</title></head><body>\r\n'
    "<p>Warsaw, 7 April 2016</p>\r\n"
    '<p>See <a href="http://gone.example/report" class="src">the report</a>.</p>\r\n'
    "</body></html>\r\n"
)


def configure(project: Path, on_recovery: str) -> Settings:
    config = project / "config.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + f'\n[rewrite]\non_recovery = "{on_recovery}"\n',
        encoding="utf-8",
    )
    return load_settings(config)


def check(store: Store, url_key: str, state: State, at: dt.datetime) -> None:
    status = store.url_status(url_key)
    assert status is not None
    code = 200 if state is State.ALIVE else 404
    store.record_checks(
        [
            CheckRecord(
                status.id,
                CheckResult(url=url_key, checked_at=at, status=code),
                Verdict(state, Streak(), f"{state} in the test"),
                at + DAY,
            )
        ]
    )


def died_and_rewritten(settings: Settings, store: Store, path: str, count: int = 1) -> list[str]:
    """The first `count` URLs of `path` die, get a snapshot, and the release is rewritten."""
    scan(settings, store)
    [release] = [r for r in store.releases_with_citations() if r.path == path]
    keys = [c.url_key for c in release.citations[:count]]
    for key in keys:
        for days in (40, 38, 36):
            check(store, key, State.DEAD, NOW - days * DAY)
        snapshot = ChosenSnapshot(f"https://web.archive.org/web/20160406120000/{key}", APRIL_6)
        store.set_chosen_snapshot(path, key, snapshot, NOW - 36 * DAY)
    summary = rewrite_releases(settings, store, now=NOW - 35 * DAY, workers=0)
    assert summary.added == count
    return keys


def alive_again(store: Store, keys: list[str], days: tuple[int, ...]) -> None:
    for key in keys:
        for ago in days:
            check(store, key, State.ALIVE, NOW - ago * DAY)


def test_a_recovered_citation_loses_its_archive_link_byte_for_byte(
    project: Path,
) -> None:
    settings = configure(project, "revert")
    original = (project / MD).read_bytes()
    with Store.open(settings.state.dir) as store:
        keys = died_and_rewritten(settings, store, MD, count=2)
        assert (project / MD).read_bytes() != original
        alive_again(store, keys, (8, 4, 1))  # three checks over seven days
        summary = rewrite_releases(settings, store, now=NOW, workers=0)
        assert summary.reverted == 2 and summary.changed == [MD]
        assert (project / MD).read_bytes() == original
        [release] = [r for r in store.releases_with_citations() if r.path == MD]
        assert all(c.archived is None for c in release.citations)  # the store agrees
        reverts = store.reverts_since(NOW - DAY)
        assert [r.url for r in reverts] == [c.url for c in release.citations if c.url_key in keys]
        # Recorded as a rewrite too: `rewrite --undo` can put the archive links back.
        assert store.rewrites_of(MD)[0].citations == 2
        again = rewrite_releases(settings, store, now=NOW, workers=0)
        assert again.reverted == 0 and again.changed == []
        first_rewrite = store.rewrites_of(MD)[1]  # the one that added the archive links
        undo_rewrite(settings, store, project / MD, now=NOW)
    assert sha256((project / MD).read_bytes()).hexdigest() == first_rewrite.new_sha256


def test_the_rewrite_command_says_what_it_reverted(project: Path) -> None:
    settings = configure(project, "revert")
    with Store.open(settings.state.dir) as store:
        keys = died_and_rewritten(settings, store, MD)
        alive_again(store, keys, (8, 4, 1))
    result = CliRunner().invoke(
        main,
        ["--config", str(settings.config_path), "rewrite", "-v"],
        obj={"clock": fixed_clock(NOW)},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{MD} [") and f"{keys[0]}: reverted -> " in line for line in lines)
    assert "; 1 archive links removed, their URLs alive again" in result.stdout


def test_the_digest_reports_what_was_reverted(project: Path) -> None:
    settings = configure(project, "revert")
    with Store.open(settings.state.dir) as store:
        keys = died_and_rewritten(settings, store, MD)
        alive_again(store, keys, (8, 4, 1))
        rewrite_releases(settings, store, now=NOW, workers=0)
        digest = build_digest(settings, store, period_start=NOW - 7 * DAY, now=NOW + DAY)
    assert len(digest.reverted) == 1 and digest.counts["reverted"] == 1
    assert "1 archive links reverted" in digest.subject
    text = render_digest(digest).text
    assert "Reverted: archive links removed" in text and digest.reverted[0].url in text


def test_an_html_link_loses_its_robust_links_attributes_too(project: Path) -> None:
    (project / "releases" / "statement.html").write_bytes(HTML_RELEASE.encode())
    settings = configure(project, "revert")
    key = "releases/statement.html"
    with Store.open(settings.state.dir) as store:
        keys = died_and_rewritten(settings, store, key)
        rewritten = (project / key).read_bytes()
        assert b'data-versionurl="https://web.archive.org/web/' in rewritten
        alive_again(store, keys, (8, 4, 1))
        assert rewrite_releases(settings, store, now=NOW, workers=0).reverted == 1
    assert (project / key).read_bytes() == HTML_RELEASE.encode()


def test_an_archive_link_the_author_wrote_stays_when_its_url_recovers(project: Path) -> None:
    gone = "http://gone.example/report"
    memento = f"https://web.archive.org/web/20160406120000/{gone}"
    release = (
        "# Statement\n\nWarsaw, 7 April 2016\n\nSee the report[^1] and the other[^2].\n\n"
        f"[^1]: <{gone}> (a copy the author kept: <{memento}>)\n\n"
        "[^2]: <http://other.example/page>\n"
    ).encode()
    (project / "releases" / "kept.md").write_bytes(release)
    settings = configure(project, "revert")
    key = "releases/kept.md"
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        [cited] = [r for r in store.releases_with_citations() if r.path == key]
        assert cited.citations[0].archived == memento  # the scan sees the author's link
        for url in (gone, "http://other.example/page"):
            for days in (40, 38, 36):
                check(store, url, State.DEAD, NOW - days * DAY)
        store.set_chosen_snapshot(key, gone, ChosenSnapshot(memento, APRIL_6), NOW - 36 * DAY)
        other = ChosenSnapshot(
            "https://web.archive.org/web/20160406120000/http://other.example/page", APRIL_6
        )
        store.set_chosen_snapshot(key, "http://other.example/page", other, NOW - 36 * DAY)
        assert rewrite_releases(settings, store, now=NOW - 35 * DAY, workers=0).added == 1
        alive_again(store, [gone, "http://other.example/page"], (8, 4, 1))
        summary = rewrite_releases(settings, store, now=NOW, workers=0)
        assert summary.reverted == 1 and summary.skipped_citations == []
    assert (project / key).read_bytes() == release  # linkwatch's link gone, the author's kept


@pytest.mark.parametrize(
    ("on_recovery", "alive_days"),
    [
        ("keep", (8, 4, 1)),  # the default: archive links stay
        ("revert", (4, 1)),  # two checks are not three
        ("revert", (3, 2, 1)),  # three checks over two days are not seven days
    ],
)
def test_a_citation_not_recovered_for_long_enough_keeps_its_link(
    project: Path, on_recovery: str, alive_days: tuple[int, ...]
) -> None:
    settings = configure(project, on_recovery)
    with Store.open(settings.state.dir) as store:
        keys = died_and_rewritten(settings, store, MD)
        rewritten = (project / MD).read_bytes()
        alive_again(store, keys, alive_days)
        summary = rewrite_releases(settings, store, now=NOW, workers=0)
    assert summary.reverted == 0 and (project / MD).read_bytes() == rewritten


def span(state: State, first: dt.datetime, count: int) -> HistorySpan:
    return HistorySpan(state, None, None, first.isoformat(), first.isoformat(), count)


@pytest.mark.parametrize(
    ("spans", "recovered"),
    [
        ([span(State.DEAD, NOW - 30 * DAY, 3), span(State.ALIVE, NOW - 7 * DAY, 3)], True),
        ([span(State.DEAD, NOW - 30 * DAY, 3), span(State.ALIVE, NOW - 6 * DAY, 3)], False),
        ([span(State.DEAD, NOW - 30 * DAY, 3), span(State.ALIVE, NOW - 9 * DAY, 2)], False),
        ([span(State.ALIVE, NOW - 90 * DAY, 90)], False),  # never dead: nothing to revert
        (
            [
                span(State.SOFT404, NOW - 30 * DAY, 3),
                span(State.TRANSIENT, NOW - 20 * DAY, 1),
                span(State.MOVED, NOW - 10 * DAY, 1),
                span(State.ALIVE, NOW - 9 * DAY, 2),
            ],
            True,
        ),
        (
            [
                span(State.DEAD, NOW - 30 * DAY, 3),
                span(State.ALIVE, NOW - 20 * DAY, 5),
                span(State.TRANSIENT, NOW - 2 * DAY, 1),  # failed again since
                span(State.ALIVE, NOW - DAY, 1),
            ],
            False,
        ),
        ([], False),
    ],
)
def test_is_recovered(spans: list[HistorySpan], recovered: bool) -> None:
    assert is_recovered(spans, NOW, dt.timedelta(days=7), 3) is recovered
