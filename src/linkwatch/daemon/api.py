"""The daemon's read-only API: JSON built by the report's own builder, one schema each.

- `/api/v1/releases`: every present release with its counts of citations per state.
- `/api/v1/citations?state=dead&host=europa.eu&release=releases/2016-*`: every
  citation (the JSON report's citation object) with its release and URL id.
- `/api/v1/urls/<id>/history`: one URL's state and its run-length history.
- `/api/v1/report?by=release|url|host&state=...&host=...&release=...&since=...`:
  the JSON report, byte for byte what `linkwatch report --format json` writes
  with the same options (`report.build.build_report`, `report.to_json.render_json`).

The schemas are `schema/api-releases.schema.json`, `api-citations.schema.json`,
`api-url-history.schema.json` and, for the report, `report.schema.json`. Query
values are read here, once, into a frozen `ApiQuery`: it is also the key under
which the rendering is cached (`report_page.Pages`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from linkwatch.model import State
from linkwatch.report.build import build_report, collector_paused
from linkwatch.report.rows import NO_FILTERS, Filters, View
from linkwatch.report.states import STATE_ORDER
from linkwatch.report.to_json import citation_dict, render_json
from linkwatch.rules import NO_RULE_SET, RuleSet
from linkwatch.store import Store
from linkwatch.text import iso_or_none

JSON = "application/json"
STATES = tuple(state.value for state in State)


class Resource(StrEnum):
    RELEASES = "releases"
    CITATIONS = "citations"
    HISTORY = "history"
    REPORT = "report"


class BadQuery(ValueError):
    """A query value the API cannot take; its message names the parameter (answered 400)."""


class NotFound(LookupError):
    """No such URL id (answered 404)."""


@dataclass(frozen=True, slots=True)
class ApiQuery:
    resource: Resource
    filters: Filters = NO_FILTERS
    view: View = View.RELEASE
    url_id: int | None = None


def _values(query: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every value of a parameter, commas splitting too: `state=dead&state=soft404` and
    `state=dead,soft404` mean the same, as the report's `--state` does."""
    return [part.strip() for value in query.get(name, ()) for part in value.split(",")]


def _one(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [value.strip() for value in query.get(name, ()) if value.strip()]
    if len(values) > 1:
        raise BadQuery(f"{name}: give it once")
    return values[0] if values else None


def parse_filters(
    query: Mapping[str, Sequence[str]], now: dt.datetime, *, since: bool = False
) -> Filters:
    """`state`, `host` and `release` (and `since` where the view has it) as report Filters."""
    states = [value.lower() for value in _values(query, "state") if value]
    unknown = [state for state in states if state not in STATES]
    if unknown:
        raise BadQuery(f"state: unknown {', '.join(unknown)}; states are {', '.join(STATES)}")
    moment = None
    if since and (text := _one(query, "since")):
        from linkwatch.config.values import parse_duration

        try:
            moment = now - parse_duration(text)
        except ValueError:
            try:
                moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), dt.UTC)
            except ValueError:
                raise BadQuery(f"since: {text!r} is neither a duration (7d) nor a date") from None
    return Filters(
        states=frozenset(states),
        release_glob=_one(query, "release"),
        host=_one(query, "host"),
        since=moment,
    )


def parse_view(query: Mapping[str, Sequence[str]]) -> View:
    text = _one(query, "by") or View.RELEASE.value
    try:
        return View(text)
    except ValueError:
        raise BadQuery(f"by: one of {', '.join(v.value for v in View)}, not {text!r}") from None


def render(query: ApiQuery, store: Store, now: dt.datetime, rules: RuleSet = NO_RULE_SET) -> bytes:
    """The response body of one API query (in a thread, on its own connection)."""
    if query.resource is Resource.REPORT:
        with collector_paused():  # until the rows are freed, as the command does
            report = build_report(
                store, now=now, view=query.view, filters=query.filters, rules=rules
            )
            body = render_json(report)
            del report
            return body
    if query.resource is Resource.HISTORY:
        assert query.url_id is not None
        data = history_dict(store, query.url_id)
    elif query.resource is Resource.CITATIONS:
        data = citations_dict(store, now, query.filters, rules)
    else:
        data = releases_dict(store, now, rules)
    return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)


def releases_dict(store: Store, now: dt.datetime, rules: RuleSet = NO_RULE_SET) -> dict[str, Any]:
    report = build_report(store, now=now, rules=rules)
    releases = []
    for release in report.releases:
        states = dict.fromkeys(STATE_ORDER, 0)
        for line in release.citations:
            states[line.state] = states.get(line.state, 0) + 1
        releases.append(
            {
                "path": release.path,
                "title": release.title,
                "published": release.published,
                "date_source": release.date_source,
                "citations": len(release.citations),
                "states": states,
                "archived": sum(1 for line in release.citations if line.archive_url),
            }
        )
    return {"generated_at": iso_or_none(report.generated_at), "releases": releases}


def citations_dict(
    store: Store, now: dt.datetime, filters: Filters, rules: RuleSet = NO_RULE_SET
) -> dict[str, Any]:
    report = build_report(store, now=now, filters=filters, rules=rules)
    citations = [
        citation_dict(line) | {"release": release.path, "url_id": line.url_id}
        for release in report.releases
        for line in release.citations
    ]
    return {
        "generated_at": iso_or_none(report.generated_at),
        "filters": filters.as_dict(),
        "count": len(citations),
        "citations": citations,
    }


def history_dict(store: Store, url_id: int) -> dict[str, Any]:
    key = store.url_key_of(url_id)
    status = store.url_status(key) if key is not None else None
    if status is None:
        raise NotFound(f"no URL with id {url_id}")
    return {
        "id": status.id,
        "url": status.url,
        "key": status.key,
        "state": (status.pinned or status.state).value,
        "evidence_state": status.state.value,
        "pinned": status.pinned.value if status.pinned else None,
        "http_status": status.http_status,
        "last_checked": status.last_checked,
        "next_check_at": status.next_check_at,
        "history": [
            {
                "state": span.state.value,
                "http_status": span.http_status,
                "error": span.error,
                "first_at": span.first_at,
                "last_at": span.last_at,
                "count": span.count,
            }
            for span in store.history(status.id)
        ],
    }
