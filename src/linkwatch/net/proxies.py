"""HTTP(S)_PROXY and NO_PROXY, read once per session."""

from __future__ import annotations

import urllib.request

import aiohttp
from yarl import URL


class EnvironmentProxies:
    """HTTP(S)_PROXY and NO_PROXY, read once per run, by aiohttp's own rules.

    aiohttp's `trust_env` would read them, and ~/.netrc, again for every request
    in a worker thread: a third of the checker's CPU. (It would also send
    ~/.netrc credentials to any cited host named there, which a checker must not.)
    """

    def __init__(self) -> None:
        self._by_scheme = aiohttp.helpers.proxies_from_env()
        self._bypassed: dict[str, bool] = {}

    @property
    def endpoints(self) -> frozenset[tuple[str, int]]:
        """The proxies' own (host, port): usually private, and they must be reached; a
        proxy's host is trusted on the proxy's port only, not on every port."""
        found = set()
        for info in self._by_scheme.values():
            host, port = info.proxy.host, info.proxy.port
            if host and port is not None:
                found.add((host.lower().rstrip("."), port))
        return frozenset(found)

    def for_url(self, url: URL) -> aiohttp.helpers.ProxyInfo | None:
        info = self._by_scheme.get(url.scheme)
        if info is None or not url.host:
            return None
        bypassed = self._bypassed.get(url.host)
        if bypassed is None:
            bypassed = self._bypassed[url.host] = bool(urllib.request.proxy_bypass(url.host))
        return None if bypassed else info
