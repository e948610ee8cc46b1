"""The pages a web source lists, each with the date it gives them.

- a sitemap (`<urlset>`) lists pages with `<lastmod>`; a sitemap index
  (`<sitemapindex>`) lists further sitemaps, read in turn (gzipped or not);
- an RSS or Atom feed lists entries with a link and an updated date (feedparser);
- a WordPress site's REST API (`/wp-json/wp/v2/posts`) lists posts page by page
  (`X-WP-TotalPages`), each with its `modified_gmt` and its body, so a post costs
  no request of its own;
- `sources.urls` names pages, which carry no date: they are asked conditionally.

XML is parsed without entities, DTDs or network access: a listing comes from the
web, and a billion-laughs sitemap must cost nothing.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser  # type: ignore[import-untyped]
from lxml import etree

from linkwatch.config.settings import WebSource
from linkwatch.errors import WebSourceError
from linkwatch.net.polite import Net
from linkwatch.sources.dates import parse_date_text
from linkwatch.sources.web.fetch import get

MAX_SITEMAPS = 1000  # sitemaps read from one index, nested ones included
MAX_DEPTH = 3  # index -> index -> sitemap
MAX_API_PAGES = 1000  # WordPress API pages of posts
WP_PER_PAGE = 100  # the API's largest page
MAX_LISTING = 64 * 1024 * 1024  # a sitemap may be 50 MB uncompressed (sitemaps.org)


@dataclass(frozen=True, slots=True)
class Listed:
    """One page a source lists."""

    url: str
    source: WebSource
    lastmod: str | None = None  # the listing's date for it, as written
    body: bytes | None = None  # the page's body when the listing carries it (WordPress)
    title: str | None = None
    published: dt.date | None = None


@dataclass(slots=True)
class Listing:
    pages: list[Listed]
    errors: list[str]  # one line per listing (or part of one) that could not be read


_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


def _gunzip(data: bytes) -> bytes:
    """Decompress at most MAX_LISTING bytes: a gzip bomb is cut short and refused."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_LISTING + 1)
    except zlib.error as err:
        raise WebSourceError(f"not gzip: {err}") from None
    if len(out) > MAX_LISTING:
        raise WebSourceError(f"larger than {MAX_LISTING} bytes once decompressed")
    return out


def parse_sitemap(data: bytes) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(pages with their lastmod, further sitemaps) from a sitemap or a sitemap index."""
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data)
    try:
        root = etree.parse(io.BytesIO(data), _PARSER).getroot()
    except etree.XMLSyntaxError as err:
        raise WebSourceError(f"not a sitemap: {err}") from None
    name = etree.QName(root).localname
    if name == "sitemapindex":
        return [], [loc for loc, _ in _entries(root, "sitemap")]
    if name != "urlset":
        raise WebSourceError(f"not a sitemap: the root element is <{name}>")
    return _entries(root, "url"), []


def _entries(root: etree._Element, tag: str) -> list[tuple[str, str | None]]:
    found = []
    for entry in root:
        if not isinstance(entry.tag, str) or etree.QName(entry).localname != tag:
            continue
        loc = lastmod = None
        for child in entry:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local == "loc" and child.text:
                loc = child.text.strip()
            elif local == "lastmod" and child.text:
                lastmod = child.text.strip()
        if loc:
            found.append((loc, lastmod))
    return found


async def list_sitemap(net: Net, source: WebSource) -> Listing:
    listing = Listing([], [])
    queue: list[tuple[str, int]] = [(source.url, 0)]
    seen: set[str] = set()
    while queue and len(seen) < MAX_SITEMAPS:
        url, depth = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        try:
            answer = await get(net, url, limit=MAX_LISTING)
            pages, children = parse_sitemap(answer.body)
        except WebSourceError as err:
            listing.errors.append(f"{url}: {err.reason}")
            continue
        listing.pages += [Listed(urljoin(url, loc), source, lastmod) for loc, lastmod in pages]
        if depth < MAX_DEPTH:
            queue += [(urljoin(url, child), depth + 1) for child in children]
    return listing


async def list_feed(net: Net, source: WebSource) -> Listing:
    try:
        answer = await get(net, source.url, limit=MAX_LISTING)
    except WebSourceError as err:
        return Listing([], [f"{source.url}: {err.reason}"])
    parsed = feedparser.parse(io.BytesIO(answer.body), sanitize_html=False)
    if parsed.get("bozo") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "not a feed"
        return Listing([], [f"{source.url}: not an RSS or Atom feed: {reason}"])
    pages = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        stamp = entry.get("updated") or entry.get("published")
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        day = dt.date(*published[:3]) if published else None
        pages.append(
            Listed(
                urljoin(source.url, link), source, stamp, title=entry.get("title"), published=day
            )
        )
    return Listing(pages, [])


def posts_endpoint(site: str) -> str:
    return site.rstrip("/") + "/wp-json/wp/v2/posts"


async def list_wordpress(net: Net, source: WebSource) -> Listing:
    """Every published post, page after page, with its body (`content.rendered`)."""
    listing = Listing([], [])
    endpoint = posts_endpoint(source.url)
    fields = "id,link,date_gmt,modified_gmt,title,content"
    total = 1
    page = 1
    while page <= min(total, MAX_API_PAGES):
        url = f"{endpoint}?per_page={WP_PER_PAGE}&page={page}&orderby=id&order=asc&_fields={fields}"
        try:
            answer = await get(net, url, limit=MAX_LISTING)
            posts = json.loads(answer.body)
            if not isinstance(posts, list):
                raise WebSourceError("not a list of posts")
        except (WebSourceError, ValueError) as err:
            reason = err.reason if isinstance(err, WebSourceError) else f"not JSON: {err}"
            listing.errors.append(f"{url}: {reason}")
            break
        header = answer.headers.get("X-WP-TotalPages", "1")
        total = int(header) if header.isdigit() else 1
        listing.pages += [p for p in (_post(source, post) for post in posts) if p is not None]
        page += 1
    return listing


def _rendered(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("rendered"), str):
        return str(value["rendered"])
    return None


def _post(source: WebSource, post: object) -> Listed | None:
    if not isinstance(post, dict) or not isinstance(post.get("link"), str):
        return None
    content = _rendered(post.get("content"))
    title = _rendered(post.get("title"))
    date = post.get("date_gmt")
    modified = post.get("modified_gmt")
    return Listed(
        url=post["link"],
        source=source,
        lastmod=modified if isinstance(modified, str) else None,
        body=None if content is None else content.encode("utf-8"),
        title=None if title is None else html.unescape(title).strip() or None,
        published=parse_date_text(date) if isinstance(date, str) else None,
    )


def read_url_file(path: Path) -> tuple[list[str], list[str]]:
    """URLs of a `sources.urls` file: one a line; blank lines and `#` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        return [], [f"{path}: cannot read: {err}"]
    urls, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = urlsplit(line)
        if parts.scheme not in ("http", "https") or not parts.hostname or " " in line:
            errors.append(f"{path}:{number}: not an http(s) URL: {line!r}")
            continue
        urls.append(line)
    return urls, errors


def listed_urls(sources: Sequence[WebSource]) -> list[Listed]:
    return [Listed(source.url, source) for source in sources]
