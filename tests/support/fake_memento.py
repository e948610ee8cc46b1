"""A fake Memento archive on 127.0.0.1 speaking RFC 7089 as pywb and OpenWayback do.

* TimeMap: `GET /timemap/link/<url>` -> `application/link-format`, the links
  `original`, `self` (with `from` and `until`), `timegate`, then one link per
  capture, `rel="first memento"`, `"memento"` ... `"last memento"`, each with
  its `datetime` in RFC 1123 form; more than `page_size` captures are split
  into pages (`/timemap/link/<n>/<url>`), each linking the next with
  `rel="next"`. No capture at all: 404, as RFC 7089 says.
* TimeGate: `GET /timegate/<url>` with `Accept-Datetime` -> 302 to the
  capture nearest that moment, with `Vary: accept-datetime` and a `Link`
  header naming the original, the TimeMap and the memento with its datetime.
* Replay: `/<14 digits>[id_]/<url>` serves the capture with `Memento-Datetime`
  and the status it was captured with; `/<8 digits>id_/<site>/` (a day, as
  the replay checker asks for a front page) serves that day's capture of it.
* Failure modes: `mode = "down"` answers 503 to everything (as the Internet
  Archive did for a week in October 2024), `"silent"` never answers; a
  refused connection is a port with nothing behind it (`refused_port`).

It counts requests by API (`requests`), so tests can assert what each archive
cost. Use it in-process (`app()` with pytest-aiohttp), from a thread
(`serve_in_thread`, for the synchronous CLI), or several in a process of their
own for the benchmark (`python tests/support/fake_memento.py serve --archives 5
--latency 0.1`: prints `READY port...`, captures made up for any URL whose
hash says so, `stats` and `quit` on stdin).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email.utils
import hashlib
import json
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from support.fake_wayback import html, stamp

_STAMP_LEN = 14


def http_date(ts: str) -> str:
    moment = dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    return email.utils.format_datetime(moment, usegmt=True)


def _moment(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def _key(url: str) -> str:
    return url.split("://", 1)[-1]


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class MementoCapture:
    url: str
    timestamp: str
    status: int = 200
    body: str = ""


class FakeMemento:
    """One archive: its captures, its failure mode, what it was asked."""

    def __init__(
        self,
        *,
        page_size: int = 1000,
        latency: float = 0.0,
        mode: str = "up",
        synthetic: bool = False,
    ) -> None:
        self.page_size = page_size
        self.latency = latency
        self.mode = mode  # up, down (503), silent (never answers)
        self.synthetic = synthetic  # make captures up for a third of all URLs (benchmark)
        self.captures: dict[str, list[MementoCapture]] = {}
        self.requests: Counter[str] = Counter()
        self.memento_base: str | None = None  # TimeMaps list mementos elsewhere (guard tests)
        self._never = asyncio.Event()

    def add_capture(
        self,
        url: str,
        when: dt.datetime | str,
        *,
        status: int = 200,
        title: str = "An archived page",
        text: str = "What the page said back then.",
    ) -> str:
        ts = stamp(when)
        captures = self.captures.setdefault(_key(url), [])
        captures.append(MementoCapture(url, ts, status, html(title, text)))
        captures.sort(key=lambda capture: capture.timestamp)
        return ts

    def _of(self, url: str) -> list[MementoCapture]:
        if self.synthetic and url.startswith("http"):
            digest = hashlib.sha1(url.encode()).digest()[0]
            if digest % 3 == 0:
                return [MementoCapture(url, "20150101000000", 200, html("A page", "Words."))]
            return []
        return self.captures.get(_key(url), [])

    # the application -------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._failing])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    @web.middleware
    async def _failing(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests["all"] += 1
        if self.mode == "silent":
            await self._never.wait()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.mode == "down":
            return web.Response(
                status=503,
                text="<html><body><h1>Temporarily Offline</h1></body></html>",
                content_type="text/html",
            )
        response: web.StreamResponse = await handler(request)
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path
        base = f"{request.scheme}://{request.host}"
        if path.startswith("/timemap/link/"):
            return self._timemap(base, path.removeprefix("/timemap/link/"))
        if path.startswith("/timegate/"):
            return self._timegate(request, base, path.removeprefix("/timegate/"))
        return self._replay(path.lstrip("/"))

    def _timemap(self, base: str, rest: str) -> web.Response:
        self.requests["timemap"] += 1
        page = 1
        head, _, tail = rest.partition("/")
        if head.isdigit():
            page, rest = int(head), tail
        url = rest
        captures = self._of(url)
        if not captures:
            return web.Response(status=404, text="No Captures found for: " + url)
        start = (page - 1) * self.page_size
        shown = captures[start : start + self.page_size]
        if not shown:
            return web.Response(status=404, text="No such page")
        self_url = (
            f"{base}/timemap/link/{url}" if page == 1 else f"{base}/timemap/link/{page}/{url}"
        )
        lines = [
            f'<{url}>; rel="original"',
            f'<{self_url}>; rel="self"; type="application/link-format"; '
            f'from="{http_date(shown[0].timestamp)}"; until="{http_date(shown[-1].timestamp)}"',
            f'<{base}/timegate/{url}>; rel="timegate"',
        ]
        for index, capture in enumerate(shown):
            rel = "memento"
            if start + index == 0:
                rel = "first memento"
            elif start + index == len(captures) - 1:
                rel = "last memento"
            lines.append(
                f'<{self.memento_base or base}/{capture.timestamp}/{capture.url}>; rel="{rel}"; '
                f'datetime="{http_date(capture.timestamp)}"'
            )
        if start + self.page_size < len(captures):
            nxt = captures[start + self.page_size]
            lines.append(
                f'<{base}/timemap/link/{page + 1}/{url}>; rel="next"; '
                f'type="application/link-format"; from="{http_date(nxt.timestamp)}"'
            )
        return web.Response(text=",\n".join(lines) + "\n", content_type="application/link-format")

    def _timegate(self, request: web.Request, base: str, url: str) -> web.Response:
        self.requests["timegate"] += 1
        captures = self._of(url)
        if not captures:
            return web.Response(status=404, text="No Captures found for: " + url)
        wanted = email.utils.parsedate_to_datetime(
            request.headers.get("Accept-Datetime") or http_date(captures[-1].timestamp)
        )
        nearest = min(captures, key=lambda c: abs((_moment(c.timestamp) - wanted).total_seconds()))
        memento = f"{base}/{nearest.timestamp}/{nearest.url}"
        link = (
            f'<{url}>; rel="original", <{base}/timemap/link/{url}>; rel="timemap"; '
            f'type="application/link-format", <{memento}>; rel="memento"; '
            f'datetime="{http_date(nearest.timestamp)}"'
        )
        return web.Response(
            status=302, headers={"Location": memento, "Vary": "accept-datetime", "Link": link}
        )

    def _replay(self, rest: str) -> web.Response:
        self.requests["replay"] += 1
        ts, _, url = rest.partition("/")
        ts = ts.removesuffix("id_")
        if not ts.isdigit() or not url.startswith("http"):
            return web.Response(status=404, text="not here")
        captures = self._of(url)
        if len(ts) < _STAMP_LEN:  # a day: the nearest capture that day, as the checker asks
            day = [c for c in captures if c.timestamp.startswith(ts)]
            found = day[0] if day else None
        else:
            found = next((c for c in captures if c.timestamp == ts), None)
        if found is None:
            return web.Response(status=404, text="Not in archive")
        return web.Response(
            status=found.status,
            text=found.body,
            content_type="text/html",
            headers={
                "Memento-Datetime": http_date(found.timestamp),
                "Link": f'<{url}>; rel="original"',
            },
        )


def lookup_toml(archives: dict[str, str], *, timeout: float = 5.0, concurrency: int = 4) -> str:
    """`archive.lookup` as a TOML array for archives named id -> base URL."""
    entries = [
        "{ "
        + f'id = "{name}", name = "Archive {name}", timemap = "{base}/timemap/link/", '
        + f'timegate = "{base}/timegate/", timeout = {timeout}, concurrency = {concurrency}'
        + " }"
        for name, base in archives.items()
    ]
    return "[" + ", ".join(entries) + "]"


@contextmanager
def serve_in_thread(*fakes: FakeMemento) -> Iterator[list[str]]:
    """Serve each fake from one thread of their own; yields their base URLs."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> tuple[list[web.AppRunner], list[str]]:
        runners, bases = [], []
        for fake in fakes:
            fake._never = asyncio.Event()  # bound to this loop
            runner = web.AppRunner(fake.app(), shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            bases.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        return runners, bases

    runners, bases = asyncio.run_coroutine_threadsafe(start(), loop).result()
    try:
        yield bases
    finally:

        async def stop() -> None:
            for runner in runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


def _serve(args: argparse.Namespace) -> None:
    fakes = [
        FakeMemento(latency=args.latency, synthetic=True, mode=args.mode if i == 0 else "up")
        for i in range(args.archives)
    ]

    async def main() -> None:
        runners = []
        ports = []
        for fake in fakes:
            runner = web.AppRunner(fake.app(), shutdown_timeout=0.1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
            await site.start()
            runners.append(runner)
            ports.append(str(runner.addresses[0][1]))
        print("READY " + " ".join(ports), flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            command = line.strip()
            if command == "stats":
                print(json.dumps([dict(fake.requests) for fake in fakes]), flush=True)
            elif command in ("quit", ""):
                break
        for runner in runners:
            await runner.cleanup()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--archives", type=int, default=5)
    serve.add_argument("--latency", type=float, default=0.1)
    serve.add_argument("--mode", default="up", help="the first archive's mode: up, down, silent")
    _serve(parser.parse_args())
