"""A fake Wayback Machine on 127.0.0.1 that speaks the real APIs' shapes.

* availability API: `/wayback/available?url=&timestamp=` -> `archived_snapshots.closest`;
* CDX API: `/cdx/search/cdx?url=&output=json` (a header row, then one row per
  capture) with `fl`, `from`, `to`, `filter` (`[!]field:regex`, repeatable),
  `sort=closest` + `closest`, `limit` (negative: the last N); without
  `output=json` the space-separated seven-field lines waybackpy parses;
* replay: `/web/<1-14 digits>[id_]/<url>` serves an exact capture with
  `Memento-Datetime`, and redirects any other timestamp to the nearest capture;
  a captured redirect replays as a redirect to its target's replay;
* Save Page Now 1: `GET /save/<url>` -> 302 to the new capture;
* Save Page Now 2: `POST /save` (`Authorization: LOW access:secret`, form
  `url`, `capture_outlinks`, `if_not_archived_within`, `skip_first_archive`)
  -> `{"job_id"}`, then `GET /save/status/<job>` -> pending, then success or
  error; a capture within `if_not_archived_within` seconds is answered with
  that capture, as SPN2 does;
* `GET /save/status/user` -> `{"available", "processing", "daily_captures",
  "daily_captures_limit"}`: the account's quota (`daily_limit`, `sessions`),
  which runs out: past the daily cap a capture request is refused;
* a rate limit (429 with Retry-After after `rate_limit` save requests in
  `rate_window` seconds) and excluded sites (`excluded.example`);
* a whole-run outage: `down` answers every request with 503 (as in the
  Internet Archive's October 2024 outage), `silent` accepts connections and
  never answers.

It records every save request's arrival time, so tests can assert the pace
from the receiving end. Use it in-process (`app()`, with pytest-aiohttp's
`aiohttp_server`), from a thread (`serve_in_thread()`, for the synchronous
CLI) or as its own process (`python tests/support/fake_wayback.py serve`, for the
benchmark: it prints `READY <port>`, then answers `stats` and `quit` on stdin).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.utils
import itertools
import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

EXCLUDED_HOSTS = ("excluded.example",)
BLOCKED_SITE = (
    "org.archive.util.io.RuntimeIOException: org.archive.wayback.exception."
    "AdministrativeAccessControlException: Blocked Site Error"
)
EXCLUDED_PAGE = (
    "<html><head><title>Wayback Machine</title></head><body><h2>Sorry.</h2>"
    "<p>This URL has been excluded from the Wayback Machine.</p></body></html>"
)
ARRIVED = web.RequestKey("arrived", float)
_ALL_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")


def html(title: str, text: str) -> str:
    return f"<html><head><title>{title}</title></head><body><p>{text}</p></body></html>"


def stamp(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def _moment(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def _pad(ts: str, template: str) -> str:
    return ts + template[len(ts) :]


def _key(url: str) -> str:
    """Captures are matched without the scheme, as the Wayback Machine's index does."""
    return url.split("://", 1)[-1]


def _host(url: str) -> str:
    return _key(url).split("/", 1)[0].split(":", 1)[0].lower()


# Starts a fake on a test server and returns its base URL (the `serve` fixture).
Serve = Callable[["FakeWayback"], Awaitable[str]]


@dataclass
class Capture:
    url: str
    timestamp: str
    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None  # the target of a captured redirect

    def field(self, name: str) -> str:
        values = {
            "urlkey": _key(self.url),
            "timestamp": self.timestamp,
            "original": self.url,
            "mimetype": self.content_type.split(";")[0],
            "statuscode": str(self.status),
            "digest": "A" * 32,
            "length": str(len(self.body)),
        }
        return values[name]


@dataclass
class LivePage:
    """What a save captures of a URL (the fake does not fetch the live web)."""

    status: int = 200
    title: str = "A live page"
    text: str = "Words a reader came for."


@dataclass
class SaveRequest:
    at: float  # arrival, epoch seconds
    url: str
    api: str  # spn1 or spn2
    answer: str = "pending"  # captured, cached, rate_limited, excluded, failed, over_cap
    options: dict[str, str] = field(default_factory=dict)  # SPN2's form, url excepted


@dataclass
class _Job:
    url: str
    options: dict[str, str] = field(default_factory=dict)
    polls: int = 0
    result: dict[str, Any] = field(default_factory=dict)


class FakeWayback:
    """The fake archive's state and its aiohttp application."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        save_delay: float = 0.0,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        retry_after: int = 30,
        keys: tuple[str, str] | None = None,
        echo_headers: bool = False,
        spn2_pending_polls: int = 1,
        cached_within: float = 0.0,
        clock: Callable[[], float] = time.time,
        down: bool = False,
        daily_limit: int | None = None,
        sessions: int = 8,
    ) -> None:
        self.down = down  # every request answers 503, as in the Internet Archive's outages
        self.latency = latency
        self.save_delay = save_delay
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after = retry_after
        self.keys = keys
        self.echo_headers = echo_headers  # refusals repeat the request's headers, as some do
        self.spn2_pending_polls = spn2_pending_polls
        self.cached_within = cached_within
        self.clock = clock
        self.silent = False  # accept connections, never answer
        self.silent_after_saves: int | None = None  # saves answered before /save/ goes silent
        self.daily_limit = daily_limit  # captures a day with keys (None: no cap)
        self.daily_captures = 0  # made today; `new_day()` starts again
        self.sessions = sessions  # capture sessions that may run at once
        self.captures: dict[str, list[Capture]] = {}
        self.live: dict[str, LivePage] = {}
        self.fail_next: Counter[str] = Counter()  # URL -> saves that answer 520 first
        self.save_requests: list[SaveRequest] = []
        self.saves_in_flight = 0
        self.requests: Counter[str] = Counter()  # by API: cdx, available, replay, spn1, ...
        self.replayed: Counter[str] = Counter()  # replay path -> times asked
        self.authorizations: list[str] = []
        self._jobs: dict[str, _Job] = {}
        self._job_ids = itertools.count(1)

    # setting the scene ----------------------------------------------------------

    def add_capture(
        self,
        url: str,
        when: dt.datetime | str,
        *,
        status: int = 200,
        title: str = "An archived page",
        text: str = "What the page said back then.",
        location: str | None = None,
        body: str | None = None,
    ) -> str:
        """Record a capture; returns its 14-digit timestamp."""
        ts = stamp(when)
        capture = Capture(url, ts, status, body if body is not None else html(title, text))
        capture.location = location
        captures = self.captures.setdefault(_key(url), [])
        captures.append(capture)
        captures.sort(key=lambda c: c.timestamp)
        return ts

    def new_day(self) -> None:
        """Midnight UTC: the daily count starts again."""
        self.daily_captures = 0

    def archive_url(self, base: str, url: str, ts: str) -> str:
        return f"{base}/web/{ts}/{url}"

    # what happened ------------------------------------------------------------------

    def saves_of(self, url: str, answer: str | None = None) -> int:
        return sum(
            1
            for r in self.save_requests
            if _key(r.url) == _key(url) and (answer is None or r.answer == answer)
        )

    def max_saves_in_window(self, window: float = 60.0) -> int:
        """The most save requests that arrived within any `window` seconds."""
        times = sorted(r.at for r in self.save_requests)
        most, start = 0, 0
        for end, arrived in enumerate(times):
            while arrived - times[start] > window:
                start += 1
            most = max(most, end - start + 1)
        return most

    def min_save_gap(self) -> float:
        times = sorted(r.at for r in self.save_requests)
        return min((b - a for a, b in itertools.pairwise(times)), default=float("inf"))

    def stats(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "save_requests": len(self.save_requests),
            "save_times": [r.at for r in self.save_requests],
            "max_saves_in_window": self.max_saves_in_window(),
            "min_save_gap": self.min_save_gap() if len(self.save_requests) > 1 else None,
        }

    # the application ----------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._slow])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    @web.middleware
    async def _slow(self, request: web.Request, handler: Any) -> web.StreamResponse:
        request[ARRIVED] = self.clock()  # before the latency: what a rate limit counts
        if self.silent or self._saves_silent(request):
            self.requests["silent"] += 1
            await asyncio.Event().wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.down:
            self.requests["down"] += 1
            return web.Response(
                status=503, text="<html><body><h1>Service Unavailable</h1></body></html>"
            )
        response: web.StreamResponse = await handler(request)
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path
        if path.startswith("/wayback/available"):
            return self._available(request)
        if path.startswith("/cdx/search/cdx"):
            return self._cdx(request)
        if path.startswith("/web/"):
            return self._replay(request)
        if path == "/save/status/user":
            return self._user_status(request)
        if path.startswith("/save/status/"):
            return self._spn2_status(request, path.removeprefix("/save/status/"))
        if path == "/save" and request.method == "POST":
            return await self._spn2_save(request)
        if path.startswith("/save/"):
            return await self._spn1_save(request, path.removeprefix("/save/"))
        self.requests["other"] += 1
        return web.Response(status=404, text="not here")

    def _base(self, request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    # look-ups ----------------------------------------------------------------------

    def _closest(self, url: str, ts: str) -> Capture | None:
        captures = self.captures.get(_key(url), [])
        target = _moment(_pad(ts, "00000101000000"))
        return min(
            captures,
            key=lambda c: abs((_moment(c.timestamp) - target).total_seconds()),
            default=None,
        )

    def _available(self, request: web.Request) -> web.Response:
        self.requests["available"] += 1
        url = request.query.get("url", "")
        ts = request.query.get("timestamp") or stamp(dt.datetime.now(dt.UTC))
        capture = self._closest(url, ts)
        closest: dict[str, Any] = {}
        if capture is not None:
            closest = {
                "closest": {
                    "available": True,
                    "url": self.archive_url(self._base(request), capture.url, capture.timestamp),
                    "timestamp": capture.timestamp,
                    "status": str(capture.status),
                }
            }
        return web.json_response({"url": url, "archived_snapshots": closest})

    def _cdx(self, request: web.Request) -> web.Response:
        self.requests["cdx"] += 1
        query = request.query
        url = query.get("url", "")
        if _host(url) in EXCLUDED_HOSTS:
            return web.Response(status=403, text=BLOCKED_SITE)
        rows = list(self.captures.get(_key(url), []))
        if "from" in query:
            rows = [c for c in rows if c.timestamp >= _pad(query["from"], "00000101000000")]
        if "to" in query:
            rows = [c for c in rows if c.timestamp <= _pad(query["to"], "99991231235959")]
        for spec in query.getall("filter", []):
            negate = spec.startswith("!")
            name, _, pattern = spec.lstrip("!").partition(":")
            rows = [c for c in rows if bool(re.fullmatch(pattern, c.field(name))) != negate]
        if query.get("sort") == "closest" and "closest" in query:
            target = _moment(_pad(query["closest"], "00000101000000"))
            rows.sort(key=lambda c: abs((_moment(c.timestamp) - target).total_seconds()))
        if "limit" in query:
            limit = int(query["limit"])
            rows = rows[:limit] if limit >= 0 else rows[limit:]
        if query.get("output") != "json":
            lines = [" ".join(c.field(name) for name in _ALL_FIELDS) for c in rows]
            return web.Response(text="".join(line + "\n" for line in lines))
        fields = query.get("fl", ",".join(_ALL_FIELDS)).split(",")
        table = [fields, *([c.field(name) for name in fields] for c in rows)] if rows else []
        return web.json_response(table)

    # replay ------------------------------------------------------------------------

    def _replay(self, request: web.Request) -> web.StreamResponse:
        self.requests["replay"] += 1
        self.replayed[request.raw_path] += 1
        match = re.match(r"/web/(\d{1,14})([a-z]{2}_)?/(.*)", request.raw_path)
        if match is None:
            return web.Response(status=404, text="bad replay URL")
        ts, mode, url = match.group(1), match.group(2) or "", match.group(3)
        capture = self._closest(url, ts)
        base = self._base(request)
        if capture is None:
            return web.Response(
                status=404,
                text=html("Wayback Machine", "The Wayback Machine has not archived that URL."),
            )
        if capture.timestamp != ts:
            raise web.HTTPFound(f"{base}/web/{capture.timestamp}{mode}/{capture.url}")
        headers = {
            "Memento-Datetime": email.utils.format_datetime(_moment(ts), usegmt=True),
            "Content-Type": capture.content_type,
        }
        if capture.location is not None:
            headers["Location"] = f"{base}/web/{ts}{mode}/{capture.location}"
        return web.Response(status=capture.status, body=capture.body.encode(), headers=headers)

    # saves -------------------------------------------------------------------------

    def _saves_silent(self, request: web.Request) -> bool:
        """Save Page Now stopped answering mid-run (`silent_after_saves`); replay and CDX
        still answer, as when the Internet Archive's capture service alone is down."""
        limit = self.silent_after_saves
        return (
            limit is not None
            and request.path.startswith("/save")
            and len(self.save_requests) >= limit
        )

    def _refusal(self, request: web.Request, url: str) -> str | None:
        """Why a save request is turned away before any capture: excluded or rate limited."""
        now = request[ARRIVED]
        recent = [r for r in self.save_requests if now - r.at < self.rate_window]
        self.save_requests.append(SaveRequest(now, url, "?"))
        if _host(url) in EXCLUDED_HOSTS:
            return "excluded"
        if self.rate_limit is not None and len(recent) >= self.rate_limit:
            return "rate_limited"
        if self.fail_next[url] > 0:
            self.fail_next[url] -= 1
            return "failed"
        return None

    def _capture_now(self, url: str, within: float = 0.0) -> tuple[Capture, bool]:
        """A new capture of `url` now, or the recent one (cached) when there is one
        (within `cached_within`, or the request's `if_not_archived_within`)."""
        now = self.clock()
        captures = self.captures.setdefault(_key(url), [])
        latest = captures[-1] if captures else None
        recent = max(self.cached_within, within)
        if latest is not None and now - _moment(latest.timestamp).timestamp() <= recent:
            return latest, True
        ts = stamp(dt.datetime.fromtimestamp(now, dt.UTC))
        while any(c.timestamp == ts for c in captures):  # one capture per second and URL
            ts = stamp(_moment(ts) + dt.timedelta(seconds=1))
        page = self.live.get(url, LivePage())
        self.add_capture(url, ts, status=page.status, title=page.title, text=page.text)
        return next(c for c in captures if c.timestamp == ts), False

    async def _spn1_save(self, request: web.Request, url: str) -> web.StreamResponse:
        self.requests["spn1"] += 1
        refusal = self._refusal(request, url)
        record = self.save_requests[-1]
        record.api = "spn1"
        self.saves_in_flight += 1
        try:
            if self.save_delay:
                await asyncio.sleep(self.save_delay)
            if refusal == "excluded":
                record.answer = "excluded"
                return web.Response(status=403, text=EXCLUDED_PAGE, content_type="text/html")
            if refusal == "rate_limited":
                record.answer = "rate_limited"
                return web.Response(
                    status=429,
                    text="Too Many Requests",
                    headers={"Retry-After": str(self.retry_after)},
                )
            if refusal == "failed":
                record.answer = "failed"
                return web.Response(status=520, text=html("Job failed", "Job failed."))
            capture, cached = self._capture_now(url)
            record.answer = "cached" if cached else "captured"
            location = f"{self._base(request)}/web/{capture.timestamp}/{capture.url}"
            raise web.HTTPFound(location)
        finally:
            self.saves_in_flight -= 1

    def _echo(self, request: web.Request) -> str:
        if not self.echo_headers:
            return ""
        return " You sent: " + "; ".join(f"{k}: {v}" for k, v in request.headers.items())

    async def _spn2_save(self, request: web.Request) -> web.StreamResponse:
        self.requests["spn2"] += 1
        authorization = request.headers.get("Authorization", "")
        self.authorizations.append(authorization)
        if self.keys is None or authorization != f"LOW {self.keys[0]}:{self.keys[1]}":
            return web.json_response({"message": "You need to be logged in"}, status=401)
        form = await request.post()
        url = str(form.get("url", ""))
        refusal = self._refusal(request, url)
        record = self.save_requests[-1]
        record.api = "spn2"
        record.options = {k: str(v) for k, v in form.items() if k != "url"}
        if self.daily_limit is not None and self.daily_captures >= self.daily_limit:
            record.answer = "over_cap"
            return web.json_response(
                {
                    "status": "error",
                    "status_ext": "error:too-many-daily-captures",
                    "message": "You have reached your daily limit of captures.",
                },
                status=429,
            )
        if refusal == "rate_limited":
            record.answer = "rate_limited"
            return web.json_response(
                {"status": "error", "message": "Too many requests"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        job_id = f"spn2-{next(self._job_ids):06d}"
        job = self._jobs[job_id] = _Job(url, options=record.options)
        if refusal == "excluded":
            record.answer = "excluded"
            job.result = {
                "status": "error",
                "status_ext": "error:blocked-url",
                "message": "This URL has been excluded from the Wayback Machine."
                + self._echo(request),
            }
        elif refusal == "failed":
            record.answer = "failed"
            job.result = {"status": "error", "status_ext": "error:service-unavailable"}
        return web.json_response({"url": url, "job_id": job_id})

    def _authorized(self, request: web.Request) -> bool:
        authorization = request.headers.get("Authorization", "")
        return self.keys is not None and authorization == f"LOW {self.keys[0]}:{self.keys[1]}"

    def _user_status(self, request: web.Request) -> web.Response:
        self.requests["user_status"] += 1
        if not self._authorized(request):
            return web.json_response({"message": "You need to be logged in"}, status=401)
        processing = sum(1 for job in self._jobs.values() if not job.result)
        limit = self.daily_limit if self.daily_limit is not None else 100_000
        return web.json_response(
            {
                "available": max(0, self.sessions - processing),
                "processing": processing,
                "daily_captures": self.daily_captures,
                "daily_captures_limit": limit,
            }
        )

    def _spn2_status(self, request: web.Request, job_id: str) -> web.Response:
        self.requests["spn2_status"] += 1
        job = self._jobs.get(job_id)
        if job is None:
            return web.json_response({"status": "error", "message": "no such job"}, status=404)
        job.polls += 1
        if job.polls <= self.spn2_pending_polls:
            return web.json_response({"status": "pending", "job_id": job_id})
        if not job.result:
            within = float(job.options.get("if_not_archived_within") or 0)
            capture, cached = self._capture_now(job.url, within)
            self.daily_captures += not cached
            record = next(r for r in reversed(self.save_requests) if r.url == job.url)
            record.answer = "cached" if cached else "captured"
            job.result = {
                "status": "success",
                "job_id": job_id,
                "original_url": capture.url,
                "timestamp": capture.timestamp,
                "http_status": capture.status,
            }
        return web.json_response({"job_id": job_id, **job.result})


# --- projects for the tests: releases citing URLs, a config pointing at the fake -------

PUBLISHED = dt.date(2016, 4, 7)
RELEASE_HEAD = "Warsaw, 7 April 2016\n\n"


def write_project(
    directory: Path,
    base: str,
    urls: list[str],
    *,
    extra: str = "",
    saves_per_minute: float | None = 600,
    name: str = "r.md",
    lookup: str = "[]",
) -> Path:
    """A release (dated 7 April 2016) citing `urls` as footnotes, and a config for `base`.

    `extra` is more of the config's [archive] table; `lookup` its `archive.lookup`
    (by default none besides `base`: tests never ask the archives of the real web);
    `saves_per_minute=None` leaves the default pace.
    """
    releases = directory / "releases"
    releases.mkdir(exist_ok=True)
    notes = "\n\n".join(f"[^{n}]: <{url}>" for n, url in enumerate(urls, start=1))
    refs = " ".join(f"[^{n}]" for n in range(1, len(urls) + 1))
    (releases / name).write_text(f"{RELEASE_HEAD}Text {refs}\n\n{notes}\n", encoding="utf-8")
    config = directory / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n'
        f'[archive]\nwayback_url = "{base}"\n'
        + ("" if saves_per_minute is None else f"saves_per_minute = {saves_per_minute}\n")
        + f"lookup = {lookup}\n{extra}",
        encoding="utf-8",
    )
    return config


class HasApp(Protocol):
    def app(self) -> web.Application: ...


@contextmanager
def serve_in_thread(fake: HasApp) -> Iterator[str]:
    """Serve `fake` (any fake with an `app()`) from a thread of its own, for the synchronous
    CLI; yields its base URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[web.AppRunner, str]:
        runner = web.AppRunner(fake.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"

    runner, base = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield base
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _serve(args: argparse.Namespace) -> None:
    fake = FakeWayback(
        latency=args.latency,
        save_delay=args.save_delay,
        rate_limit=args.rate_limit,
        retry_after=args.retry_after,
    )
    for n in range(args.captured):
        fake.add_capture(f"http://site{n % 500}.example/page/{n}", "20150301120000")
    with serve_in_thread(fake) as base:
        print(f"READY {base.rsplit(':', 1)[1]}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                print(json.dumps(fake.stats()), flush=True)
            elif command == "quit":
                break


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve on 127.0.0.1 until `quit` on stdin")
    serve.add_argument("--latency", type=float, default=0.1, help="seconds before every answer")
    serve.add_argument("--save-delay", type=float, default=0.0, help="extra seconds per save")
    serve.add_argument("--rate-limit", type=int, default=None, help="saves per minute, then 429")
    serve.add_argument("--retry-after", type=int, default=30)
    serve.add_argument(
        "--captured", type=int, default=0, help="URLs http://siteN.example/page/N with a capture"
    )
    _serve(parser.parse_args(argv))


if __name__ == "__main__":
    main()
