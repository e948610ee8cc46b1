# ruff: noqa: E501  (the page template keeps the theme's own long lines)
"""A press office's website on 127.0.0.1, served from a thread: what web sources read.

Its releases are pages in WordPress's Twenty Twenty-One markup (header, menu,
article, entry footer, post navigation, site footer), each citing a few sources in
its article while the chrome links elsewhere. Beside them, the ways such a site
lists them, as WordPress and its plugins write them:

    /sitemap.xml                 urlset of every release, with <lastmod>
    /sitemap_index.xml           sitemap index (Yoast's name) -> the two below
    /post-sitemap.xml.gz         gzipped urlset of the first half
    /page-sitemap.xml            urlset of the second half
    /feed/                       RSS 2.0 of every release (WordPress's feed template)
    /feed/atom/                  the same as Atom 1.0
    /wp-json/wp/v2/posts         the REST API: `per_page`/`page`, X-WP-Total(Pages),
                                 `rest_post_invalid_page_number` past the last page
    /press/<slug>/               a release page: ETag and Last-Modified, 304 when the
                                 client's If-None-Match matches

Every request is recorded (`requests`: (method, path and query, status)), so tests
and the benchmark assert what a scan asked from the receiving end. `edit` changes
a release (its body, ETag and lastmod) as a press officer would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from email.utils import format_datetime
from html import escape

from aiohttp import web

BASE_DAY = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)


@dataclass
class Release:
    slug: str
    title: str
    published: dt.datetime
    modified: dt.datetime
    cited: list[str]  # the article's links, in order
    extra: str = ""  # more article text (an edit)
    body: str | None = None  # the whole page a person pasted in the CMS, served as it is

    def content(self) -> str:
        """What WordPress stores and the API's `content.rendered` gives: the article alone."""
        notes = "".join(
            f'<li id="fn{n}">Source: <a href="{url}">{escape(url)}</a></li>\n'
            for n, url in enumerate(self.cited, start=1)
        )
        refs = "".join(
            f'<sup><a href="#fn{n}">{n}</a></sup>' for n in range(1, len(self.cited) + 1)
        )
        return (
            f"<p>The organisation today published its findings on {escape(self.title)}.{refs}</p>\n"
            f"<p>{escape(self.extra) or 'Read the full statement below.'}</p>\n"
            f'<ol class="footnotes">\n{notes}</ol>\n'
        )


class PressSite:
    def __init__(self, releases: int = 6, *, host_prefix: str = "") -> None:
        self.releases = [
            Release(
                slug=f"release-{n:04}",
                title=f"Statement number {n}",
                published=BASE_DAY + dt.timedelta(days=n),
                modified=BASE_DAY + dt.timedelta(days=n, hours=2),
                cited=[
                    f"https://source{n % 7}.example.org/report/{n}",
                    f"https://data.example.net/{n}/table.csv",
                ],
            )
            for n in range(releases)
        ]
        self.requests: list[tuple[str, str, int]] = []
        self.base = ""
        self.broken: set[str] = set()  # slugs answering 500
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    # -- content -------------------------------------------------------------

    def url(self, release: Release) -> str:
        return f"{self.base}/press/{release.slug}/"

    def page(self, release: Release) -> str:
        if release.body is not None:
            return release.body
        stamp = release.published.isoformat()
        ld = json.dumps(
            {
                "@context": "https://schema.org",
                "@graph": [
                    {
                        "@type": "Article",
                        "headline": release.title,
                        "datePublished": stamp,
                        "dateModified": release.modified.isoformat(),
                        "mainEntityOfPage": {"@id": self.url(release)},
                    }
                ],
            }
        )
        menu = "".join(
            f'<li id="menu-item-{n}" class="menu-item menu-item-type-post_type menu-item-{n}">'
            f'<a href="{self.base}/{name}/">{name.title()}</a></li>'
            for n, name in enumerate(["about", "press", "campaigns", "donate"], start=11)
        )
        return f"""<!doctype html>
<html lang="en-US" >
<head>
	<meta charset="UTF-8" />
	<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>{escape(release.title)} &#8211; Press Office</title>
<link rel="canonical" href="{self.url(release)}" />
<script type="application/ld+json" class="yoast-schema-graph">{ld}</script>
<link rel='stylesheet' id='twenty-twenty-one-style-css' href='{self.base}/wp-content/themes/twentytwentyone/style.css?ver=2.1' media='all' />
</head>
<body class="post-template-default single single-post postid-{release.slug[-4:]} single-format-standard wp-embed-responsive is-light-theme no-js singular has-main-navigation">
<div id="page" class="site">
	<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<header id="masthead" class="site-header has-title-and-tagline has-menu">
<div class="site-branding">
	<p class="site-title"><a href="{self.base}/" rel="home">Press Office</a></p>
	<p class="site-description">Human rights, documented</p>
</div>
	<nav id="site-navigation" class="primary-navigation" aria-label="Primary menu">
		<div class="primary-menu-container"><ul id="primary-menu-list" class="menu-wrapper">{menu}</ul></div>
	</nav>
</header>
	<div id="content" class="site-content">
		<div id="primary" class="content-area">
			<main id="main" class="site-main">
<article id="post-{release.slug[-4:]}" class="post-{release.slug[-4:]} post type-post status-publish format-standard hentry category-press entry">
	<header class="entry-header alignwide">
		<h1 class="entry-title">{escape(release.title)}</h1>
	</header>
	<div class="entry-content">
{release.content()}
	</div><!-- .entry-content -->
	<footer class="entry-footer default-max-width">
		<div class="posted-by"><span class="posted-on">Published <time class="entry-date published updated" datetime="{stamp}">{release.published:%B %-d, %Y}</time></span><span class="byline">By <a href="{self.base}/author/press/" rel="author">press</a></span></div>
		<div class="post-taxonomies"><span class="cat-links">Categorized as <a href="{self.base}/category/press/" rel="category tag">Press</a></span></div>
	</footer><!-- .entry-footer -->
</article><!-- #post-{release.slug[-4:]} -->
	<nav class="navigation post-navigation" aria-label="Posts">
		<h2 class="screen-reader-text">Post navigation</h2>
		<div class="nav-links"><div class="nav-previous"><a href="{self.base}/press/previous/" rel="prev"><p class="meta-nav">Previous post</p><p class="post-title">Earlier statement</p></a></div></div>
	</nav>
			</main><!-- #main -->
		</div><!-- #primary -->
	</div><!-- #content -->
	<footer id="colophon" class="site-footer">
		<div class="site-info">
			<div class="site-name"><a href="{self.base}/">Press Office</a></div>
			<div class="powered-by">Proudly powered by <a href="https://wordpress.org/">WordPress</a>.</div>
			<div class="social"><a href="https://twitter.com/pressoffice">Twitter</a> <a href="https://www.facebook.com/pressoffice">Facebook</a></div>
		</div>
	</footer>
</div><!-- #page -->
</body>
</html>
"""

    def edit(self, index: int, text: str, *, at: dt.datetime) -> None:
        self.releases[index].extra = text
        self.releases[index].modified = at

    def publish(self, index: int, body: str, *, at: dt.datetime) -> None:
        """A person applies an edited page in the CMS: the site serves it from now on."""
        self.releases[index].body = body
        self.releases[index].modified = at

    def _etag(self, body: bytes) -> str:
        return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    def _urlset(self, releases: list[Release]) -> bytes:
        rows = "".join(
            f"\t<url>\n\t\t<loc>{self.url(r)}</loc>\n\t\t<lastmod>{r.modified.isoformat()}</lastmod>\n\t</url>\n"
            for r in releases
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" '
            f'href="{self.base}/main-sitemap.xsl"?>\n'
            '<urlset xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1" '
            'xsi:schemaLocation="http://www.sitemaps.org/schemas/sitemap/0.9 '
            'http://www.sitemaps.org/schemas/sitemap/0.9/sitemap.xsd" '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{rows}</urlset>\n'
            "<!-- XML Sitemap generated by Yoast SEO -->"
        ).encode()

    def _index(self) -> bytes:
        last = max(r.modified for r in self.releases).isoformat()
        items = "".join(
            f"\t<sitemap>\n\t\t<loc>{self.base}/{name}</loc>\n\t\t<lastmod>{last}</lastmod>\n\t</sitemap>\n"
            for name in ("post-sitemap.xml.gz", "page-sitemap.xml")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{items}</sitemapindex>\n"
        ).encode()

    def _feed(self) -> bytes:
        items = "".join(
            f"""	<item>
		<title>{escape(r.title)}</title>
		<link>{self.url(r)}</link>
		<dc:creator><![CDATA[press]]></dc:creator>
		<pubDate>{format_datetime(r.published)}</pubDate>
		<atom:updated>{r.modified.isoformat()}</atom:updated>
		<category><![CDATA[Press]]></category>
		<guid isPermaLink="false">{self.base}/?p={r.slug[-4:]}</guid>
		<description><![CDATA[The organisation today published its findings]]></description>
	</item>
"""
            for r in self.releases
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>
<channel>
	<title>Press Office</title>
	<atom:link href="{self.base}/feed/" rel="self" type="application/rss+xml" />
	<link>{self.base}</link>
	<description>Human rights, documented</description>
	<lastBuildDate>{format_datetime(max(r.modified for r in self.releases))}</lastBuildDate>
	<language>en-US</language>
	<generator>https://wordpress.org/?v=6.7.1</generator>
{items}</channel>
</rss>
""".encode()

    def _atom(self) -> bytes:
        """WordPress's /feed/atom/ template."""
        entries = "".join(
            f"""	<entry>
		<author><name>press</name></author>
		<title type="html"><![CDATA[{r.title}]]></title>
		<link rel="alternate" type="text/html" href="{self.url(r)}" />
		<id>{self.base}/?p={r.slug[-4:]}</id>
		<updated>{r.modified.isoformat()}</updated>
		<published>{r.published.isoformat()}</published>
		<summary type="html"><![CDATA[The organisation today published its findings]]></summary>
	</entry>
"""
            for r in self.releases
        )
        updated = max(r.modified for r in self.releases).isoformat()
        return f"""<?xml version="1.0" encoding="UTF-8"?><feed
  xmlns="http://www.w3.org/2005/Atom"
  xmlns:thr="http://purl.org/syndication/thread/1.0"
  xml:lang="en-US"
  >
	<title type="text">Press Office</title>
	<subtitle type="text">Human rights, documented</subtitle>
	<updated>{updated}</updated>
	<link rel="alternate" type="text/html" href="{self.base}" />
	<id>{self.base}/feed/atom/</id>
	<link rel="self" type="application/atom+xml" href="{self.base}/feed/atom/" />
	<generator uri="https://wordpress.org/" version="6.7.1">WordPress</generator>
{entries}</feed>
""".encode()

    def _posts(self, request: web.Request) -> web.Response:
        per_page = int(request.query.get("per_page", "10"))
        page = int(request.query.get("page", "1"))
        total = len(self.releases)
        pages = max(1, -(-total // per_page))
        if page > pages:
            body = {
                "code": "rest_post_invalid_page_number",
                "message": "The page number requested is larger than the number of pages available.",
                "data": {"status": 400},
            }
            return web.json_response(body, status=400)
        chosen = self.releases[(page - 1) * per_page : page * per_page]
        posts = [
            {
                "id": int(r.slug[-4:]) + 100,
                "date_gmt": r.published.strftime("%Y-%m-%dT%H:%M:%S"),
                "modified_gmt": r.modified.strftime("%Y-%m-%dT%H:%M:%S"),
                "link": self.url(r),
                "title": {"rendered": escape(r.title)},
                "content": {"rendered": r.content(), "protected": False},
            }
            for r in chosen
        ]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        return web.json_response(posts, headers=headers)

    # -- serving -------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = self._answer(request)
        self.requests.append((request.method, request.path_qs, response.status))
        return response

    def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        xml = "application/xml; charset=UTF-8"
        half = len(self.releases) // 2
        if path == "/sitemap.xml":
            return web.Response(body=self._urlset(self.releases), headers={"Content-Type": xml})
        if path == "/sitemap_index.xml":
            return web.Response(body=self._index(), headers={"Content-Type": xml})
        if path == "/post-sitemap.xml.gz":
            body = gzip.compress(self._urlset(self.releases[:half]))
            return web.Response(body=body, headers={"Content-Type": "application/x-gzip"})
        if path == "/page-sitemap.xml":
            return web.Response(
                body=self._urlset(self.releases[half:]), headers={"Content-Type": xml}
            )
        if path == "/feed/":
            return web.Response(
                body=self._feed(), headers={"Content-Type": "application/rss+xml; charset=UTF-8"}
            )
        if path == "/feed/atom/":
            return web.Response(
                body=self._atom(), headers={"Content-Type": "application/atom+xml; charset=UTF-8"}
            )
        if path == "/wp-json/wp/v2/posts":
            return self._posts(request)
        for release in self.releases:
            if path == f"/press/{release.slug}/":
                if release.slug in self.broken:
                    return web.Response(status=500, text="Error establishing a database connection")
                body = self.page(release).encode()
                etag = self._etag(body)
                headers = {
                    "ETag": etag,
                    "Last-Modified": format_datetime(release.modified, usegmt=True),
                    "Content-Type": "text/html; charset=UTF-8",
                }
                if request.headers.get("If-None-Match") == etag:
                    return web.Response(status=304, headers=headers)
                return web.Response(body=body, headers=headers)
        return web.Response(status=404, text="Page not found")

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def start(self) -> PressSite:
        self._thread.start()
        self.base = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def asked(self, prefix: str) -> list[tuple[str, str, int]]:
        return [r for r in self.requests if r[1].startswith(prefix)]
