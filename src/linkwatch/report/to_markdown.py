"""The Markdown report: tables a person can paste into an issue or a wiki page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from linkwatch.model import State

if TYPE_CHECKING:
    pass
from linkwatch.paths import shown
from linkwatch.report.rows import (
    CitationLine,
    Filters,
    ReleaseSection,
    Report,
    View,
    day,
    summary_sentence,
)
from linkwatch.report.states import ROTTEN
from linkwatch.report.words import drift_words, filters_text, percent, shorten, when
from linkwatch.text import plural, printable

MD_LINK_TEXT = 72  # characters of a URL shown as link text; the link itself is always whole

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~&"})


def _md_text(text: str) -> str:
    """Literal text in Markdown: specials escaped, whitespace runs (line breaks too) one space."""
    return " ".join(printable(text).split()).translate(_MD_SPECIAL)


def _md_link(text: str, url: str) -> str:
    """A link whose destination survives any URL: <...> form, brackets and spaces encoded."""
    target = quote(url, safe="".join(chr(c) for c in range(33, 127) if chr(c) not in "<>\\|"))
    return f"[{_md_text(text)}](<{target}>)"


def _md_code(text: str) -> str:
    """A path as code; a backtick inside would end the span, so it becomes a quote."""
    return "`" + printable(text).replace("`", "'").replace("|", "\\|") + "`"


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell or " " for cell in cells) + " |"


def _md_state(line: CitationLine) -> str:
    state = line.shown_state
    text = f"**{state}**" if state in ROTTEN else state
    if line.pinned:
        text += f" (pinned; checks say {line.evidence})"
    if line.previous_state is not None:
        text = f"{line.previous_state} → {text}"
    if line.drifted:
        text += f" · **drifted**: {drift_words(line.drift_similarity)}"
    return text


def _md_archive(line: CitationLine) -> str:
    if line.archive_url is None:
        return "—"
    text = _md_link(day(line.archive_timestamp) or "archived copy", line.archive_url)
    if line.other_archive is not None:
        text += f" ({_md_text(line.other_archive)})"
    if line.points_at_archive:
        text += " (in the footnote)"
    return text


def render_markdown(report: Report) -> str:
    parts = [
        "# linkwatch report",
        "",
        f"Generated {when(report.generated_at)}. {_md_text(summary_sentence(report.summary))}.",
        "",
    ]
    if report.filters != Filters():
        parts += [f"Filters: {_md_text(filters_text(report.filters))}.", ""]
    if report.empty_message is not None and report.view is View.RELEASE:
        parts += [f"_{report.empty_message}_", ""]  # our own words: its `code` stays code
    if report.view is View.HOST:
        parts += _md_hosts(report)
    elif report.view is View.URL:
        parts += _md_urls(report)
    else:
        for release in report.releases:
            parts += _md_release(release)
    return "\n".join(parts).rstrip("\n") + "\n"


def _md_release(release: ReleaseSection) -> list[str]:
    path = shown(release.path)
    lines = [f"## {_md_text(printable(release.title or path))}", ""]
    facts = [_md_code(path)]
    if release.published:
        facts.append(f"published {release.published}")
    lines += [" · ".join(facts), ""]
    if release.apply_by_hand is not None:
        lines += [_md_by_hand(release), ""]
    if not release.citations:
        return [*lines, "_No citations found._", ""]
    changes = any(line.previous_state is not None for line in release.citations)
    lines += [
        _md_row(["#", "state", "changed" if changes else "since", "URL", "archived copy"]),
        _md_row(["---"] * 5),
    ]
    for line in release.citations:
        when = line.changed_at if changes else line.state_since
        lines.append(
            _md_row(
                [
                    _md_text(line.label or ""),
                    _md_state(line),
                    day(when),
                    _md_link(shorten(line.url, MD_LINK_TEXT), line.url),
                    _md_archive(line),
                ]
            )
        )
    return [*lines, ""]


def _md_by_hand(release: ReleaseSection) -> str:
    waiting = release.apply_by_hand
    assert waiting is not None
    return (
        f"**Needs a person:** this web page's edit ({plural(waiting.citations, 'footnote')} "
        f"pointed at archived copies) is written to {_md_code(waiting.output)} "
        f"({day(waiting.at)}) and waits to be applied in the site's CMS."
    )


def _md_urls(report: Report) -> list[str]:
    if not report.urls:
        return [f"_{report.empty_message or 'No URLs.'}_", ""]
    lines = [
        _md_row(["state", "since", "URL", "cited by", "archived copy"]),
        _md_row(["---"] * 5),
    ]
    for url in report.urls:
        cited = ", ".join(_md_code(path) for path in url.releases)
        lines.append(
            _md_row(
                [
                    _md_state(url.first),
                    day(url.first.state_since),
                    _md_link(shorten(url.url, MD_LINK_TEXT), url.url),
                    cited,
                    _md_archive(url.first),
                ]
            )
        )
    return [*lines, ""]


def _md_hosts(report: Report) -> list[str]:
    if not report.hosts:
        return [f"_{report.empty_message or 'No hosts.'}_", ""]
    lines = [
        _md_row(["host", "URLs", "citations", "dead", "usurped", "soft404", "rotten share"]),
        _md_row(["---", "---:", "---:", "---:", "---:", "---:", "---:"]),
    ]
    for host in report.hosts:
        lines.append(
            _md_row(
                [
                    _md_text(host.host),
                    str(host.urls),
                    str(host.citations),
                    str(host.states.get(State.DEAD, 0)),
                    str(host.states.get(State.USURPED, 0)),
                    str(host.states.get(State.SOFT404, 0)),
                    percent(host.rot_rate),
                ]
            )
        )
    return [*lines, "", *_md_rules(report)]


def _md_rules(report: Report) -> list[str]:
    """Each [[rules]] table with the citations it applies to."""
    if not report.rules:
        return []
    lines = ["### Rules", ""]
    for line in report.rules:
        lines.append(f"- {_md_text(line.rule.describe())}")
        if not line.citations:
            lines.append("  - _matches no cited URL_")
        for path, citation in line.citations:
            label = f" [{citation.label}]" if citation.label else ""
            lines.append(
                f"  - {_md_text(path + label)}: {citation.shown_state} {_md_text(citation.url)}"
            )
    return [*lines, ""]
