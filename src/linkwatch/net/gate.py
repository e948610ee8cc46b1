"""Politeness: overall and per-host concurrency, and a pause between starts to one host."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(slots=True)
class _HostSlot:
    in_flight: asyncio.Semaphore
    delay: float  # minimum seconds between two starts
    next_start: float = 0.0  # time.monotonic() before which no request may start
    users: int = 0  # requests holding or waiting for this slot


class HostGate:
    """Global and per-host concurrency plus a minimum gap between starts to one host.

    A request first waits for its host (costing no global slot, so one slow host
    cannot starve the others), then for the host's next allowed start, then for a
    global slot. Claiming the start happens with no await between the test and
    the update, so two requests of one host can never start closer than `delay`.
    Idle hosts are forgotten, which keeps a run over thousands of hosts small.
    """

    def __init__(self, concurrency: int, per_host: int, delay: float) -> None:
        self._global = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._delay = delay
        self._hosts: dict[str, _HostSlot] = {}

    @asynccontextmanager
    async def turn(
        self, host_key: str, *, per_host: int | None = None, delay: float | None = None
    ) -> AsyncIterator[None]:
        """`per_host` and `delay` replace the gate's own for this host (a site's rule); the
        host's slot keeps those it was opened with while it is in use."""
        slot = self._hosts.get(host_key)
        if slot is None:
            slot = self._hosts[host_key] = _HostSlot(
                asyncio.Semaphore(per_host or self._per_host),
                delay=self._delay if delay is None else delay,
            )
        slot.users += 1
        try:
            async with slot.in_flight:
                await self._claim_start(slot)
                try:
                    yield
                finally:
                    self._global.release()
        finally:
            slot.users -= 1
            if slot.users == 0 and time.monotonic() >= slot.next_start:
                del self._hosts[host_key]

    async def _claim_start(self, slot: _HostSlot) -> None:
        """Return holding a global slot, with this host's start claimed."""
        while True:
            wait = slot.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._global.acquire()
            now = time.monotonic()
            if now >= slot.next_start:
                slot.next_start = now + slot.delay
                return
            self._global.release()  # another request of this host started meanwhile
