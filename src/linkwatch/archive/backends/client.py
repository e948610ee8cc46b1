"""The HTTP client an archive backend talks through: the one session base, with deadlines.

The archive APIs are slow on a good day (a Save Page Now request can take a
minute), and a request with no deadline can hang a run forever, so every
request has one. It goes through the same session base as every other request
(`net.session`): the private-address guard, with the archive's own endpoint
(host and port) trusted and nothing else, so a redirect or a `Location` off it
is vetted like any other; the proxy variables; never `~/.netrc`. Errors become
`ArchiveError` with one line built by `net.translate`, so they read like the
checker's; failures that mean "no route to the archive at all" become
`ArchiveUnreachable`. Request headers (which may carry Save Page Now keys) never
reach a message.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email.utils
import html
import json
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from linkwatch.clock import system_clock
from linkwatch.errors import (
    ArchiveError,
    ArchiveSilent,
    ArchiveUnreachable,
    NetError,
)
from linkwatch.model import ErrorKind
from linkwatch.net.response import HttpResponse
from linkwatch.net.retry import parse_retry_after
from linkwatch.net.session import HttpSession, NetOptions, endpoint_of
from linkwatch.redact import redact

__all__ = [
    "ArchiveClient",
    "ClientBacked",
    "answer_reason",
    "archive_options",
    "json_body",
    "memento_datetime",
    "retry_after",
]

# No route to the archive: nothing this run can do will reach it. A private address is
# not one of them: the archive's own endpoint is trusted, so a refusal is of a redirect
# or a `Location` off it, and only that request fails.
_UNREACHABLE = frozenset({ErrorKind.DNS, ErrorKind.REFUSED, ErrorKind.UNREACHABLE})
MAX_BODY = 32 * 1024 * 1024  # a CDX answer for a much-captured URL runs to megabytes
_REASON_MAX = 200
TIMEOUT = 30.0  # seconds per request unless the call says otherwise
CONCURRENCY = 16  # requests in flight to the archive


def archive_options(
    user_agent: str, *, allow_private: bool = False, concurrency: int = CONCURRENCY
) -> NetOptions:
    """The session settings of an archive client: many requests in flight, whole answers."""
    return NetOptions(
        user_agent=user_agent,
        timeout=TIMEOUT,
        read_timeout=TIMEOUT,
        concurrency=concurrency,
        per_host=concurrency,
        host_delay=0.0,
        allow_private=allow_private,
        max_body=MAX_BODY,
        accept="*/*",
    )


def json_body(answer: HttpResponse) -> Any:
    """The body as JSON; ArchiveError when it is not."""
    try:
        return json.loads(answer.body)
    except ValueError as err:
        raise ArchiveError(
            f"{answer.url}: expected JSON, got {answer.body[:60]!r} (HTTP {answer.status})"
        ) from err


def retry_after(answer: HttpResponse) -> float | None:
    """Retry-After in seconds; an HTTP date is read against the wall clock, as the
    server that wrote it meant it."""
    return parse_retry_after(answer.headers.get("Retry-After"), system_clock())


def memento_datetime(answer: HttpResponse) -> dt.datetime | None:
    value = answer.headers.get("Memento-Datetime")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class ArchiveClient(HttpSession):
    """One session for one archive, used with `async with`; its own endpoint is trusted."""

    def __init__(self, options: NetOptions, base_url: str) -> None:
        super().__init__(
            dataclasses.replace(options, trusted=options.trusted | {endpoint_of(base_url)})
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request, read the whole answer within the deadline; raise ArchiveError."""
        deadline = self.options.timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(deadline):
                answer = await self.send(
                    method,
                    url,
                    read_limit=MAX_BODY,
                    headers=headers,
                    params=params,
                    data=data,
                    timeout=deadline,
                )
        except TimeoutError:
            raise ArchiveSilent(f"{_where(url)}: no answer in time ({deadline:g} s)") from None
        except NetError as error:
            raise _archive_error(error, url) from None
        if answer.truncated:
            raise ArchiveError(f"{_where(url)}: incomplete answer (or larger than {MAX_BODY} B)")
        return answer


def _where(url: str) -> str:
    return url.split("?", 1)[0]


def _archive_error(error: NetError, url: str) -> ArchiveError:
    """One line naming the request, never its headers; `from None` drops the chain too."""
    if error.kind in _UNREACHABLE:
        return ArchiveUnreachable(f"{error.detail} ({_where(url)})")
    if error.kind is ErrorKind.TIMEOUT:
        return ArchiveSilent(f"{_where(url)}: {error.detail}")
    return ArchiveError(f"{_where(url)}: {error.detail}")


_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_SENTENCE = re.compile(r"[^.!?]*[.!?]?")


def answer_reason(answer: HttpResponse, keywords: re.Pattern[str] | None = None) -> str:
    """One short line saying what an error answer said: its sentence with a keyword, or its start.

    The text comes from the archive, which may echo our request (keys included):
    it is redacted first, then cut short so that no page body ends up in the
    database; a cut made before the redaction could leave half a key behind.
    """
    text = " ".join(html.unescape(_TAG.sub(" ", answer.body.decode("utf-8", "replace"))).split())
    text = redact(text)  # an archive may echo our request, keys included: before any cut
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
