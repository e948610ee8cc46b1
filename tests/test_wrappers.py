"""Redirect wrappers: a wrapped citation is checked, archived and judged as its target."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config.loading import load_settings
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.wrappers import is_wrapped, unwrap
from support.fake_memento import FakeMemento, lookup_toml, serve_in_thread
from support.fake_wayback import FakeWayback, write_project
from support.fake_wayback import serve_in_thread as wayback_in_thread

TARGET = "https://ngo.example/reports/2016/kazakhstan"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)

# Each as the service writes it (parameters from real links, values shortened).
WRAPPED = [
    pytest.param(
        "https://www.google.com/url?q=https://ngo.example/reports/2016/kazakhstan"
        "&sa=D&source=editors&ust=1699999999999999&usg=AOvVaw3",
        id="google-docs",
    ),
    pytest.param(
        "https://www.google.co.uk/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1"
        "&url=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan&usg=AOvVaw1",
        id="google-search",
    ),
    pytest.param(
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fngo.example"
        "%2Freports%2F2016%2Fkazakhstan&data=05%7C01%7C%7Cabc%7C0&sdata=xyz%3D&reserved=0",
        id="outlook-safe-links",
    ),
    pytest.param(
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan"
        "&h=AT0abc",
        id="facebook",
    ),
    pytest.param(
        "https://urldefense.proofpoint.com/v2/url?u=https-3A__ngo.example_reports_2016_kazakhstan"
        "&d=DwMFaQ&c=abc&r=def",
        id="proofpoint-v2",
    ),
    pytest.param(
        "https://www.youtube.com/redirect?event=video_description&redir_token=QUFF"
        "&q=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="youtube",
    ),
    pytest.param(
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl"
        "%3Fq%3Dhttps%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan%26sa%3DD&reserved=0",
        id="safe-links-around-google",
    ),
]


@pytest.mark.parametrize("wrapped", WRAPPED)
def test_a_wrapper_leads_to_its_target(wrapped: str) -> None:
    assert is_wrapped(wrapped)
    assert unwrap(wrapped) == TARGET


@pytest.mark.parametrize(
    "url",
    [
        TARGET,
        "https://www.google.com/search?q=kazakhstan",  # a search, not a wrapper
        "https://google.example.org/url?q=https://x.example/",  # not Google's host
        "https://www.google.com/url?q=javascript:alert(1)",  # no http(s) target
        "https://www.facebook.com/some.page",
    ],
)
def test_other_links_are_left_as_they_are(url: str) -> None:
    assert not is_wrapped(url)
    assert unwrap(url) == url


def test_a_wrapped_citation_is_looked_up_and_reported_as_its_target(tmp_path: Path) -> None:
    google = str(WRAPPED[0].values[0])
    other = FakeMemento()
    other.add_capture(TARGET, "20160406000000")
    with wayback_in_thread(FakeWayback()) as wayback, serve_in_thread(other) as [base]:
        config = write_project(tmp_path, wayback, [google], lookup=lookup_toml({"m": base}))
        settings = load_settings(config)
        with Store.open(settings.state.dir) as store:
            scan(settings, store)
            assert [t.key for t in store.urls_to_check()] == [TARGET]
        args = ["--config", str(config)]
        obj = {"clock": fixed_clock(NOW)}
        assert CliRunner().invoke(main, [*args, "archive"], obj=obj).exit_code == 0
    assert other.requests["timemap"] == 1
    result = CliRunner().invoke(main, [*args, "report", "--format", "json"], obj=obj)
    [citation] = json.loads(result.output)["releases"][0]["citations"]
    assert citation["url"] == google  # as written
    assert citation["unwrapped_url"] == TARGET
    assert citation["archive_url"] == f"{base}/20160406000000/{TARGET}"
    assert citation["archive"] == "m"
    release = (tmp_path / "releases" / "r.md").read_text(encoding="utf-8")
    assert google in release  # the release text keeps the link as written

    rewrite = CliRunner().invoke(main, [*args, "rewrite", "--mode", "all"], obj=obj)
    assert rewrite.exit_code == 0, rewrite.output
    rewritten = (tmp_path / "releases" / "r.md").read_text(encoding="utf-8")
    assert f"<{google}> (archived [6 Apr 2016]({base}/20160406000000/{TARGET}) by Archive m)" in (
        rewritten
    )
    assert CliRunner().invoke(main, [*args, "scan"], obj=obj).exit_code == 0
    result = CliRunner().invoke(main, [*args, "report", "--format", "json"], obj=obj)
    [again] = json.loads(result.output)["releases"][0]["citations"]  # the copy is no citation
    assert again["url"] == google and again["points_at_archive"] is True
