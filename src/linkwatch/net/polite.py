"""The checker's session: politeness per host on top of the one session base.

Never more than `per_host` requests in flight to one host, and a pause of
`host_delay` between two request starts to it (a redirect hop included), as
polite robots keep; a cited site is asked nothing faster, whatever the
concurrency over all hosts.

The `[[rules]]` of the config are applied here, per request, from the URL of that
request alone: a rule's headers go to the URLs it matches and nowhere else (a
redirect to another host is a request of its own, to a URL the rule does not
match); a redirect to a URL a rule excludes is not followed; and a rule's
`per_host`, `host_delay` and `timeout` replace the checker's for its site. A
host's limits are those of the first request that opens its slot, which is why
they are per host: a URL-glob rule setting them shares its host's.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Self

from aiohttp.abc import AbstractResolver
from yarl import URL

from linkwatch.errors import NetError
from linkwatch.model import ErrorKind
from linkwatch.net.gate import HostGate
from linkwatch.net.response import BodyLimit, HttpResponse
from linkwatch.net.session import HttpSession, NetOptions
from linkwatch.net.translate import translate_error
from linkwatch.rules import NO_RULE_SET, RuleSet

__all__ = ["Net", "NetOptions"]


def _host_key(url: URL) -> str:
    return f"{(url.host or '').lower()}:{url.port}"


class Net(HttpSession):
    """One session per run, shared by every check of that run."""

    def __init__(
        self,
        options: NetOptions,
        *,
        resolver: AbstractResolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        rules: RuleSet = NO_RULE_SET,
    ) -> None:
        super().__init__(options, resolver=resolver, ssl_context=ssl_context)
        self.rules = rules

    async def __aenter__(self) -> Self:
        self._gate = HostGate(
            self.options.concurrency, self.options.per_host, self.options.host_delay
        )
        return await super().__aenter__()

    async def request(
        self,
        method: str,
        url: str,
        *,
        read_limit: BodyLimit = 0,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """One request, when this host's turn comes (see the module doc). Raises NetError."""
        try:
            host = _host_key(URL(url))
        except ValueError as exc:
            raise translate_error(exc) from exc
        applied = self.rules.for_url(url)
        if applied.exclude:  # a redirect to it: the run never starts with an excluded URL
            raise NetError(ErrorKind.EXCLUDED, f"{url} is excluded by [[rules]]: not asked")
        if applied.headers:
            headers = _with_rule_headers(headers, applied.headers)
        delay = None if applied.host_delay is None else applied.host_delay.total_seconds()
        timeout = None if applied.timeout is None else applied.timeout.total_seconds()
        async with self._gate.turn(host, per_host=applied.per_host, delay=delay):
            return await self.send(
                method, url, read_limit=read_limit, headers=headers, timeout=timeout
            )


def _with_rule_headers(
    headers: Mapping[str, str] | None, rule_headers: Mapping[str, str]
) -> dict[str, str]:
    """The request's headers with a rule's: the rule's win, except that cookies the site
    set during this check are sent along with the rule's own (`Cookie: a=1; b=2`)."""
    merged = dict(headers or {})
    for name, value in rule_headers.items():
        same = [known for known in merged if known.lower() == name.lower()]
        earlier = [merged.pop(known) for known in same]
        if name.lower() == "cookie" and earlier:
            value = "; ".join([value, *earlier])
        merged[name] = value
    return merged
