"""URL shapes: the template of a site's own URLs, and a random URL of the same shape.

Many CMSs answer a real 404 for a random path but a 200 "article not found" for
`/a/99999,any-slug` or `/news/view/99999`: only a probe shaped like the cited URL
shows what their not-found page looks like. The shape keeps the literal words of
the path and query (`news`, `view`, `id=`) and replaces what varies from one
article to the next: runs of digits (`#`) and slugs, words joined by hyphens or
underscores (`~`). The probe puts random digits of the same length and random
words of the same lengths in their place, keeping the file extension.

In a query only parameters named like identifiers (`id`, `p`, `nid`, `story_id`,
`article`...) are varied: sites ignore the others (`?n=2`, `?utm_source=`), and
a probe varying only what the site ignores would get the cited page itself and
take it for the site's not-found page. The others stay as cited, and out of the
shape's key (`*`), so that they do not multiply the shapes kept.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# A slug: two or more words joined by '-' or '_' ("some-title", "any_slug", "2024-05").
_SLUG = re.compile(r"[^\W_]+(?:[-_][^\W_]+)+")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W_]+")
# Query parameters that name the thing shown: id, nid, story_id, articleId, p, page_id...
_ID_PARAMETER = re.compile(
    r"(?:\w*[-_]?id|p|page_id|article|story|item|news|post|doc|entry|slug|name)", re.I
)


def _query_parts(query: str) -> list[tuple[str, str, str, bool]]:
    """(name, '=', value, is_identifier) of each parameter."""
    parts = [p.partition("=") for p in query.split("&") if p]
    return [(n, eq, v, bool(_ID_PARAMETER.fullmatch(n))) for n, eq, v in parts]


@dataclass(frozen=True, slots=True)
class Shape:
    key: str  # '/a/#,~', '/news/view/#', '/#/#/~/', '/index.php?id=#'
    url: str  # the cited URL, whose token lengths the probes imitate


def _template(part: str) -> str:
    part = _SLUG.sub("~", part)
    return _DIGITS.sub("#", part)


def _stem_and_extension(segment: str) -> tuple[str, str]:
    stem, dot, extension = segment.rpartition(".")
    if dot and stem and extension.isalnum() and not extension.isdigit():
        return stem, f".{extension}"
    return segment, ""


def _segment_template(segment: str) -> str:
    stem, extension = _stem_and_extension(segment)
    return _template(stem) + extension


def url_shape(url: str) -> Shape | None:
    """The shape of `url`, or None when nothing in it varies from page to page."""
    parts = urlsplit(url)
    path = "/".join(_segment_template(s) for s in parts.path.split("/"))
    query = "&".join(
        f"{name}{eq}{_template(value) if ident else '*'}"
        for name, eq, value, ident in _query_parts(parts.query)
    )
    key = f"{path}?{query}" if query else path
    if "#" not in key and "~" not in key:
        return None
    return Shape(key=key, url=url)


def _random_like(word: str) -> str:
    if word.isdigit():
        first = secrets.choice("123456789")
        return first + "".join(secrets.choice(string.digits) for _ in word[1:])
    return "".join(secrets.choice(string.ascii_lowercase) for _ in word)


def _randomised(part: str) -> str:
    def slug(match: re.Match[str]) -> str:
        return _WORD.sub(lambda w: _random_like(w.group(0)), match.group(0))

    part = _SLUG.sub(slug, part)
    return _DIGITS.sub(lambda m: _random_like(m.group(0)), part)


def _segment_randomised(segment: str) -> str:
    stem, extension = _stem_and_extension(segment)
    return _randomised(stem) + extension


def probe_url(shape: Shape) -> str:
    """A URL of `shape` on the same site that almost surely names nothing, and never the
    cited URL itself (a one-digit id is drawn again one time in nine)."""
    while (probe := _probe_once(shape)) == shape.url:
        pass
    return probe


def _probe_once(shape: Shape) -> str:
    parts = urlsplit(shape.url)
    path = "/".join(_segment_randomised(s) for s in parts.path.split("/"))
    query = "&".join(
        f"{name}{eq}{_randomised(value) if ident else value}"
        for name, eq, value, ident in _query_parts(parts.query)
    )
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))
