"""A simulated web on loopback, and the bare aiohttp client it is measured with.

Shared by the linkwatch benchmarks; run as a script it is one of two programs:

    python bench/_web.py serve --hosts 500 --latency 0.05
    python bench/_web.py bare URLS.txt --concurrency 64 --per-host 2 --host-delay 1

`serve` answers on `--hosts` loopback addresses (127.0.1.1, 127.0.1.2, ...; one
listening socket per address, all on one port), so that every client sees that
many distinct hosts. Every answer waits `--latency` seconds first. What a URL
answers is written in its path, so the server keeps no per-URL state:

    /news/N/slug    200 text/html, a 2-10 KB page with a <title>
    /old/N          301 -> /news/N/moved (which answers 200 as above)
    /gone/N/slug    404 text/html
    /files/N.pdf    200 application/pdf, 20 KB (206 and its first 1 KiB for a Range)
    /slow/N/slug    200 text/html after 1-2 s more
    anything else   404 (so a soft-404 probe of a random path is answered honestly)

It prints `READY <port>` on stdout once every socket listens, then obeys lines
on stdin: `reset [SECONDS]` (forget the counters; count from now on the request
starts that follow the previous start to their host by less than SECONDS),
`stats` (one JSON line: requests by method and status, the most requests in
flight to one host at once, the shortest gap between two request starts to one
host, how many gaps were short, ...) and `quit`.

`bare` checks the URLs of a file (one per line) the way linkwatch does, with
none of its work beyond the network: GET for pages (the body of an HTML page
read, not parsed), HEAD first for a path naming a document (.pdf) and GET when
HEAD failed, redirects followed by hand, a server error asked once more, one
random-path probe per host; under the same global limit, per-host limit and
minimum gap between request starts to one host. It prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import socket
import string
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from yarl import URL

from linkwatch.check.shapes import probe_url, url_shape

# --- the plan: which URL answers what -------------------------------------------

HTML, MOVED, GONE, PDF, SLOW = "html", "moved", "gone", "pdf", "slow"
# Share of each kind among generated URLs.
MIX: dict[str, float] = {HTML: 0.81, MOVED: 0.08, GONE: 0.07, PDF: 0.03, SLOW: 0.01}
SLOW_MIN, SLOW_SPREAD = 1.0, 1.0  # a slow page answers after 1-2 s (plus the latency)
PDF_BYTES = 20_000

# Requests linkwatch sends per URL of each kind (one GET per hop for a page; a
# PDF gets HEAD, then a GET of its first kilobyte to confirm it).
REQUESTS: dict[str, int] = {HTML: 1, MOVED: 2, GONE: 1, PDF: 2, SLOW: 1}
# The URL shape each kind that answers a page gets a shaped soft-404 probe for, per host
# (see linkwatch.check.shapes): /news/N/slug, /old/N (301 to a page), /slow/N/slug.
SHAPES: dict[str, str] = {HTML: "/news/#/~", MOVED: "/old/#", SLOW: "/slow/#/~"}
RANGE_BYTES = 1024  # what linkwatch asks of a document: Range: bytes=0-1023

WORDS = (
    "court", "report", "statement", "resolution", "detention", "appeal", "hearing",
    "verdict", "activists", "journalists", "opposition", "prosecutor", "investigation",
    "extradition", "sanctions", "parliament", "commission", "delegation", "observers",
    "monitoring", "mission", "testimony", "evidence", "witnesses", "lawyers", "reform",
    "judiciary", "police", "elections", "legislation", "freedom", "assembly", "speech",
    "rights", "prisoners", "torture", "impunity", "corruption", "assets", "documents",
    "the", "of", "and", "in", "on", "with", "after", "before", "against", "for",
)  # fmt: skip


def host_ips(count: int) -> list[str]:
    """`count` loopback addresses, 127.0.1.1 onwards (250 per /24, no .0 or .255)."""
    if not 1 <= count <= 250 * 254:
        raise ValueError(f"between 1 and {250 * 254} hosts, not {count}")
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(count)]


@dataclass(frozen=True, slots=True)
class PlannedUrl:
    url: str
    host: int  # index into host_ips()
    kind: str
    n: int


def slow_seconds(n: int) -> float:
    """Extra seconds a slow page takes, 1-2 s, fixed by its number."""
    return SLOW_MIN + SLOW_SPREAD * ((n * 7919) % 1000) / 1000


def plan_urls(
    count: int, hosts: int, port: int, *, seed: int = 1, first: int = 0
) -> list[PlannedUrl]:
    """`count` distinct URLs, spread evenly over the hosts (URL i on host i mod hosts).

    Numbers start at `first`, so two plans with disjoint ranges share no URL.
    """
    rng = random.Random(seed * 1_000_003 + first)
    ips = host_ips(hosts)
    kinds = list(MIX)
    weights = [MIX[k] for k in kinds]
    out: list[PlannedUrl] = []
    for i in range(count):
        n = first + i
        host = i % hosts
        kind = rng.choices(kinds, weights)[0]
        slug = "-".join(rng.choice(WORDS[:40]) for _ in range(rng.randint(2, 6)))
        base = f"http://{ips[host]}:{port}"
        if kind == HTML:
            path = f"/news/{n}/{slug}"
        elif kind == MOVED:
            path = f"/old/{n}"
        elif kind == GONE:
            path = f"/gone/{n}/{slug}"
        elif kind == PDF:
            path = f"/files/{n}.pdf"
        else:
            path = f"/slow/{n}/{slug}"
        out.append(PlannedUrl(base + path, host, kind, n))
    return out


# --- the server ----------------------------------------------------------------


def _text_pool(seed: int = 7, size: int = 24_000) -> str:
    rng = random.Random(seed)
    words: list[str] = []
    length = 0
    while length < size:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
        words.append(sentence.capitalize() + ".")
        length += len(words[-1]) + 1
    return " ".join(words)


_POOL = _text_pool()


def page(n: int, title: str) -> bytes:
    """A 2-10 KB HTML page, its text drawn from a shared pool at an offset set by `n`."""
    size = 2000 + (n * 7901) % 8000
    start = (n * 104_729) % (len(_POOL) - size)
    text = _POOL[start : start + size]
    middle = len(text) // 2
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        '<meta name="viewport" content="width=device-width">'
        "<style>body{font-family:serif;max-width:40em}</style></head>\n"
        f"<body><header><nav><a href='/'>Home</a> | <a href='/news/'>News</a></nav></header>"
        f"<main><h1>{title}</h1><p>{text[:middle]}</p>\n<p>{text[middle:]}</p></main>"
        "<footer>(c) The Example Gazette</footer></body></html>\n"
    ).encode()


_NOT_FOUND = (
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>"
)
_PDF = b"%PDF-1.4\n" + bytes(PDF_BYTES - 9)


@dataclass(slots=True)
class _HostCounters:
    in_flight: int = 0
    max_in_flight: int = 0
    last_start: float | None = None
    min_gap: float | None = None
    short_gaps: int = 0  # starts closer than `close` after the previous one
    requests: int = 0


@dataclass(slots=True)
class Counters:
    close: float = 0.0  # a gap between two starts to one host shorter than this is counted
    hosts: dict[str, _HostCounters] = field(default_factory=dict)
    methods: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    page_requests: int = 0  # for pages and probes: not /old/, /gone/, /files/, nor /moved hops
    in_flight: int = 0
    max_in_flight: int = 0

    def start(self, host: str, method: str, path: str = "") -> None:
        if not path.startswith(("/old/", "/gone/", "/files/")) and not path.endswith("/moved"):
            self.page_requests += 1
        counters = self.hosts.get(host)
        if counters is None:
            counters = self.hosts[host] = _HostCounters()
        now = time.monotonic()
        if counters.last_start is not None:
            gap = now - counters.last_start
            counters.min_gap = gap if counters.min_gap is None else min(counters.min_gap, gap)
            counters.short_gaps += gap < self.close
        counters.last_start = now
        counters.requests += 1
        counters.in_flight += 1
        counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.methods[method] += 1

    def end(self, host: str, status: int) -> None:
        self.hosts[host].in_flight -= 1
        self.in_flight -= 1
        self.statuses[status] += 1

    def report(self) -> dict[str, object]:
        gaps = [c.min_gap for c in self.hosts.values() if c.min_gap is not None]
        per_host = [c.requests for c in self.hosts.values()]
        return {
            "requests": sum(self.methods.values()),
            "page_requests": self.page_requests,
            "methods": dict(self.methods),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "hosts": len(self.hosts),
            "max_in_flight_per_host": max(
                (c.max_in_flight for c in self.hosts.values()), default=0
            ),
            "min_gap_per_host": min(gaps) if gaps else None,
            "short_gaps": sum(c.short_gaps for c in self.hosts.values()),
            "close": self.close,
            "max_requests_per_host": max(per_host, default=0),
            "max_in_flight": self.max_in_flight,
        }


class Server:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.counters = Counters()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        host = sockname[0] if sockname else "?"
        counters = self.counters  # a reset while this request runs must not break its count
        counters.start(host, request.method, request.path)
        status = 500
        try:
            response = await self._answer(request.path, request.headers.get("Range", ""))
            status = response.status
            return response
        finally:
            counters.end(host, status)

    async def _answer(self, path: str, wanted: str = "") -> web.Response:
        parts = path.split("/")
        section = parts[1] if len(parts) > 2 else ""
        number = parts[2].removesuffix(".pdf") if len(parts) > 2 else ""
        if not number.isdigit() or section not in ("news", "old", "gone", "files", "slow"):
            await asyncio.sleep(self.latency)
            return web.Response(status=404, body=_NOT_FOUND, content_type="text/html")
        n = int(number)
        if section == "slow":
            await asyncio.sleep(self.latency + slow_seconds(n))
        else:
            await asyncio.sleep(self.latency)
        if section in ("news", "slow"):
            title = f"Report {n}: {' '.join(parts[3:]).replace('-', ' ')}".strip()
            return web.Response(body=page(n, title), content_type="text/html", charset="utf-8")
        if section == "old":
            return web.Response(status=301, headers={"Location": f"/news/{n}/moved"})
        if section == "files" and wanted == f"bytes=0-{RANGE_BYTES - 1}":
            headers = {"Content-Range": f"bytes 0-{RANGE_BYTES - 1}/{len(_PDF)}"}
            return web.Response(
                status=206, body=_PDF[:RANGE_BYTES], content_type="application/pdf", headers=headers
            )
        if section == "files":
            return web.Response(body=_PDF, content_type="application/pdf")
        return web.Response(status=404, body=_NOT_FOUND, content_type="text/html")


def _listen_all(ips: Sequence[str], wanted: int | None) -> tuple[int, list[socket.socket]]:
    """One listening socket per address, all on one port outside the ephemeral range."""
    rng = random.Random()
    for _ in range(50):
        port = wanted or rng.randrange(20_000, 32_000)
        sockets: list[socket.socket] = []
        try:
            for ip in ips:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((ip, port))
                sock.listen(1024)
                sock.setblocking(False)
        except OSError:
            for sock in sockets:
                sock.close()
            continue
        return port, sockets
    raise OSError("no port free on every loopback address")


async def serve(hosts: int, latency: float, port: int | None = None) -> None:
    # Ahead of other processes where allowed: a server that waits for a core stamps
    # request starts late and bunched, and its gap figures would blame the client.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    server = Server(latency)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    port, sockets = _listen_all(host_ips(hosts), port)
    for sock in sockets:
        await web.SockSite(runner, sock, backlog=1024).start()
    print(f"READY {port}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().strip():
            if line.startswith("reset"):
                _, _, close = line.partition(" ")
                server.counters = Counters(close=float(close or 0))
                print("OK", flush=True)
            elif line == "stats":
                print(json.dumps(server.counters.report()), flush=True)
            elif line == "quit":
                break
    finally:
        await runner.cleanup()


# --- the bare client -------------------------------------------------------------


class Gate:
    """At most `concurrency` requests in flight, `per_host` per host, starts `delay` apart."""

    def __init__(self, concurrency: int, per_host: int, delay: float) -> None:
        self.global_slots = asyncio.Semaphore(concurrency)
        self.per_host = per_host
        self.delay = delay
        self.hosts: dict[str, tuple[asyncio.Semaphore, list[float]]] = {}

    @asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        entry = self.hosts.get(host)
        if entry is None:
            entry = self.hosts[host] = (asyncio.Semaphore(self.per_host), [0.0])
        slots, next_start = entry
        async with slots:
            while True:
                wait = next_start[0] - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.global_slots.acquire()
                now = time.monotonic()
                if now >= next_start[0]:
                    next_start[0] = now + self.delay
                    break
                self.global_slots.release()
            try:
                yield
            finally:
                self.global_slots.release()


@dataclass(slots=True)
class BareClient:
    session: aiohttp.ClientSession
    gate: Gate
    max_body: int
    probes: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    requests: int = 0
    errors: int = 0

    async def one(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Send one request; (status, Location or '', media type)."""
        target = URL(url)
        async with self.gate.turn(f"{target.host}:{target.port}"):
            self.requests += 1
            async with self.session.request(
                method, target, allow_redirects=False, headers=headers
            ) as answer:
                media = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if method == "GET" and 200 <= answer.status < 300 and media == "text/html":
                    await answer.content.read(self.max_body)
                elif headers and 200 <= answer.status < 300:
                    await answer.content.read(RANGE_BYTES)
                return answer.status, answer.headers.get("Location", ""), media

    async def follow(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str, str] | None:
        for _ in range(21):
            try:
                status, location, media = await self.one(method, url, headers)
            except (aiohttp.ClientError, TimeoutError):
                return None
            if status not in (301, 302, 303, 307, 308) or not location:
                return status, url, media
            url = str(URL(url).join(URL(location)))
        return None

    async def probe(self, origin: str, url: str | None = None) -> None:
        if url is None:
            alphabet = string.ascii_lowercase + string.digits
            url = f"{origin}/{''.join(secrets.choice(alphabet) for _ in range(20))}"
        await self.follow("GET", url)

    async def probe_once(self, key: str, origin: str, url: str | None = None) -> None:
        task = self.probes.get(key)
        if task is None:
            task = self.probes[key] = asyncio.create_task(self.probe(origin, url))
        await asyncio.shield(task)

    async def check(self, url: str) -> None:
        if url.endswith(".pdf"):
            head = await self.follow("HEAD", url)
            if head is not None and (200 <= head[0] < 300 and head[2] != "text/html"):
                await self.follow("GET", head[1], {"Range": f"bytes=0-{RANGE_BYTES - 1}"})
                return
            if head is not None and 300 <= head[0] < 400:
                return
            answer = await self.follow("GET", url if head is None else head[1])
        else:
            answer = await self.follow("GET", url)
            if answer is not None and answer[0] >= 500:
                answer = await self.follow("GET", url)
        if answer is None:
            self.errors += 1
        elif 200 <= answer[0] < 300 and answer[2] == "text/html":
            origin = str(URL(url).origin())
            await self.probe_once(origin, origin)
            shape = url_shape(url)  # the shaped probe, one per host and shape, as linkwatch
            if shape is not None:
                await self.probe_once(f"{origin} {shape.key}", origin, probe_url(shape))


async def bare(
    urls: Sequence[str],
    *,
    concurrency: int,
    per_host: int,
    host_delay: float,
    timeout: float,
    max_body: int,
) -> dict[str, object]:
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=per_host)
    client_timeout = aiohttp.ClientTimeout(total=timeout, sock_read=min(10.0, timeout))
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=client_timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": "bare-aiohttp-loop"},
    ) as session:
        client = BareClient(session, Gate(concurrency, per_host, host_delay), max_body)
        await asyncio.gather(*(client.check(url) for url in urls))
    return {"checked": len(urls), "requests": client.requests, "errors": client.errors}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="run the simulated web")
    serve_cmd.add_argument("--hosts", type=int, default=500)
    serve_cmd.add_argument("--latency", type=float, default=0.05)
    serve_cmd.add_argument("--port", type=int, help="this port (default: any free one)")
    bare_cmd = commands.add_parser("bare", help="check URLs with a bare aiohttp loop")
    bare_cmd.add_argument("urls_file")
    bare_cmd.add_argument("--concurrency", type=int, default=64)
    bare_cmd.add_argument("--per-host", type=int, default=2)
    bare_cmd.add_argument("--host-delay", type=float, default=1.0)
    bare_cmd.add_argument("--timeout", type=float, default=20.0)
    bare_cmd.add_argument("--max-body", type=int, default=256 * 1024)
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(serve(args.hosts, args.latency, args.port))
        return 0
    with open(args.urls_file, encoding="utf-8") as file:
        urls = [line.strip() for line in file if line.strip()]
    result = asyncio.run(
        bare(
            urls,
            concurrency=args.concurrency,
            per_host=args.per_host,
            host_delay=args.host_delay,
            timeout=args.timeout,
            max_body=args.max_body,
        )
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
