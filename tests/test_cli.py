"""The CLI end to end on real files and a real SQLite database."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from linkwatch import __version__
from linkwatch.cli import main
from linkwatch.store import DB_NAME, SCHEMA_VERSION

SEED_LABELS = ["1", "2", "3", "4", "5", "6", "7", "9", "10", "11", "12"]
SEED_URLS = [
    "http://ec.europa.eu/avservices/video/player.cfm?ref=I118702",
    "http://www.osce.org/odihr/elections/kazakhstan/229136",
    "http://en.odfoundation.eu/a/7410,donald-tusk-must-raise-the-issue-of-mounting-restrictions-on-free-speech-and-continuous-repression-of-political-opposition-in-kazakhstan-during-his-meeting-with-president-nazarbayev",
    "https://euobserver.com/foreign/132858",
    "http://en.odfoundation.eu/a/5465,kazakhstan-reform-of-the-criminal-legislation-endangers-human-rights",
    "http://iphronline.org/kazakhstan-report-documents-key-rights-trends-20160317.html",
    "https://www.amnesty.org/en/documents/eur57/3345/2016/en/",
    "http://en.odfoundation.eu/a/7228,kazakhstan-the-oppression-of-journalists-and-bloggers1",
    "http://en.odfoundation.eu/a/6264,international-community-calls-on-france-to-prevent-extradition-of-opposition-politician-mukhtar-ablyazov",
    "http://en.odfoundation.eu/a/7319,report-the-facts-which-confirm-the-fabrication-of-the-case-of-mukhtar-ablyazov-in-russia-tatiana-paraskevich-and-artur-trofimov-prosecution",
    "http://www.europarl.europa.eu/sides/getDoc.do?type=MOTION&reference=P8-RC-2016-0337&language=EN",
]


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(project / "config.toml"), *args])


def report(project: Path) -> dict[str, object]:
    result = run(project, "report", "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_seed_scan_then_json_report_gives_its_eleven_citations(project: Path) -> None:
    result = run(project, "scan")
    assert result.exit_code == 0, result.output
    assert "1 releases" in result.output and "11 new URLs" in result.output
    data = report(project)
    [release] = data["releases"]  # type: ignore[misc]
    assert release["path"] == "releases/2016-04-07-juncker-kazakhstan.md"
    assert release["published"] == "2016-04-07"
    citations = release["citations"]
    assert [c["label"] for c in citations] == SEED_LABELS
    assert [c["url"] for c in citations] == SEED_URLS
    assert {c["state"] for c in citations} == {"unchecked"}
    keys = {
        "label",
        "url",
        "state",
        "http_status",
        "final_url",
        "last_checked",
        "archive_url",
        "archive_timestamp",
    }
    assert all(keys <= set(c) for c in citations)
    assert set(data) >= {"generated_at", "releases"}


def test_table_report_lists_citations(project: Path) -> None:
    run(project, "scan")
    result = run(project, "report")
    assert result.exit_code == 0
    assert "unchecked" in result.output
    assert "euobserver.com/foreign/132858" in result.output


def test_report_before_any_scan_says_so(project: Path) -> None:
    result = run(project, "report")
    assert result.exit_code == 0
    assert "run `linkwatch scan`" in result.output
    assert json.loads(run(project, "report", "--format", "json").output)["releases"] == []


def test_unchanged_rescan_parses_nothing(project: Path) -> None:
    run(project, "scan")
    result = run(project, "scan")
    assert result.exit_code == 0
    assert "(0 parsed, 1 unchanged)" in result.output


def test_changed_release_is_parsed_again(project: Path) -> None:
    run(project, "scan")
    release = project / "releases" / "2016-04-07-juncker-kazakhstan.md"
    release.write_text(
        release.read_text(encoding="utf-8") + "\n¹³ <https://example.org/new>\n", encoding="utf-8"
    )
    result = run(project, "scan")
    assert "(1 parsed, 0 unchanged)" in result.output
    citations = report(project)["releases"][0]["citations"]  # type: ignore[index]
    assert citations[-1]["label"] == "13"
    assert len(citations) == 12


def test_vanished_release_is_kept_as_missing(project: Path) -> None:
    run(project, "scan")
    (project / "releases" / "2016-04-07-juncker-kazakhstan.md").unlink()
    (project / "releases" / "other.md").write_text("See <https://example.org/>.\n")
    result = run(project, "scan")
    assert result.exit_code == 0
    assert "missing" in result.output and "juncker" in result.output
    with sqlite3.connect(project / "state" / DB_NAME) as conn:
        assert conn.execute("SELECT count(*) FROM citations").fetchone()[0] == 12


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        ("empty.md", b"", "empty"),
    ],
)
def test_bad_release_is_one_line_and_the_rest_is_scanned(
    project: Path, name: str, content: bytes, reason: str
) -> None:
    (project / "releases" / name).write_bytes(content)
    result = run(project, "scan")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if name in line]
    assert len(lines) == 1 and reason in lines[0].lower()
    assert len(report(project)["releases"][0]["citations"]) == 11  # type: ignore[index]


def test_oversized_release_is_refused_without_losing_the_rest(project: Path) -> None:
    big = project / "releases" / "huge.md"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = run(project, "scan")
    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if "huge.md" in line]
    assert "sources.max_size" in line
    assert len(report(project)["releases"]) == 1  # type: ignore[arg-type]


def test_release_that_turns_unreadable_keeps_its_citations(project: Path) -> None:
    run(project, "scan")
    release = project / "releases" / "2016-04-07-juncker-kazakhstan.md"
    release.write_bytes(b"\x00\x01\x02binary now" * 100)
    result = run(project, "scan")
    assert result.exit_code == 1
    citations = report(project)["releases"][0]["citations"]  # type: ignore[index]
    assert len(citations) == 11


def test_glob_matching_nothing_is_a_warning(project: Path) -> None:
    (project / "config.toml").write_text(
        '[sources]\npaths = ["releases/**/*", "nowhere/*.md"]\n', encoding="utf-8"
    )
    result = run(project, "scan")
    assert result.exit_code == 0
    assert "nowhere/*.md" in result.output


def test_unknown_config_key_is_one_line_naming_key_and_line(project: Path) -> None:
    (project / "config.toml").write_text("[check]\nper_hots = 2\n", encoding="utf-8")
    result = run(project, "scan")
    assert result.exit_code == 2
    assert "config.toml:2" in result.output
    assert "check.per_hots" in result.output and "check.per_host" in result.output
    assert not (project / "state").exists()


def test_newer_database_is_refused(project: Path) -> None:
    (project / "state").mkdir()
    with sqlite3.connect(project / "state" / DB_NAME) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    result = run(project, "scan")
    assert result.exit_code == 2
    assert "newer" in result.output


def test_config_path_from_environment(project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["scan"], env={"LINKWATCH_CONFIG": str(project / "config.toml")}
    )
    assert result.exit_code == 0, result.output
    assert (project / "state" / DB_NAME).exists()


def test_init_writes_a_config_that_loads(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    result = CliRunner().invoke(main, ["--config", str(target), "init"])
    assert result.exit_code == 0, result.output
    assert target.exists()
    again = CliRunner().invoke(main, ["--config", str(target), "init"])
    assert again.exit_code == 2
    shutil.copy(
        Path(__file__).parent / "fixtures" / "2016-04-07-juncker-kazakhstan.md", tmp_path / "x.md"
    )
    assert CliRunner().invoke(main, ["--config", str(target), "report"]).exit_code == 0


@pytest.mark.parametrize("command", main.list_commands(click.Context(main)))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for command in main.list_commands(click.Context(main)):
        assert f"linkwatch {command}" in readme, command


def test_console_script_reports_its_version() -> None:
    exe = Path(sys.executable).parent / "linkwatch"
    out = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, check=True, env={**os.environ}
    )
    assert __version__ in out.stdout


def test_every_config_key_is_documented_in_the_readme() -> None:
    from linkwatch.config.keys import KEYS, RULE_KEYS

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for key in KEYS + RULE_KEYS:
        assert f"| `{key.name}` |" in readme, key.name
