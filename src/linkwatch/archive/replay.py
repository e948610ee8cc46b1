"""Replaying a capture through the checker, to tell a real page from a captured error.

The raw replay (`id_`) is fetched by `check.check_url`, the same code that
checks live pages: redirects followed hop by hop, title and text
fingerprint read, meta refresh and probe logic applied. `choose.replay_rejection`
then judges the result. The archive's host is trusted by the private-address
guard (the operator configured it), so a self-hosted archive on the local
network works.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from linkwatch.archive.captures import original_of, raw_replay_url, replay_prefix
from linkwatch.archive.choose import replay_rejection
from linkwatch.check.checker import check_url
from linkwatch.check.soft404 import SoftNotFoundProbe, is_home_page
from linkwatch.model import CheckResult, ContentPrint, Snapshot
from linkwatch.net.polite import Net
from linkwatch.tasks import cancel_all

__all__ = ["ReplayChecker", "ReplayInconclusive"]


class ReplayInconclusive(Exception):
    """The replay could not be fetched this time; judge the capture another day."""


def _home_replay_url(snapshot: Snapshot) -> str | None:
    """The raw replay of the cited site's front page on the capture's day.

    A day-long timestamp lets the archive pick that day's nearest capture, and
    lets every capture of one site and day share one request.
    """
    prefix = replay_prefix(snapshot.archive_url)
    original = original_of(snapshot.archive_url)
    if prefix is None or original is None:
        return None
    parts = urlsplit(original)
    return f"{prefix}/{snapshot.timestamp:%Y%m%d}id_/{parts.scheme}://{parts.netloc}/"


class ReplayChecker:
    """Judges captures by replaying them; front pages are fetched once per site and day."""

    def __init__(self, net: Net) -> None:
        self._net = net
        self._probe = SoftNotFoundProbe()
        self._homes: dict[str, asyncio.Task[CheckResult]] = {}
        # Content fingerprints of the captures replayed (2xx only), by archive URL: the
        # drift phase keeps those of the chosen ones instead of replaying them again.
        self.prints: dict[str, ContentPrint | None] = {}

    async def close(self) -> None:
        """Cancel the fetches still running: none outlives the run that started it."""
        await cancel_all(self._homes.values())
        await self._probe.close()

    async def rejection(self, snapshot: Snapshot, cited_url: str) -> str | None:
        """Why the capture is not a real copy of `cited_url`, or None when it is one."""
        replay = await check_url(
            self._net,
            raw_replay_url(snapshot.archive_url),
            probe_cache=self._probe,
            fingerprint=True,
            content=True,
        )
        if replay.error is not None:
            raise ReplayInconclusive(replay.error_detail or replay.error.value)
        if replay.status is not None and 200 <= replay.status < 300:
            self.prints[snapshot.archive_url] = replay.content
        home = None
        if not is_home_page(cited_url) and replay.status is not None and replay.status < 300:
            home = await self._home(snapshot)
        return replay_rejection(cited_url, replay, home)

    async def _home(self, snapshot: Snapshot) -> CheckResult | None:
        url = _home_replay_url(snapshot)
        if url is None:
            return None
        task = self._homes.get(url)
        if task is None:
            task = self._homes[url] = asyncio.create_task(
                check_url(self._net, url, fingerprint=True)
            )
        # shield: a cancelled judgement must not cancel a fetch others wait on
        result = await asyncio.shield(task)
        return None if result.error is not None else result
