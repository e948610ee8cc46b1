"""The web as it is, beyond HOSTILE_WEB.md: checked for real, judged after the policy.

Every row is served by aiohttp on 127.0.0.1 (virtual hosts by Host header),
checked by `check_url` through the real network layer, then judged as if the
same answer came once a day for four days (`judged_over_four_days`): the state
after one check and after the policy had time are both asserted.

| behaviour | fixture: host path | one check, after the policy |
| --- | --- | --- |
| not-found for the shape `/a/#,~` | cms.test /a/48213,minister-resigns | transient, soft404 |
| the same CMS, a real article | cms.test /a/12345,budget-adopted | alive, alive |
| not-found for `/news/view/#` | cms.test /news/view/77120 | transient, soft404 |
| not-found for `/#/#/~/` | cms.test /2024/05/summit-postponed/ | transient, soft404 |
| not-found for `?id=#` | cms.test /index.php?id=901 | transient, soft404 |
| a query parameter the site ignores | cms.test /a/12345,budget-adopted?ref=rss | alive, alive |
| not-found echoing path, id, rotating links | echo.test /story/gone-for-good | transient, soft404 |
| the same site, a real article | echo.test /story/real-news | alive, alive |
| parked at Sedo, an article | sedo-parked.test /2019/03/report.html | transient, usurped |
| parked at Sedo, the home page cited | sedo-parked.test / | transient, usurped |
| GoDaddy CashParking lander | gd-parked.test /press/statement | transient, usurped |
| Bodis (a script to /lander) | bodis-parked.test /news/item | transient, usurped |
| lapsed, redirected to HugeDomains | lapsed.test /about/team | transient, usurped |
| an article quoting "buy this domain" | cms.test /a/12346,domain-sales | alive, alive |
| redirect to another site's home page | merged.test /programmes/water | transient, soft404 |
| redirect to an error page answering 200 | wrong.test /reports/2019 | transient, soft404 |
| only a script sending readers to `/` | wrong.test /js-home | transient, soft404 |
| meta refresh to another article | wrong.test /old-article | moved, moved |
| 301 to another article | wrong.test /renamed | moved, moved |
| a meta refresh after 10 minutes (a live page) | wrong.test /live-blog | alive, alive |
| 301 to `/news/404`, an article numbered 404 | wrong.test /news/view | moved, moved |
| a 14-hop tracking chain | hops.test /click?hop=1&to=15 | alive, alive |
| 21 redirects, more than browsers follow | hops.test /click?hop=1&to=22 | transient, dead |
| a redirect loop, caught at once | hops.test /loop/a | transient, dead |
| HEAD 200 application/pdf, GET 404 | docs.test /files/annual-report.pdf | transient, dead |
| HEAD 200, GET of the first kilobyte 206 | docs.test /files/brochure.pdf | alive, alive |
| challenge: 403 cf-mitigated, any User-Agent | walls.test /cf-403 | blocked, blocked |
| "Just a moment..." interstitial, 503 | walls.test /cf-503 | blocked, blocked |
| 451 Unavailable For Legal Reasons | walls.test /451 | blocked, blocked |
| 429, Retry-After a day (seconds) | walls.test /429-day | blocked, blocked |
| 429, Retry-After an HTTP date a day away | walls.test /429-date-far | blocked, blocked |
| 429, Retry-After a date 1 s away, then 200 | walls.test /429-date-soon | alive, alive |

The false-same-page rate of the gist comparison over real article pairs of one site
(`test_distinct_articles_of_one_site_are_not_the_same_page`) is stated in the README.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import itertools
import re
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linkwatch.check.checker import check_url
from linkwatch.check.page import Gist, page_gist, read_page, same_gist
from linkwatch.check.redirects import DOCUMENT_PROBE_BYTES
from linkwatch.check.shapes import probe_url, url_shape
from linkwatch.check.soft404 import SoftNotFoundProbe, is_error_page
from linkwatch.model import CheckResult, ProbeAnswer, State
from linkwatch.net.response import HttpResponse
from support.hostile_web import (
    BROWSER_AGENT,
    CHALLENGE,
    NameResolver,
    bounded,
    judged_over_four_days,
    open_net,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ARTICLES = Path(__file__).parent / "fixtures" / "articles"


# ---------------------------------------------------------------------------
# Pages as CMSs write them: chrome (header, menu, sidebar, footer) around the content


def site_page(site: str, title: str, content: str, *, sidebar: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | {site}</title>
<link rel="stylesheet" href="/static/css/main.css"></head>
<body class="page">
<header class="site-header"><a class="logo" href="/">{site}</a>
<nav class="main-menu"><ul><li><a href="/news">News</a></li><li><a href="/about">About us</a>
</li><li><a href="/contact">Contact</a></li></ul></nav></header>
<div class="container"><main id="content" class="site-main">{content}</main>
<aside class="sidebar">{sidebar}</aside></div>
<footer class="site-footer"><p>&copy; 2024 {site}. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></footer></body></html>"""


def article(site: str, title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return site_page(
        site,
        title,
        f'<article class="post"><h1 class="entry-title">{title}</h1>'
        f'<time datetime="2024-05-14">14 May 2024</time><div class="entry-content">{body}</div>'
        "</article>",
    )


def respond(markup: str, status: int = 200, **headers: str) -> web.Response:
    return web.Response(text=markup, status=status, content_type="text/html", headers=headers)


BUDGET = [
    "The city council adopted the 2024 budget on Tuesday after a debate that lasted most "
    "of the night, with 31 votes in favour and 12 against.",
    "The budget raises spending on public transport by a fifth and freezes the property "
    "tax for a second year, the treasurer said at a press conference after the vote.",
    "Opposition councillors criticised the cuts to the libraries and said they would ask "
    "the regional audit office to review the borrowing plan before the summer.",
]
DOMAIN_SALES = [
    "Lapsed domains of charities are bought at auction within days and turned into pages "
    "that say buy this domain or show advertising, researchers found.",
    "Citations in old press releases then lead readers to a parking page instead of the "
    "report they named.",
]


# cms.test: an honest 404 for a random path, a 200 "not found" page for its own shapes.
def cms_not_found(requested: str) -> web.Response:
    content = (
        '<div class="alert alert-warning"><h1>Article not found</h1>'
        "<p>The article you are looking for does not exist or has been removed from our "
        "archive. Use the search box or browse the latest news.</p></div>"
    )
    return respond(site_page("Daily Courier", "Article not found", content))


async def cms(request: web.Request) -> web.StreamResponse:
    path, query = request.path, request.query
    if path == "/a/12345,budget-adopted":  # any ?ref= is ignored, as sites do
        return respond(article("Daily Courier", "Budget adopted after a night of debate", BUDGET))
    if path == "/a/12346,domain-sales":
        return respond(article("Daily Courier", "Who buys a charity's old domain", DOMAIN_SALES))
    if path.startswith(("/a/", "/news/view/")) or re.fullmatch(r"/\d{4}/\d{2}/[\w-]+/", path):
        return cms_not_found(path)
    if path == "/index.php" and "id" in query:
        return cms_not_found(path)
    return respond(site_page("Daily Courier", "404", "<h1>404</h1>"), status=404)


# echo.test: a soft-404 page that differs on every request.
ECHO_HEADLINES = [
    "Harbour reopens after storm",
    "School meals to be free from September",
    "Cycling lanes extended to the north bank",
    "Museum wins national prize",
    "New bridge opens to traffic",
    "Farmers' market moves to the square",
]


async def echo(request: web.Request) -> web.StreamResponse:
    if request.path == "/story/real-news":
        return respond(article("The Echo", "Budget adopted after a night of debate", BUDGET))
    picks = secrets.SystemRandom().sample(ECHO_HEADLINES, 3)
    related = "".join(f'<li><a href="/story/{i}">{h}</a></li>' for i, h in enumerate(picks))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    content = (
        f"<h1>Sorry, we could not find {request.path}</h1>"
        f"<p>The page {request.path} may have moved or never existed.</p>"
        f"<p>Reference: {secrets.token_hex(16)}, generated {stamp}.</p>"
        f'<h2>You may also like</h2><ul class="related">{related}</ul>'
    )
    return respond(site_page("The Echo", f"Not found: {request.path}", content))


# Parking pages, with the markup and wording of their services.
SEDO = """<!DOCTYPE html><html><head><title>sedo-parked.test</title>
<script>var dto = {sedoParkingUrl: "https://sedoparking.com/search/registrar.php"};</script>
</head><body><div class="header"><h1>sedo-parked.test</h1></div>
<div class="content"><p>This domain may be for sale!</p>
<ul class="related-links"><li><a href="/?q=cheap+flights">Cheap Flights</a></li>
<li><a href="/?q=online+degree">Online Degree</a></li></ul>
<p class="disclaimer">The Sponsored Listings displayed above are served automatically by a
third party. Neither the service provider nor the domain owner maintain any relationship with
the advertisers.</p></div>
<div id="footer">FOOTER_DOMAIN_PARKING</div></body></html>"""

GODADDY = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>gd-parked.test</title>
<link rel="stylesheet" href="https://img1.wsimg.com/parking-lander/static/css/main.css">
</head><body><div id="root"></div>
<script src="https://img1.wsimg.com/parking-lander/static/js/main.2de80224.chunk.js"></script>
</body></html>"""

BODIS = """<!DOCTYPE html><html><head><title></title></head><body>
<script>window.location.href="/lander"</script></body></html>"""


def same_for_every_path(markup: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return respond(markup)

    return handler


async def lapsed(request: web.Request) -> web.StreamResponse:
    listing = f"http://www.hugedomains.com:{request.url.port}/domain_profile.cfm?d=lapsed.test"
    return web.Response(status=302, headers={"Location": listing})


async def hugedomains(request: web.Request) -> web.StreamResponse:
    content = "<h1>lapsed.test is for sale</h1><p>Buy now for $2,695 or pay in instalments.</p>"
    return respond(site_page("HugeDomains", "lapsed.test is for sale", content))


# merged.test: the organisation merged into another; every old URL goes to the new home.
async def merged(request: web.Request) -> web.StreamResponse:
    if request.path == "/":
        return respond(site_page("Water Trust", "Home", "<h1>Water Trust</h1><p>Hello.</p>"))
    return web.Response(
        status=301, headers={"Location": f"http://new-org.test:{request.url.port}/"}
    )


async def new_org(request: web.Request) -> web.StreamResponse:
    welcome = "<h1>Welcome to Clean Rivers Alliance</h1><p>Two charities, one mission.</p>"
    return respond(site_page("Clean Rivers Alliance", "Home", welcome))


async def wrong(request: web.Request) -> web.StreamResponse:
    path = request.path
    if path == "/reports/2019":
        return web.Response(status=302, headers={"Location": f"/error/404.html?from={path}"})
    if path == "/error/404.html":
        oops = "<h1>Oops!</h1><p>We can't seem to find the page you're looking for.</p>"
        return respond(site_page("Wrong Place", "Error", oops))
    if path == "/js-home":
        return respond(
            '<html><head><title>Redirecting</title><script type="text/javascript">'
            'window.location.replace("/");</script></head><body></body></html>'
        )
    if path == "/old-article":
        head = '<meta http-equiv="refresh" content="0; url=/new-article">'
        return respond(f"<html><head><title>Moved</title>{head}</head><body></body></html>")
    if path == "/live-blog":  # reloads its section every ten minutes: not a move
        head = '<meta http-equiv="refresh" content="600; url=/new-article">'
        body = "<p>Updates as they come in.</p>"
        return respond(f"<html><head><title>Live</title>{head}</head><body>{body}</body></html>")
    if path == "/news/view":  # the article numbered 404, not an error page
        return web.Response(status=301, headers={"Location": "/news/404"})
    if path == "/news/404":
        return respond(article("Wrong Place", "Article number 404", BUDGET))
    if path == "/renamed":
        return web.Response(status=301, headers={"Location": "/new-article"})
    if path in ("/new-article", "/"):
        return respond(article("Wrong Place", "A new article", BUDGET))
    return respond(site_page("Wrong Place", "404", "<h1>Not found</h1>"), status=404)


async def hops(request: web.Request) -> web.StreamResponse:
    """/click?hop=N&to=M redirects to hop N+1 until M, then answers a page (a tracking chain)."""
    if request.path.startswith("/loop/"):
        other = "/loop/b" if request.path == "/loop/a" else "/loop/a"
        return web.Response(status=302, headers={"Location": other})
    if request.path != "/click":
        return web.Response(status=404)
    step, last = int(request.query["hop"]), int(request.query["to"])
    if step < last:
        return web.Response(status=302, headers={"Location": f"/click?hop={step + 1}&to={last}"})
    return respond(article("Landing", "Where the chain ends", BUDGET))


PDF_START = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 64


async def docs(request: web.Request) -> web.StreamResponse:
    pdf = {"Content-Type": "application/pdf", "Content-Length": str(len(PDF_START))}
    if request.path == "/files/annual-report.pdf":  # a default route answers HEAD
        if request.method == "HEAD":
            return web.Response(status=200, headers=pdf)
        return respond(site_page("Docs", "404", "<h1>Not found</h1>"), status=404)
    if request.path == "/files/brochure.pdf":
        if request.method == "HEAD":
            return web.Response(status=200, headers=pdf)
        if request.headers.get("Range") == f"bytes=0-{DOCUMENT_PROBE_BYTES - 1}":
            part = {
                "Content-Type": "application/pdf",
                "Content-Range": f"bytes 0-{DOCUMENT_PROBE_BYTES - 1}/{len(PDF_START)}",
            }
            return web.Response(status=206, body=PDF_START[:DOCUMENT_PROBE_BYTES], headers=part)
        return web.Response(status=200, body=PDF_START, headers=pdf)
    return web.Response(status=404)


class Walls:
    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.asked[path] += 1
        if path == "/cf-403":  # whatever the User-Agent
            headers = {"Server": "cloudflare", "cf-mitigated": "challenge"}
            return respond(CHALLENGE, status=403, **headers)
        if path == "/cf-503":
            return respond(
                "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                "<noscript>Enable JavaScript and cookies to continue</noscript></body></html>",
                status=503,
            )
        if path == "/451":
            return respond(
                site_page("Walls", "Unavailable", "<h1>Not available in your country</h1>"), 451
            )
        now = dt.datetime.now(dt.UTC)
        if path == "/429-day":
            return web.Response(status=429, headers={"Retry-After": "86400"})
        if path == "/429-date-far":
            later = email.utils.format_datetime(now + dt.timedelta(days=1), usegmt=True)
            return web.Response(status=429, headers={"Retry-After": later})
        if path == "/429-date-soon":
            if self.asked[path] == 1:
                date = email.utils.format_datetime(now.replace(microsecond=0), usegmt=True)
                soon = email.utils.format_datetime(
                    now.replace(microsecond=0) + dt.timedelta(seconds=1), usegmt=True
                )
                return web.Response(status=429, headers={"Retry-After": soon, "Date": date})
            return respond(article("Walls", "Thanks for waiting", BUDGET))
        return web.Response(status=404)


class WebAsItIs:
    """The virtual hosts above on one loopback port; every request is recorded."""

    def __init__(self) -> None:
        self.port = 0
        self.seen: list[tuple[str, str, str, str]] = []  # host, method, path?query, Range
        self.walls = Walls()
        self.sites: dict[str, Handler] = {
            "cms.test": cms,
            "echo.test": echo,
            "sedo-parked.test": same_for_every_path(SEDO),
            "gd-parked.test": same_for_every_path(GODADDY),
            "bodis-parked.test": same_for_every_path(BODIS),
            "lapsed.test": lapsed,
            "www.hugedomains.com": hugedomains,
            "merged.test": merged,
            "new-org.test": new_org,
            "wrong.test": wrong,
            "hops.test": hops,
            "docs.test": docs,
            "walls.test": self.walls,
        }

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def requests_to(self, host: str) -> list[tuple[str, str, str, str]]:
        return [s for s in self.seen if s[0] == host]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        host = request.url.host or ""
        self.seen.append((host, request.method, request.path_qs, request.headers.get("Range", "")))
        return await self.sites[host](request)


@pytest.fixture
async def web_as_it_is() -> AsyncIterator[WebAsItIs]:
    site = WebAsItIs()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", site.dispatch)
    server = TestServer(app)
    await server.start_server(shutdown_timeout=0.2)
    assert server.port is not None
    site.port = server.port
    yield site
    await server.close()


RESOLVER = NameResolver({"www.hugedomains.com": "127.0.0.1"})


async def checked(
    url: str, probes: SoftNotFoundProbe | None = None, **options: object
) -> CheckResult:
    async with open_net(resolver=RESOLVER, **options) as net:  # type: ignore[arg-type]
        probes = probes or SoftNotFoundProbe(shaped=True)
        try:
            return await bounded(check_url(net, url, probe_cache=probes))
        finally:
            await probes.close()


A, M, T, B = State.ALIVE, State.MOVED, State.TRANSIENT, State.BLOCKED
S, U, D = State.SOFT404, State.USURPED, State.DEAD

ROWS: list[tuple[str, str, str, State, State]] = [
    # behaviour, host, path, state after one check, state after the policy
    ("shaped not-found /a/#,~", "cms.test", "/a/48213,minister-resigns", T, S),
    ("shaped CMS, real article", "cms.test", "/a/12345,budget-adopted", A, A),
    ("shaped not-found /news/view/#", "cms.test", "/news/view/77120", T, S),
    ("shaped not-found dated slug", "cms.test", "/2024/05/summit-postponed/", T, S),
    ("shaped not-found ?id=#", "cms.test", "/index.php?id=901", T, S),
    ("ignored query parameter", "cms.test", "/a/12345,budget-adopted?ref=rss", A, A),
    ("not-found differing per request", "echo.test", "/story/gone-for-good", T, S),
    ("echoing site, real article", "echo.test", "/story/real-news", A, A),
    ("parked (Sedo)", "sedo-parked.test", "/2019/03/report.html", T, U),
    ("parked (Sedo), home page", "sedo-parked.test", "/", T, U),
    ("parked (GoDaddy)", "gd-parked.test", "/press/statement", T, U),
    ("parked (Bodis)", "bodis-parked.test", "/news/item", T, U),
    ("lapsed, for sale", "lapsed.test", "/about/team", T, U),
    ("article quoting parking words", "cms.test", "/a/12346,domain-sales", A, A),
    ("to another site's home", "merged.test", "/programmes/water", T, S),
    ("to an error page", "wrong.test", "/reports/2019", T, S),
    ("script-only redirect to /", "wrong.test", "/js-home", T, S),
    ("meta refresh to an article", "wrong.test", "/old-article", M, M),
    ("301 to an article", "wrong.test", "/renamed", M, M),
    ("refresh every 10 minutes", "wrong.test", "/live-blog", A, A),
    ("301 to article 404", "wrong.test", "/news/view", M, M),
    ("14-hop tracking chain", "hops.test", "/click?hop=1&to=15", A, A),
    ("21 redirects", "hops.test", "/click?hop=1&to=22", T, D),
    ("redirect loop", "hops.test", "/loop/a", T, D),
    ("HEAD 200, GET 404", "docs.test", "/files/annual-report.pdf", T, D),
    ("HEAD 200, range GET 206", "docs.test", "/files/brochure.pdf", A, A),
    ("challenge 403", "walls.test", "/cf-403", B, B),
    ("interstitial 503", "walls.test", "/cf-503", B, B),
    ("451", "walls.test", "/451", B, B),
    ("429, a day in seconds", "walls.test", "/429-day", B, B),
    ("429, a day as a date", "walls.test", "/429-date-far", B, B),
    ("429, a second as a date", "walls.test", "/429-date-soon", A, A),
]  # fmt: skip


@pytest.mark.parametrize(
    ("host", "path", "first", "final"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
async def test_web_as_it_is_row_is_judged_right(
    web_as_it_is: WebAsItIs, host: str, path: str, first: State, final: State
) -> None:
    result = await checked(web_as_it_is.url(host, path))
    assert judged_over_four_days(result) == (first, final)


@pytest.mark.parametrize("agent", [BROWSER_AGENT, "linkwatch-test/1.0"], ids=["browser", "robot"])
async def test_a_challenge_is_blocked_whatever_the_user_agent(
    web_as_it_is: WebAsItIs, agent: str
) -> None:
    result = await checked(web_as_it_is.url("walls.test", "/cf-403"), user_agent=agent)
    assert result.bot_wall and judged_over_four_days(result) == (State.BLOCKED, State.BLOCKED)


async def test_a_retry_after_too_long_is_not_waited_for(web_as_it_is: WebAsItIs) -> None:
    for path in ("/429-day", "/429-date-far"):
        result = await checked(web_as_it_is.url("walls.test", path), retry_after_cap=5.0)
        assert result.retry_after is not None and result.retry_after > 3600
    assert web_as_it_is.walls.asked == Counter({"/429-day": 1, "/429-date-far": 1})


async def test_a_retry_after_date_is_waited_for_like_seconds(web_as_it_is: WebAsItIs) -> None:
    result = await checked(web_as_it_is.url("walls.test", "/429-date-soon"))
    assert result.status == 200 and web_as_it_is.walls.asked["/429-date-soon"] == 2


async def test_a_redirect_loop_is_caught_at_once(web_as_it_is: WebAsItIs) -> None:
    result = await checked(web_as_it_is.url("hops.test", "/loop/a"))
    assert result.error is not None and result.error.value == "redirect_loop"
    assert [s[2] for s in web_as_it_is.requests_to("hops.test")] == ["/loop/a", "/loop/b"]


async def test_twenty_redirects_are_followed_not_twenty_one(web_as_it_is: WebAsItIs) -> None:
    followed = await checked(web_as_it_is.url("hops.test", "/click?hop=1&to=21"))  # 20 redirects
    assert (followed.status, len(followed.hops)) == (200, 20)
    too_many = await checked(web_as_it_is.url("hops.test", "/click?hop=1&to=22"))  # 21
    assert too_many.error is not None and too_many.error.value == "too_many_redirects"


async def test_a_document_is_confirmed_by_its_first_kilobyte(web_as_it_is: WebAsItIs) -> None:
    result = await checked(web_as_it_is.url("docs.test", "/files/brochure.pdf"))
    assert (result.status, result.bytes_read) == (206, DOCUMENT_PROBE_BYTES)
    methods = [(s[1], s[3]) for s in web_as_it_is.requests_to("docs.test")]
    assert methods == [("HEAD", ""), ("GET", "bytes=0-1023")]


async def test_shaped_probes_are_asked_once_per_host_and_shape(web_as_it_is: WebAsItIs) -> None:
    probes = SoftNotFoundProbe(shaped=True)
    urls = ["/a/48213,minister-resigns", "/a/48214,mayor-elected", "/news/view/77120"]
    async with open_net(resolver=RESOLVER) as net:
        for path in urls:
            result = await bounded(
                check_url(net, web_as_it_is.url("cms.test", path), probe_cache=probes)
            )
            assert result.soft404_reason is not None
        await probes.close()
    kept = probes.new_answers()
    assert sorted(a.shape for a in kept) == ["", "/a/#,~", "/news/view/#"]
    # 3 checks + 1 random-path probe + 1 probe per shape
    assert len(web_as_it_is.requests_to("cms.test")) == 3 + 1 + 2

    # Steady state: with the kept answers, a check costs its own request only.
    web_as_it_is.seen.clear()
    again = SoftNotFoundProbe(kept, shaped=True)
    async with open_net(resolver=RESOLVER) as net:
        result = await bounded(
            check_url(net, web_as_it_is.url("cms.test", "/a/50001,new-story"), probe_cache=again)
        )
    assert result.soft404_reason is not None
    assert [s[2] for s in web_as_it_is.requests_to("cms.test")] == ["/a/50001,new-story"]


@pytest.mark.parametrize(
    ("url", "shape"),
    [
        ("https://x.test/a/99999,any-slug", "/a/#,~"),
        ("https://x.test/news/view/99999", "/news/view/#"),
        ("https://x.test/2024/05/some-title/", "/#/#/~/"),
        ("https://x.test/index.php?id=123&lang=en", "/index.php?id=#&lang=*"),
        ("https://x.test/press/release-2024-05.html", "/press/~.html"),
        ("https://x.test/about", None),
        ("https://x.test/page?n=2", None),  # not an identifier: sites ignore such parameters
    ],
)
def test_a_url_shape_keeps_the_words_and_varies_the_identifiers(
    url: str, shape: str | None
) -> None:
    found = url_shape(url)
    assert (found.key if found else None) == shape
    if found is not None:
        probe = probe_url(found)
        assert probe != url and url_shape(probe) == type(found)(found.key, probe)


@pytest.mark.parametrize(
    ("url", "error_page"),
    [
        ("https://x.test/error/404.html?from=/reports/2019", True),
        ("https://x.test/404.aspx?aspxerrorpath=/reports/2019", True),  # ASP.NET customErrors
        ("https://x.test/error.htm?404;https://x.test/reports", True),  # IIS
        ("https://x.test/errors/not-found", True),
        ("https://x.test/pagenotfound", True),
        ("https://x.test/404", True),
        ("https://x.test/errors/404", True),
        ("https://x.test/news/404", False),  # article 404
        ("https://x.test/reports/error-correction-codes", False),
        ("https://x.test/", False),
    ],
)
def test_error_pages_are_known_by_their_url(url: str, error_page: bool) -> None:
    assert is_error_page(url) is error_page


# ---------------------------------------------------------------------------
# How rarely two distinct real articles of one site are taken for the same page


def _fixture_pages() -> dict[str, str]:
    return {
        p.name.removesuffix(".html.gz"): gzip.decompress(p.read_bytes()).decode()
        for p in sorted(ARTICLES.glob("*.html.gz"))
    }


def _as_response(url: str, markup: str) -> HttpResponse:
    from multidict import CIMultiDict, CIMultiDictProxy

    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "text/html; charset=utf-8"}))
    return HttpResponse(url, 200, headers, markup.encode(), False, 0.0)


def false_same_page_pairs() -> tuple[int, int, list[tuple[str, str]]]:
    """(pairs of one site compared, pairs of any two sites compared, those called the same).

    The pages are real articles (mozilla/readability's test pages, scripts and styles
    removed): 21 pages of 8 sites, so 21 pairs of distinct articles of one site.
    """
    pages = _fixture_pages()
    gists = {}
    for name, markup in pages.items():
        url = f"https://{name.rsplit('-', 1)[0]}.test/{name}"
        page = read_page(_as_response(url, markup))
        assert page is not None
        gists[name] = page_gist(page, url)
    same_site = [
        (a, b) for a, b in itertools.combinations(gists, 2) if a.split("-")[0] == b.split("-")[0]
    ]
    called_same = [
        (a, b) for a, b in itertools.combinations(gists, 2) if same_gist(gists[a], gists[b])
    ]
    return len(same_site), len(list(itertools.combinations(gists, 2))), called_same


def test_distinct_articles_of_one_site_are_not_the_same_page() -> None:
    same_site, all_pairs, called_same = false_same_page_pairs()
    assert (same_site, all_pairs) == (21, 210)
    assert called_same == []  # 0 of 21 same-site pairs, 0 of 210 pairs (README)


def test_distinct_articles_differ_by_their_text_alone() -> None:
    """Even a site giving every page the same title: the main text alone tells them apart."""
    pages = _fixture_pages()
    prints = []
    for name, markup in pages.items():
        url = f"https://{name.rsplit('-', 1)[0]}.test/{name}"
        page = read_page(_as_response(url, markup))
        assert page is not None
        prints.append(Gist(None, page_gist(page, url).fingerprint))
    assert not any(same_gist(a, b) for a, b in itertools.combinations(prints, 2))


def test_a_not_found_page_differing_per_request_is_the_same_page() -> None:
    """The converse: the echoing not-found page, asked for two paths, is one page."""
    gists = []
    for path in ("/story/gone-for-good", "/x3k9q2h7w1m5z8r4t6y0"):
        picks = ECHO_HEADLINES[len(gists) :][:3]
        related = "".join(f'<li><a href="/story/{i}">{h}</a></li>' for i, h in enumerate(picks))
        content = (
            f"<h1>Sorry, we could not find {path}</h1>"
            f"<p>The page {path} may have moved or never existed.</p>"
            f"<p>Reference: {secrets.token_hex(16)}, generated 2026-03-0{len(gists) + 1}.</p>"
            f'<h2>You may also like</h2><ul class="related">{related}</ul>'
        )
        url = f"http://echo.test{path}"
        page = read_page(_as_response(url, site_page("The Echo", f"Not found: {path}", content)))
        assert page is not None
        gists.append(page_gist(page, url))
    assert same_gist(gists[0], gists[1])


def test_kept_probe_answers_carry_their_shape(tmp_path: Path) -> None:
    from linkwatch.store import Store

    asked = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    answers = [
        ProbeAnswer("https://x.test", asked, 404, "https://x.test/r", False, None, None),
        ProbeAnswer("https://x.test", asked, 200, "https://x.test/a/1", False, "t", "ab", "/a/#"),
    ]
    with Store.open(tmp_path / "state") as store:
        store.save_probe_answers(answers)
        assert sorted(store.probe_answers(since=asked), key=lambda a: a.shape) == answers


def test_a_shaped_probe_is_never_the_cited_url_itself() -> None:
    """A one-digit id drawn at random is the cited one one time in nine: never asked."""
    from linkwatch.check.shapes import probe_url, url_shape

    shape = url_shape("http://127.0.0.1:1/page/1")
    assert shape is not None
    probes = {probe_url(shape) for _ in range(200)}
    assert "http://127.0.0.1:1/page/1" not in probes
    assert len(probes) == 8  # /page/2 to /page/9
