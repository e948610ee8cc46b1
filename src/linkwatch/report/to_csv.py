"""The CSV report: one header row, then one row per citation, URL or host (RFC 4180)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass
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

HOST_COLUMNS = ("host", "urls", "citations", "rotten", "rot_rate", *STATE_ORDER)


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
                + [str(row["states"][s]) for s in STATE_ORDER]
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
            for line in release.citations:
                row = citation_dict(line) | {
                    "release": shown(release.path),
                    "title": release.title,
                    "published": release.published,
                }
                writer.writerow([_cell(row[c]) for c in RELEASE_COLUMNS])
    return out.getvalue()
