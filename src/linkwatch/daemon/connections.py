"""How many connections the daemon's endpoint holds: a bound in all, and one per peer.

aiohttp accepts every connection it is offered and bounds neither their number
nor, beyond its keep-alive timeout, their life. A slowloris (a thousand
connections, each sending a header line now and then) then holds every file
descriptor the process may open, and `/healthz` stops answering. So a door
stands before aiohttp's protocol: a connection beyond `per_peer` from one
address, or beyond `total` in all, is answered 503 at once and closed, and the
rest are handed to aiohttp untouched. A connection that never completes a
request is closed by aiohttp after the idle timeout (`server.IDLE_TIMEOUT`:
its keep-alive timer starts when the connection is made and only a complete
answer renews it).
"""

from __future__ import annotations

import asyncio
import resource
from collections.abc import Callable
from typing import cast

TOTAL = 512  # connections held at once, at most (lowered to a quarter of RLIMIT_NOFILE)
PER_PEER = 64  # from one address: a browser opens 6, a reverse proxy a few dozen
_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 10\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 32\r\n\r\ntoo many connections, try later\n"
)


def total_limit() -> int:
    """TOTAL, or a quarter of the file descriptors the process may open if that is fewer:
    the checker's and the archive's connections and the database need the rest."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return TOTAL
    return max(16, min(TOTAL, soft // 4))


class ConnectionGate:
    """A protocol factory for `loop.create_server`: admits, then hands over to `inner`."""

    def __init__(
        self,
        inner: Callable[[], asyncio.BaseProtocol],
        *,
        total: int | None = None,
        per_peer: int = PER_PEER,
    ) -> None:
        self._inner = inner
        self.total = total_limit() if total is None else total
        self.per_peer = per_peer
        self._open: dict[str, set[asyncio.BaseTransport]] = {}
        self.refused = 0  # connections answered 503 so far

    def __call__(self) -> asyncio.Protocol:
        return _Door(self)

    def admit(self, peer: str, transport: asyncio.BaseTransport) -> bool:
        """Whether a new connection from `peer` fits; if so it is counted from now on."""
        held = 0
        for address in list(self._open):
            transports = self._open[address]
            transports.difference_update([t for t in transports if t.is_closing()])
            if not transports:
                del self._open[address]
            held += len(transports)
        mine = self._open.get(peer, set())
        if held >= self.total or len(mine) >= self.per_peer:
            self.refused += 1
            return False
        self._open.setdefault(peer, set()).add(transport)
        return True

    def hand_over(self, transport: asyncio.BaseTransport) -> None:
        protocol = self._inner()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)


class _Door(asyncio.Protocol):
    """Lives only for `connection_made`: the connection is then aiohttp's, or closed."""

    def __init__(self, gate: ConnectionGate) -> None:
        self._gate = gate

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if self._gate.admit(address, transport):
            self._gate.hand_over(transport)
            return
        writable = cast(asyncio.WriteTransport, transport)
        writable.write(_REFUSAL)
        writable.close()  # after the answer is flushed

    def data_received(self, data: bytes) -> None:
        pass  # a refused connection's request: it is being closed
