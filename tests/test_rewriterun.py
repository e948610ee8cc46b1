"""Rewrite runs on real files and a real SQLite store: safety, backups, undo, dry run, output."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import RewriteMode, Settings
from linkwatch.errors import RewriteError
from linkwatch.model import State
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.rewrite.undo import undo_rewrite
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot

SEED_KEY = "releases/2016-04-07-juncker-kazakhstan.md"
APRIL_6 = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
JUNE_1 = dt.datetime(2016, 6, 1, 8, 30, tzinfo=dt.UTC)
DEAD_LABELS = {"1", "4", "9", "12"}


def archive_of(url: str, when: dt.datetime = APRIL_6) -> str:
    return f"https://web.archive.org/web/{when:%Y%m%d%H%M%S}/{url}"


def give_snapshots(
    store: Store,
    path: str,
    *,
    labels: set[str] | None = None,
    pin: State | None = State.DEAD,
    when: dt.datetime = APRIL_6,
) -> list[str]:
    """Pin the chosen citations of a release and give each a snapshot; returns their URLs."""
    [release] = [r for r in store.releases_with_citations() if r.path == path]
    chosen: list[str] = []
    for citation in release.citations:
        if labels is not None and citation.label not in labels:
            continue
        status = store.url_status(citation.url_key)
        assert status is not None
        if pin is not None:
            store.set_pin(status.id, pin)
        snapshot = ChosenSnapshot(archive_of(citation.url, when), when, 200)
        store.set_chosen_snapshot(path, citation.url_key, snapshot, when)
        chosen.append(citation.url)
    return chosen


@pytest.fixture
def settings(project: Path) -> Settings:
    return load_settings(project / "config.toml")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings.state.dir) as opened:
        scan(settings, opened)
        yield opened


@pytest.fixture
def seed(project: Path, store: Store) -> Path:
    """The seed release, scanned, with footnotes 1, 4, 9 and 12 dead and archived."""
    give_snapshots(store, SEED_KEY, labels=DEAD_LABELS)
    return project / SEED_KEY


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(project: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(project / "config.toml"), *args])


# --- the main job -----------------------------------------------------------------------------


def test_dead_footnotes_point_at_their_archived_copy_and_every_other_line_is_unchanged(
    settings: Settings, store: Store, seed: Path
) -> None:
    before = seed.read_bytes()
    summary = rewrite_releases(settings, store)
    after = seed.read_bytes()
    assert summary.changed == [SEED_KEY] and summary.added == len(DEAD_LABELS)
    old_lines, new_lines = before.split(b"\n"), after.split(b"\n")
    assert len(old_lines) == len(new_lines)
    changed = [(o, n) for o, n in zip(old_lines, new_lines, strict=True) if o != n]
    assert len(changed) == len(DEAD_LABELS)
    for old, new in changed:
        assert new.startswith(old + b" (archived [6 Apr 2016](https://web.archive.org/web/")


def test_second_run_changes_nothing(settings: Settings, store: Store, seed: Path) -> None:
    rewrite_releases(settings, store)
    once = seed.read_bytes()
    again = rewrite_releases(settings, store)
    assert again.changed == [] and again.unchanged == len(DEAD_LABELS)
    assert seed.read_bytes() == once


def test_store_agrees_with_the_rewritten_file(settings: Settings, store: Store, seed: Path) -> None:
    before = {c.url: c for c in store.releases_with_citations()[0].citations}
    rewrite_releases(settings, store)
    data = seed.read_bytes()
    [release] = store.releases_with_citations()
    assert store.release_sha256(SEED_KEY) == hashlib.sha256(data).hexdigest()
    assert [c.url for c in release.citations] == list(before)
    for citation in release.citations:
        assert data[citation.start : citation.end].decode() == citation.url
        wanted = archive_of(citation.url) if citation.label in DEAD_LABELS else None
        assert citation.archived == wanted


def test_a_rescan_of_the_rewritten_release_finds_no_new_urls(
    settings: Settings, store: Store, seed: Path
) -> None:
    rewrite_releases(settings, store)
    seed.write_bytes(seed.read_bytes())  # same bytes: the rescan parses nothing
    summary = scan(settings, store)
    assert summary.new_urls == 0 and store.totals().urls == 11


def test_later_snapshot_replaces_the_archived_copy_in_the_file(
    settings: Settings, store: Store, seed: Path
) -> None:
    rewrite_releases(settings, store)
    give_snapshots(store, SEED_KEY, labels={"4"}, when=JUNE_1)
    summary = rewrite_releases(settings, store)
    text = seed.read_text(encoding="utf-8")
    assert summary.replaced == 1 and summary.unchanged == len(DEAD_LABELS) - 1
    assert "(archived [1 Jun 2016](https://web.archive.org/web/20160601083000/https://euob" in text
    assert text.count("euobserver.com/foreign/132858") == 2


# --- which citations ---------------------------------------------------------------------------


def test_citation_pinned_alive_is_not_rewritten_in_dead_mode(
    settings: Settings, store: Store, project: Path
) -> None:
    give_snapshots(store, SEED_KEY, labels={"1"}, pin=State.ALIVE)
    give_snapshots(store, SEED_KEY, labels={"2"}, pin=State.SOFT404)
    summary = rewrite_releases(settings, store)
    assert summary.added == 1
    [archived] = [c for c in store.releases_with_citations()[0].citations if c.archived]
    assert archived.label == "2"


def test_all_mode_archives_every_citation_with_a_snapshot(
    settings: Settings, store: Store, project: Path
) -> None:
    give_snapshots(store, SEED_KEY, pin=None)
    summary = rewrite_releases(settings, store, mode=RewriteMode.ALL)
    assert summary.added == 11


def test_dead_citation_without_a_snapshot_is_left_as_it_is(
    settings: Settings, store: Store, project: Path
) -> None:
    [release] = store.releases_with_citations()
    status = store.url_status(release.citations[0].url_key)
    assert status is not None
    store.set_pin(status.id, State.DEAD)
    before = (project / SEED_KEY).read_bytes()
    summary = rewrite_releases(settings, store)
    assert summary.releases == 0 and (project / SEED_KEY).read_bytes() == before


def test_off_mode_rewrites_nothing(settings: Settings, store: Store, seed: Path) -> None:
    before = seed.read_bytes()
    summary = rewrite_releases(settings, store, mode=RewriteMode.OFF)
    assert summary.releases == 0 and seed.read_bytes() == before


def test_paths_limit_the_run_to_those_releases(
    settings: Settings, store: Store, seed: Path, project: Path
) -> None:
    other = project / "releases" / "other.txt"
    other.write_text("[1] http://other.example/gone\n", encoding="utf-8")
    scan(settings, store)
    give_snapshots(store, "releases/other.txt")
    summary = rewrite_releases(settings, store, paths=[other])
    assert summary.changed == ["releases/other.txt"]
    assert b"archived" not in seed.read_bytes()


def test_path_that_is_not_a_scanned_release_is_reported(
    settings: Settings, store: Store, project: Path
) -> None:
    summary = rewrite_releases(settings, store, paths=[project / "releases" / "nope.md"])
    assert summary.skipped == ["releases/nope.md: not a scanned release (run scan)"]


# --- safety -----------------------------------------------------------------------------------


def test_release_edited_after_the_scan_is_skipped_not_clobbered(
    settings: Settings, store: Store, seed: Path
) -> None:
    edited = seed.read_bytes() + b"\n\nA late correction.\n"
    seed.write_bytes(edited)
    summary = rewrite_releases(settings, store)
    assert summary.skipped == [f"{SEED_KEY}: changed since scan, run scan"]
    assert seed.read_bytes() == edited
    assert not (settings.state.dir / "backups").exists()


def test_permissions_of_the_release_are_kept(settings: Settings, store: Store, seed: Path) -> None:
    seed.chmod(0o640)
    rewrite_releases(settings, store)
    assert stat.S_IMODE(seed.stat().st_mode) == 0o640


def test_no_temporary_file_is_left_beside_the_release(
    settings: Settings, store: Store, seed: Path
) -> None:
    rewrite_releases(settings, store)
    assert sorted(p.name for p in seed.parent.iterdir()) == [seed.name]


def test_symlinked_release_is_rewritten_through_its_link(
    settings: Settings, store: Store, project: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("[1] http://other.example/gone\n", encoding="utf-8")
    (project / "releases" / "linked.txt").symlink_to(outside)
    scan(settings, store)
    give_snapshots(store, "releases/linked.txt")
    rewrite_releases(settings, store)
    assert (project / "releases" / "linked.txt").is_symlink()
    assert "[archived 2016-04-06: " in outside.read_text(encoding="utf-8")


def test_backup_of_the_previous_version_sits_under_state_backups(
    settings: Settings, store: Store, seed: Path
) -> None:
    before = seed.read_bytes()
    rewrite_releases(settings, store, now=dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))
    backup = settings.state.dir / "backups" / "20261125T120000.000000Z" / SEED_KEY
    assert backup.read_bytes() == before
    [record] = store.rewrites_of(SEED_KEY)
    assert record.backup == f"backups/20261125T120000.000000Z/{SEED_KEY}"
    assert record.new_sha256 == sha256(seed) and record.citations == len(DEAD_LABELS)


def test_undo_restores_the_previous_version_byte_for_byte(
    settings: Settings, store: Store, seed: Path
) -> None:
    before = seed.read_bytes()
    rewrite_releases(settings, store)
    result = undo_rewrite(settings, store, seed)
    assert seed.read_bytes() == before
    assert result.path == SEED_KEY
    assert store.rewrites_of(SEED_KEY)[0].undone_at is not None
    assert store.release_sha256(SEED_KEY) == hashlib.sha256(before).hexdigest()


def test_undo_steps_back_one_rewrite_at_a_time(
    settings: Settings, store: Store, seed: Path
) -> None:
    original = seed.read_bytes()
    rewrite_releases(settings, store)
    first = seed.read_bytes()
    give_snapshots(store, SEED_KEY, labels={"4"}, when=JUNE_1)
    rewrite_releases(settings, store)
    undo_rewrite(settings, store, seed)
    assert seed.read_bytes() == first
    undo_rewrite(settings, store, seed)
    assert seed.read_bytes() == original


def test_undo_refuses_a_release_edited_after_the_rewrite(
    settings: Settings, store: Store, seed: Path
) -> None:
    rewrite_releases(settings, store)
    seed.write_bytes(seed.read_bytes() + b"\nEdited.\n")
    with pytest.raises(RewriteError, match="not the version the last rewrite wrote"):
        undo_rewrite(settings, store, seed)


def test_undo_without_a_rewrite_says_so(settings: Settings, store: Store, seed: Path) -> None:
    with pytest.raises(RewriteError, match="no rewrite to undo"):
        undo_rewrite(settings, store, seed)


def test_dry_run_returns_a_diff_and_writes_nothing(
    settings: Settings, store: Store, seed: Path
) -> None:
    before = seed.read_bytes()
    summary = rewrite_releases(settings, store, dry_run=True)
    [diff] = summary.diffs
    assert diff.startswith(f"--- a/{SEED_KEY}\n+++ b/{SEED_KEY}\n")
    assert diff.count("\n+¹") + diff.count("\n+⁴") + diff.count("\n+⁹") == 4
    assert seed.read_bytes() == before
    assert store.rewrites_of(SEED_KEY) == []
    assert not (settings.state.dir / "backups").exists()


def test_output_writes_rewritten_copies_and_leaves_the_releases_alone(
    settings: Settings, store: Store, seed: Path, tmp_path: Path
) -> None:
    before = seed.read_bytes()
    summary = rewrite_releases(settings, store, output=tmp_path / "out")
    copy = tmp_path / "out" / SEED_KEY
    assert summary.written == [copy]
    assert seed.read_bytes() == before
    assert copy.read_bytes().count(b"(archived [6 Apr 2016]") == len(DEAD_LABELS)
    assert store.release_sha256(SEED_KEY) == hashlib.sha256(before).hexdigest()


def test_release_dated_by_its_modification_time_keeps_its_date(
    settings: Settings, store: Store, project: Path
) -> None:
    undated = project / "releases" / "undated.txt"
    undated.write_text("No date here.\n[1] http://other.example/gone\n", encoding="utf-8")
    os.utime(undated, (1_460_000_000, 1_460_000_000))
    scan(settings, store)
    give_snapshots(store, "releases/undated.txt")
    rewrite_releases(settings, store)
    [release] = [r for r in store.releases_with_citations() if r.path == "releases/undated.txt"]
    assert release.published == "2016-04-07" and release.date_source == "mtime"


# --- the command ------------------------------------------------------------------------------


def test_command_prints_a_summary(project: Path, seed: Path) -> None:
    result = cli(project, "rewrite")
    assert result.exit_code == 0, result.output
    assert "changed 1 files: 4 citations now point at their archived copy" in result.output


def test_command_verbose_lists_each_citation(project: Path, seed: Path) -> None:
    result = cli(project, "rewrite", "-v")
    lines = [line for line in result.output.splitlines() if ": added -> " in line]
    assert len(lines) == len(DEAD_LABELS)
    assert lines[0].startswith(f"{SEED_KEY} [1] http://ec.europa.eu/")


def test_command_exits_1_when_a_release_is_skipped(project: Path, seed: Path) -> None:
    seed.write_bytes(seed.read_bytes() + b"\n")
    result = cli(project, "rewrite")
    assert result.exit_code == 1
    assert "changed since scan, run scan" in result.output


def test_command_dry_run_prints_the_diff(project: Path, seed: Path) -> None:
    result = cli(project, "rewrite", "--dry-run")
    assert result.exit_code == 0
    assert f"+++ b/{SEED_KEY}" in result.output
    assert b"archived" not in seed.read_bytes()


def test_command_undo_restores_the_release(project: Path, seed: Path) -> None:
    before = seed.read_bytes()
    assert cli(project, "rewrite").exit_code == 0
    result = cli(project, "rewrite", "--undo", str(seed))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"restored {SEED_KEY}")
    assert seed.read_bytes() == before


def test_command_undo_needs_a_path(project: Path) -> None:
    result = cli(project, "rewrite", "--undo")
    assert result.exit_code == 2


def test_command_with_mode_off_says_so(project: Path, seed: Path) -> None:
    config = project / "config.toml"
    config.write_text(config.read_text() + '\n[rewrite]\nmode = "off"\n', encoding="utf-8")
    result = cli(project, "rewrite")
    assert result.exit_code == 0 and "rewrite.mode is off" in result.output
    assert b"archived" not in seed.read_bytes()


def test_command_reports_a_broken_template(project: Path, seed: Path) -> None:
    templates = project / "templates"
    templates.mkdir()
    (templates / "markdown.j2").write_text("{{ date ")
    config = project / "config.toml"
    config.write_text(
        config.read_text() + '\n[rewrite]\ntemplate_dir = "templates"\n', encoding="utf-8"
    )
    result = cli(project, "rewrite")
    assert result.exit_code == 2 and "markdown.j2" in result.output


def test_refresh_renders_text_added_earlier_in_the_current_templates(
    project: Path, store: Store, seed: Path
) -> None:
    rewrite_releases(load_settings(project / "config.toml"), store)
    (project / "house").mkdir()
    (project / "house" / "markdown.j2").write_text(" [Archiv]({{ archive_url }})")
    config = project / "config.toml"
    config.write_text(config.read_text() + '\n[rewrite]\ntemplate_dir = "house"\n')
    house = load_settings(config)
    assert rewrite_releases(house, store).changed == []
    summary = rewrite_releases(house, store, refresh=True)
    assert summary.replaced == len(DEAD_LABELS)
    assert seed.read_text(encoding="utf-8").count("> [Archiv](https://web.archive.org/") == 4


def test_worker_pool_writes_what_a_single_process_writes(tmp_path: Path) -> None:
    results = []
    for workers in (1, 2):
        root = tmp_path / f"workers{workers}"
        (root / "releases").mkdir(parents=True)
        for n in range(70):
            text = f"Release {n}.\n\n[1] http://gone{n}.example/a\n[2] http://live{n}.example/b\n"
            (root / "releases" / f"r{n:02}.txt").write_text(text, encoding="utf-8")
        (root / "config.toml").write_text('[sources]\npaths = ["releases/*"]\n')
        settings = load_settings(root / "config.toml")
        with Store.open(settings.state.dir) as store:
            scan(settings, store, workers=1)
            for n in range(70):
                give_snapshots(store, f"releases/r{n:02}.txt", labels={"1"})
            summary = rewrite_releases(settings, store, workers=workers)
            assert len(summary.changed) == 70 and summary.added == 70
            assert store.release_sha256("releases/r00.txt") == sha256(root / "releases/r00.txt")
        results.append({p.name: p.read_bytes() for p in (root / "releases").iterdir()})
    assert results[0] == results[1]
