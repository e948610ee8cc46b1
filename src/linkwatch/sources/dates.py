"""Dates written by people: in datelines, front matter, meta values, in many languages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from linkwatch.sources.lines import clean_line

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "januar", "jänner", "janvier", "enero", "styczeń", "stycznia",
        "январь", "января", "січень", "січня"),
    2: ("february", "feb", "februar", "février", "fevrier", "febrero", "luty", "lutego",
        "февраль", "февраля", "лютий", "лютого"),
    3: ("march", "mar", "märz", "maerz", "mars", "marzo", "marzec", "marca",
        "март", "марта", "березень", "березня"),
    4: ("april", "apr", "avril", "abril", "kwiecień", "kwietnia",
        "апрель", "апреля", "квітень", "квітня"),
    5: ("may", "mai", "mayo", "maj", "maja", "май", "мая", "травень", "травня"),
    6: ("june", "jun", "juni", "juin", "junio", "czerwiec", "czerwca",
        "июнь", "июня", "червень", "червня"),
    7: ("july", "jul", "juli", "juillet", "julio", "lipiec", "lipca",
        "июль", "июля", "липень", "липня"),
    8: ("august", "aug", "août", "aout", "agosto", "sierpień", "sierpnia",
        "август", "августа", "серпень", "серпня"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "wrzesień",
        "września", "сентябрь", "сентября", "вересень", "вересня"),
    10: ("october", "oct", "oktober", "octobre", "octubre", "październik", "października",
         "октябрь", "октября", "жовтень", "жовтня"),
    11: ("november", "nov", "novembre", "noviembre", "listopad", "listopada",
         "ноябрь", "ноября", "листопад", "листопада"),
    12: ("december", "dec", "dezember", "décembre", "decembre", "diciembre", "grudzień",
         "grudnia", "декабрь", "декабря", "грудень", "грудня"),
}  # fmt: skip

_MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names}

# Longest first, so that "april" is tried before "apr".
_MONTH = "|".join(re.escape(name) for name in sorted(_MONTHS, key=len, reverse=True))

_DATE_PATTERNS = (
    # 7 April 2016, 7 April, 2016, 7th of April 2016, 7. April 2016, 1er avril 2016,
    # 7 de abril de 2016, 7 kwietnia 2016, 7 квітня 2016
    re.compile(
        rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|\.)?(?:\s+of)?\s+(?:de\s+)?"
        rf"(?P<month>{_MONTH})\b\.?,?\s+(?:de\s+)?(?P<year>\d{{4}})(?!\d)",
        re.IGNORECASE,
    ),
    # April 7, 2016
    re.compile(
        rf"\b(?P<month>{_MONTH})\b\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
        rf"(?P<year>\d{{4}})(?!\d)",
        re.IGNORECASE,
    ),
    # 07.04.2016: day first, as written in Europe
    re.compile(r"(?<![\d.])(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?!\d|\.\d)"),
    # 2016-04-07
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?!\d)"),
)

# What may stand before a dateline's date: nothing, a place or label ended by a separator
# ("Warsaw, ", "Brussels – ", "Date: "), or a publishing verb ("Published on ").
# A sentence such as "On 30 March, 2016, ..." does not qualify.
_DATELINE_PREFIX = re.compile(
    r"[\W_]*"
    r"|.{0,60}?[,:;|–—(/•·-]\s*"
    r"|(?:published|posted|dated|released|issued|updated)(?:\s+on)?\s*",
    re.IGNORECASE,
)

# Plausible publication years; a four-digit number outside them is not a date we trust.
_MIN_YEAR, _MAX_YEAR = 1900, 2100

_DATELINE_SPAN = 300  # characters of a line searched: prefix, date, and markup around them

_DIGIT = re.compile(r"\d")

_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class _DateMatch:
    day: dt.date
    start: int


def dates_in(line: str) -> list[_DateMatch]:
    """Every possible date in a line, leftmost first."""
    found: list[_DateMatch] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(line):
            day = _valid_date(match["year"], match["month"], match["day"])
            if day is not None:
                found.append(_DateMatch(day, match.start()))
    return sorted(found, key=lambda found_date: found_date.start)


def _valid_date(year: str, month: str, day: str) -> dt.date | None:
    number = _MONTHS.get(month.lower()) or (int(month) if month.isdigit() else 0)
    try:
        value = dt.date(int(year), number, int(day))
    except ValueError:
        return None
    return value if _MIN_YEAR <= value.year <= _MAX_YEAR else None


def parse_date_text(text: str) -> dt.date | None:
    """A date written as a value (front matter, meta content, datetime attribute)."""
    dates = dates_in(text.strip())
    return dates[0].day if dates else None


def date_value(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return parse_date_text(value)
    return None


def find_dateline(lines: Sequence[str]) -> tuple[dt.date, int] | None:
    """The first dateline among the top lines, and the index of its line.

    Only the start of a line is read: a dateline's date comes after a short prefix at most.
    """
    for index, raw in enumerate(lines):
        start = raw[:_DATELINE_SPAN]
        if not _DIGIT.search(start):
            continue
        line = clean_line(start)
        for found in dates_in(line):
            if _DATELINE_PREFIX.fullmatch(line[: found.start]):
                return found.day, index
    return None


def mtime_date(mtime: float | None) -> dt.date:
    if mtime is None:
        return _EPOCH
    try:
        return dt.date.fromtimestamp(mtime)
    except (OverflowError, OSError, ValueError):
        return _EPOCH


# htmldate bounds its answers by today unless told otherwise; a scan must not read the
# wall clock, and a release dated in the future is still its author's word.
_HTMLDATE_MIN = dt.datetime(1990, 1, 1)
_HTMLDATE_MAX = dt.datetime(2100, 1, 1)


def markup_date(html: str, url: str | None) -> dt.date | None:
    """The date htmldate finds in a page's markup: JSON-LD `datePublished`, OpenGraph and
    other meta, `<time>`, `<abbr>`, dates in the URL (the page's or its canonical link).

    Fast mode (no free-text search), original date rather than last update: the scan's
    own chain has read the meta and the dateline already; this catches what it cannot
    (JSON-LD, microdata, URL paths, CMS idiosyncrasies) before the file's time is guessed.
    """
    from htmldate import find_date  # imported here: lxml and its trees cost ~50 ms to load

    try:
        found = find_date(
            html,
            extensive_search=False,
            original_date=True,
            url=url,
            min_date=_HTMLDATE_MIN,
            max_date=_HTMLDATE_MAX,
        )
    except (ValueError, TypeError):  # lxml refuses some documents; the guess remains
        return None
    if not found:
        return None
    try:
        return dt.date.fromisoformat(found)
    except ValueError:
        return None
