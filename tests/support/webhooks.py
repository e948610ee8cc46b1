"""A webhook receiver on 127.0.0.1: what Apprise's `json://`, `jsons://` and Matrix
webhook forms post to. It runs in a thread of the test process, so that Apprise (which
sends from a thread, with `requests`) and a linkwatch process started by the test both
reach it; it records every request and can answer the next ones with an error."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Records each request; `fail_next` answers that many with `fail_status`."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.received: list[Received] = []
        self.fail_next = 0
        self.fail_status = 500
        self.base = ""
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=self.fail_status, text="try again later")
        self.received.append(Received(request.method, request.path, dict(request.headers), body))
        return web.Response(text="ok")

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ssl_context)
        await site.start()
        return int(self._runner.addresses[0][1])

    def start(self) -> WebhookReceiver:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        scheme = "https" if self.ssl_context else "http"
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
