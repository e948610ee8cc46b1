"""Asking a website for a page: the checker's network layer, redirects, validators.

Every request goes through `net.polite.Net`: the private-address guard, the
proxies, `check.per_host` and `check.host_delay` (a site's releases all live on
one host, so the delay is what a scan of them costs), and a body cap. Redirects
are followed by hand, each hop through the guard and the host's turn again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from linkwatch.errors import NetError, WebSourceError
from linkwatch.net.polite import Net
from linkwatch.net.response import HttpResponse

MAX_REDIRECTS = 5

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent


async def get(
    net: Net,
    url: str,
    *,
    limit: int,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """GET `url`, following redirects; 200 and 304 are answers, anything else WebSourceError."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            answer = await net.request("GET", current, read_limit=limit, headers=headers)
        except NetError as err:
            raise WebSourceError(f"cannot fetch: {err.detail} ({err.kind.value})") from None
        if answer.status in _REDIRECTS and answer.headers.get("Location"):
            current = urljoin(current, answer.headers["Location"])
            continue
        if answer.status == 304:
            return answer
        if answer.status != 200:
            raise WebSourceError(f"HTTP {answer.status}")
        if answer.truncated:
            raise WebSourceError(f"larger than {limit} bytes (sources.max_size): not read")
        return answer
    raise WebSourceError(f"more than {MAX_REDIRECTS} redirects")
