"""The HTTP session an archive backend talks through.

aiohttp, with a deadline on every request: the archive APIs are slow on a
good day (a Save Page Now request can take a minute), and a request with no
deadline can hang a run forever. Errors become `ArchiveError` with one line
built by `net.translate_error`, so they read like the checker's; failures
that mean "no route to the archive at all" become `ArchiveUnreachable`.
Request headers (which may carry Save Page Now keys) never reach a message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import html
import json
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from multidict import CIMultiDictProxy

from linkwatch.errors import ArchiveError, ArchiveUnreachable
from linkwatch.model import ErrorKind
from linkwatch.net.retry import parse_retry_after
from linkwatch.net.translate import translate_error

__all__ = ["Answer", "ArchiveClient", "ClientOptions", "answer_reason"]

# No route to the archive: nothing this run can do will reach it.
_UNREACHABLE = frozenset(
    {ErrorKind.DNS, ErrorKind.REFUSED, ErrorKind.UNREACHABLE, ErrorKind.PRIVATE_ADDRESS}
)
_MAX_BODY = 32 * 1024 * 1024  # a CDX answer for a much-captured URL runs to megabytes
_REASON_MAX = 200


@dataclass(frozen=True, slots=True)
class ClientOptions:
    user_agent: str
    timeout: float = 30.0  # seconds per request unless the call says otherwise
    concurrency: int = 16  # requests in flight to the archive


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer from the archive (redirects are not followed)."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; ArchiveError when it is not."""
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise ArchiveError(
                f"{self.url}: expected JSON, got {self.body[:60]!r} (HTTP {self.status})"
            ) from err

    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"), dt.datetime.now(dt.UTC))

    def memento_datetime(self) -> dt.datetime | None:
        value = self.headers.get("Memento-Datetime")
        if not value:
            return None
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class ArchiveClient:
    """One aiohttp session for one archive, used with `async with`."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ArchiveClient:
        connector = aiohttp.TCPConnector(
            limit=self.options.concurrency,
            limit_per_host=self.options.concurrency,
            ttl_dns_cache=300,
            ssl=ssl.create_default_context(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self.options.user_agent},
            trust_env=True,  # HTTP(S)_PROXY / NO_PROXY, as for the checks
            cookie_jar=aiohttp.DummyCookieJar(),
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
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Answer:
        """Send one request, read the whole answer within the deadline; raise ArchiveError."""
        if self._session is None:
            raise RuntimeError("ArchiveClient is used outside `async with`")
        deadline = self.options.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(deadline):
                return await self._send(self._session, method, url, params, data, headers)
        except asyncio.CancelledError:
            raise
        except ArchiveError:
            raise
        except Exception as exc:
            raise _archive_error(exc, url) from None

    @staticmethod
    async def _send(
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        data: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> Answer:
        async with session.request(
            method, url, params=params, data=data, headers=headers, allow_redirects=False
        ) as answer:
            parts: list[bytes] = []
            size = 0
            while chunk := await answer.content.read(1 << 16):
                parts.append(chunk)
                size += len(chunk)
                if size > _MAX_BODY:
                    raise ArchiveError(f"{url}: answer larger than {_MAX_BODY} bytes")
            return Answer(str(answer.url), answer.status, answer.headers, b"".join(parts))


def _archive_error(exc: BaseException, url: str) -> ArchiveError:
    """One line naming the request, never its headers; `from None` drops the chain too."""
    error = translate_error(exc)
    where = url.split("?", 1)[0]
    if error.kind in _UNREACHABLE:
        return ArchiveUnreachable(f"{error.detail} ({where})")
    return ArchiveError(f"{where}: {error.detail}")


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_SENTENCE = re.compile(r"[^.!?]*[.!?]?")


def answer_reason(answer: Answer, keywords: re.Pattern[str] | None = None) -> str:
    """One short line saying what an error answer said: its sentence with a keyword, or its start.

    The text comes from the archive, never from our request, so no secret can
    be in it; it is cut short so that no page body ends up in the database.
    """
    text = " ".join(html.unescape(_TAG.sub(" ", answer.body.decode("utf-8", "replace"))).split())
    if keywords is not None:
        for sentence in _SENTENCE.findall(text):
            if keywords.search(sentence):
                text = sentence.strip()
                break
    text = text[:_REASON_MAX].rstrip()
    return f"HTTP {answer.status}: {text}" if text else f"HTTP {answer.status}"


class ClientBacked:
    """An archive backend that owns one `ArchiveClient` for as long as it is open."""

    _client: ArchiveClient

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)
