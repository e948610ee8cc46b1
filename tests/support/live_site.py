"""A live site on 127.0.0.1 whose pages tests change between checks.

Pages by path; any other path answers 404. It counts the requests for each
path, so that a test can assert what a check asked from the receiving end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

NOT_FOUND = "<title>Not found</title>"


@dataclass
class LiveSite:
    """Pages by path, changeable between checks; counts the requests for each path."""

    pages: dict[str, str] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        body = self.pages.get(request.path)
        if body is None:
            return web.Response(status=404, text=NOT_FOUND, content_type="text/html")
        return web.Response(text=body, content_type="text/html")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self.handle)
        return app


ServeSite = Callable[[LiveSite], Awaitable[str]]


@pytest.fixture
def serve_site(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> ServeSite:
    """Start a `LiveSite` on 127.0.0.1; its origin, without a trailing slash."""

    async def start(site: LiveSite) -> str:
        server = await aiohttp_server(site.app())
        return str(server.make_url("")).rstrip("/")

    return start
