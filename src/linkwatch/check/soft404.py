"""Soft 404s: pages that answer 200 but are really a 'not found'.

The evidence, cheapest first: a redirect to the home page, a meta refresh to
it, and the site's answer to a path that cannot exist (the probe), compared
with the cited page's answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import string
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from yarl import URL

from linkwatch.check.page import Page, read_page, same_page
from linkwatch.check.redirects import Chain, ChainEnd, follow
from linkwatch.model import ProbeAnswer
from linkwatch.net.polite import Net
from linkwatch.net.response import HttpResponse
from linkwatch.tasks import cancel_all

# Paths a site uses for its front page: '/', '/index.html', '/en/', '/fr-fr/home.aspx'.
_HOME_PATH = re.compile(
    r"/?(?:[a-z]{2}(?:[-_](?:[a-z]{2}|hans|hant))?/?)?(?:(?:index|default|home|start)(?:\.\w+)?)?",
    re.I,
)


def is_home_page(url: str) -> bool:
    """A site's front page. A query makes it a specific page (WordPress' '/?p=123')."""
    parts = urlsplit(url)
    return not parts.query and _HOME_PATH.fullmatch(parts.path) is not None


_PROBE_ALPHABET = string.ascii_lowercase + string.digits


async def _probe(net: Net, origin: str, asked_at: dt.datetime) -> ProbeAnswer:
    path = "".join(secrets.choice(_PROBE_ALPHABET) for _ in range(20))
    answer = await follow(net, f"{origin}/{path}", "GET", Chain())
    response = answer.response
    page = None if response is None else read_page(response)
    return ProbeAnswer(
        origin=origin,
        asked_at=asked_at,
        status=None if response is None else response.status,
        final_url=None if response is None else response.url,
        redirected=bool(answer.chain.hops),
        title=None if page is None else page.title,
        fingerprint=None if page is None else page.fingerprint,
    )


class SoftNotFoundProbe:
    """Each site's answer to a random non-existent path, asked at most once per run.

    Answers `known` from earlier runs are used without asking; those asked in
    this run are `new_answers`, for the caller to keep. Checks of one host
    running at the same time share one probe request.
    """

    def __init__(
        self,
        known: Iterable[ProbeAnswer] = (),
        *,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._known = {answer.origin: answer for answer in known}
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._answers: dict[str, asyncio.Task[ProbeAnswer]] = {}

    async def answer(self, net: Net, url: str) -> ProbeAnswer:
        origin = str(URL(url).origin())
        known = self._known.get(origin)
        if known is not None:
            return known
        task = self._answers.get(origin)
        if task is None:
            task = self._answers[origin] = asyncio.create_task(_probe(net, origin, self._now()))
        elif task.done():
            return task.result()
        # shield: a cancelled check must not cancel a probe other checks wait on
        return await asyncio.shield(task)

    def new_answers(self) -> list[ProbeAnswer]:
        """Answers asked in this run that are worth keeping for `check.probe_every`: a
        page, or an honest 404/410. A site that did not answer, refused (403, 429) or
        failed (5xx) may answer otherwise tomorrow, so it is asked again next run."""
        done = [t for t in self._answers.values() if t.done() and not t.cancelled()]
        answers = [t.result() for t in done if t.exception() is None]
        return [answer for answer in answers if _lasting(answer.status)]

    async def close(self) -> None:
        """Cancel the probes still asking: none outlives the run that started it."""
        await cancel_all(self._answers.values())
        self._answers = {o: t for o, t in self._answers.items() if not t.cancelled()}


def _lasting(status: int | None) -> bool:
    return status is not None and (200 <= status < 300 or status in (404, 410))


def _probe_match(probe: ProbeAnswer, response: HttpResponse, hops: int, page: Page) -> str | None:
    if probe.status is None or not 200 <= probe.status < 300:
        return None  # 404/410 for nonsense: an honest site; errors: nothing to compare
    if hops and probe.redirected and probe.final_url == response.url:
        return f"redirects where a non-existent path does too ({response.url})"
    if same_page(page, probe):
        return f"same page as for a non-existent path (title {page.title!r})"
    return None


async def soft404_reason(
    net: Net, url: str, answer: ChainEnd, page: Page | None, probes: SoftNotFoundProbe
) -> str | None:
    """Why a 2xx answer is really a 'not found', or None. Cheapest evidence first."""
    response = answer.response
    assert response is not None
    if not 200 <= response.status < 300 or is_home_page(url):
        return None
    if answer.chain.hops and is_home_page(response.url):
        return f"redirected to the home page {response.url}"
    if page is None or is_home_page(response.url):
        return None
    if page.refresh_to is not None and is_home_page(page.refresh_to):
        return f"meta refresh to the home page {page.refresh_to}"
    probe = await probes.answer(net, url)
    return _probe_match(probe, response, len(answer.chain.hops), page)
