"""The store on real SQLite files: migrations, atomic replacement, refusal of newer schemas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from linkwatch.errors import StoreError
from linkwatch.model import Citation, DateSource, Format, ReleaseMeta, State
from linkwatch.store import DB_NAME, SCHEMA_VERSION, ParsedRelease, Store, migrate
from support.report_example import check, day, seed

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def parsed(path: str, urls: list[str], *, sha: str = "a" * 64) -> ParsedRelease:
    citations = [
        Citation(label=str(i + 1), url=url, start=i * 10, end=i * 10 + len(url), context="ctx")
        for i, url in enumerate(urls)
    ]
    return ParsedRelease(
        path=path,
        sha256=sha,
        size=100,
        format=Format.MARKDOWN,
        encoding="utf-8",
        meta=ReleaseMeta(title="T", published=dt.date(2016, 4, 7), date_source=DateSource.DATELINE),
        citations=citations,
        url_keys=urls,
        invalid=[None] * len(urls),
    )


def test_new_database_is_at_current_schema_in_wal_mode(fresh_store: Store) -> None:
    assert fresh_store.schema_version == SCHEMA_VERSION
    assert fresh_store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_save_release_stores_citations_in_order(fresh_store: Store) -> None:
    new = fresh_store.save_releases([parsed("a.md", ["http://x.org/1", "http://x.org/2"])], NOW)
    assert new == 2
    [release] = fresh_store.releases_with_citations()
    assert [c.url for c in release.citations] == ["http://x.org/1", "http://x.org/2"]
    assert [c.label for c in release.citations] == ["1", "2"]
    assert all(c.state == "unchecked" for c in release.citations)


def test_url_cited_by_two_releases_is_one_url_row(fresh_store: Store) -> None:
    fresh_store.save_releases([parsed("a.md", ["http://x.org/1"])], NOW)
    new = fresh_store.save_releases([parsed("b.md", ["http://x.org/1", "http://x.org/2"])], NOW)
    assert new == 1
    assert fresh_store.totals().urls == 2
    assert fresh_store.totals().citations == 3


def test_changed_release_replaces_its_citations(fresh_store: Store) -> None:
    fresh_store.save_releases([parsed("a.md", ["http://x.org/1", "http://x.org/2"])], NOW)
    fresh_store.save_releases([parsed("a.md", ["http://x.org/3"], sha="b" * 64)], NOW)
    [release] = fresh_store.releases_with_citations()
    assert [c.url for c in release.citations] == ["http://x.org/3"]


def test_failed_replacement_keeps_previous_citations(fresh_store: Store) -> None:
    fresh_store.save_releases([parsed("a.md", ["http://x.org/1"])], NOW)
    broken = parsed("a.md", ["http://x.org/2", "http://x.org/3"], sha="b" * 64)
    broken = dataclasses.replace(broken, url_keys=["http://x.org/2"])  # one key short
    with pytest.raises(ValueError):
        fresh_store.save_releases([broken], NOW)
    [release] = fresh_store.releases_with_citations()
    assert [c.url for c in release.citations] == ["http://x.org/1"]
    assert fresh_store.known_releases()["a.md"].sha256 == "a" * 64


def test_read_error_keeps_what_was_stored(fresh_store: Store) -> None:
    fresh_store.save_releases([parsed("a.md", ["http://x.org/1"])], NOW)
    fresh_store.record_read_error("a.md", "permission denied", NOW)
    [release] = fresh_store.releases_with_citations()
    assert [c.url for c in release.citations] == ["http://x.org/1"]
    row = fresh_store.db.execute("SELECT error FROM releases WHERE path = 'a.md'").fetchone()
    assert row[0] == "permission denied"


def test_read_error_of_unknown_file_is_not_a_release_in_reports(fresh_store: Store) -> None:
    fresh_store.record_read_error("broken.md", "binary file", NOW)
    assert fresh_store.releases_with_citations() == []
    assert "broken.md" in fresh_store.known_releases()


def test_vanished_release_is_marked_missing_not_deleted(fresh_store: Store) -> None:
    fresh_store.save_releases([parsed("a.md", ["http://x.org/1"])], NOW)
    fresh_store.save_releases([parsed("b.md", ["http://x.org/2"])], NOW)
    assert fresh_store.mark_missing(["b.md"], NOW) == ["a.md"]
    assert [r.path for r in fresh_store.releases_with_citations()] == ["b.md"]
    assert fresh_store.known_releases()["a.md"].missing
    count = fresh_store.db.execute("SELECT count(*) FROM citations").fetchone()[0]
    assert count == 2
    fresh_store.mark_scanned(["a.md"], NOW)
    assert not fresh_store.known_releases()["a.md"].missing


def test_version_1_database_is_upgraded_keeping_its_rows(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    db = Database(state / DB_NAME)
    migrate(db, target=1)
    db.execute(
        "INSERT INTO releases (id, path, sha256, published, missing) "
        "VALUES (1, 'old.md', 'abc', '2015-01-01', 0)"
    )
    db.execute("INSERT INTO urls (id, key, url) VALUES (1, 'http://old.org/', 'http://old.org')")
    db.execute(
        'INSERT INTO citations (release_id, url_id, position, label, url, start, "end") '
        "VALUES (1, 1, 0, '1', 'http://old.org', 5, 19)"
    )
    db.conn.commit()
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()

    with Store.open(state) as store:
        assert store.schema_version == SCHEMA_VERSION
        [release] = store.releases_with_citations()
        [citation] = release.citations
        assert (citation.url, citation.state, citation.start) == ("http://old.org", "unchecked", 5)


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    path = state / DB_NAME
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    conn.commit()
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StoreError, match=r"schema version \d+ is newer"):
        Store.open(state)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in state.iterdir()) == [DB_NAME]


def test_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a linkwatch database"):
        Store.open(state)


def test_chosen_snapshot_survives_a_rescan_and_reaches_the_report(fresh_store: Store) -> None:
    from linkwatch.store.archive import ChosenSnapshot

    fresh_store.save_releases([parsed("a.md", ["http://x.org/1"])], NOW)
    moment = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
    snapshot = ChosenSnapshot("https://web.archive.org/web/20160406120000/http://x.org/1", moment)
    fresh_store.set_chosen_snapshot("a.md", "http://x.org/1", snapshot, NOW)
    fresh_store.save_releases([parsed("a.md", ["http://x.org/1"], sha="b" * 64)], NOW)
    [release] = fresh_store.releases_with_citations()
    [citation] = release.citations
    assert citation.archive_url == snapshot.archive_url
    assert citation.archive_timestamp == "2016-04-06T12:00:00+00:00"
    assert fresh_store.chosen_snapshots() == {("a.md", "http://x.org/1"): snapshot}


def test_citation_state_counts_apply_pins(fresh_store: Store) -> None:
    from linkwatch.model import State

    fresh_store.save_releases([parsed("a.md", ["http://x.org/1", "http://x.org/2"])], NOW)
    status = fresh_store.url_status("http://x.org/1")
    assert status is not None
    fresh_store.set_pin(status.id, State.DEAD)
    assert fresh_store.citation_state_counts() == {"unchecked": 1, "dead": 1}


def _states_since(store: Store) -> dict[int, str | None]:
    return dict(store.db.execute("SELECT id, state_since FROM urls ORDER BY id").fetchall())


def test_state_since_moves_only_when_the_state_changes(fresh_store: Store) -> None:
    first, second = seed(fresh_store, ["http://a.org/1", "http://a.org/2"])
    check(fresh_store, first, day("2021-01-01"), State.ALIVE, 200)
    check(fresh_store, first, day("2021-02-01"), State.ALIVE, 301)  # a new span, same state
    check(fresh_store, first, day("2021-03-01"), State.DEAD, 404)
    check(fresh_store, first, day("2021-04-01"), State.DEAD, 410)
    check(fresh_store, second, day("2021-01-01"), State.ALIVE, 200)
    check(fresh_store, second, day("2021-02-01"), State.TRANSIENT, 503)
    check(fresh_store, second, day("2021-03-01"), State.ALIVE, 200)
    assert _states_since(fresh_store) == {
        first: "2021-03-01T06:00:00+00:00",
        second: "2021-03-01T06:00:00+00:00",
    }


def test_version_6_database_learns_when_each_state_began_from_its_history(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path) as store:
        first, second, never = seed(store, ["http://a.org/1", "http://a.org/2", "http://a.org/3"])
        check(store, first, day("2021-01-01"), State.ALIVE, 200)
        check(store, first, day("2021-02-01"), State.DEAD, 404)
        check(store, first, day("2021-03-01"), State.DEAD, 410)
        check(store, second, day("2021-01-01"), State.BLOCKED, 403)
        expected = _states_since(store)
        with store.db.atomic():
            store.db.execute("ALTER TABLE urls DROP COLUMN state_since")  # 0007
            store.db.execute("DROP TABLE probes")  # 0008
            store.db.execute("DROP TABLE web_pages")  # 0009
            store.db.execute("ALTER TABLE citation_snapshots DROP COLUMN source")  # 0010
            store.db.execute("DROP TABLE archive_rests")  # 0010
            store.db.execute("ALTER TABLE citations DROP COLUMN scheme_assumed")  # 0012
            for table in ("notify_deliveries", "notify_events", "notify_watch", "notify_messages"):
                store.db.execute(f"DROP TABLE {table}")  # 0013
            store.db.execute("DROP TABLE snapshot_prints")  # 0014
            store.db.execute("DROP TABLE citation_drift")
            store.db.execute("DROP TABLE web_outputs")  # 0015
            store.db.execute("DROP TABLE reverts")  # 0016
            store.db.execute("PRAGMA user_version = 6")
    with Store.open(tmp_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert _states_since(store) == expected
    assert expected[first] == "2021-02-01T06:00:00+00:00"
    assert expected[never] is None


def test_a_release_the_store_refuses_is_handed_back_and_the_batch_is_stored(
    fresh_store: Store,
) -> None:
    good = parsed("good.md", ["http://x.org/1"])
    bad = dataclasses.replace(parsed("bad.md", ["http://x.org/2"]), url_keys=[])  # keys short
    failed: list[str] = []
    fresh_store.save_releases([good, bad], NOW, on_failure=lambda r, e: failed.append(r.path))
    assert failed == ["bad.md"]
    assert set(fresh_store.known_releases()) == {"good.md"}
