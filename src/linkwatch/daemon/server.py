"""The daemon's HTTP endpoint: health for the orchestrator, metrics for Prometheus, the report.

It runs in the daemon's own event loop, so it answers while a check job has
thousands of requests in flight: every handler either reads values the
daemon keeps in memory or hands database work to a thread with its own
connection. Every route is a GET (HEAD comes with it): no endpoint changes
anything, so exposing it cannot be used to steer the daemon.

Metrics live in a registry of their own rather than prometheus-client's
global one, so that two daemons in one process (the tests) never share
counters, and nothing a library registers globally leaks into the output.

Under load: the report is rendered once per change of the store and shared
(`report_page`), served with an ETag (304 to a client that has it) and
gzip-compressed to a client that accepts it, written in chunks so that a slow
client costs a chunk of memory, not the page. Connections are bounded in all
and per peer (`connections`); one that sends no complete request within
`IDLE_TIMEOUT` is closed; the report is served only under the host names of
`hosts`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from linkwatch.daemon.api import JSON, ApiQuery, BadQuery, NotFound, Resource, parse_filters
from linkwatch.daemon.api import parse_view as api_view
from linkwatch.daemon.connections import ConnectionGate
from linkwatch.daemon.hosts import host_allowed, host_name
from linkwatch.daemon.report_page import Page
from linkwatch.daemon.workers import in_thread
from linkwatch.model import CheckResult, State
from linkwatch.report.rows import NO_FILTERS, Filters

CHECK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
SHUTDOWN_TIMEOUT = 1.0  # seconds an open HTTP request may delay the daemon's exit
# Seconds a connection may stay without a complete request (the first one included,
# so that a client trickling its headers is cut off) before it is closed.
IDLE_TIMEOUT = 15.0
CHUNK = 64 * 1024  # bytes written at a time: a slow reader holds this much, not the page


def check_outcome(result: CheckResult) -> str:
    """A small, fixed set of labels for one check: an error kind or an HTTP status class.

    Bounded on purpose: a label per URL or per status code would let the
    web's variety multiply Prometheus series without limit.
    """
    if result.error is not None:
        return result.error.value
    if result.bot_wall:
        return "bot_wall"
    if result.status is None:
        return "no_answer"
    if result.usurped_reason is not None:
        return "usurped"
    if result.soft404_reason is not None:
        return "soft404"
    return f"{result.status // 100}xx"


class Metrics:
    """Every series the daemon exports, all named `linkwatch_*`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.citations = Gauge(
            "linkwatch_citations",
            "Citations in present releases, by the state of their URL (pins applied).",
            ["state"],
            registry=registry,
        )
        self.checks = Counter(
            "linkwatch_checks",
            "URL checks made, by outcome (error kind or HTTP status class).",
            ["outcome"],
            registry=registry,
        )
        self.check_duration = Histogram(
            "linkwatch_check_duration_seconds",
            "Time one URL check took, redirects included.",
            buckets=CHECK_BUCKETS,
            registry=registry,
        )
        self.archive_queue = Gauge(
            "linkwatch_archive_queue_length",
            "URLs waiting in the archive save queue.",
            registry=registry,
        )
        self.saves = Counter(
            "linkwatch_archive_saves",
            "Archive saves attempted, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.last_success = Gauge(
            "linkwatch_job_last_success_timestamp_seconds",
            "When each job last finished without error (unix time).",
            ["job"],
            registry=registry,
        )
        self.job_runs = Counter(
            "linkwatch_job_runs",
            "Job runs, by job and result (ok, error, interrupted).",
            ["job", "result"],
            registry=registry,
        )
        self.job_running = Gauge(
            "linkwatch_job_running",
            "1 while the job runs.",
            ["job"],
            registry=registry,
        )
        for state in State:
            self.citations.labels(state.value).set(0)

    def observe_check(self, result: CheckResult) -> None:
        self.checks.labels(check_outcome(result)).inc()
        self.check_duration.observe(result.elapsed)

    def set_citation_states(self, counts: Mapping[str, int]) -> None:
        """Every state gets a value, zero included, so that a series never vanishes."""
        for state in State:
            self.citations.labels(state.value).set(counts.get(state.value, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What the routes read: supplied by the daemon, so this module knows no store or job."""

    health: Callable[[], Health]
    metrics: Metrics
    report: Callable[[Filters], Awaitable[Page]]  # the HTML report, filtered
    api: Callable[[ApiQuery], Awaitable[Page]] | None = None  # raises NotFound
    allowed_hosts: tuple[str, ...] = ()  # run.allowed_hosts and run.public_url's host
    now: Callable[[], Any] | None = None  # the daemon's clock, for `since`


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return etag in tags or "*" in tags


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether `gzip` is among the codings a client accepts (a q of 0 refuses it)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            quality = params.strip().removeprefix("q=").strip() if params else "1"
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


async def serve_page(request: web.Request, page: Page) -> web.StreamResponse:
    """The page with its ETag: 304 when the client has it, gzip when it accepts that."""
    headers = {"ETag": page.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("If-None-Match", ""), page.etag):
        return web.Response(status=304, headers=headers)
    body = page.body
    if accepts_gzip(request.headers.get("Accept-Encoding", "")):
        body, headers["Content-Encoding"] = await in_thread(page.gzipped, "gzip"), "gzip"
    response = web.StreamResponse(headers=headers)
    response.content_type, response.charset = page.content_type, "utf-8"
    response.content_length = len(body)
    await response.prepare(request)
    if request.method != "HEAD":
        view = memoryview(body)
        for start in range(0, len(body), CHUNK):
            await response.write(view[start : start + CHUNK])  # waits while the client is slow
    await response.write_eof()
    return response


def make_app(endpoints: Endpoints) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        health = endpoints.health()
        body = json.dumps({"status": "ok" if health.ok else "unhealthy", **health.detail})
        return web.Response(
            text=body + "\n",
            status=200 if health.ok else 503,
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            body=endpoints.metrics.render(),
            headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"},
        )

    def misdirected(request: web.Request) -> web.Response | None:
        """421 for a Host the report is not served under (see `hosts`), else None."""
        host = request.headers.get("Host")
        if host_allowed(host, endpoints.allowed_hosts):
            return None
        return web.Response(
            status=421,  # Misdirected Request
            text=f"linkwatch: the report is not served under the name"
            f" {host_name(host or '')!r}; add it to run.allowed_hosts to serve it there\n",
        )

    def query_of(request: web.Request) -> dict[str, list[str]]:
        return {name: request.query.getall(name) for name in request.query}

    def moment() -> Any:
        return endpoints.now() if endpoints.now is not None else None

    async def report(request: web.Request) -> web.StreamResponse:
        if (refused := misdirected(request)) is not None:
            return refused
        filters = NO_FILTERS
        if request.query:
            try:
                filters = parse_filters(query_of(request), moment())
            except BadQuery as err:
                return web.Response(status=400, text=f"linkwatch: {err}\n")
        return await serve_page(request, await endpoints.report(filters))

    async def api(request: web.Request) -> web.StreamResponse:
        if (refused := misdirected(request)) is not None:
            return refused
        if endpoints.api is None:
            raise web.HTTPNotFound()
        resource = request.match_info["resource"]
        query = query_of(request)
        try:
            if resource == "releases":
                wanted = ApiQuery(Resource.RELEASES)
            elif resource == "citations":
                wanted = ApiQuery(Resource.CITATIONS, parse_filters(query, moment()))
            elif resource == "report":
                wanted = ApiQuery(
                    Resource.REPORT, parse_filters(query, moment(), since=True), api_view(query)
                )
            else:
                raise NotFound(f"no such resource: {resource}")
            return await serve_page(request, await endpoints.api(wanted))
        except BadQuery as err:
            return _json_error(400, str(err))
        except NotFound as err:
            return _json_error(404, str(err))

    async def history(request: web.Request) -> web.StreamResponse:
        if (refused := misdirected(request)) is not None:
            return refused
        if endpoints.api is None:
            raise web.HTTPNotFound()
        text = request.match_info["url_id"]
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            return _json_error(404, f"no URL with id {text!r}")
        try:
            return await serve_page(
                request, await endpoints.api(ApiQuery(Resource.HISTORY, url_id=int(text)))
            )
        except NotFound as err:
            return _json_error(404, str(err))

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", report)
    app.router.add_get("/api/v1/urls/{url_id}/history", history)
    app.router.add_get("/api/v1/{resource}", api)
    return app


def _json_error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error": message}) + "\n",
        content_type=JSON,
        headers={"Cache-Control": "no-store"},
    )


class GatedSite(web.TCPSite):
    """aiohttp's TCP site with a `ConnectionGate` before its protocol."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, gate_total: int | None):
        super().__init__(runner, host, port, reuse_address=True)
        self._gate_total = gate_total
        self.gate: ConnectionGate | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self.gate = ConnectionGate(server, total=self._gate_total)
        self._server = await asyncio.get_running_loop().create_server(
            self.gate, self._host, self._port, backlog=self._backlog, reuse_address=True
        )


async def start_server(
    endpoints: Endpoints, host: str, port: int, *, gate_total: int | None = None
) -> tuple[web.AppRunner, str]:
    """Listen on host:port (port 0: any free one); returns the runner and the bound URL."""
    runner = web.AppRunner(
        make_app(endpoints),
        access_log=None,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        keepalive_timeout=IDLE_TIMEOUT,
    )
    await runner.setup()
    site = GatedSite(runner, host, port, gate_total)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return runner, f"http://{shown}:{bound_port}"
