"""The checker against the page fixtures of `tests/fixtures/web/` (parked, not found, walls).

Every fixture is served by aiohttp on 127.0.0.1, each on its own virtual host,
the way its manifest says the real site serves it (status, headers, for which
paths), checked by `check_url` through the real network layer and judged as if
the same answer came once a day for four days (`judged_over_four_days`).

- parked and for-sale pages answer for every path: usurped once the random-path
  probe confirms the same page (transient after one check, as any first doubt);
- not-found pages answer 200 for every path but one live article of a site of the
  same kind (`tests/fixtures/pages/`): the cited path is a soft 404, the live
  article on the same host stays alive;
- walls and challenges answer with their own status and headers for every path:
  blocked, never dead; the negative controls stay alive.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkwatch.check.checker import check_url
from linkwatch.check.parked import is_marketplace
from linkwatch.check.soft404 import SoftNotFoundProbe, is_search_for
from linkwatch.model import CheckResult, State
from support.hostile_web import NameResolver, bounded, judged_over_four_days, open_net

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

WEB = Path(__file__).parent / "fixtures" / "web"
PAGES = Path(__file__).parent / "fixtures" / "pages"

A, T, B, S, U = State.ALIVE, State.TRANSIENT, State.BLOCKED, State.SOFT404, State.USURPED

# Framing headers the server sets itself.
_FRAMING = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def _manifest(folder: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((WEB / folder / "manifest.json").read_text())
    return entries


def _markup(folder: str, file: str) -> str:
    return (WEB / folder / file).read_text(encoding="utf-8")


def _respond(markup: str, status: int, headers: dict[str, str]) -> web.Response:
    kept = {k: v for k, v in headers.items() if k.lower() not in _FRAMING}
    kept.setdefault("content-type", "text/html; charset=utf-8")
    return web.Response(body=markup.encode(), status=status, headers=kept)


def _host(folder: str, file: str) -> str:
    return f"{folder}-{file.removesuffix('.html')}.test"


@dataclass(frozen=True, slots=True)
class Row:
    """One fixture as cited: where, and the states expected after one check and later."""

    name: str
    host: str
    path: str
    first: State
    final: State


SITES: dict[str, Handler] = {}
ROWS: list[Row] = []


def _every_path(markup: str, status: int, headers: dict[str, str]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return _respond(markup, status, headers)

    return handler


# --- parked and for-sale pages --------------------------------------------------------

PARKED_STATES = {
    "parked": (T, U),
    "not-parked": (A, A),
    # Without an archived copy to compare with, a usurped domain's homepage answering every
    # path, or a suspended account's page, is known as the site's answer to nonsense:
    # rotten (soft404), never alive, never dead. The archived copy makes the first usurped
    # (`tests/test_usurped_by_drift.py`).
    "usurped": (T, S),
    "parked-or-suspended": (T, S),
}


def _parked_sites() -> None:
    entries = _manifest("parked")
    shell = next(e for e in entries if e["file"] == "godaddy-lander-shell.html")
    for entry in entries:
        file, kind = entry["file"], entry["expected_class"]
        if file == "godaddy-lander-shell.html" or kind not in PARKED_STATES:
            continue  # the shell is served at the root lander's /lander, below
        host = _host("parked", file)
        markup = _markup("parked", file)
        headers, status = entry["headers"], entry["status"]
        if file == "godaddy-lander-root.html":
            SITES[host] = _lander(markup, _markup("parked", shell["file"]), headers)
        elif entry["serve_for_any_path"]:
            SITES[host] = _every_path(markup, status, headers)
        else:
            SITES[host] = _only_at("/about/announcement", markup, headers)
        first, final = PARKED_STATES[kind]
        path = "/about/announcement" if kind == "not-parked" else "/2016/04/07/statement.html"
        ROWS.append(Row(f"parked/{file}", host, path, first, final))
        if kind == "parked":
            ROWS.append(Row(f"parked/{file} (home page cited)", host, "/", first, final))
        if kind in ("usurped", "parked-or-suspended"):  # home page: no evidence without a copy
            ROWS.append(Row(f"parked/{file} (home page cited)", host, "/", A, A))


def _lander(root: str, shell: str, headers: dict[str, str]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return _respond(shell if request.path == "/lander" else root, 200, headers)

    return handler


def _only_at(path: str, markup: str, headers: dict[str, str]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == path:
            return _respond(markup, 200, headers)
        return _respond("<html><title>404</title><h1>Not Found</h1></html>", 404, {})

    return handler


# --- not-found pages answering 200, beside a live article of the same kind of site ----

LIVE_BESIDE = {
    "wp-underscores-oops.html": "wordpress-twentyseventeen-jetpack.html",
    "wp-twentytwentyone-nothing-here.html": "wordpress-twentytwentyone.html",
    "wp-search-nothing-found.html": "wordpress-generatepress-cookie-newsletter.html",
    "drupal7-page-not-found.html": "drupal8-bartik.html",
    "drupal-olivero-de-seite-nicht-gefunden.html": "drupal-olivero.html",
    "wp-de-hoppla.html": "wordpress-divi.html",
    "wp-fr-page-introuvable.html": "wordpress-astra-related-in-article.html",
    "ngo-cms-pl-nie-znaleziono.html": "wordpress-ngo-amnesty-like.html",
    "ngo-cms-en-article-not-found.html": "drupal-ngo-hrw-like.html",
    "news-es-pagina-no-encontrada.html": "news-guardian-like.html",
    "spa-loading-shell.html": "substack-like.html",
    "echo-path-generic.html": "un-press-meetings-coverage.html",
    "request-id-timestamp.html": "govuk-press-release.html",
    "rotating-1.html": "news-bbc-like.html",
    "error-redirect-target.html": "news-townnews-blox.html",
    "redirect-to-homepage.html": "news-reuters-like-wire.html",
    "ghost-default-404.html": "ghost-casper.html",
}
PAGE_URLS = {e["file"]: e["url"] for e in json.loads((PAGES / "manifest.json").read_text())}


def _not_found_site(
    entry: dict[str, Any], live_path: str, live: str, rotating: list[tuple[str, str]]
) -> Handler:
    file, headers = entry["file"], entry["headers"]
    markup = _markup("notfound", file)
    chain = entry.get("redirect_chain") or []

    async def handler(request: web.Request) -> web.StreamResponse:
        path = request.path_qs
        if request.path == live_path:
            return _respond(live, 200, {})
        if file == "wp-search-nothing-found.html":  # every unknown path: to the search
            if request.query.get("s"):
                return _respond(markup, 200, headers)
            words = "+".join(w for w in request.path.strip("/").split("/")[-1].split("-") if w)
            return web.Response(status=302, headers={"Location": f"/?s={words or 'x'}"})
        if file == "error-redirect-target.html":  # every unknown path: to the error page
            if request.path == "/error/404.html":
                return _respond(markup, 200, headers)
            return web.Response(
                status=302, headers={"Location": f"/error/404.html?from={quote(path, safe='')}"}
            )
        if file == "redirect-to-homepage.html":  # every unknown path: to the front page
            if request.path == "/":
                return _respond(markup, 200, headers)
            return web.Response(status=chain[0]["status"], headers={"Location": "/"})
        page, echoed = random.choice(rotating) if rotating else (markup, entry["request_path"])
        # the page names the path asked, as such sites do, not the one it was captured for
        return _respond(page.replace(echoed, html.escape(path)), 200, headers)

    return handler


def _not_found_sites() -> None:
    entries = _manifest("notfound")
    rotating = [
        (_markup("notfound", e["file"]), e["request_path"]) for e in entries if e.get("group")
    ]
    for entry in entries:
        file, kind = entry["file"], entry["expected_class"]
        if file in ("rotating-2.html", "rotating-3.html"):
            continue  # one site, rotating-1's, serves all three
        host = _host("notfound", file)
        if kind == "not-soft404":  # the control: an article that quotes "page not found"
            SITES[host] = _only_at(entry["request_path"], _markup("notfound", file), {})
            ROWS.append(Row(f"notfound/{file}", host, entry["request_path"], A, A))
            continue
        live_file = LIVE_BESIDE[file]
        live_path = urlsplit(PAGE_URLS[live_file]).path
        live = (PAGES / live_file).read_text(encoding="utf-8")
        variants = rotating if entry.get("group") else []
        SITES[host] = _not_found_site(entry, live_path, live, variants)
        chain = entry.get("redirect_chain") or []
        cited = urlsplit(chain[0]["url"]).path if chain else entry["request_path"]
        if kind == "soft404":
            ROWS.append(Row(f"notfound/{file}", host, cited, T, S))
        if kind == "indeterminate":  # an app's shell, alike for every path: no evidence
            ROWS.append(Row(f"notfound/{file}", host, cited, A, A))
        ROWS.append(Row(f"notfound/{file}: live {live_file}", host, live_path, A, A))


# --- walls and challenges -------------------------------------------------------------

WALL_STATES = {"challenge": (B, B), "blocked": (B, B), "legal-block": (B, B), "ok": (A, A)}


def _wall_sites() -> None:
    for entry in _manifest("challenge"):
        file = entry["file"]
        sidecar = json.loads((WEB / "challenge" / entry["sidecar"]).read_text())
        host = _host("challenge", file)
        markup, status, headers = _markup("challenge", file), sidecar["status"], sidecar["headers"]
        if entry["expected_class"] == "ok":  # the control: a real article, at its own path
            SITES[host] = _only_at("/2016/04/07/statement.html", markup, headers)
        else:
            SITES[host] = _every_path(markup, status, headers)
        first, final = WALL_STATES[entry["expected_class"]]
        ROWS.append(Row(f"challenge/{file}", host, "/2016/04/07/statement.html", first, final))


def _quoting_site() -> None:
    """A live article quoting parking pages' words (and a caf.js it writes about): alive,
    since its site answers an honest 404 for any other path."""
    quote = (
        "<p>Readers who follow the old link now see \u201cThis domain has expired\u201d, then "
        "\u201cThis domain is parked at\u201d a registrar, above a script from "
        "<code>https://www.google.com/adsense/domains/caf.js</code>.</p></div>"
    )
    live = (PAGES / "wordpress-twentytwentyone.html").read_text(encoding="utf-8")
    live = live.replace("</div>", quote, 1)
    host = "quoting-parking-words.test"
    SITES[host] = _only_at("/2024/04/09/lapsed-domains/", live, {})
    ROWS.append(Row("article quoting parking words", host, "/2024/04/09/lapsed-domains/", A, A))


# Walls known by their vendor's header, as reported from the field (sources in the README):
# Vercel's Security Checkpoint answers 429 or 403 with `x-vercel-mitigated: challenge`, AWS
# WAF 202 with an empty body, Cloudflare's challenge now and then a 200.
CHECKPOINT = (
    "<!DOCTYPE html><html><head><title>Vercel Security Checkpoint</title></head><body>"
    '<script src="/.well-known/vercel/security/static/challenge.v2.min.js"></script></body></html>'
)
HEADER_WALLS = [
    ("Vercel checkpoint 429", CHECKPOINT, 429, {"x-vercel-mitigated": "challenge"}),
    ("Vercel checkpoint 200", CHECKPOINT, 200, {"x-vercel-mitigated": "challenge"}),
    ("AWS WAF 202, empty", "", 202, {"x-amzn-waf-action": "challenge"}),
    ("AWS WAF 405 captcha", "", 405, {"x-amzn-waf-action": "captcha"}),
    (
        "Cloudflare challenge 200",
        "<title>Just a moment...</title>",
        200,
        {"cf-mitigated": "challenge"},
    ),
]


def _header_walls() -> None:
    for name, markup, status, headers in HEADER_WALLS:
        host = f"wall-{len(ROWS)}.test"
        SITES[host] = _every_path(markup, status, {"content-type": "text/html", **headers})
        ROWS.append(Row(name, host, "/2016/04/07/statement.html", B, B))
    # A live article with a comment form's captcha and DataDome's tag: the page, no wall.
    live = (PAGES / "ghost-casper.html").read_text(encoding="utf-8")
    live = live.replace(
        "</body>",
        '<form class="comments"><div class="g-recaptcha" data-sitekey="FAKE"></div>'
        "<p>Please complete the captcha.</p></form>"
        '<script src="https://js.datadome.co/tags.js" async></script></body>',
    )
    path = urlsplit(PAGE_URLS["ghost-casper.html"]).path
    SITES["captcha-in-comments.test"] = _only_at(path, live, {"x-datadome": "protected"})
    ROWS.append(Row("live article with a captcha form", "captcha-in-comments.test", path, A, A))


# A lapsed domain sent to its sale listing: Dan.com, which now sends it on to Afternic.
MARKETPLACE_HOSTS = ("dan.com", "www.afternic.com", "forsale.godaddy.com")


def _marketplace_chain() -> None:
    async def lapsed(request: web.Request) -> web.StreamResponse:
        port = request.url.port
        return web.Response(
            status=302, headers={"Location": f"http://dan.com:{port}/buy-domain/lapsed.test"}
        )

    async def dan(request: web.Request) -> web.StreamResponse:
        listing = f"http://www.afternic.com:{request.url.port}/forsale/lapsed.test?traffic_id=dan"
        return web.Response(status=301, headers={"Location": listing})

    async def afternic(request: web.Request) -> web.StreamResponse:
        page = "<h1>lapsed.test is for sale</h1><p>Buy now or make an offer.</p>"
        return _respond(f"<html><title>lapsed.test</title><body>{page}</body></html>", 200, {})

    SITES["lapsed-to-dan.test"] = lapsed
    SITES["dan.com"] = dan
    SITES["www.afternic.com"] = afternic
    ROWS.append(Row("lapsed, via Dan.com to Afternic", "lapsed-to-dan.test", "/report", T, U))


_parked_sites()
_marketplace_chain()
_quoting_site()
_header_walls()
_not_found_sites()
_wall_sites()


@pytest.fixture
async def fixture_web() -> AsyncIterator[int]:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        return await SITES[request.url.host or ""](request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=0.2)
    assert server.port is not None
    yield server.port
    await server.close()


async def checked(url: str) -> CheckResult:
    async with open_net(
        resolver=NameResolver(dict.fromkeys(MARKETPLACE_HOSTS, "127.0.0.1"))
    ) as net:
        probes = SoftNotFoundProbe(shaped=True)
        try:
            return await bounded(check_url(net, url, probe_cache=probes))
        finally:
            await probes.close()


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
async def test_a_fixture_is_judged_right(fixture_web: int, row: Row) -> None:
    result = await checked(f"http://{row.host}:{fixture_web}{row.path}")
    assert judged_over_four_days(result) == (row.first, row.final), result


def test_every_fixture_of_a_judged_class_has_a_row() -> None:
    rows = {r.name.split(" ")[0].split(":")[0] for r in ROWS}
    for folder in ("parked", "notfound", "challenge"):
        for entry in _manifest(folder):
            if entry["file"] in ("godaddy-lander-shell.html", "rotating-2.html", "rotating-3.html"):
                continue
            assert f"{folder}/{entry['file']}" in rows


@pytest.mark.parametrize(
    ("final", "url", "search_for_it"),
    [
        ("https://x.test/?s=reform+statement", "https://x.test/2016/04/07/reform-statement/", True),
        ("https://x.test/search?q=climate", "https://x.test/tag/climate/", True),
        ("https://x.test/?s=budget", "https://x.test/2016/04/07/reform-statement/", False),
        ("https://x.test/?s=reform", "https://x.test/search/reform", False),  # a search moved
        ("https://x.test/?s=reform", "https://x.test/?s=reform&page=2", False),
        ("https://x.test/news?s=reform", "https://x.test/reform", False),  # not the site search
        ("https://x.test/?p=12", "https://x.test/reform", False),
    ],
)
def test_a_search_for_the_cited_urls_own_words_is_known(
    final: str, url: str, search_for_it: bool
) -> None:
    assert is_search_for(final, url) is search_for_it


@pytest.mark.parametrize(
    ("url", "marketplace"),
    [
        ("https://forsale.godaddy.com/forsale/lapsed.test", True),
        ("https://www.buydomains.com/lander/lapsed.test", True),
        ("https://www.afternic.com/forsale/lapsed.test", True),
        ("https://www.godaddy.com/help", False),
        ("https://notdan.com/", False),
    ],
)
def test_where_lapsed_domains_are_listed_is_known(url: str, marketplace: bool) -> None:
    assert is_marketplace(url) is marketplace
