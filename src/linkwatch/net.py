"""The network layer: one polite, hostile-web-proof aiohttp session per run.

Everything aiohttp-specific lives here. `check.py` sends single requests through
`Net.request` (redirects are followed by hand there, so that every hop passes the
same limits and the same private-address guard) and only ever sees `Response`
values or `NetError`; `translate_error` is the one place that maps foreign
exceptions to `ErrorKind`.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDictProxy
from yarl import URL

from linkwatch.model import ErrorKind

__all__ = [
    "BodyLimit",
    "Net",
    "NetError",
    "NetOptions",
    "PrivateAddressGuard",
    "Response",
    "is_public_address",
    "media_type",
    "translate_error",
]

# Header lines of real sites outgrow aiohttp's 8 KiB default (huge cookies, CSPs);
# refusing them would turn a live page into a protocol error.
_MAX_HEADER_BYTES = 64 * 1024

_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True, slots=True)
class NetOptions:
    """How politely and how defensively to talk to the web."""

    user_agent: str
    timeout: float = 20.0  # total seconds per request (connect+headers+body)
    read_timeout: float = 10.0  # per-read (sock_read) seconds
    concurrency: int = 64  # overall requests in flight
    per_host: int = 2  # requests in flight to one host
    host_delay: float = 1.0  # minimum seconds between request starts to one host
    allow_private: bool = False
    max_body: int = 256 * 1024  # decompressed bytes read at most
    retry_after_cap: float = 60.0  # longest Retry-After we wait for
    max_redirects: int = 10
    # Host names exempt from the private-address guard (an intranet site the
    # operator vouches for). The proxies named by the environment are always exempt.
    trusted_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP answer, with at most the start of its (decompressed) body."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    truncated: bool  # the body went on past what was read
    elapsed: float

    @property
    def charset(self) -> str | None:
        for param in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


def media_type(headers: Mapping[str, str]) -> str:
    """The Content-Type's media type in lower case, '' when the server sent none."""
    return headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


# How many body bytes to read, decided once status and headers are known
# (a redirect or a PDF needs none, an HTML page needs its start).
BodyLimit = int | Callable[[int, CIMultiDictProxy[str]], int]


class NetError(Exception):
    """A request got no usable HTTP answer; `kind` says why, `detail` says it to people."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


# ---------------------------------------------------------------------------
# Private-address guard


def _embedded_ipv4(address: ipaddress.IPv6Address) -> Iterable[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address smuggles (mapped, 6to4, NAT64, Teredo)."""
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
    if address.sixtofour is not None:
        yield address.sixtofour
    if address in _NAT64:
        yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        yield from address.teredo


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(host: str) -> bool:
    """True for a globally routable unicast address.

    `is_global` already excludes loopback, private, link-local (cloud metadata at
    169.254.169.254), shared (100.64/10), reserved and unspecified ranges; multicast
    is checked apart because Python counts some multicast ranges as global.
    """
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(is_public_address(str(inner)) for inner in _embedded_ipv4(address))
    return True


def _refusal(address: str, host: str) -> NetError:
    return NetError(
        ErrorKind.PRIVATE_ADDRESS,
        f"refused private address {address} for host {host} (check.allow_private is false)",
    )


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


class PrivateAddressGuard(AbstractResolver):
    """Resolver that drops non-public addresses, so the check happens AFTER DNS.

    Filtering what the connector actually connects to (rather than resolving
    once to vet, then again to connect) leaves no window for DNS rebinding. When
    a name has public and private addresses, only the public ones are kept.
    """

    def __init__(self, inner: AbstractResolver, trusted_hosts: frozenset[str]) -> None:
        self._inner = inner
        self._trusted = trusted_hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if host.lower().rstrip(".") in self._trusted:
            return answers
        public = [answer for answer in answers if is_public_address(answer["host"])]
        if not public and answers:
            raise _refusal(answers[0]["host"], host)
        return public

    async def close(self) -> None:
        await self._inner.close()


class _EnvironmentProxies:
    """HTTP(S)_PROXY and NO_PROXY, read once per run, by aiohttp's own rules.

    aiohttp's `trust_env` would read them, and ~/.netrc, again for every request
    in a worker thread: a third of the checker's CPU. (It would also send
    ~/.netrc credentials to any cited host named there, which a checker must not.)
    """

    def __init__(self) -> None:
        self._by_scheme = aiohttp.helpers.proxies_from_env()
        self._bypassed: dict[str, bool] = {}

    @property
    def hosts(self) -> frozenset[str]:
        """The proxies' own hosts: usually private, and they must be reached."""
        hosts = (info.proxy.host for info in self._by_scheme.values())
        return frozenset(host.lower() for host in hosts if host)

    def for_url(self, url: URL) -> aiohttp.helpers.ProxyInfo | None:
        info = self._by_scheme.get(url.scheme)
        if info is None or not url.host:
            return None
        bypassed = self._bypassed.get(url.host)
        if bypassed is None:
            bypassed = self._bypassed[url.host] = bool(urllib.request.proxy_bypass(url.host))
        return None if bypassed else info


# ---------------------------------------------------------------------------
# Politeness


@dataclass(slots=True)
class _HostSlot:
    in_flight: asyncio.Semaphore
    next_start: float = 0.0  # time.monotonic() before which no request may start
    users: int = 0  # requests holding or waiting for this slot


class _Gate:
    """Global and per-host concurrency plus a minimum gap between starts to one host.

    A request first waits for its host (costing no global slot, so one slow host
    cannot starve the others), then for the host's next allowed start, then for a
    global slot. Claiming the start happens with no await between the test and
    the update, so two requests of one host can never start closer than `delay`.
    Idle hosts are forgotten, which keeps a run over thousands of hosts small.
    """

    def __init__(self, concurrency: int, per_host: int, delay: float) -> None:
        self._global = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._delay = delay
        self._hosts: dict[str, _HostSlot] = {}

    @asynccontextmanager
    async def turn(self, host_key: str) -> AsyncIterator[None]:
        slot = self._hosts.get(host_key)
        if slot is None:
            slot = self._hosts[host_key] = _HostSlot(asyncio.Semaphore(self._per_host))
        slot.users += 1
        try:
            async with slot.in_flight:
                await self._claim_start(slot)
                try:
                    yield
                finally:
                    self._global.release()
        finally:
            slot.users -= 1
            if slot.users == 0 and time.monotonic() >= slot.next_start:
                del self._hosts[host_key]

    async def _claim_start(self, slot: _HostSlot) -> None:
        """Return holding a global slot, with this host's start claimed."""
        while True:
            wait = slot.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._global.acquire()
            now = time.monotonic()
            if now >= slot.next_start:
                slot.next_start = now + self._delay
                return
            self._global.release()  # another request of this host started meanwhile


# ---------------------------------------------------------------------------
# Errors


def _os_error_kind(error: OSError) -> ErrorKind:
    if isinstance(error, ConnectionRefusedError) or error.errno == errno.ECONNREFUSED:
        return ErrorKind.REFUSED
    if isinstance(error, ConnectionResetError) or error.errno in (errno.ECONNRESET, errno.EPIPE):
        return ErrorKind.RESET
    if isinstance(error, TimeoutError) or error.errno == errno.ETIMEDOUT:
        return ErrorKind.TIMEOUT
    return ErrorKind.UNREACHABLE


def _tls_detail(exc: BaseException) -> str:
    cause = (
        exc.certificate_error if isinstance(exc, aiohttp.ClientConnectorCertificateError) else exc
    )
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError) and cause.reason:
        return f"TLS error: {cause.reason}"
    return f"TLS error: {cause}"


def translate_error(exc: BaseException) -> NetError:
    """Map an aiohttp / ssl / socket / asyncio exception to the most specific NetError.

    Order matters: aiohttp's classes inherit from several builtin ones at once
    (a DNS error is a connector error is an OSError), so specific cases go first.
    """
    if isinstance(exc, NetError):
        return exc
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return NetError(
            ErrorKind.DNS, f"cannot resolve {exc.host}: {exc.os_error.strerror or exc.os_error}"
        )
    if isinstance(exc, socket.gaierror):
        return NetError(ErrorKind.DNS, f"cannot resolve host: {exc.strerror or exc}")
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError | ssl.CertificateError):
        return NetError(ErrorKind.TLS, _tls_detail(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        kind = _os_error_kind(exc.os_error)
        reason = "connection refused" if kind is ErrorKind.REFUSED else exc.os_error.strerror
        return NetError(kind, f"cannot connect to {exc.host}:{exc.port}: {reason or exc.os_error}")
    if isinstance(exc, ValueError):  # aiohttp.InvalidURL, yarl's parse, IDNA encoding
        return NetError(ErrorKind.INVALID_URL, f"invalid URL: {exc}")
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and aiohttp's timeouts alike
        return NetError(ErrorKind.TIMEOUT, f"no answer in time ({type(exc).__name__})")
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return NetError(ErrorKind.RESET, f"connection closed mid-answer: {exc}")
    if isinstance(exc, aiohttp.ClientResponseError | HttpProcessingError):
        message = getattr(exc, "message", "") or str(exc)
        return NetError(ErrorKind.PROTOCOL, f"broken HTTP answer: {message}")
    if isinstance(exc, OSError):
        return NetError(_os_error_kind(exc), f"network error: {exc.strerror or exc}")
    if isinstance(exc, aiohttp.ClientError):
        return NetError(ErrorKind.PROTOCOL, f"HTTP client error: {type(exc).__name__}: {exc}")
    return NetError(ErrorKind.PROTOCOL, f"unexpected {type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------
# The session


def _host_key(url: URL) -> str:
    return f"{(url.host or '').lower()}:{url.port}"


class Net:
    """One aiohttp session per run, shared by every check of that run."""

    def __init__(
        self,
        options: NetOptions,
        *,
        resolver: AbstractResolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.options = options
        self._resolver = resolver
        self._ssl_context = ssl_context
        self._proxies = _EnvironmentProxies()
        self._trusted = frozenset(h.lower() for h in options.trusted_hosts) | self._proxies.hosts
        self._gate = _Gate(options.concurrency, options.per_host, options.host_delay)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Net:
        resolver = self._resolver or aiohttp.DefaultResolver()
        if not self.options.allow_private:
            resolver = PrivateAddressGuard(resolver, self._trusted)
        connector = aiohttp.TCPConnector(
            resolver=resolver,
            ttl_dns_cache=300,
            limit=self.options.concurrency,
            limit_per_host=self.options.per_host,
            ssl=self._ssl_context or ssl.create_default_context(),
        )
        timeout = aiohttp.ClientTimeout(
            total=self.options.timeout,
            sock_connect=min(self.options.timeout, self.options.read_timeout),
            sock_read=self.options.read_timeout,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={"User-Agent": self.options.user_agent, "Accept": _ACCEPT},
            trust_env=False,  # the proxy variables are read once: _EnvironmentProxies
            # Cookies live for one redirect chain (check.py carries them); a run-wide
            # jar would grow with every site and leak one check's state into the next.
            cookie_jar=aiohttp.DummyCookieJar(),
            max_line_size=_MAX_HEADER_BYTES,
            max_field_size=_MAX_HEADER_BYTES,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        read_limit: BodyLimit = 0,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send ONE request (no redirect following) and read at most `read_limit` body bytes.

        `read_limit` may be decided from status and headers; it is capped at
        `max_body`, and HEAD never reads. Raises NetError, nothing else.
        """
        if self._session is None:
            raise RuntimeError("Net is used outside `async with`")
        try:
            target = URL(url)
            self._vet_ip_literal(target)
            async with self._gate.turn(_host_key(target)):
                return await self._send(self._session, method, url, target, read_limit, headers)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise translate_error(exc) from exc

    def _vet_ip_literal(self, url: URL) -> None:
        """The connector skips the resolver for IP literals, so vet them before sending."""
        host = url.host or ""
        literal = _ip_literal(host)
        if (
            literal is not None
            and not self.options.allow_private
            and host.lower() not in self._trusted
            and not is_public_address(literal)
        ):
            raise _refusal(literal, host)

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        target: URL,
        read_limit: BodyLimit,
        headers: Mapping[str, str] | None,
    ) -> Response:
        started = time.monotonic()
        proxy = self._proxies.for_url(target)
        async with session.request(
            method,
            target,
            allow_redirects=False,
            headers=headers,
            proxy=None if proxy is None else proxy.proxy,
            proxy_auth=None if proxy is None else proxy.proxy_auth,
        ) as answer:
            limit = (
                read_limit(answer.status, answer.headers) if callable(read_limit) else read_limit
            )
            limit = 0 if method == "HEAD" else max(0, min(limit, self.options.max_body))
            body, truncated = await _read_start(answer, limit)
            return Response(
                url=url,  # as given: the caller compares it with the URLs it knows
                status=answer.status,
                headers=answer.headers,
                body=body,
                truncated=truncated,
                elapsed=time.monotonic() - started,
            )


async def _read_start(answer: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """Read at most `limit` decompressed bytes, then drop the connection if more follows.

    Once the status line is in, the server has answered: a body that stalls,
    breaks or never ends is cut short rather than turned into an error, and
    `truncated` says so.
    """
    if limit == 0:
        if answer.content.at_eof():
            answer.release()
            return b"", False
        answer.close()
        return b"", True
    parts: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            chunk = await answer.content.read(limit + 1 - size)
            if not chunk:
                answer.release()
                return b"".join(parts), False
            parts.append(chunk)
            size += len(chunk)
    except (TimeoutError, aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
        pass
    answer.close()
    return b"".join(parts)[:limit], True
