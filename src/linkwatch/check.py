"""One cited URL -> one CheckResult describing exactly what the web answered.

Calling a live page dead is worse than saying nothing (a later step would swap
a good citation for an archive link), so this module reports, it does not judge:
the pure `verdict` turns a CheckResult plus history into a State.

The request plan: a page is fetched with GET, because soft-404 detection reads
its title, meta refresh and text anyway (a HEAD first would only add a
request, spaced by `host_delay`, to every check); only HTML bodies are read,
up to the cap. A URL whose path names a document (.pdf, .docx, .zip...) gets
HEAD first, cheap and enough for a file, then GET when HEAD was refused or
inconclusive, or when it turned out to be an HTML page after all. Redirects are
followed by hand so that every hop passes the politeness limits and the
private-address guard in `net.py`, and so that every hop is recorded.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import datetime as dt
import email.utils
import hashlib
import html
import re
import secrets
import string
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import charset_normalizer
from multidict import CIMultiDictProxy
from yarl import URL

from linkwatch.model import CheckResult, ErrorKind, Hop, ProbeAnswer
from linkwatch.net import Net, NetError, Response, media_type
from linkwatch.tasks import cancel_all

__all__ = [
    "SoftNotFoundProbe",
    "check_url",
    "invalid_url_reason",
    "is_home_page",
    "parse_retry_after",
    "same_page",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Statuses a bot wall answers with; their bodies are read to recognise the wall.
_BOT_WALL_STATUSES = frozenset({403, 429, 503, 999})
_RATE_LIMIT_STATUSES = frozenset({429, 503})
# HEAD failures that say nothing about the page: some servers hang up on HEAD.
_INCONCLUSIVE = frozenset({ErrorKind.TIMEOUT, ErrorKind.RESET, ErrorKind.PROTOCOL})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})  # '' : unlabelled, sniff it

_TITLE_MAX = 300
# Simhash bits that may differ for two pages to count as the same page (>= 0.9 alike).
_SAME_PAGE_BITS = 6


# ---------------------------------------------------------------------------
# Pure helpers


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


# Paths a site uses for its front page: '/', '/index.html', '/en/', '/fr-fr/home.aspx'.
_HOME_PATH = re.compile(
    r"/?(?:[a-z]{2}(?:[-_](?:[a-z]{2}|hans|hant))?/?)?(?:(?:index|default|home|start)(?:\.\w+)?)?",
    re.I,
)


def is_home_page(url: str) -> bool:
    """A site's front page. A query makes it a specific page (WordPress' '/?p=123')."""
    parts = urlsplit(url)
    return not parts.query and _HOME_PATH.fullmatch(parts.path) is not None


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _is_html(headers: CIMultiDictProxy[str]) -> bool:
    return media_type(headers) in _HTML_TYPES


def _body_budget(status: int, headers: CIMultiDictProxy[str]) -> int:
    """Read HTML bodies that matter (a page, a challenge), nothing else (a PDF, a redirect)."""
    wanted = 200 <= status < 300 or status in _BOT_WALL_STATUSES
    return sys.maxsize if wanted and _is_html(headers) else 0  # Net caps it at max_body


# ---------------------------------------------------------------------------
# Reading a page


@dataclass(frozen=True)
class _Page:
    title: str | None
    refresh_to: str | None  # absolute target of a meta refresh
    markup: str  # the decoded document, for the fingerprint

    @cached_property
    def fingerprint(self) -> str | None:
        """64-bit simhash of the visible text, hex; computed only when a comparison needs
        it, as parsing the whole page costs more than the rest of a check (and most sites
        answer a nonsense path with a 404, so there is nothing to compare)."""
        reader = _TextReader()
        # html.parser gives up on some bogus declarations: keep what it read until then
        with contextlib.suppress(AssertionError):
            reader.feed(self.markup)
        digest = _simhash(" ".join(reader.text))
        return None if digest is None else f"{digest:016x}"


class _TextReader(HTMLParser):
    """The visible text of a page; tolerant of any tag soup."""

    _INVISIBLE = frozenset({"title", "script", "style", "noscript", "template", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


# Title and meta refresh by regular expressions, at C speed: every page checked needs
# them. Comments, scripts and styles are cut out first, as a parser would skip them
# (a meta refresh in a comment must not make a live page a soft 404).
# A tag name ends at a space, a slash or ">" ("<title-bar>" is another element); a
# quote opens a value only after "=", and a quoted value may hold ">". A tag or
# value never closed runs to the end of the text, as in a browser. Possessive
# quantifiers keep every scan linear: a page of "<meta " repeated costs one pass.
_TAG_REST = r"""(?:[^>=]++|=\s*+(?:"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z))|=)*+"""
_OPAQUE = re.compile(
    rf"<!--.*?(?:-->|\Z)|<(script|style)(?=[\s/>]){_TAG_REST}(?:>|\Z).*?(?:</\1\s*>|\Z)",
    re.I | re.S,
)
_TITLE = re.compile(rf"<title(?=[\s/>]){_TAG_REST}(?:>|\Z)(.*?)(?:</title\s*>|\Z)", re.I | re.S)
_META = re.compile(rf"<meta(?=[\s/>])({_TAG_REST})(>|\Z)", re.I)
_ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")


def _unquoted(value: str) -> str:
    """An attribute value without its one pair of outer quotes; inner quotes stay."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _title_and_refresh(markup: str) -> tuple[str | None, str | None]:
    """The page's title and the content of its first meta refresh, entities decoded."""
    visible = _OPAQUE.sub(" ", markup)
    found = _TITLE.search(visible)
    title = " ".join(html.unescape(found.group(1)).split())[:_TITLE_MAX] if found else ""
    for meta in _META.finditer(visible):
        if not meta.group(2):
            break  # never closed: a browser drops it
        attributes = {
            name.lower(): html.unescape(_unquoted(value))
            for name, value in _ATTRIBUTE.findall(meta.group(1))
        }
        if attributes.get("http-equiv", "").lower() == "refresh":
            return title or None, attributes.get("content", "")
    return title or None, None


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)
_REFRESH_URL = re.compile(
    r"""^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(['"]?)(.*?)\1\s*$""", re.I | re.S
)


def _decode(body: bytes, declared: str | None) -> str:
    """Text of a page: declared charset, then <meta charset>, then UTF-8, then a guess."""
    sniffed = _META_CHARSET.search(body[:4096])
    for encoding in (declared, sniffed.group(1).decode("ascii") if sniffed else None):
        if encoding:
            try:
                return body.decode(encoding, errors="replace")
            except LookupError:
                pass
    try:  # final=False: a body cut at max_body may end inside a character
        return codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(body).best()
        return str(best) if best is not None else body.decode("latin-1")


def _refresh_target(content: str | None, base: str) -> str | None:
    match = _REFRESH_URL.match(content or "")
    target = match.group(2).strip() if match else ""
    return urljoin(base, target) if target else None


# _BIT_SET[b] maps a byte to 1 when its bit b is set, else 0 (a bytes.translate table).
_BIT_SET = tuple(bytes(value >> bit & 1 for value in range(256)) for bit in range(8))


def _simhash(text: str) -> int | None:
    """64-bit simhash of the word 3-shingles of `text`; near pages differ in few bits."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        return None
    shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    # Bit votes counted at C speed: per byte position, translate each byte to 1 or 0 for
    # one bit and count the ones, instead of looping over shingles and bits in Python.
    fingerprint = 0
    for position in range(8):
        column = digests[position::8]
        for bit in range(8):
            ones = column.translate(_BIT_SET[bit]).count(1)
            if 2 * ones > len(shingles):
                fingerprint |= 1 << (position * 8 + bit)
    return fingerprint


def _read_page(response: Response) -> _Page | None:
    if not _is_html(response.headers) or not response.body:
        return None
    markup = _decode(response.body, response.charset)
    title, refresh = _title_and_refresh(markup)
    return _Page(title=title, refresh_to=_refresh_target(refresh, response.url), markup=markup)


class PageLike(Protocol):
    @property
    def title(self) -> str | None: ...
    @property
    def fingerprint(self) -> str | None: ...


def same_page(a: PageLike, b: PageLike) -> bool:
    """Same title and near-identical text: what a soft-404 page shares with a random path's."""
    if a.title != b.title or a.fingerprint is None or b.fingerprint is None:
        return False
    return (int(a.fingerprint, 16) ^ int(b.fingerprint, 16)).bit_count() <= _SAME_PAGE_BITS


# Bot walls: challenge pages of Cloudflare, Akamai, Imperva, PerimeterX, DataDome...
_CHALLENGE_MARKERS = (
    "just a moment...",
    "attention required",
    "cf-chl",
    "captcha",
    "checking your browser",
    "ddos protection by",
    "_incapsula_resource",
    "enable javascript and cookies to continue",
)
_CDN_SERVERS = ("cloudflare", "akamai", "akamaighost")


def _is_bot_wall(response: Response) -> bool:
    if response.status not in _BOT_WALL_STATUSES:
        return False
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    text = response.body[:65536].decode("utf-8", errors="replace").lower()
    if any(marker in text for marker in _CHALLENGE_MARKERS):
        return True
    server = response.headers.get("Server", "").lower()
    return "access denied" in text and server.startswith(_CDN_SERVERS)


# ---------------------------------------------------------------------------
# Following a redirect chain


@dataclass(slots=True)
class _Chain:
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

    def keep_cookies(self, response: Response) -> None:
        host = urlsplit(response.url).hostname or ""
        for header in response.headers.getall("Set-Cookie", []):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except CookieError:
                continue
            self.cookies.setdefault(host, {}).update({k: m.value for k, m in parsed.items()})


@dataclass(frozen=True, slots=True)
class _Answer:
    """Where a chain ended: a response or an error, never both."""

    chain: _Chain
    response: Response | None = None
    error: NetError | None = None


def _redirect_target(response: Response) -> str | None:
    location = response.headers.get("Location")
    if response.status not in _REDIRECTS or location is None:
        return None
    try:
        return str(URL(response.url).join(URL(location.strip())))
    except ValueError as exc:
        raise NetError(ErrorKind.PROTOCOL, f"malformed Location {location!r}: {exc}") from exc


async def _request_patiently(
    net: Net, method: str, url: str, cookies: str, *, second_asking: bool
) -> Response:
    """One request, retried once after a connection reset, a server error (flaky servers
    are common; unless this is already the second asking) or a Retry-After we can wait for.
    """
    headers = {"Cookie": cookies} if cookies else None

    async def send() -> Response:
        return await net.request(method, url, read_limit=_body_budget, headers=headers)

    try:
        response = await send()
    except NetError as error:
        if error.kind is not ErrorKind.RESET:
            raise
        return await send()
    if response.status >= 500 and not second_asking and "Retry-After" not in response.headers:
        return await send()
    wait = _retry_after(response)
    if wait is None or wait > net.options.retry_after_cap:
        return response
    await asyncio.sleep(wait)
    return await send()


def _retry_after(response: Response) -> float | None:
    if response.status not in _RATE_LIMIT_STATUSES:
        return None
    return parse_retry_after(response.headers.get("Retry-After"), dt.datetime.now(dt.UTC))


async def _follow(
    net: Net, url: str, method: str, chain: _Chain, *, second_asking: bool = False
) -> _Answer:
    """Follow redirects from `url`, recording each hop in `chain`."""
    while True:
        cookies = chain.cookie_header(url)
        try:
            response = await _request_patiently(
                net, method, url, cookies, second_asking=second_asking
            )
            target = _redirect_target(response)
        except NetError as error:
            return _Answer(chain, error=_placed(error, url, chain))
        if target is None:
            return _Answer(chain, response=response)
        chain.hops.append(Hop(url=url, status=response.status, location=target))
        chain.redirected_from.add((url, cookies))
        chain.keep_cookies(response)
        refusal = _redirect_error(net, chain, target)
        if refusal is not None:
            return _Answer(chain, error=refusal)
        url = target


def _redirect_error(net: Net, chain: _Chain, target: str) -> NetError | None:
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


def _placed(error: NetError, url: str, chain: _Chain) -> NetError:
    """Name the hop that failed when it is not the cited URL itself."""
    if not chain.hops:
        return error
    return NetError(error.kind, f"{error.detail} (at {url})")


def _needs_get(head: _Answer) -> bool:
    if head.error is not None:
        return head.error.kind in _INCONCLUSIVE
    assert head.response is not None
    status = head.response.status
    if "Retry-After" in head.response.headers and status in _RATE_LIMIT_STATUSES:
        return False  # asked to slow down: do not knock again
    if 200 <= status < 300:
        return _is_html(head.response.headers)
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


async def _fetch(net: Net, url: str) -> _Answer:
    """GET a page (soft-404 detection reads its text: a HEAD first would only add a
    request and a host_delay); HEAD a document first, and GET it only if HEAD fails."""
    if not _is_document_path(url):
        return await _follow(net, url, "GET", _Chain())
    head = await _follow(net, url, "HEAD", _Chain(), second_asking=True)  # GET asks again
    if not _needs_get(head):
        return head
    if head.response is not None and 200 <= head.response.status < 300:
        # A page HEAD found: GET it where the chain ended, keeping its hops.
        return await _follow(net, head.response.url, "GET", head.chain)
    # HEAD is not to be trusted here; after its server error, this GET is the second asking
    server_error = head.response is not None and head.response.status >= 500
    return await _follow(net, url, "GET", _Chain(), second_asking=server_error)


# ---------------------------------------------------------------------------
# Soft 404


_PROBE_ALPHABET = string.ascii_lowercase + string.digits


async def _probe(net: Net, origin: str, asked_at: dt.datetime) -> ProbeAnswer:
    path = "".join(secrets.choice(_PROBE_ALPHABET) for _ in range(20))
    answer = await _follow(net, f"{origin}/{path}", "GET", _Chain())
    response = answer.response
    page = None if response is None else _read_page(response)
    return ProbeAnswer(
        origin=origin,
        asked_at=asked_at,
        status=None if response is None else response.status,
        final_url=None if response is None else response.url,
        redirected=bool(answer.chain.hops),
        title=None if page is None else page.title,
        fingerprint=None if page is None else page.fingerprint,
    )


class SoftNotFoundProbe:
    """Each site's answer to a random non-existent path, asked at most once per run.

    Answers `known` from earlier runs are used without asking; those asked in
    this run are `new_answers`, for the caller to keep. Checks of one host
    running at the same time share one probe request.
    """

    def __init__(
        self,
        known: Iterable[ProbeAnswer] = (),
        *,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._known = {answer.origin: answer for answer in known}
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._answers: dict[str, asyncio.Task[ProbeAnswer]] = {}

    async def answer(self, net: Net, url: str) -> ProbeAnswer:
        origin = str(URL(url).origin())
        known = self._known.get(origin)
        if known is not None:
            return known
        task = self._answers.get(origin)
        if task is None:
            task = self._answers[origin] = asyncio.create_task(_probe(net, origin, self._now()))
        elif task.done():
            return task.result()
        # shield: a cancelled check must not cancel a probe other checks wait on
        return await asyncio.shield(task)

    def new_answers(self) -> list[ProbeAnswer]:
        """Answers asked in this run that are worth keeping for `check.probe_every`: a
        page, or an honest 404/410. A site that did not answer, refused (403, 429) or
        failed (5xx) may answer otherwise tomorrow, so it is asked again next run."""
        done = [t for t in self._answers.values() if t.done() and not t.cancelled()]
        answers = [t.result() for t in done if t.exception() is None]
        return [answer for answer in answers if _lasting(answer.status)]

    async def close(self) -> None:
        """Cancel the probes still asking: none outlives the run that started it."""
        await cancel_all(self._answers.values())
        self._answers = {o: t for o, t in self._answers.items() if not t.cancelled()}


def _lasting(status: int | None) -> bool:
    return status is not None and (200 <= status < 300 or status in (404, 410))


def _probe_match(probe: ProbeAnswer, response: Response, hops: int, page: _Page) -> str | None:
    if probe.status is None or not 200 <= probe.status < 300:
        return None  # 404/410 for nonsense: an honest site; errors: nothing to compare
    if hops and probe.redirected and probe.final_url == response.url:
        return f"redirects where a non-existent path does too ({response.url})"
    if same_page(page, probe):
        return f"same page as for a non-existent path (title {page.title!r})"
    return None


async def _soft404_reason(
    net: Net, url: str, answer: _Answer, page: _Page | None, probes: SoftNotFoundProbe
) -> str | None:
    """Why a 2xx answer is really a 'not found', or None. Cheapest evidence first."""
    response = answer.response
    assert response is not None
    if not 200 <= response.status < 300 or is_home_page(url):
        return None
    if answer.chain.hops and is_home_page(response.url):
        return f"redirected to the home page {response.url}"
    if page is None or is_home_page(response.url):
        return None
    if page.refresh_to is not None and is_home_page(page.refresh_to):
        return f"meta refresh to the home page {page.refresh_to}"
    probe = await probes.answer(net, url)
    return _probe_match(probe, response, len(answer.chain.hops), page)


# ---------------------------------------------------------------------------
# The check


async def check_url(
    net: Net,
    url: str,
    *,
    now: Callable[[], dt.datetime] | None = None,
    probe_cache: SoftNotFoundProbe | None = None,
    fingerprint: bool = False,
) -> CheckResult:
    """Check one URL. Never raises for anything the web or the URL does.

    `fingerprint` asks for the page text's fingerprint in the result, for a
    caller that compares pages later (the archive's replays); a check only
    computes it to compare with the site's answer to a non-existent path.
    """
    checked_at = now() if now is not None else dt.datetime.now(dt.UTC)
    started = time.monotonic()
    problem = invalid_url_reason(url)
    if problem is not None:
        return CheckResult(
            url=url, checked_at=checked_at, error=ErrorKind.INVALID_URL, error_detail=problem
        )
    answer = await _fetch(net, url)
    if answer.error is not None:
        return CheckResult(
            url=url,
            checked_at=checked_at,
            hops=tuple(answer.chain.hops),
            error=answer.error.kind,
            error_detail=answer.error.detail,
            elapsed=time.monotonic() - started,
        )
    response = answer.response
    assert response is not None
    page = _read_page(response)
    probes = probe_cache or SoftNotFoundProbe()
    try:
        soft404 = await _soft404_reason(net, url, answer, page, probes)
    finally:
        if probes is not probe_cache:
            await probes.close()
    return CheckResult(
        url=url,
        checked_at=checked_at,
        status=response.status,
        final_url=response.url,
        hops=tuple(answer.chain.hops),
        elapsed=time.monotonic() - started,
        bytes_read=len(response.body),
        title=page.title if page else None,
        fingerprint=page.fingerprint if page is not None and fingerprint else None,
        soft404_reason=soft404,
        bot_wall=_is_bot_wall(response),
        retry_after=_retry_after(response),
    )
