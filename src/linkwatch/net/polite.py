"""The checker's session: politeness per host on top of the one session base.

Never more than `per_host` requests in flight to one host, and a pause of
`host_delay` between two request starts to it (a redirect hop included), as
polite robots keep; a cited site is asked nothing faster, whatever the
concurrency over all hosts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from yarl import URL

from linkwatch.net.gate import HostGate
from linkwatch.net.response import BodyLimit, HttpResponse
from linkwatch.net.session import HttpSession, NetOptions
from linkwatch.net.translate import translate_error

__all__ = ["Net", "NetOptions"]


def _host_key(url: URL) -> str:
    return f"{(url.host or '').lower()}:{url.port}"


class Net(HttpSession):
    """One session per run, shared by every check of that run."""

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
        async with self._gate.turn(host):
            return await self.send(method, url, read_limit=read_limit, headers=headers)
