"""A theme's or CMS's own links inside an exported page: not the release's citations.

A release saved from a CMS carries the site around it: the header and menu, "Posted
in News", share buttons, related posts, comments, "Proudly powered by WordPress".
Those links are the site's, not the author's, and checking them would drown the
citations in the site's own pages. Three rules, each cheap and each seen in the
real output of WordPress themes, Jetpack, Hugo, Jekyll and hand-made sites:

* Where the page marks its content (WordPress' `entry-content`, microformats'
  `e-content`, MediaWiki's `mw-parser-output`, else `<article>`, else `<main>` or
  `id="content"`), only links inside the most specific such mark are the release's.
* Inside it, the blocks themes and plugins add (share bars, related posts, entry
  meta, post navigation, comments, widgets, `<nav>`) are chrome.
* A share endpoint (`facebook.com/sharer/sharer.php`, `twitter.com/intent/tweet`,
  `?share=twitter`...) is never a citation, in any format; nor is the link of a
  short "Powered by ..." / "Designed with ..." line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

# Levels of a content mark, most specific highest; 0 is no mark.
CONTENT_CLASS_LEVEL = 3
ARTICLE_LEVEL = 2
MAIN_LEVEL = 1

_CONTENT_CLASSES = frozenset(
    {"entry-content", "post-content", "e-content", "wp-block-post-content", "mw-parser-output"}
    | {"article-body", "article-content", "post-body", "story-body", "td-post-content"}
)
_MAIN_IDS = frozenset({"content", "main-content", "maincontent"})
# Class or id tokens of the blocks themes and plugins add around a post. A token counts
# when it is one of these or starts with one and a `-` or `_` (`sd-sharing-enabled`,
# `widget_recent_entries`), so that `shareholders` or `commentary` never do.
_CHROME_NAMES = (
    *("sharedaddy", "sd-sharing", "sd-social", "sd-like", "share", "sharing", "social"),
    *("jp-relatedposts", "related-posts", "relatedposts", "entry-meta", "entry-footer"),
    *("entry-share", "post-meta", "post-navigation", "nav-links", "breadcrumb", "breadcrumbs"),
    *("widget", "comment", "comments", "respond", "site-info", "site-footer", "site-header"),
    *("site-navigation", "wp-block-navigation", "addtoany", "a2a", "heateor", "shariff"),
    *("top-bar", "footer", "masthead"),
)
_CHROME_PREFIXES = tuple(name + end for name in _CHROME_NAMES for end in ("-", "_"))
_CHROME_EXACT = frozenset(_CHROME_NAMES)
_CHROME_TAGS = frozenset({"nav"})

_SHARE_ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("facebook.com", "/sharer"),
    ("facebook.com", "/share.php"),
    ("facebook.com", "/dialog/share"),
    ("twitter.com", "/intent/"),
    ("twitter.com", "/share"),
    ("x.com", "/intent/"),
    ("linkedin.com", "/sharearticle"),
    ("linkedin.com", "/sharing/"),
    ("reddit.com", "/submit"),
    ("pinterest.com", "/pin/create"),
    ("api.whatsapp.com", "/send"),
    ("wa.me", "/"),
    ("t.me", "/share"),
    ("telegram.me", "/share"),
    ("tumblr.com", "/share"),
    ("tumblr.com", "/widgets/share"),
    ("addtoany.com", "/share"),
    ("getpocket.com", "/save"),
    ("bsky.app", "/intent/"),
)
# Jetpack's share buttons link the post itself with ?share=twitter|facebook|email...
_SHARE_QUERY = "share"
_POWERED_BY = re.compile(
    r"^\W*(?:proudly\s+)?(?:powered\s+by|designed\s+with|built\s+with|made\s+with"
    r"|theme\s*(?:by|:)|site\s+by|hosted\s+by)\b",
    re.IGNORECASE,
)
_POWERED_BY_LINE = 120  # such a line is short; a sentence of prose is not a credit line


def content_level(tag: str, classes: Iterable[str], element_id: str | None) -> int:
    """How specifically an element marks the page's content (0: it does not)."""
    if any(name in _CONTENT_CLASSES for name in classes):
        return CONTENT_CLASS_LEVEL
    if tag == "article":
        return ARTICLE_LEVEL
    if tag == "main" or (element_id is not None and element_id.lower() in _MAIN_IDS):
        return MAIN_LEVEL
    return 0


def is_chrome_block(tag: str, classes: Iterable[str], element_id: str | None) -> bool:
    """A block a theme or plugin adds around the content (share bar, meta, comments)."""
    if tag in _CHROME_TAGS:
        return True
    names = [*classes, *([element_id.lower()] if element_id else [])]
    return any(name in _CHROME_EXACT or name.startswith(_CHROME_PREFIXES) for name in names)


def is_share_link(url: str) -> bool:
    """A share button's target: it posts the page somewhere, it cites nothing."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    path = parts.path.lower()
    for endpoint_host, endpoint_path in _SHARE_ENDPOINTS:
        if (host == endpoint_host or host.endswith("." + endpoint_host)) and path.startswith(
            endpoint_path
        ):
            return True
    return bool(parts.query) and any(
        name == _SHARE_QUERY for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    )


def is_credit_line(text: str) -> bool:
    """'Proudly powered by WordPress', 'Designed with WordPress', 'Theme: Twenty Seventeen'."""
    line = text.strip()
    return len(line) <= _POWERED_BY_LINE and _POWERED_BY.match(line) is not None
