"""The CSV report: one header row, then one row per citation, URL or host (RFC 4180)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
from linkwatch.model import State
from linkwatch.paths import shown
from linkwatch.report.rows import Report, View
from linkwatch.report.states import STATE_ORDER
from linkwatch.report.to_json import citation_dict, host_dict, url_dict

RELEASE_COLUMNS = (
    "release",
    "title",
    "published",
    "label",
    "url",
    "host",
    "state",
    "state_since",
    "evidence_state",
    "http_status",
    "final_url",
    "last_checked",
    "pinned",
    "invalid",
    "archive_url",
    "archive_timestamp",
    "points_at_archive",
    "previous_state",
    "changed_at",
    "drifted",
    "drift_similarity",
    "apply_by_hand",  # a web page's edit waiting for a person: the file holding it
    "excluded",
)

URL_COLUMNS = (
    "url",
    "host",
    "state",
    "state_since",
    "evidence_state",
    "http_status",
    "final_url",
    "last_checked",
    "pinned",
    "invalid",
    "archive_url",
    "archive_timestamp",
    "previous_state",
    "changed_at",
    "citations",
    "releases",
    "drifted",
    "drift_similarity",
    "excluded",
)

# States in the order the host CSV first had them; a state added later (usurped) goes at
# the end of the row, so that a spreadsheet or script reading columns by position still
# finds each where it was.
HOST_STATES = (
    *(state for state in STATE_ORDER if state != State.USURPED),
    State.USURPED.value,
)
HOST_COLUMNS = ("host", "urls", "citations", "rotten", "rot_rate", *HOST_STATES)


# OWASP's rule against CSV injection: a cell a spreadsheet would take for a formula
# (it starts with one of these) is written with a leading apostrophe, which the
# spreadsheet shows as text and does not run.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: Report) -> str:
    """One header row, then one row per citation, URL or host (RFC 4180, CRLF)."""
    out = io.StringIO()
    writer = csv.writer(out)
    if report.view is View.HOST:
        writer.writerow(HOST_COLUMNS)
        for host in report.hosts:
            row = host_dict(host)
            writer.writerow(
                [_cell(row[c]) for c in HOST_COLUMNS[:5]]
                + [str(row["states"][s]) for s in HOST_STATES]
            )
    elif report.view is View.URL:
        writer.writerow(URL_COLUMNS)
        for url in report.urls:
            row = url_dict(url)
            row["releases"] = " ".join(url.releases)
            writer.writerow([_cell(row[c]) for c in URL_COLUMNS])
    else:
        writer.writerow(RELEASE_COLUMNS)
        for release in report.releases:
            waiting = release.apply_by_hand
            for line in release.citations:
                row = citation_dict(line) | {
                    "release": shown(release.path),
                    "title": release.title,
                    "published": release.published,
                    "apply_by_hand": None if waiting is None else waiting.output,
                }
                writer.writerow([_cell(row[c]) for c in RELEASE_COLUMNS])
    return out.getvalue()
