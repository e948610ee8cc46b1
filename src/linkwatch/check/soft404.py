"""Soft 404s: pages that answer 200 but are really a 'not found'; parked domains; moves.

The evidence, cheapest first: a redirect to a home page (the site's or another
site's), to an error page (`/error/404.html?from=...`) or to a domain
marketplace; a meta refresh or a script that only sends the reader to `/`; and
the site's answers to a random path and to a path shaped like the cited one
(the probes), compared with the cited page by their gist (main text, variable
parts discounted). A page that matches a probe and bears a parking service's
marks is a usurped domain, not a soft 404. A meta refresh or a script-only page
sending the reader to another page is a move.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from yarl import URL

from linkwatch.check.page import (
    Gist,
    Page,
    gist_title,
    page_gist,
    read_page,
    rough_words,
    same_gist,
    visible_words,
)
from linkwatch.check.parked import is_marketplace, parking_signs
from linkwatch.check.redirects import Chain, ChainEnd, follow
from linkwatch.check.shapes import Shape, probe_url, url_shape
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


# Where sites send a missing page: '/error/404.html?from=...', '/404.aspx?aspxerrorpath=',
# '/errors/not-found', '/pagenotfound', '/error.htm?404;...', '/404'. A bare '404' deeper
# down counts only under an error folder: '/news/404' may well be article 404.
_ERROR_NAME = re.compile(
    r"(?:errors?|not[-_]?found|page[-_]?not[-_]?found|file[-_]?not[-_]?found|error[-_]?404"
    r"|404[-_]?(?:error|page|not[-_]?found))(?:\.\w+)?|404\.\w+",
    re.I,
)
_ERROR_FOLDER = re.compile(r"errors?|error[-_]?pages?", re.I)
_ERROR_QUERY = re.compile(r"(?:^|&)(?:aspxerrorpath=|404;|error=404)", re.I)


def is_error_page(url: str) -> bool:
    """A URL naming a site's error page rather than content."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if _ERROR_QUERY.search(parts.query):
        return True
    if not segments:
        return False
    last = segments[-1]
    if _ERROR_NAME.fullmatch(last):
        return True
    if last != "404":
        return False
    return len(segments) == 1 or bool(_ERROR_FOLDER.fullmatch(segments[-2]))


_SEARCH_PATHS = ("", "/", "/search", "/search/")
_SEARCH_PARAMS = ("s", "q", "query", "search")
_WORD = re.compile(r"[^\W_]{3,}")


def is_search_for(final: str, url: str) -> bool:
    """A site search for the cited URL's own words: where WordPress' redirect plugins
    send a missing article ('/2016/04/07/reform-statement/' -> '/?s=reform+statement')."""
    parts = urlsplit(final)
    if parts.path not in _SEARCH_PATHS or not parts.query:
        return False
    asked = parse_qs(parts.query)
    terms = {w.lower() for k in _SEARCH_PARAMS for v in asked.get(k, ()) for w in _WORD.findall(v)}
    cited = urlsplit(url)
    if cited.path.lower().startswith("/search") or parse_qs(cited.query).keys() & {*_SEARCH_PARAMS}:
        return False  # a search moving to another form of itself: '/search/x' -> '/?q=x'
    words = {w.lower() for w in _WORD.findall(unquote(cited.path))}
    return bool(terms) and terms <= words


# A script that sends the reader elsewhere: location = '/', location.replace("/")...
_SCRIPT_REDIRECT = re.compile(
    r"""(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*=\s*(['"])([^'"]*)\1"""
    r"""|location\.(?:replace|assign)\(\s*(['"])([^'"]*)\3\s*\)""",
)
# A page with this few visible words besides a redirecting script is nothing but the script;
# such pages are small, so larger ones are not even searched (a search and a parse of
# every page would cost more than the rest of a check).
_SCRIPT_ONLY_WORDS = 30
_SCRIPT_ONLY_SIZE = 8192


def script_redirect(page: Page, base: str) -> str | None:
    """Where a page whose only content is a redirecting script sends the reader, or None."""
    if len(page.markup) > _SCRIPT_ONLY_SIZE or "location" not in page.markup:
        return None
    found = _SCRIPT_REDIRECT.search(page.markup)
    if found is None:
        return None
    target: str = found.group(2) if found.group(2) is not None else found.group(4)
    if visible_words(page) > _SCRIPT_ONLY_WORDS:
        return None
    return urljoin(base, target)


# A single-page app's shell: the same few bytes for every path, real or not, drawn by a
# script into an empty root element. Matching the site's answer to nonsense says nothing
# about such a page (its HTML carries no evidence either way), so it is left alive.
_APP_ROOT = re.compile(r"""<div\s+id=["']?(?:root|app|__next|__nuxt|svelte)["'\s>]""", re.I)
_APP_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=", re.I)
_APP_SHELL_WORDS = 15


def is_app_shell(page: Page) -> bool:
    """A page whose content a script draws: an empty root element, a script, no text."""
    markup = page.markup
    return (
        len(markup) <= _SCRIPT_ONLY_SIZE * 2
        and _APP_ROOT.search(markup) is not None
        and _APP_SCRIPT.search(markup) is not None
        and visible_words(page) <= _APP_SHELL_WORDS
    )


_PROBE_ALPHABET = string.ascii_lowercase + string.digits

# A page whose main text has more words than this reads as an article, not as a
# "not found": a shaped probe answered by such a page means the site ignored what the
# probe varied (or numbers every page), so it is evidence of nothing.
_NOT_FOUND_WORDS = 150


async def _probe(net: Net, origin: str, asked_at: dt.datetime, shape: Shape | None) -> ProbeAnswer:
    if shape is None:
        url = f"{origin}/{''.join(secrets.choice(_PROBE_ALPHABET) for _ in range(20))}"
    else:
        url = probe_url(shape)
    answer = await follow(net, url, "GET", Chain())
    response = answer.response
    page = None if response is None else read_page(response)
    gist = None
    if page is not None and shape is None:
        gist = page_gist(page, url)
    elif page is not None:
        rough = rough_words(page)  # an article answered: no gist needed, as none compares
        gist = Gist(None, None, rough) if rough > 3 * _NOT_FOUND_WORDS else page_gist(page, url)
    return ProbeAnswer(
        origin=origin,
        asked_at=asked_at,
        status=None if response is None else response.status,
        final_url=None if response is None else response.url,
        redirected=bool(answer.chain.hops),
        title=None if gist is None else gist.title,
        fingerprint=None if gist is None else gist.fingerprint,
        shape="" if shape is None else shape.key,
        words=None if gist is None else gist.words,
    )


class SoftNotFoundProbe:
    """Each site's answers to a random non-existent path and, when `shaped`, to a
    non-existent path shaped like each kind of URL cited (see `shapes`), asked at
    most once per run and shape.

    Answers `known` from earlier runs are used without asking; those asked in
    this run are `new_answers`, for the caller to keep. Checks of one host
    running at the same time share one probe request. Shaped probes are for the
    check run; the archive's replays, whose URLs are an archive's, ask none.
    """

    def __init__(
        self,
        known: Iterable[ProbeAnswer] = (),
        *,
        now: Callable[[], dt.datetime] | None = None,
        shaped: bool = False,
    ) -> None:
        self._known = {(answer.origin, answer.shape): answer for answer in known}
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._answers: dict[tuple[str, str], asyncio.Task[ProbeAnswer]] = {}
        self.shaped = shaped

    async def answer(self, net: Net, url: str, shape: Shape | None = None) -> ProbeAnswer:
        origin = str(URL(url).origin())
        key = (origin, "" if shape is None else shape.key)
        known = self._known.get(key)
        if known is not None:
            return known
        task = self._answers.get(key)
        if task is None:
            task = self._answers[key] = asyncio.create_task(_probe(net, origin, self._now(), shape))
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


class _Cited:
    """The cited page as the probes' answers are compared with it; its gist is computed
    only when a probe answered a page with the same title (parsing is the costly part)."""

    def __init__(self, url: str, response: HttpResponse, hops: int, page: Page) -> None:
        self.url, self.response, self.hops, self.page = url, response, hops, page
        self.title = gist_title(page.title, url)
        self._gist: Gist | None = None

    @property
    def gist(self) -> Gist:
        if self._gist is None:
            self._gist = page_gist(self.page, self.url)
        return self._gist


def _probe_match(probe: ProbeAnswer, cited: _Cited) -> str | None:
    if probe.status is None or not 200 <= probe.status < 300:
        return None  # 404/410 for nonsense: an honest site; errors: nothing to compare
    what = "a non-existent path" if not probe.shape else f"a non-existent {probe.shape}"
    if cited.hops and probe.redirected and probe.final_url == cited.response.url:
        return f"redirects where {what} does too ({cited.response.url})"
    if probe.shape and (probe.words or 0) > _NOT_FOUND_WORDS:
        return None  # the site answered an article: it ignores what the probe varied
    if cited.title != probe.title:
        return None
    if probe.shape and cited.gist.words > _NOT_FOUND_WORDS:
        return None
    if same_gist(cited.gist, Gist(probe.title, probe.fingerprint)):
        return f"same page as for {what} (title {cited.title!r})"
    return None


# A meta refresh sends the reader on at once (a move) within this many seconds; a page
# reloading itself or a section every few minutes has not moved.
_MOVE_REFRESH_DELAY = 10.0


@dataclass(frozen=True, slots=True)
class PageJudgement:
    """What a 2xx answer really is: a soft 404, a usurped domain, a move, or the page."""

    soft404: str | None = None
    usurped: str | None = None
    moved_to: str | None = None


_PAGE = PageJudgement()


def _site(url: str) -> str:
    """The host without a leading 'www.': http://x.org -> https://www.x.org/ is one site."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _matched(why: str, page: Page | None) -> PageJudgement:
    """A page that matches the site's answer to nonsense: parked, when it says so."""
    signs = None if page is None else parking_signs(page)
    if signs is not None:
        return PageJudgement(usurped=f"{why}; {signs}")
    return PageJudgement(soft404=why)


async def judge_page(
    net: Net, url: str, answer: ChainEnd, page: Page | None, probes: SoftNotFoundProbe
) -> PageJudgement:
    """What a 2xx answer really is. Cheapest evidence first."""
    response = answer.response
    assert response is not None
    if not 200 <= response.status < 300:
        return _PAGE
    final, hops = response.url, len(answer.chain.hops)
    if hops and is_marketplace(final):
        return PageJudgement(usurped=f"redirected to a domain marketplace {final}")
    if is_home_page(url):
        return await _judge_home(net, url, response, page, probes)
    if hops and is_home_page(final):
        if _site(final) != _site(url):
            return _matched(f"redirected to another site's home page {final}", page)
        return _matched(f"redirected to the home page {final}", page)
    if hops and is_error_page(final) and not is_error_page(url):
        return PageJudgement(soft404=f"redirected to an error page {final}")
    if hops and is_search_for(final, url):
        return PageJudgement(soft404=f"redirected to a search for its own words {final}")
    if page is None or is_home_page(final):
        return _PAGE
    if page.refresh_to is not None and is_home_page(page.refresh_to):
        return PageJudgement(soft404=f"meta refresh to the home page {page.refresh_to}")
    scripted = script_redirect(page, final)
    if scripted is not None and is_home_page(scripted):
        return PageJudgement(soft404=f"nothing but a script sending readers to {scripted}")
    cited = _Cited(url, response, hops, page)
    match = _probe_match(await probes.answer(net, url), cited)
    shape = url_shape(url) if probes.shaped and match is None else None
    if shape is not None:
        match = _probe_match(await probes.answer(net, url, shape), cited)
    if match is not None:
        if is_app_shell(page) and parking_signs(page) is None:
            return _PAGE  # an app's shell answers every path alike: no evidence
        return _matched(match, page)
    refresh = page.refresh_to if (page.refresh_delay or 0) <= _MOVE_REFRESH_DELAY else None
    onwards = refresh or scripted
    if onwards is not None and onwards.split("#")[0] not in (url, final):
        return PageJudgement(moved_to=onwards)
    return _PAGE


async def _judge_home(
    net: Net, url: str, response: HttpResponse, page: Page | None, probes: SoftNotFoundProbe
) -> PageJudgement:
    """A cited home page is only ever rotten as a parked domain: the same parking page for
    `/` as for a random path, bearing a parking service's marks."""
    if page is None or parking_signs(page) is None:
        return _PAGE
    match = _probe_match(await probes.answer(net, url), _Cited(url, response, 0, page))
    return _PAGE if match is None else _matched(match, page)
