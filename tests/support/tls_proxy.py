"""An HTTPS proxy on 127.0.0.1 that answers for the host it is asked to tunnel to.

Apprise's Slack plugin posts to `https://hooks.slack.com/services/...`, a host written
in its code. Behind a corporate proxy that terminates TLS (the way such proxies
inspect traffic), `requests` sends `CONNECT hooks.slack.com:443` to the proxy
(`HTTPS_PROXY`), which answers the TLS handshake with a certificate the client trusts
(`REQUESTS_CA_BUNDLE`) and reads the request itself. This proxy does just that and
records each request, so that the real plugin's real request can be read without
reaching the internet: nothing is resolved or forwarded.
"""

from __future__ import annotations

import asyncio
import ssl
import threading

from support.webhooks import Received


class TerminatingProxy:
    def __init__(self, server_context: ssl.SSLContext) -> None:
        self.context = server_context
        self.received: list[Received] = []
        self.tunnels: list[str] = []  # the CONNECT targets asked for
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            if method != "CONNECT":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.tunnels.append(target)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await writer.start_tls(self.context)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), 0))
            body = await reader.readexactly(length)
            self.received.append(Received(method, path, headers, body))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, ValueError):
            pass
        finally:
            writer.close()

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def start(self) -> TerminatingProxy:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
