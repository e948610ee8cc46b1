"""`[[rules]]` per site: loading, matching, and their effect on check, archive, rewrite
and report, against real servers on 127.0.0.1 and a real SQLite file."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from linkwatch.archive.run import archive_run
from linkwatch.archive.run_state import ArchiveRunSummary
from linkwatch.check.run import CheckRunSummary, check_urls
from linkwatch.check.verdict import Streak, Verdict
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.errors import ConfigError
from linkwatch.model import CheckResult, ErrorKind, State
from linkwatch.notify.events import find_events
from linkwatch.notify.kinds import NotifyEvent
from linkwatch.redact import redact
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.rules import Rule, RuleSet, TreatAs
from linkwatch.scan import scan
from linkwatch.store import CheckRecord, Store
from linkwatch.store.archive import ChosenSnapshot
from linkwatch.store.writer import AsyncStore
from support.fake_wayback import FakeWayback, Serve, write_project
from support.hostile_web import HostileWeb, NameResolver
from support.releases import checked_alive, write_release

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

BASE_CONFIG = (
    '[sources]\npaths = ["releases/*.md"]\n\n'
    '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "2s"\n'
)


def load(tmp_path: Path, rules: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(BASE_CONFIG + "\n" + rules, encoding="utf-8")
    return load_settings(path)


def load_error(tmp_path: Path, rules: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, rules)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- loading


def test_rules_load_in_file_order_with_their_lines(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        '[[rules]]\nhost = "Example.ORG."\nsubdomains = true\naccept = [403, 429]\n\n'
        '[[rules]]\nurl = "https://intranet.example/*"\nexclude = true\n'
        'per_host = 1\nhost_delay = "5s"\ntimeout = "30s"\narchive = false\n'
        'treat_as = "blocked"\n',
    )
    first, second = settings.rules.rules
    assert (first.number, first.host, first.subdomains, first.accept) == (
        1, "example.org", True, frozenset({403, 429})
    )  # fmt: skip
    assert first.line == 9
    assert (second.url, second.exclude, second.per_host, second.archive) == (
        "https://intranet.example/*", True, 1, False
    )  # fmt: skip
    assert second.host_delay == dt.timedelta(seconds=5)
    assert second.timeout == dt.timedelta(seconds=30)
    assert second.treat_as is TreatAs.BLOCKED
    assert second.line == 14


def test_no_rules_is_an_empty_rule_set(tmp_path: Path) -> None:
    assert not load(tmp_path, "").rules


BAD_RULES = [
    (
        '[[rule]]\nhost = "a.test"\nexclude = true\n',
        ":9: unknown table 'rule' (did you mean rules?)",
    ),
    (
        '[[rules]]\nhost = "a.test"\naccept = [403, 1000]\n',
        ":11: rules[1].accept: expected",
    ),
    (
        '[[rules]]\nhost = "a.test"\ntreat_as = "dead"\n',
        ':11: rules[1].treat_as: expected one of "alive", "blocked", got \'dead\'',
    ),
    (
        '[[rules]]\nhost = "a.test"\nexclude = "yes"\n',
        ":11: rules[1].exclude: expected true or false",
    ),
    (
        '[[rules]]\nhost = "https://a.test/"\nexclude = true\n',
        ":10: rules[1].host: expected a host name",
    ),
    (
        '[[rules]]\nhost = "a.test"\nexclude = true\n\n[[rules]]\nhost = "b.test"\nper_host = 0\n',
        ":15: rules[2].per_host: expected an integer >= 1",
    ),
    (
        '[[rules]]\nhost = "a.test"\nhost_delay = "soon"\n',
        ":11: rules[1].host_delay: expected a duration",
    ),
    (
        '[[rules]]\nhost = "a.test"\nexclud = true\n',
        ":11: unknown key 'rules[1].exclud' (did you mean exclude?)",
    ),
    (
        "[[rules]]\nexclude = true\n",
        ":9: rules[1]: give one of host or url",
    ),
    (
        '[[rules]]\nhost = "a.test"\nurl = "https://a.test/*"\nexclude = true\n',
        ":9: rules[1]: give one of host or url",
    ),
    (
        '[[rules]]\nurl = "https://a.test/*"\nsubdomains = true\n',
        ":11: rules[1].subdomains: only goes with host",
    ),
    (
        '[[rules]]\nhost = "a.test"\n',
        ":9: rules[1]: says nothing to do",
    ),
    (
        '[[rules]]\nurl = "a.test/*"\nexclude = true\n',
        ":10: rules[1].url: expected an http(s) URL glob",
    ),
    (
        '[rules]\nhost = "a.test"\n',
        ":9: rules: expected [[rules]] tables, got a table",
    ),
    (
        '[[rules]]\nhost = "a.test"\nheaders = { Host = "x" }\n',
        ":11: rules[1].headers: expected a header name",
    ),
]


@pytest.mark.parametrize(("rules", "expected"), BAD_RULES)
def test_a_bad_rule_is_one_line_naming_file_line_and_key(
    tmp_path: Path, rules: str, expected: str
) -> None:
    message = load_error(tmp_path, rules)
    assert message.startswith(str(tmp_path / "config.toml"))
    assert expected in message, message


def test_header_values_come_from_the_environment_and_are_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKWATCH_PARTNER_COOKIE", "session=s3cr3t-partner")
    settings = load(
        tmp_path,
        '[[rules]]\nhost = "partner.test"\n'
        'headers = { Cookie = "${LINKWATCH_PARTNER_COOKIE}", X-Partner = "yes" }\n',
    )
    [rule] = settings.rules.rules
    assert dict(rule.headers) == {"Cookie": "session=s3cr3t-partner", "X-Partner": "yes"}
    assert "s3cr3t" not in repr(rule) and "s3cr3t" not in rule.describe()
    assert redact("sent session=s3cr3t-partner") == "sent ***"


def test_a_missing_header_variable_names_it_without_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LINKWATCH_PARTNER_COOKIE", raising=False)
    message = load_error(
        tmp_path,
        '[[rules]]\nhost = "partner.test"\nheaders = { Cookie = "${LINKWATCH_PARTNER_COOKIE}" }\n',
    )
    assert ":11: rules[1].headers.Cookie: expected the environment variable" in message
    assert "LINKWATCH_PARTNER_COOKIE to be set" in message


# --------------------------------------------------------------------------- matching


def test_a_host_rule_matches_its_host_and_subdomains_only_when_asked() -> None:
    exact = Rule(1, host="example.org", exclude=True)
    wide = Rule(2, host="example.org", subdomains=True, exclude=True)
    assert exact.matches("https://EXAMPLE.org./a") and wide.matches("https://example.org/a")
    assert not exact.matches("https://www.example.org/a")
    assert wide.matches("https://news.www.example.org/a")
    assert not wide.matches("https://notexample.org/a")
    assert not wide.matches("https://example.org.evil.test/a")


def test_a_url_rule_is_a_glob_over_the_whole_url() -> None:
    rule = Rule(1, url="https://intranet.example/*", exclude=True)
    assert rule.matches("https://intranet.example/a/b/c?x=1")
    assert not rule.matches("http://intranet.example/a")
    assert not rule.matches("https://intranet.example.org/a")


def test_every_matching_rule_applies_and_the_first_to_set_a_key_wins() -> None:
    rules = RuleSet(
        (
            Rule(1, url="https://example.org/private/*", exclude=True, headers=(("Cookie", "a"),)),
            Rule(2, host="example.org", accept=frozenset({403}), exclude=False, archive=False),
            Rule(3, host="example.org", headers=(("cookie", "b"), ("X-Key", "k"))),
        )
    )
    private = rules.for_url("https://example.org/private/page")
    assert private.exclude and private.accept == {403} and not private.archive
    assert private.headers == {"Cookie": "a", "X-Key": "k"}
    public = rules.for_url("https://example.org/news")
    assert not public.exclude and public.headers == {"cookie": "b", "X-Key": "k"}
    assert [r.number for r in public.rules] == [2, 3]
    assert not rules.for_url("https://other.test/").rules


def test_rules_matching_no_url_are_named() -> None:
    rules = RuleSet((Rule(1, host="a.test", exclude=True), Rule(2, host="typo.test", exclude=True)))
    assert [r.number for r in rules.unmatched(["http://a.test/x", "http://b.test/"])] == [2]
    [warning] = rules.unmatched_warnings(["http://a.test/x"])
    assert warning == "rule 2 (host typo.test): exclude = true: matches no cited URL"


# --------------------------------------------------------------------------- check


def project(tmp_path: Path, urls: list[str], rules: str) -> Settings:
    """A release citing `urls`, scanned into a fresh store, with these [[rules]]."""
    write_release(tmp_path, urls)
    settings = load(tmp_path, rules)
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
    return settings


async def run_check(settings: Settings) -> CheckRunSummary:
    with AsyncStore.open(settings.state.dir) as db:
        return await check_urls(
            settings, db, db.read.urls_to_check(), resolver=NameResolver(), now=lambda: START
        )


def states(settings: Settings) -> dict[str, str]:
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    return {c.url: c.state for c in release.citations}


async def test_an_excluded_url_gets_no_request_at_all(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    kept = hostile_web.url("plain.test", "/page")
    excluded = hostile_web.url("partner.test", "/page")
    rules = '[[rules]]\nhost = "partner.test"\nexclude = true\n'
    settings = project(tmp_path, [kept, excluded], rules)
    summary = await run_check(settings)
    assert summary.checked == 1 and summary.excluded == 1
    assert hostile_web.requests_to("partner.test") == []
    assert hostile_web.requests_to("plain.test", "/page")
    assert states(settings) == {kept: "alive", excluded: "unchecked"}


async def test_accepted_403_is_alive_for_that_site_only(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    partner = hostile_web.url("partner.test", "/forbidden")
    bot = hostile_web.url("bot.test", "/forbidden")
    rules = '[[rules]]\nhost = "partner.test"\naccept = [403]\n'
    settings = project(tmp_path, [partner, bot], rules)
    await run_check(settings)
    assert states(settings) == {partner: "alive", bot: "blocked"}


async def test_headers_reach_only_the_matched_host_not_a_redirect_elsewhere(
    tmp_path: Path, hostile_web: HostileWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKWATCH_PARTNER_COOKIE", "partner=s3cr3t")
    page, away = hostile_web.url("partner.test", "/page"), hostile_web.url("partner.test", "/away")
    other = hostile_web.url("plain.test", "/gone")
    settings = project(
        tmp_path,
        [page, away, other],
        '[[rules]]\nhost = "partner.test"\n'
        'headers = { Cookie = "${LINKWATCH_PARTNER_COOKIE}", X-Partner = "yes" }\n',
    )
    await run_check(settings)
    to_partner = hostile_web.requests_to("partner.test")
    assert to_partner and all(
        ("Cookie", "partner=s3cr3t") in seen.headers and ("X-Partner", "yes") in seen.headers
        for seen in to_partner
    )
    elsewhere = hostile_web.requests_to("plain.test")
    assert {seen.path for seen in elsewhere} >= {"/page", "/gone"}  # /away led to plain.test
    for seen in elsewhere:
        names = {name.lower() for name, _ in seen.headers}
        values = " ".join(value for _, value in seen.headers)
        assert "x-partner" not in names and "s3cr3t" not in values
    with Store.open(settings.state.dir) as store:
        assert b"s3cr3t" not in (settings.state.database).read_bytes()
        assert store.url_status(away) is not None


async def test_treat_as_shows_a_state_whatever_the_checks_say_and_a_pin_still_wins(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    gone = hostile_web.url("partner.test", "/gone")
    page = hostile_web.url("partner.test", "/page")
    rules = '[[rules]]\nhost = "partner.test"\ntreat_as = "alive"\n'
    settings = project(tmp_path, [gone, page], rules)
    summary = await run_check(settings)
    assert summary.states == {"alive": 2}
    with Store.open(settings.state.dir) as store:
        status = store.url_status(gone)
        assert status is not None and status.state == "transient"  # the evidence is kept


async def test_a_rule_per_host_and_delay_set_the_site_s_politeness(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    urls = [hostile_web.url("partner.test", f"/p{n}") for n in range(3)]
    urls += [hostile_web.url("plain.test", f"/q{n}") for n in range(3)]
    settings = project(
        tmp_path, urls, '[[rules]]\nhost = "partner.test"\nper_host = 1\nhost_delay = "150ms"\n'
    )
    await run_check(settings)
    partner = sorted(seen.at for seen in hostile_web.requests_to("partner.test"))
    assert len(partner) >= 3 and hostile_web.peak_in_flight["partner.test"] == 1
    assert min(b - a for a, b in itertools.pairwise(partner)) >= 0.14
    assert hostile_web.peak_in_flight["plain.test"] >= 1


# --------------------------------------------------------------------------- archive


def archive_project(tmp_path: Path, base: str, urls: list[str], rules: str) -> Settings:
    """A scanned release citing `urls`, all judged alive, archived at the fake `base`."""
    settings = load_settings(write_project(tmp_path, base, urls, extra="\n" + rules))
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        checked_alive(store, urls, START)
    return settings


async def run_archive(settings: Settings) -> ArchiveRunSummary:
    with AsyncStore.open(settings.state.dir) as db:
        return await archive_run(settings, db, environ={})


PAGE = "http://news.example/2016/04/story"
SHY = "http://shy.example/page"


async def test_archive_false_means_no_save_request_reaches_the_archive(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    fake.add_capture(SHY, "20160301090000")  # made before the site asked: still used
    base = await serve(fake)
    rules = '[[rules]]\nhost = "shy.example"\narchive = false\n'
    settings = archive_project(tmp_path, base, [PAGE, SHY], rules)
    summary = await run_archive(settings)
    assert summary.not_by_rule == 1 and summary.saved == 1
    assert fake.saves_of(PAGE) == 1 and fake.saves_of(SHY) == 0
    assert [r.url for r in fake.save_requests] == [PAGE]
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    chosen = {c.url: c.archive_url for c in release.citations}
    assert chosen[SHY] == f"{base}/web/20160301090000/{SHY}"


async def test_an_excluded_url_is_neither_looked_up_nor_saved_nor_given_a_snapshot(
    tmp_path: Path, serve: Serve
) -> None:
    fake = FakeWayback()
    fake.add_capture(SHY, "20160301090000")
    base = await serve(fake)
    settings = archive_project(
        tmp_path, base, [PAGE, SHY], '[[rules]]\nurl = "http://shy.example/*"\nexclude = true\n'
    )
    summary = await run_archive(settings)
    assert summary.looked_up == 1 and fake.saves_of(SHY) == 0
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    assert {c.url: c.archive_url for c in release.citations}[SHY] is None


async def test_a_save_queued_before_the_rule_is_dropped(tmp_path: Path, serve: Serve) -> None:
    fake = FakeWayback()
    base = await serve(fake)
    settings = archive_project(tmp_path, base, [SHY], "")
    with AsyncStore.open(settings.state.dir) as db:  # queue it, save nothing yet
        await archive_run(settings, db, environ={}, until=START)
    path = tmp_path / "config.toml"
    path.write_text(
        path.read_text() + '\n[[rules]]\nhost = "shy.example"\narchive = false\n', encoding="utf-8"
    )
    summary = await run_archive(load_settings(path))
    assert summary.dropped == 1 and fake.saves_of(SHY) == 0


# --------------------------------------------------------------------------- rewrite

SEED_KEY = "releases/2016-04-07-juncker-kazakhstan.md"
APRIL_6 = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
DEAD_LABELS = {"1", "4", "9", "12"}


def seeded(project: Path, rules: str) -> tuple[Settings, Store]:
    """The seed release scanned, footnotes 1, 4, 9 and 12 found dead and given snapshots."""
    config = project / "config.toml"
    config.write_text(config.read_text() + "\n" + rules, encoding="utf-8")
    settings = load_settings(config)
    store = Store.open(settings.state.dir)
    scan(settings, store)
    [release] = store.releases_with_citations()
    records = []
    for citation in release.citations:
        if citation.label not in DEAD_LABELS:
            continue
        status = store.url_status(citation.url_key)
        assert status is not None
        result = CheckResult(url=citation.url_key, checked_at=START, status=404)
        verdict = Verdict(State.DEAD, Streak(), "dead in the test")
        records.append(CheckRecord(status.id, result, verdict, START + dt.timedelta(days=7)))
        archive_url = f"https://web.archive.org/web/{APRIL_6:%Y%m%d%H%M%S}/{citation.url}"
        snapshot = ChosenSnapshot(archive_url, APRIL_6, 200)
        store.set_chosen_snapshot(SEED_KEY, citation.url_key, snapshot, APRIL_6)
    store.record_checks(records)
    return settings, store


def changed_lines(before: bytes, after: bytes) -> list[bytes]:
    pairs = zip(before.split(b"\n"), after.split(b"\n"), strict=True)
    return [old for old, new in pairs if old != new]


def test_rewrite_does_not_touch_excluded_citations_nor_those_treated_as_alive(
    project: Path,
) -> None:
    settings, store = seeded(
        project,
        '[[rules]]\nhost = "euobserver.com"\nexclude = true\n\n'
        '[[rules]]\nurl = "http://en.odfoundation.eu/a/7228*"\ntreat_as = "alive"\n',
    )
    release = project / SEED_KEY
    before = release.read_bytes()
    with store:
        summary = rewrite_releases(settings, store)
    changed = changed_lines(before, release.read_bytes())
    assert summary.added == 2 and summary.excluded == 1
    assert len(changed) == 2
    assert all(b"ec.europa.eu" in line or b"europarl" in line for line in changed)


def test_a_pin_wins_over_treat_as_in_a_rewrite(project: Path) -> None:
    settings, store = seeded(project, '[[rules]]\nhost = "euobserver.com"\ntreat_as = "alive"\n')
    with store:
        status = store.url_status("https://euobserver.com/foreign/132858")
        assert status is not None
        store.set_pin(status.id, State.DEAD)
        summary = rewrite_releases(settings, store)
    assert summary.added == len(DEAD_LABELS)


# --------------------------------------------------------------------------- report


def report_cli(settings: Settings, *args: str) -> Result:
    assert settings.config_path is not None
    return CliRunner().invoke(main, ["--config", str(settings.config_path), "report", *args])


async def test_report_by_host_shows_each_rule_with_the_citations_it_affects(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    excluded = hostile_web.url("partner.test", "/page")
    gone = hostile_web.url("plain.test", "/gone")
    page = hostile_web.url("plain.test", "/page")
    settings = project(
        tmp_path,
        [excluded, gone, page],
        '[[rules]]\nhost = "partner.test"\nexclude = true\n\n'
        f'[[rules]]\nurl = "{gone}"\ntreat_as = "blocked"\n\n'
        '[[rules]]\nhost = "typo.test"\naccept = [403]\n',
    )
    await run_check(settings)
    table = report_cli(settings, "--by", "host")
    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert "rule 1 (host partner.test): exclude = true (line 9): 1 citation of 1 URL" in text
    assert f"releases/r.md [1] excluded {excluded}" in text
    assert f'rule 2 (url {gone}): treat_as = "blocked" (line 13): 1 citation' in text
    assert f"releases/r.md [2] blocked {gone}" in text
    assert "rule 3 (host typo.test): accept = [403] (line 17): matches no cited URL" in text
    assert "warning:" in table.output and "matches no cited URL" in table.output

    as_json = report_cli(settings, "--by", "host", "--format", "json")
    data = json.loads(as_json.stdout)
    [first, second, third] = data["rules"]
    assert (first["host"], first["settings"], first["urls"]) == (
        "partner.test", ["exclude = true"], 1
    )  # fmt: skip
    assert first["citations"] == [
        {"release": "releases/r.md", "label": "1", "url": excluded, "state": "unchecked",
         "excluded": True}
    ]  # fmt: skip
    assert second["citations"][0]["state"] == "blocked" and third["citations"] == []
    hosts = {h["host"]: h["states"] for h in data["hosts"]}
    assert hosts["plain.test"]["blocked"] == 1 and hosts["plain.test"]["alive"] == 1

    by_release = json.loads(report_cli(settings, "--format", "json").stdout)
    citations = {c["url"]: c for c in by_release["releases"][0]["citations"]}
    assert citations[excluded]["excluded"] and not citations[page]["excluded"]
    assert (
        citations[gone]["state"] == "blocked" and citations[gone]["evidence_state"] == "transient"
    )
    assert "rules" not in by_release  # the release view carries citations only


def test_a_header_value_never_shows_in_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKWATCH_PARTNER_COOKIE", "partner=s3cr3t")
    settings = project(
        tmp_path,
        ["http://partner.test/page"],
        '[[rules]]\nhost = "partner.test"\nheaders = { Cookie = "${LINKWATCH_PARTNER_COOKIE}" }\n',
    )
    for args in (("--by", "host"), ("--by", "host", "--format", "json")):
        result = report_cli(settings, *args)
        assert result.exit_code == 0 and "Cookie" in result.output
        assert "s3cr3t" not in result.output


# --------------------------------------------------------------------------- notify


def test_nothing_is_told_of_a_url_a_rule_excludes_or_treats_as_alive_unless_pinned(
    project: Path,
) -> None:
    settings, store = seeded(
        project,
        '[[rules]]\nhost = "euobserver.com"\nexclude = true\n\n'
        '[[rules]]\nhost = "ec.europa.eu"\ntreat_as = "alive"\n',
    )
    with store:
        told = {e.subject for e in find_events(store, {NotifyEvent.DEAD}, settings.rules)}
        assert {url.split("/")[2] for url in told} == {
            "en.odfoundation.eu",
            "www.europarl.europa.eu",
        }
        status = store.url_status("http://ec.europa.eu/avservices/video/player.cfm?ref=I118702")
        assert status is not None
        store.set_pin(status.id, State.DEAD)  # a person's word wins over the rule
        told = {e.subject for e in find_events(store, {NotifyEvent.DEAD}, settings.rules)}
        assert "http://ec.europa.eu/avservices/video/player.cfm?ref=I118702" in told
        assert len(told) == 3


async def test_a_rule_timeout_replaces_the_checker_s_for_its_urls(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    slow, page = hostile_web.url("plain.test", "/slow"), hostile_web.url("plain.test", "/page")
    rules = '[[rules]]\nurl = "http://plain.test:*/slow"\ntimeout = "20ms"\n'
    settings = project(tmp_path, [slow, page], rules)  # /slow answers in 100ms
    results: dict[str, CheckResult] = {}
    with AsyncStore.open(settings.state.dir) as db:
        await check_urls(
            settings,
            db,
            db.read.urls_to_check(),
            resolver=NameResolver(),
            now=lambda: START,
            on_result=lambda target, result: results.__setitem__(target.key, result),
        )
    assert results[slow].error is ErrorKind.TIMEOUT
    assert results[page].status == 200  # same host, not matched: the checker's timeout


async def test_a_redirect_to_an_excluded_url_is_not_followed(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    away = hostile_web.url("partner.test", "/away")  # a redirect to plain.test/page
    settings = project(tmp_path, [away], '[[rules]]\nhost = "plain.test"\nexclude = true\n')
    results: list[CheckResult] = []
    with AsyncStore.open(settings.state.dir) as db:
        await check_urls(
            settings,
            db,
            db.read.urls_to_check(),
            resolver=NameResolver(),
            now=lambda: START,
            on_result=lambda target, result: results.append(result),
        )
    [result] = results
    assert result.error is ErrorKind.EXCLUDED and [h.status for h in result.hops] == [302]
    assert hostile_web.requests_to("plain.test") == []
    assert states(settings) == {away: "transient"}  # inconclusive: never counts toward dead
