"""The HTTP session every request linkwatch makes goes through: checks, archives, sources.

One base for every client, so that one rule holds everywhere:

- the private-address guard vets every address connected to, after DNS
  (`guard`), and, through a proxy, every host name before the request is
  handed to the proxy (a proxy resolves names itself, so nothing would be
  vetted otherwise); endpoints the operator vouches for are trusted on their
  own port only;
- the proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are read once, by
  aiohttp's own rules (`proxies`); `trust_env` stays off, so `~/.netrc`
  credentials are never sent to any host, a cited site or an archive;
- no cookie jar outlives a request: a chain of redirects carries its own;
- a request is one request: redirects are followed by the caller, hop by
  hop, each through the guard again;
- a body is read up to a limit and then the connection is dropped;
- foreign exceptions become `NetError` (`translate`), nothing else escapes.

`Net` (the checker's, `polite`) adds politeness per host on top.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from linkwatch.model import ErrorKind
from linkwatch.net.guard import Endpoint, PrivateAddressGuard, ip_literal, is_public_address
from linkwatch.net.guard import refusal as private_address_refusal
from linkwatch.net.proxies import EnvironmentProxies
from linkwatch.net.response import BodyLimit, HttpResponse
from linkwatch.net.translate import translate_error

# Header lines of real sites outgrow aiohttp's 8 KiB default (huge cookies, CSPs);
# refusing them would turn a live page into a protocol error.
_MAX_HEADER_BYTES = 64 * 1024

_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The system CA store, read once per process: reading it costs about 0.2 s of CPU,
    and an archive run opens a session per archive of the look-up list."""
    return ssl.create_default_context()


def endpoint_of(url: str) -> Endpoint:
    """(host, port) of a URL, the port filled in from the scheme: what trust is given to."""
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    return ((parts.hostname or "").lower().rstrip("."), port)


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
    max_redirects: int = 20  # as browsers: Chrome and Firefox follow 20
    # Endpoints (host, port) exempt from the private-address guard: a self-hosted
    # archive, an intranet site the operator vouches for. The proxies named by the
    # environment are always exempt, on their own port.
    trusted: frozenset[Endpoint] = frozenset()
    accept: str = _ACCEPT


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str
    target: URL
    proxy: aiohttp.helpers.ProxyInfo | None
    headers: Mapping[str, str] | None
    params: Mapping[str, str] | None
    data: Mapping[str, str] | bytes | None
    timeout: float | None


class HttpSession:
    """One aiohttp session, used with `async with`; `send` makes one request."""

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
        self._proxies = EnvironmentProxies()
        self._trusted = frozenset(options.trusted) | self._proxies.endpoints
        self._guard: PrivateAddressGuard | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        resolver: AbstractResolver = self._resolver or aiohttp.DefaultResolver()
        if not self.options.allow_private:
            resolver = self._guard = PrivateAddressGuard(resolver, self._trusted)
        connector = aiohttp.TCPConnector(
            resolver=resolver,
            ttl_dns_cache=300,
            limit=self.options.concurrency,
            limit_per_host=self.options.per_host,
            ssl=self._ssl_context or _default_ssl_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout(self.options.timeout),
            headers={"User-Agent": self.options.user_agent, "Accept": self.options.accept},
            trust_env=False,  # the proxy variables are read once; ~/.netrc never
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

    def _timeout(self, total: float) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=total,
            sock_connect=min(total, self.options.read_timeout),
            sock_read=self.options.read_timeout,
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        read_limit: BodyLimit = 0,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | bytes | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send ONE request (no redirect following) and read at most `read_limit` body bytes.

        `read_limit` may be decided from status and headers; it is capped at
        `max_body`, and HEAD never reads. Raises NetError, nothing else.
        """
        if self._session is None:
            raise RuntimeError(f"{type(self).__name__} is used outside `async with`")
        try:
            target = URL(url)
            proxy = self._proxies.for_url(target)
            await self._vet(target, proxied=proxy is not None)
            request = _Request(method, url, target, proxy, headers, params, data, timeout)
            return await self._send(self._session, request, read_limit)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise translate_error(exc) from exc

    async def vet(self, url: str) -> None:
        """Raise NetError (PRIVATE_ADDRESS) unless the guard would let `url`'s host be reached.

        For a URL another party will fetch on linkwatch's behalf (an archive asked to
        save it): the guard sees no connection then, so the host is resolved and vetted
        here. A name that does not resolve is not refused: the archive finds that out.
        """
        try:
            await self._vet(URL(url), proxied=True)
        except Exception as exc:
            error = translate_error(exc)
            if error.kind is ErrorKind.PRIVATE_ADDRESS:
                raise error from None

    async def _vet(self, url: URL, *, proxied: bool) -> None:
        """What the connector's resolver cannot see: IP literals (it skips the resolver for
        them) and, through a proxy, the host itself (the proxy resolves it)."""
        if self.options.allow_private:
            return
        host = (url.host or "").lower().rstrip(".")
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        if (host, port) in self._trusted:
            return
        literal = ip_literal(host)
        if literal is not None:
            if not is_public_address(literal):
                raise private_address_refusal(literal, host)
        elif proxied and self._guard is not None:
            await self._guard.resolve(host, port)  # raises for a name with no public address

    async def _send(
        self, session: aiohttp.ClientSession, request: _Request, read_limit: BodyLimit
    ) -> HttpResponse:
        started = time.monotonic()
        method, url, proxy, timeout = request.method, request.url, request.proxy, request.timeout
        # Passed only when set: aiohttp reads `timeout=None` as "no timeout at all".
        extra: dict[str, Any] = {} if timeout is None else {"timeout": self._timeout(timeout)}
        async with session.request(
            method,
            request.target,
            allow_redirects=False,
            headers=request.headers,
            params=request.params,
            data=request.data,
            proxy=None if proxy is None else proxy.proxy,
            proxy_auth=None if proxy is None else proxy.proxy_auth,
            **extra,
        ) as answer:
            limit = (
                read_limit(answer.status, answer.headers) if callable(read_limit) else read_limit
            )
            limit = 0 if method == "HEAD" else max(0, min(limit, self.options.max_body))
            body, truncated = await _read_start(answer, limit)
            return HttpResponse(
                url=url if request.params is None else str(answer.url),  # as given, if it can be
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
