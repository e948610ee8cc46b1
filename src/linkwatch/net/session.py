"""The session every request of the checker goes through: one per run."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from linkwatch.net.gate import HostGate
from linkwatch.net.guard import PrivateAddressGuard, ip_literal, is_public_address, refusal
from linkwatch.net.proxies import EnvironmentProxies
from linkwatch.net.response import BodyLimit, HttpResponse
from linkwatch.net.translate import translate_error

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
        self._proxies = EnvironmentProxies()
        self._trusted = frozenset(h.lower() for h in options.trusted_hosts) | self._proxies.hosts
        self._gate = HostGate(options.concurrency, options.per_host, options.host_delay)
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
            trust_env=False,  # the proxy variables are read once: EnvironmentProxies
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
    ) -> HttpResponse:
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
        literal = ip_literal(host)
        if (
            literal is not None
            and not self.options.allow_private
            and host.lower() not in self._trusted
            and not is_public_address(literal)
        ):
            raise refusal(literal, host)

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        target: URL,
        read_limit: BodyLimit,
        headers: Mapping[str, str] | None,
    ) -> HttpResponse:
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
            return HttpResponse(
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
