"""Memento TimeMaps in link format (RFC 7089 section 5, RFC 6690): pure parsing.

A TimeMap lists an archive's captures of one URL as links:
`<https://arquivo.pt/wayback/20160407101500/http://a.example/>; rel="memento";
datetime="Thu, 07 Apr 2016 10:15:00 GMT"`. The relation may be several words
(`"first memento"`, `"last memento"`, `"prev memento"`): any link whose
relation includes `memento` is a capture. A large TimeMap may be split into
pages (RFC 7089 section 4.3.1): a page links the next one with `rel="next"`
(or, as some archives do, a `timemap` link whose `from` is later than the
page's own `self` one), and an index may list only `timemap` links.

The parser reads the format as written: quoted values may hold commas and
semicolons, links may span lines, and attribute names are case-insensitive.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

__all__ = ["Link", "TimeMapPage", "parse_http_date", "parse_link_format", "read_timemap"]

_TOKEN = re.compile(
    r"""\s*(?:
        <(?P<uri>[^>]*)>                               # a link's target
      | (?P<name>[A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*       # an attribute name
        (?:=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s;,]*)))?
      | (?P<sep>[;,])
    )""",
    re.X | re.S,
)


@dataclass(frozen=True, slots=True)
class Link:
    """One link: its target and attributes (names lower-cased, first value kept)."""

    uri: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> frozenset[str]:
        return frozenset(self.attributes.get("rel", "").lower().split())


def parse_link_format(text: str) -> list[Link]:
    """Every link in a link-format document; stray text between links is skipped."""
    links: list[Link] = []
    uri: str | None = None
    attributes: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            position += 1  # not a token: skip a character, as a lenient reader must
            continue
        position = match.end()
        if match["uri"] is not None:
            if uri is not None:
                links.append(Link(uri, attributes))
            uri, attributes = match["uri"].strip(), {}
        elif match["name"] is not None and uri is not None:
            quoted = match["quoted"]
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else match["bare"] or ""
            attributes.setdefault(match["name"].lower(), value)
        elif match["sep"] == "," and uri is not None:
            links.append(Link(uri, attributes))
            uri, attributes = None, {}
    if uri is not None:
        links.append(Link(uri, attributes))
    return links


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An RFC 1123 date (`Thu, 07 Apr 2016 10:15:00 GMT`) in UTC, None when unreadable."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@dataclass(frozen=True, slots=True)
class TimeMapPage:
    """What one page of a TimeMap holds: its captures and where the rest is."""

    mementos: list[tuple[str, dt.datetime]]  # (memento URL, capture time), as listed
    next_pages: list[str]  # TimeMap pages still to read


def read_timemap(text: str, page_url: str) -> TimeMapPage:
    """Captures and further pages of one TimeMap page; relative URLs resolved against it."""
    links = parse_link_format(text)
    mementos: list[tuple[str, dt.datetime]] = []
    nexts: list[str] = []
    own_from: dt.datetime | None = None
    timemaps: list[tuple[str, dt.datetime | None]] = []
    for link in links:
        rels = link.rels
        uri = urljoin(page_url, link.uri)
        if "memento" in rels:
            moment = parse_http_date(link.attributes.get("datetime"))
            if moment is not None:
                mementos.append((uri, moment))
        elif "next" in rels:
            nexts.append(uri)
        elif "self" in rels:
            own_from = parse_http_date(link.attributes.get("from"))
        elif "timemap" in rels:
            timemaps.append((uri, parse_http_date(link.attributes.get("from"))))
    if not nexts:
        for uri, start in timemaps:
            if uri == page_url or start is None:
                continue  # a page without `from` is this TimeMap in another format
            if not mementos or (own_from is not None and start > own_from):
                nexts.append(uri)  # an index of pages, or a page pointing at later ones
    return TimeMapPage(mementos, nexts)
