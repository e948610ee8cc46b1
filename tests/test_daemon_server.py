"""The endpoint's routes in-process: health codes, metrics text, read-only, bounded labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linkwatch.daemon.report_page import Page, make_page
from linkwatch.daemon.server import Endpoints, Health, Metrics, check_outcome, make_app
from linkwatch.model import CheckResult, ErrorKind
from linkwatch.report.rows import Filters

Client = Callable[..., Awaitable[TestClient[Any, Any]]]
NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


def endpoints(
    ok: bool = True, metrics: Metrics | None = None, allowed_hosts: tuple[str, ...] = ()
) -> Endpoints:
    async def report(filters: Filters) -> Page:
        return make_page("<html>report</html>")

    return Endpoints(
        health=lambda: Health(ok=ok, detail={"scheduler": "running" if ok else "paused"}),
        metrics=metrics or Metrics(),
        report=report,
        allowed_hosts=allowed_hosts,
    )


async def test_healthz_is_200_with_json_when_healthy(aiohttp_client: Client) -> None:
    client = await aiohttp_client(make_app(endpoints(ok=True)))
    answer = await client.get("/healthz")
    assert answer.status == 200
    assert await answer.json() == {"status": "ok", "scheduler": "running"}


async def test_healthz_is_503_with_the_reason_when_not(aiohttp_client: Client) -> None:
    client = await aiohttp_client(make_app(endpoints(ok=False)))
    answer = await client.get("/healthz")
    assert answer.status == 503
    assert await answer.json() == {"status": "unhealthy", "scheduler": "paused"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/", "/healthz", "/metrics"])
async def test_no_route_accepts_a_changing_method(
    aiohttp_client: Client, method: str, path: str
) -> None:
    client = await aiohttp_client(make_app(endpoints()))
    answer = await client.request(method, path)
    assert answer.status == 405


async def test_metrics_count_checks_by_outcome(aiohttp_client: Client) -> None:
    metrics = Metrics()
    metrics.observe_check(CheckResult("http://a.test/", NOW, status=200, elapsed=0.2))
    metrics.observe_check(CheckResult("http://b.test/", NOW, error=ErrorKind.DNS, elapsed=0.01))
    client = await aiohttp_client(make_app(endpoints(metrics=metrics)))
    answer = await client.get("/metrics")
    text = await answer.text()
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'linkwatch_checks_total{outcome="2xx"} 1.0' in text
    assert 'linkwatch_checks_total{outcome="dns"} 1.0' in text
    assert "linkwatch_check_duration_seconds_count 2.0" in text


def test_every_citation_state_has_a_series_zero_included() -> None:
    metrics = Metrics()
    metrics.set_citation_states({"alive": 3})
    text = metrics.render().decode()
    assert 'linkwatch_citations{state="alive"} 3.0' in text
    assert 'linkwatch_citations{state="dead"} 0.0' in text


def test_two_metric_sets_share_nothing() -> None:
    first, second = Metrics(), Metrics()
    first.observe_check(CheckResult("http://a.test/", NOW, status=404))
    assert "4xx" not in second.render().decode()


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (CheckResult("u", NOW, status=200), "2xx"),
        (CheckResult("u", NOW, status=301), "3xx"),
        (CheckResult("u", NOW, status=410), "4xx"),
        (CheckResult("u", NOW, status=503), "5xx"),
        (CheckResult("u", NOW, error=ErrorKind.TIMEOUT), "timeout"),
        (CheckResult("u", NOW, status=403, bot_wall=True), "bot_wall"),
        (CheckResult("u", NOW, status=200, soft404_reason="home page"), "soft404"),
        (CheckResult("u", NOW), "no_answer"),
    ],
)
def test_check_outcomes_are_a_small_fixed_set(result: CheckResult, outcome: str) -> None:
    assert check_outcome(result) == outcome


async def test_root_serves_the_report_as_html(aiohttp_client: Client) -> None:
    client = await aiohttp_client(make_app(endpoints()))
    answer = await client.get("/")
    assert answer.content_type == "text/html" and "report" in await answer.text()
