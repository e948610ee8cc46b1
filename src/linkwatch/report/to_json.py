"""The JSON report: a contract that scripts and CI pipelines rely on.

Keys are only ever added, never renamed or removed (see the README and
`schema/report.schema.json`). `state` is always the effective state: a
human's pin wins over the evidence, which is kept in `evidence_state`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    pass
from linkwatch.report.build import collector_paused
from linkwatch.report.rows import (
    CitationLine,
    HostLine,
    ReleaseSection,
    Report,
    RuleLine,
    UrlLine,
    View,
)
from linkwatch.report.states import STATE_ORDER
from linkwatch.text import iso_or_none


def citation_dict(line: CitationLine) -> dict[str, Any]:
    """The contract's citation object; unpacked, not read through properties: it runs
    once per citation, 150,000 times in a large report."""
    (
        label,
        url,
        target,
        host,
        archive_url,
        archive_timestamp,
        points,
        previous,
        changed,
        archive,
        unwrapped,
        assumed,
        drifted,
        drift_similarity,
        excluded,
        _rules,
    ) = line
    return {
        "label": label,
        "url": url,
        "state": target.state,
        "http_status": target.http_status,
        "final_url": target.final_url,
        "last_checked": target.last_checked,
        "archive_url": archive_url,
        "archive_timestamp": archive_timestamp,
        "archive": archive,
        "unwrapped_url": unwrapped,
        "pinned": target.pinned,
        "invalid": target.invalid,
        "host": host,
        "evidence_state": target.evidence,
        "error": target.error,
        "state_since": target.state_since,
        "points_at_archive": points,
        "previous_state": previous,
        "changed_at": changed,
        "scheme_assumed": assumed,
        "drifted": bool(drifted),
        "drift_similarity": drift_similarity,
        "excluded": excluded,
        "archives": target.archives,
    }


def url_dict(url: UrlLine) -> dict[str, Any]:
    line = url.first
    data = {
        key: value
        for key, value in citation_dict(line).items()
        if key not in ("label", "points_at_archive", "scheme_assumed")
    }
    data["citations"] = url.citations
    data["releases"] = list(url.releases)
    return data


def host_dict(host: HostLine) -> dict[str, Any]:
    return {
        "host": host.host,
        "urls": host.urls,
        "citations": host.citations,
        "rotten": host.rotten,
        "rot_rate": None if host.rot_rate is None else round(host.rot_rate, 4),
        "states": {state: host.states.get(state, 0) for state in STATE_ORDER},
    }


def rule_dict(line: RuleLine) -> dict[str, Any]:
    rule = line.rule
    return {
        "number": rule.number,
        "line": rule.line,
        "host": rule.host,
        "subdomains": rule.subdomains,
        "url": rule.url,
        "settings": list(rule.settings()),
        "urls": line.urls,
        "citations": [
            {
                "release": path,
                "label": citation.label,
                "url": citation.url,
                "state": citation.state,
                "excluded": citation.excluded,
            }
            for path, citation in line.citations
        ],
    }


def report_dict(report: Report, *, with_lists: bool = True) -> dict[str, Any]:
    """The JSON report contract, as a plain dict; the view decides the list it carries."""
    summary = report.summary
    data: dict[str, Any] = {
        "generated_at": iso_or_none(report.generated_at),
        "view": report.view.value,
        "filters": report.filters.as_dict(),
        "summary": {
            "releases": summary.releases,
            "citations": summary.citations,
            "urls": summary.urls,
            "hosts": summary.hosts,
            "states": dict(summary.states),
            "archived": summary.archived,
            "rotten": summary.rotten,
            "rotten_without_archive": summary.rotten_without_archive,
            "drifted": summary.drifted,
            "preserved": summary.preserved,
            "preserved_in_several": summary.preserved_in_several,
        },
    }
    if not with_lists:
        return data
    if report.view is View.URL:
        data["urls"] = [url_dict(url) for url in report.urls]
    elif report.view is View.HOST:
        data["hosts"] = [host_dict(host) for host in report.hosts]
        data["rules"] = [rule_dict(rule) for rule in report.rules]
    else:
        data["releases"] = [
            _release_dict(release, [citation_dict(line) for line in release.citations])
            for release in report.releases
        ]
    return data


def _release_dict(release: ReleaseSection, citations: Sequence[Any]) -> dict[str, Any]:
    return {
        "path": release.path,
        "title": release.title,
        "published": release.published,
        "date_source": release.date_source,
        "citations": citations,
        "apply_by_hand": _by_hand_dict(release),
    }


def _by_hand_dict(release: ReleaseSection) -> dict[str, Any] | None:
    """A web page's edit written by `rewrite --output`, waiting for a person to apply it."""
    waiting = release.apply_by_hand
    if waiting is None:
        return None
    return {"output": waiting.output, "written_at": waiting.at, "citations": waiting.citations}


def _json_default(value: object) -> dict[str, Any]:
    """orjson's hook for the report's own types: each becomes a dict only as it is written."""
    if isinstance(value, CitationLine):
        return citation_dict(value)
    if isinstance(value, ReleaseSection):
        return _release_dict(value, value.citations)
    raise TypeError(f"{type(value).__name__} is not part of the JSON report")


_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE


def render_json(report: Report) -> bytes:
    """`report_dict` as one line of compact UTF-8 JSON; pipe through `jq` to read.

    orjson, because it writes 150,000 citations several times faster than
    the standard library; in the release view it takes the rows themselves
    and turns each into a dict only as it reaches it (`_json_default`), so
    the dicts never pile up.
    """
    with collector_paused():
        if report.view is View.RELEASE:
            data = report_dict(report, with_lists=False)
            data["releases"] = report.releases
        else:
            data = report_dict(report)
        return orjson.dumps(data, default=_json_default, option=_JSON_OPTIONS)
