"""The hostile web, served on 127.0.0.1 for linkwatch's checker tests.

One aiohttp server answers for several virtual hosts (chosen by the Host
header); `NameResolver` maps their names to 127.0.0.1 so that `Net` reaches
them through its real resolver path, private-address guard included. Beside it:
a silent server that accepts and never answers, a port where nothing listens,
and TLS servers with a good, a self-signed and a wrong-host certificate.

The server records every request it sees (`HostileWeb.seen`) and the most
requests it had in flight, per host (`peak_in_flight`) and in all
(`peak_total_in_flight`), so tests can assert politeness from the receiving end.

The root conftest loads it as a plugin (`pytest_plugins`), which makes the
fixtures below available. The test modules import this module before pytest
could rewrite its asserts, hence PYTEST_DONT_REWRITE (it has no asserts worth it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import socket
import ssl
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from linkwatch.check.verdict import CheckPolicy, Streak, decide
from linkwatch.model import CheckResult, State
from linkwatch.net.polite import Net, NetOptions

USER_AGENT = "linkwatch-test/1.0 (+https://example.org/linkwatch)"
BROWSER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")


# ---------------------------------------------------------------------------
# Names


class NameResolver(AbstractResolver):
    """Every name under .test or example.com is 127.0.0.1, but those under .public.test,
    which are a public address (only ever reached through a proxy: nothing listens
    there for the tests); `addresses` names others. Anything else is NXDOMAIN."""

    SUFFIXES = (".test", ".example.com")
    PUBLIC = "93.184.216.34"

    def __init__(self, addresses: dict[str, str] | None = None) -> None:
        self.addresses = addresses or {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        address = self.addresses.get(name)
        if address is None and name.endswith(".public.test"):
            address = self.PUBLIC
        if address is None and name.endswith(self.SUFFIXES):
            address = "127.0.0.1"
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=flags,
            )
        ]

    async def close(self) -> None:
        pass


def net_options(**overrides: Any) -> NetOptions:
    """Options for tests: short timeouts, no per-host delay, loopback allowed."""
    base = NetOptions(
        user_agent=USER_AGENT, timeout=2.0, read_timeout=2.0, host_delay=0.0, allow_private=True
    )
    return dataclasses.replace(base, **overrides)


@contextlib.asynccontextmanager
async def open_net(
    ssl_context: ssl.SSLContext | None = None,
    resolver: AbstractResolver | None = None,
    **overrides: Any,
) -> AsyncIterator[Net]:
    async with Net(
        net_options(**overrides), resolver=resolver or NameResolver(), ssl_context=ssl_context
    ) as net:
        yield net


# ---------------------------------------------------------------------------
# Responses


def html(title: str, text: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head>"
        f"<body><h1>{title}</h1><p>{text}</p></body></html>"
    )


def page(title: str, text: str, *, status: int = 200, head: str = "") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=html(title, text, head), content_type="text/html", status=status)

    return handler


def redirect(location: str, status: int = 302) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers={"Location": location})

    return handler


def plain_status(status: int) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, text=f"status {status}")

    return handler


def head_refused(status: int) -> Handler:
    """A server that answers GET but not HEAD."""
    good = page("Answers GET only", "This server does not like HEAD requests.")

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "HEAD":
            return web.Response(status=status)
        return await good(request)

    return handler


async def head_hangs(request: web.Request) -> web.StreamResponse:
    """A server that never answers HEAD (the client gives up first), but answers GET."""
    if request.method == "HEAD":
        await asyncio.Event().wait()
    return web.Response(text=html("Hangs on HEAD", "GET works."), content_type="text/html")


async def stream(
    request: web.Request,
    headers: dict[str, str],
    chunks: Iterable[bytes],
    pause: float = 0.0,
) -> web.StreamResponse:
    """Send `chunks` until they run out or the client hangs up (as it should)."""
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    with contextlib.suppress(ConnectionError):
        for chunk in chunks:
            await response.write(chunk)
            await asyncio.sleep(pause)  # yield, so that one endless stream cannot hog the loop
    return response


def gzip_bomb(inflated: int = 1 << 30) -> Iterator[bytes]:
    """A gzip stream inflating to `inflated` bytes, compressed on the fly (about 1 KB/MB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield compressor.compress(b"<html><head><title>Zeros</title></head><body>")
    zeros = bytes(1 << 20)
    for _ in range(inflated >> 20):
        yield compressor.compress(zeros)
    yield compressor.flush()


async def endless(request: web.Request) -> web.StreamResponse:
    chunk = b"<p>" + b"endless " * 8192 + b"</p>"
    return await stream(request, {"Content-Type": "text/html"}, itertools.repeat(chunk))


async def bomb(request: web.Request) -> web.StreamResponse:
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    return await stream(request, headers, gzip_bomb())


async def drip(request: web.Request) -> web.StreamResponse:
    return await stream(request, {"Content-Type": "text/html"}, itertools.repeat(b"."), pause=1.0)


async def large_pdf(request: web.Request) -> web.StreamResponse:
    headers = {"Content-Type": "application/pdf", "Content-Length": str(50 << 20)}
    return await stream(request, headers, itertools.repeat(bytes(1 << 16)))


async def slow(request: web.Request) -> web.StreamResponse:
    """Slow enough for requests to overlap, so that the per-host limit is exercised."""
    await asyncio.sleep(0.1)
    return web.Response(text="slow but fine")


CHALLENGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    '<div id="cf-chl-widget">Checking your browser before accessing the site.</div>'
    '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>'
    "</body></html>"
)


async def bot_wall(request: web.Request) -> web.StreamResponse:
    if "Mozilla/" in request.headers.get("User-Agent", ""):
        return web.Response(text=html("Article", "For browsers only."), content_type="text/html")
    headers = {"Server": "cloudflare", "cf-mitigated": "challenge"}
    return web.Response(status=403, text=CHALLENGE, content_type="text/html", headers=headers)


async def linkedin(request: web.Request) -> web.StreamResponse:
    return web.Response(status=999, text="<html><head></head></html>", content_type="text/html")


async def refused_to_robots(request: web.Request) -> web.StreamResponse:
    return web.Response(status=403, text=html("Forbidden", "No."), content_type="text/html")


async def redirect_onwards(request: web.Request) -> web.StreamResponse:
    """/hops?n=1 -> /hops?n=2 -> ... for ever."""
    step = int(request.query.get("n", "0")) + 1
    return web.Response(status=302, headers={"Location": f"/hops?n={step}"})


async def consent_gate(request: web.Request) -> web.StreamResponse:
    response = web.Response(status=302, headers={"Location": "/consent"})
    response.set_cookie("consent", "yes")
    return response


async def consent(request: web.Request) -> web.StreamResponse:
    """Sends cookieless visitors to a gate that sets a cookie and sends them back."""
    if request.cookies.get("consent") != "yes":
        return web.Response(status=302, headers={"Location": "/consent-gate"})
    return web.Response(text=html("Consented", "Thanks."), content_type="text/html")


def _to_other_host(host: str, path: str) -> Handler:
    """A redirect to another virtual host on the same port."""

    async def handler(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://{host}:{request.url.port}{path}")

    return handler


async def absolute_to_page(request: web.Request) -> web.StreamResponse:
    location = str(request.url.with_path("/page").with_query(None))
    return web.Response(status=308, headers={"Location": location})


# ---------------------------------------------------------------------------
# The server


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the server saw it."""

    host: str
    method: str
    path: str
    user_agent: str
    at: float  # time.monotonic() when the request arrived
    headers: tuple[tuple[str, str], ...] = ()  # every request header, as sent


class HostileWeb:
    """Virtual hosts on one loopback port; see the module docstring."""

    def __init__(self) -> None:
        self.port = 0
        self.seen: list[Seen] = []
        self.peak_in_flight: Counter[str] = Counter()
        self.peak_total_in_flight = 0
        self._in_flight: Counter[str] = Counter()
        not_found = page("Not found", "No such page.", status=404)
        soft_not_found = page("Page not found", "Sorry, the page you asked for does not exist.")
        self._sites: dict[str, tuple[dict[str, Handler], Handler]] = {
            "plain.test": (self._plain_routes(), not_found),
            "soft.test": (
                {
                    "/": page("Soft home", "Welcome."),
                    "/real-story": page("A real story", "Something happened, and here it is."),
                },
                soft_not_found,
            ),
            "lost.test": (
                {"/": page("Lost home", "Welcome."), "/oops": page("Oops", "Lost something?")},
                redirect("/oops"),
            ),
            "bot.test": ({"/in/someone": linkedin, "/forbidden": refused_to_robots}, bot_wall),
            # a partner site: what a site's [[rules]] table is for
            "partner.test": (
                {
                    "/": page("Partner home", "Welcome, partner."),
                    "/page": page("Partner page", "A page for partners, behind a cookie."),
                    "/forbidden": plain_status(403),
                    "/away": _to_other_host("plain.test", "/page"),
                },
                not_found,
            ),
        }

    def _plain_routes(self) -> dict[str, Handler]:
        return {
            "/": page("Plain home", "Welcome to the plain site."),
            "/index.html": redirect("/", 301),
            "/page": page("A plain   page", "Some words about a plain page that exists."),
            "/report.pdf": large_pdf,
            "/gone": plain_status(410),
            "/broken": plain_status(500),
            "/moved": redirect("/page", 301),
            "/chain/1": redirect("2", 302),  # relative to /chain/1
            "/chain/2": redirect("/chain/3", 307),
            "/chain/3": absolute_to_page,
            "/loop/a": redirect("/loop/b"),
            "/loop/b": redirect("/loop/a"),
            "/hops": redirect_onwards,
            "/to-home": redirect("/", 301),
            "/to-home-302": redirect("/", 302),
            "/refresh-home": page(
                "Moved", "Going home.", head='<meta http-equiv="refresh" content="0; url=/">'
            ),
            "/bogus-markup": page("Odd markup", "<![ bogus declaration html.parser rejects"),
            "/head-405": head_refused(405),
            "/head-404": head_refused(404),
            "/rate-limited": self._rate_limited,
            "/flaky": self._flaky,
            "/reset-once": self._reset_once,
            "/head-hangs": head_hangs,
            # The same troubles at paths that name a document, which get HEAD first.
            "/files/head-405.pdf": head_refused(405),
            "/files/head-404.pdf": head_refused(404),
            "/files/head-hangs.pdf": head_hangs,
            "/files/reset-once.pdf": self._reset_once,
            "/files/broken.pdf": plain_status(500),
            "/files/flaky-no-head.pdf": self._flaky_without_head,
            "/endless": endless,
            "/bomb": bomb,
            "/drip": drip,
            "/slow": slow,
            "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-ftp": redirect("ftp://plain.test/file"),
            "/consent": consent,
            "/consent-gate": consent_gate,
        }

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_to(self, host: str, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.host == host and (path is None or s.path == path)]

    def _times_asked(self, request: web.Request) -> int:
        return len(self.requests_to(request.url.host or "", request.path))

    async def _rate_limited(self, request: web.Request) -> web.StreamResponse:
        if self._times_asked(request) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        return web.Response(text=html("Patience", "Thanks for waiting."), content_type="text/html")

    async def _reset_once(self, request: web.Request) -> web.StreamResponse:
        if self._times_asked(request) == 1 and request.transport is not None:
            request.transport.abort()  # hang up without a word: a connection reset
        return web.Response(text=html("Reset", "Works the second time."), content_type="text/html")

    async def _flaky(self, request: web.Request) -> web.StreamResponse:
        if self._times_asked(request) == 1:
            return web.Response(status=503, text="try again")
        return web.Response(text=html("Flaky", "Works the second time."), content_type="text/html")

    async def _flaky_without_head(self, request: web.Request) -> web.StreamResponse:
        """HEAD refused, then the first GET a server error: a GET that may be asked again."""
        if request.method == "HEAD":
            return web.Response(status=405)
        if self._times_asked(request) == 2:
            return web.Response(status=503, text="try again")
        return web.Response(text=html("Flaky", "Works the second time."), content_type="text/html")

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.url.host or ""
        self.seen.append(
            Seen(
                host,
                request.method,
                request.path,
                request.headers.get("User-Agent", ""),
                time.monotonic(),
                tuple(request.headers.items()),
            )
        )
        self._in_flight[host] += 1
        self.peak_in_flight[host] = max(self.peak_in_flight[host], self._in_flight[host])
        total = self._in_flight.total()
        self.peak_total_in_flight = max(self.peak_total_in_flight, total)
        try:
            return await handler(request)
        finally:
            self._in_flight[host] -= 1

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        routes, fallback = self._sites.get(request.url.host or "", self._sites["plain.test"])
        return await routes.get(request.path, fallback)(request)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._count])
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app


async def _serve(app: web.Application, ssl_context: ssl.SSLContext | None = None) -> TestServer:
    server = TestServer(app)
    # A short shutdown: handlers still streaming at teardown are cut, not awaited.
    await server.start_server(ssl=ssl_context, shutdown_timeout=0.2)
    return server


@pytest.fixture
async def hostile_web() -> AsyncIterator[HostileWeb]:
    web_ = HostileWeb()
    server = await _serve(web_.app())
    assert server.port is not None
    web_.port = server.port
    yield web_
    await server.close()


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never says a word."""
    release = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await release.wait()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    release.set()
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port where nothing listens: bound (so no one else takes it) but not listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@dataclass(frozen=True, slots=True)
class TlsSites:
    """HTTPS ports: a certificate the client trusts, a self-signed one, one for another host."""

    client_context: ssl.SSLContext
    good_port: int
    self_signed_port: int
    wrong_host_port: int


def _server_context(configure: Callable[[ssl.SSLContext], None]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    configure(context)
    return context


@pytest.fixture(scope="session")
def certificates() -> tuple[trustme.CA, trustme.CA]:
    """The CA the client trusts, and a stranger (its own certificate is self-signed)."""
    return trustme.CA(), trustme.CA()


@pytest.fixture
async def tls_sites(certificates: tuple[trustme.CA, trustme.CA]) -> AsyncIterator[TlsSites]:
    trusted, stranger = certificates
    client_context = ssl.create_default_context()
    trusted.configure_trust(client_context)

    def self_signed(context: ssl.SSLContext) -> None:
        with stranger.cert_pem.tempfile() as cert, stranger.private_key_pem.tempfile() as key:
            context.load_cert_chain(cert, key)

    contexts = (
        _server_context(trusted.issue_cert("secure.test").configure_cert),
        _server_context(self_signed),
        _server_context(trusted.issue_cert("other.test").configure_cert),
    )
    servers = []
    for context in contexts:
        app = web.Application()
        app.router.add_get("/", page("Secure", "Encrypted words."))
        servers.append(await _serve(app, context))
    ports = [server.port for server in servers]
    assert all(port is not None for port in ports)
    yield TlsSites(client_context, *ports)  # type: ignore[arg-type]
    for server in servers:
        await server.close()


# ---------------------------------------------------------------------------
# Measuring


async def traced_peak(work: Coroutine[Any, Any, T]) -> tuple[T, int]:
    """Run `work` and return its result with the peak of traced Python memory meanwhile."""
    tracemalloc.start()
    try:
        result = await work
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


JUDGED_FROM = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def judged_over_four_days(result: CheckResult) -> tuple[State, State]:
    """The state after one check, and after the same answer came once a day for four
    days (3 failures over 3 days: what the default policy needs to call a URL dead)."""
    state, streak = State.UNCHECKED, Streak()
    states = []
    for day in range(4):
        moment = JUDGED_FROM + dt.timedelta(days=day)
        verdict = decide(state, streak, result, CheckPolicy(), moment)
        state, streak = verdict.state, verdict.streak
        states.append(state)
    return states[0], states[-1]


async def bounded(work: Awaitable[T], seconds: float = 15.0) -> T:
    """Fail rather than hang: every check must finish within a generous bound."""
    async with asyncio.timeout(seconds):
        return await work
