"""The request plan and its redirect chain: every hop spaced, vetted and recorded.

A page is fetched with GET, because soft-404 detection reads its title, meta
refresh and text anyway (a HEAD first would only add a request, spaced by
`host_delay`, to every check); only HTML bodies are read, up to the cap. A
URL whose path names a document (.pdf, .docx, .zip...) gets HEAD first, then a
GET of its first kilobyte (`Range: bytes=0-1023`, and no more is read) to
confirm what HEAD said, since some servers answer HEAD 200 for a file GET does
not find; a full GET when HEAD was refused or inconclusive, or when it turned
out to be an HTML page after all. Redirects are followed by hand so
that every hop passes the politeness limits and the private-address guard of
the network layer, and so that every hop is recorded.
"""

from __future__ import annotations

import asyncio
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

from multidict import CIMultiDictProxy
from yarl import URL

from linkwatch.check.page import is_html
from linkwatch.check.walls import BOT_WALL_STATUSES
from linkwatch.clock import system_clock
from linkwatch.errors import NetError
from linkwatch.model import ErrorKind, Hop
from linkwatch.net.polite import Net
from linkwatch.net.response import BodyLimit, HttpResponse
from linkwatch.net.retry import parse_retry_after

_REDIRECTS = frozenset({301, 302, 303, 307, 308})

_RATE_LIMIT_STATUSES = frozenset({429, 503})

# HEAD failures that say nothing about the page: some servers hang up on HEAD.
_INCONCLUSIVE = frozenset({ErrorKind.TIMEOUT, ErrorKind.RESET, ErrorKind.PROTOCOL})


def invalid_url_reason(url: str) -> str | None:
    """Why `url` cannot be checked over HTTP, or None when it can."""
    if not url:
        return "empty URL"
    if url.isascii() and url.isprintable() and " " not in url:
        odd = None  # the common case, decided at C speed: no space, no control character
    else:
        odd = next((c for c in url if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")), None)
    if odd is not None:
        return "contains a space" if odd == " " else f"contains the character U+{ord(odd):04X}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
        URL(url)  # yarl's stricter parse: the URL aiohttp would send
    except ValueError as exc:
        return f"malformed URL: {exc}"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return f"not an http(s) URL (scheme {scheme!r})" if scheme else "no scheme"
    if not parts.hostname:
        return "no host"
    return None


def _body_budget(status: int, headers: CIMultiDictProxy[str]) -> int:
    """Read HTML bodies that matter (a page, a challenge), nothing else (a PDF, a redirect)."""
    wanted = 200 <= status < 300 or status in BOT_WALL_STATUSES
    return sys.maxsize if wanted and is_html(headers) else 0  # Net caps it at max_body


@dataclass(slots=True)
class Chain:
    """One redirect chain: its hops, and the cookies its hops set.

    Cookies live for one chain only: a site that redirects A -> B (set cookie)
    -> A is not in a loop, and must not be reported as one.
    """

    hops: list[Hop] = field(default_factory=list)
    redirected_from: set[tuple[str, str]] = field(default_factory=set)
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)  # by host

    def cookie_header(self, url: str) -> str:
        if not self.cookies:
            return ""  # most chains: no hop set a cookie
        jar = self.cookies.get(urlsplit(url).hostname or "", {})
        return "; ".join(f"{name}={value}" for name, value in jar.items())

    def keep_cookies(self, response: HttpResponse) -> None:
        host = urlsplit(response.url).hostname or ""
        for header in response.headers.getall("Set-Cookie", []):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except CookieError:
                continue
            self.cookies.setdefault(host, {}).update({k: m.value for k, m in parsed.items()})


@dataclass(frozen=True, slots=True)
class ChainEnd:
    """Where a chain ended: a response or an error, never both."""

    chain: Chain
    response: HttpResponse | None = None
    error: NetError | None = None


def _redirect_target(response: HttpResponse) -> str | None:
    location = response.headers.get("Location")
    if response.status not in _REDIRECTS or location is None:
        return None
    try:
        return str(URL(response.url).join(URL(location.strip())))
    except ValueError as exc:
        raise NetError(ErrorKind.PROTOCOL, f"malformed Location {location!r}: {exc}") from exc


async def _request_patiently(
    net: Net,
    method: str,
    url: str,
    cookies: str,
    *,
    second_asking: bool,
    extra: Mapping[str, str] | None = None,
    read_limit: BodyLimit = _body_budget,
) -> HttpResponse:
    """One request, retried once after a connection reset, a server error (flaky servers
    are common; unless this is already the second asking) or a Retry-After we can wait for.
    """
    headers = dict(extra or {})
    if cookies:
        headers["Cookie"] = cookies

    async def send() -> HttpResponse:
        return await net.request(method, url, read_limit=read_limit, headers=headers or None)

    try:
        response = await send()
    except NetError as error:
        if error.kind is not ErrorKind.RESET:
            raise
        return await send()
    if response.status >= 500 and not second_asking and "Retry-After" not in response.headers:
        return await send()
    wait = retry_after(response)
    if wait is None or wait > net.options.retry_after_cap:
        return response
    await asyncio.sleep(wait)
    return await send()


def retry_after(response: HttpResponse) -> float | None:
    if response.status not in _RATE_LIMIT_STATUSES:
        return None
    headers = response.headers
    return parse_retry_after(
        headers.get("Retry-After"), system_clock(), sent_at=headers.get("Date")
    )


async def follow(
    net: Net,
    url: str,
    method: str,
    chain: Chain,
    *,
    second_asking: bool = False,
    extra: Mapping[str, str] | None = None,
    read_limit: BodyLimit = _body_budget,
) -> ChainEnd:
    """Follow redirects from `url`, recording each hop in `chain`; `extra` headers go
    with every hop (a Range), `read_limit` decides how much of the last body is read."""
    while True:
        cookies = chain.cookie_header(url)
        try:
            response = await _request_patiently(
                net,
                method,
                url,
                cookies,
                second_asking=second_asking,
                extra=extra,
                read_limit=read_limit,
            )
            target = _redirect_target(response)
        except NetError as error:
            return ChainEnd(chain, error=_placed(error, url, chain))
        if target is None:
            return ChainEnd(chain, response=response)
        chain.hops.append(Hop(url=url, status=response.status, location=target))
        chain.redirected_from.add((url, cookies))
        chain.keep_cookies(response)
        refusal = _redirect_error(net, chain, target)
        if refusal is not None:
            return ChainEnd(chain, error=refusal)
        url = target


def _redirect_error(net: Net, chain: Chain, target: str) -> NetError | None:
    if (target, chain.cookie_header(target)) in chain.redirected_from:
        return NetError(ErrorKind.REDIRECT_LOOP, f"redirect loop: back to {target}")
    if len(chain.hops) > net.options.max_redirects:
        return NetError(
            ErrorKind.TOO_MANY_REDIRECTS, f"more than {net.options.max_redirects} redirects"
        )
    problem = invalid_url_reason(target)
    if problem is not None:
        return NetError(ErrorKind.INVALID_URL, f"redirect to {target!r}: {problem}")
    return None


def _placed(error: NetError, url: str, chain: Chain) -> NetError:
    """Name the hop that failed when it is not the cited URL itself."""
    if not chain.hops:
        return error
    return NetError(error.kind, f"{error.detail} (at {url})")


def _needs_get(head: ChainEnd) -> bool:
    if head.error is not None:
        return head.error.kind in _INCONCLUSIVE
    assert head.response is not None
    status = head.response.status
    if "Retry-After" in head.response.headers and status in _RATE_LIMIT_STATUSES:
        return False  # asked to slow down: do not knock again
    if 200 <= status < 300:
        return is_html(head.response.headers)
    return not 300 <= status < 400


# Files that are not pages, by the suffix of their path: for these the answer alone
# says all, so HEAD is asked first and no body is read.
_DOCUMENT_SUFFIXES = frozenset((
    "pdf", "doc", "docx", "odt", "rtf", "xls", "xlsx", "ods", "csv", "ppt", "pptx", "odp",
    "epub", "zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "jpg", "jpeg", "png", "gif", "webp",
    "tif", "tiff", "mp3", "m4a", "ogg", "wav", "mp4", "m4v", "mov", "avi", "webm",
))  # fmt: skip


def _is_document_path(url: str) -> bool:
    name = urlsplit(url).path.rpartition("/")[2]
    return name.rpartition(".")[2].lower() in _DOCUMENT_SUFFIXES if "." in name else False


# A document HEAD found is confirmed by GET for its first bytes only: a server may
# answer HEAD 200 application/pdf and GET 404 (HEAD handled by a cache or a default
# route). 1 KiB is enough to tell, and is all that is read of a document.
DOCUMENT_PROBE_BYTES = 1024
_FIRST_BYTES = {"Range": f"bytes=0-{DOCUMENT_PROBE_BYTES - 1}"}


def _first_bytes(status: int, headers: CIMultiDictProxy[str]) -> int:
    """An HTML page (the document was a page after all) in full, else its first bytes."""
    page = _body_budget(status, headers)
    return page if page else DOCUMENT_PROBE_BYTES


async def _confirmed(net: Net, head: ChainEnd) -> ChainEnd:
    """HEAD said 2xx for a document: GET its first bytes where the chain ended.

    206 or 200 confirms it (the GET's answer is kept: its type and first bytes are
    the truth); 404 or 410 is a failure HEAD hid. Anything else (416 for an empty
    file, 5xx, a reset) does not contradict HEAD, whose answer stands.
    """
    assert head.response is not None
    chain = Chain(list(head.chain.hops), set(head.chain.redirected_from), head.chain.cookies)
    got = await follow(
        net, head.response.url, "GET", chain, extra=_FIRST_BYTES, read_limit=_first_bytes
    )
    if got.response is None:
        return head
    status = got.response.status
    return got if 200 <= status < 300 or status in (404, 410) else head


async def fetch(net: Net, url: str) -> ChainEnd:
    """GET a page (soft-404 detection reads its text: a HEAD first would only add a
    request and a host_delay); HEAD a document first, then confirm it with a GET of
    its first bytes, or GET it in full when HEAD fails (HEAD is never trusted alone)."""
    if not _is_document_path(url):
        return await follow(net, url, "GET", Chain())
    head = await follow(net, url, "HEAD", Chain(), second_asking=True)  # GET asks again
    if not _needs_get(head):
        if head.response is not None and 200 <= head.response.status < 300:
            return await _confirmed(net, head)
        return head
    if head.response is not None and 200 <= head.response.status < 300:
        # A page HEAD found: GET it where the chain ended, keeping its hops.
        return await follow(net, head.response.url, "GET", head.chain)
    # HEAD is not to be trusted here; after its server error, this GET is the second asking
    server_error = head.response is not None and head.response.status >= 500
    return await follow(net, url, "GET", Chain(), second_asking=server_error)
