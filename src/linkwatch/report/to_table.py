"""The terminal report: rich tables, a colour per state, long URLs folded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from linkwatch.model import State

if TYPE_CHECKING:
    pass
from linkwatch.paths import shown
from linkwatch.report.rows import CitationLine, ReleaseSection, Report, View, day
from linkwatch.report.states import ROTTEN, STATE_ORDER, STATE_STYLES
from linkwatch.report.words import DRIFT_MARK, drift_words, percent, shorten
from linkwatch.text import plural, printable


def _state_text(line: CitationLine) -> Text:
    text = Text()
    if line.previous_state is not None:
        text.append(line.previous_state, style=STATE_STYLES.get(line.previous_state, ""))
        text.append("→")
    text.append(line.shown_state, style=STATE_STYLES.get(line.state, ""))
    if line.pinned:
        text.append("*", style="bold")
    if line.drifted:
        text.append(DRIFT_MARK, style="bold yellow")
    return text


def _archive_text(line: CitationLine) -> Text:
    if line.points_at_archive:
        return Text("linked", style="green")
    if line.archive_url:
        return Text("yes", style="green")
    if line.captures:
        return Text("found")
    return Text("no", style="red" if line.state in ROTTEN else "dim")


def render_table(report: Report) -> RenderableType:
    """Tables sized for an 80-column terminal: URLs fold onto more lines, never cut."""
    parts: list[RenderableType] = []
    if report.view is View.HOST:
        parts.append(_host_table(report))
        parts += _rules_text(report)
    elif report.view is View.URL:
        parts.append(_url_table(report))
    else:
        for release in report.releases:
            parts += _release_table(release)
    if report.empty_message is not None:
        parts.append(Text(report.empty_message, style="dim"))
    parts.append(_summary_text(report))
    if any(line.pinned for line in report.citations()):
        parts.append(Text("* pinned by a person: `linkwatch mark URL --unpin` undoes it", "dim"))
    if any(line.drifted for line in report.citations()):
        parts.append(
            Text(f"{DRIFT_MARK} drifted: the page {drift_words(None)} (content drift)", "dim")
        )
    return Group(*parts)


def _summary_text(report: Report) -> Text:
    summary = report.summary
    text = Text(f"{plural(summary.citations, 'citation')} in {plural(summary.releases, 'release')}")
    counted = [(state, summary.states.get(state, 0)) for state in STATE_ORDER]
    counted = [(state, count) for state, count in counted if count]
    if counted:
        text.append(": ")
    for index, (state, count) in enumerate(counted):
        text.append(f"{count} {state}", style=STATE_STYLES.get(state, ""))
        if index < len(counted) - 1:
            text.append(", ")
    if summary.citations:
        text.append(f"; {summary.archived} archived")
    if summary.rotten_without_archive:
        text.append(f", {summary.rotten_without_archive} rotten without a copy", style="red")
    if summary.drifted:
        text.append(f"; {summary.drifted} drifted", style="bold yellow")
    return text


def _new_table(*columns: tuple[str, dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, expand=False, header_style="bold")
    for name, options in columns:
        table.add_column(name, **options)
    return table


def plain(text: str) -> str:
    """Text from releases and the web, as a terminal shows it: no escape sequences, no
    control characters. Cells are `Text`, never markup, so `[bold]` in a URL stays text."""
    return printable(text)


def _release_table(release: ReleaseSection) -> list[RenderableType]:
    heading = Text(plain(shown(release.path)), style="bold")
    if release.published:
        heading.append(f"  {release.published}", style="dim")
    parts: list[RenderableType] = [heading]
    if release.title:
        parts.append(Text(shorten(plain(release.title), 78), style="italic"))
    waiting = release.apply_by_hand
    if waiting is not None:
        note = Text("needs a person: ", style="bold yellow")
        note.append(
            f"edited page ({plural(waiting.citations, 'footnote')}) written to "
            f"{plain(waiting.output)} on {day(waiting.at)}, to apply in the site's CMS"
        )
        parts.append(note)
    if not release.citations:
        return [*parts, Text("  no citations found", style="dim"), Text("")]
    changes = any(line.previous_state is not None for line in release.citations)
    table = _new_table(
        ("#", {"justify": "right", "no_wrap": True}),
        ("state", {"no_wrap": True}),
        ("changed" if changes else "since", {"no_wrap": True}),
        ("url", {"overflow": "fold"}),
        ("archive", {"no_wrap": True}),
    )
    for line in release.citations:
        table.add_row(
            Text(plain(line.label or "")),
            _state_text(line),
            day(line.changed_at if changes else line.state_since),
            _url_text(line),
            _archive_text(line),
        )
    return [*parts, table, Text("")]


def _url_text(line: CitationLine) -> Text:
    """The URL checked; one written `//host/path` says that `https:` was assumed."""
    text = Text(plain(line.url))
    if line.scheme_assumed:
        text.append(" (https: assumed)", style="dim")
    return text


def _url_table(report: Report) -> Table:
    table = _new_table(
        ("state", {"no_wrap": True}),
        ("since", {"no_wrap": True}),
        ("cites", {"justify": "right", "no_wrap": True}),
        ("url", {"overflow": "fold"}),
        ("archive", {"no_wrap": True}),
    )
    for url in report.urls:
        when = url.first.changed_at or url.first.state_since
        table.add_row(
            _state_text(url.first),
            day(when),
            str(url.citations),
            Text(plain(url.url)),
            _archive_text(url.first),
        )
    return table


def _host_table(report: Report) -> Table:
    table = _new_table(
        ("host", {"overflow": "fold"}),
        ("urls", {"justify": "right"}),
        ("dead", {"justify": "right", "style": STATE_STYLES[State.DEAD]}),
        ("usurped", {"justify": "right", "style": STATE_STYLES[State.USURPED]}),
        ("soft404", {"justify": "right", "style": STATE_STYLES[State.SOFT404]}),
        ("ok", {"justify": "right", "style": STATE_STYLES[State.ALIVE]}),
        ("rotten", {"justify": "right", "no_wrap": True}),
    )
    for host in report.hosts:
        ok = sum(host.states.get(s, 0) for s in (State.ALIVE, State.MOVED, State.BLOCKED))
        table.add_row(
            Text(plain(host.host)),
            str(host.urls),
            str(host.states.get(State.DEAD, 0)),
            str(host.states.get(State.USURPED, 0)),
            str(host.states.get(State.SOFT404, 0)),
            str(ok),
            _bar(host.rot_rate),
        )
    return table


RULE_CITATIONS_SHOWN = 10  # per rule in the terminal; the JSON report lists them all


def _rules_text(report: Report) -> list[RenderableType]:
    """Each [[rules]] table: what it says, then the citations it applies to."""
    parts: list[RenderableType] = []
    for line in report.rules:
        text = Text("\n")
        text.append(plain(line.rule.describe()), style="bold")
        where = f" (line {line.rule.line})" if line.rule.line else ""
        if not line.citations:
            text.append(f"{where}: matches no cited URL", style="yellow")
            parts.append(text)
            continue
        text.append(f"{where}: {plural(len(line.citations), 'citation')}")
        text.append(f" of {plural(line.urls, 'URL')}")
        for path, citation in line.citations[:RULE_CITATIONS_SHOWN]:
            label = f" [{citation.label}]" if citation.label else ""
            text.append(f"\n  {plain(shown(path))}{plain(label)} ")
            text.append(citation.shown_state, style=STATE_STYLES.get(citation.state, ""))
            text.append(f" {plain(citation.url)}")
        if len(line.citations) > RULE_CITATIONS_SHOWN:
            more = len(line.citations) - RULE_CITATIONS_SHOWN
            text.append(f"\n  and {more} more (--format json lists them all)", style="dim")
        parts.append(text)
    return parts


def _bar(rate: float | None, width: int = 10) -> Text:
    if rate is None:
        return Text("unchecked", style="dim")
    filled = round(rate * width)
    text = Text("█" * filled, style="red")
    text.append("░" * (width - filled), style="dim")
    text.append(f" {percent(rate):>4}")
    return text
