"""What a release says about itself: its title and publication date.

The date is taken from the most trusted source present: the configured
override, front matter, HTML meta data, a dateline near the top, and only
then the file's modification time, which is flagged as a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from linkwatch.markup import attribute_values
from linkwatch.model import DateSource, Format, ReleaseMeta
from linkwatch.sources.dates import (
    date_value,
    dates_in,
    find_dateline,
    markup_date,
    mtime_date,
    parse_date_text,
)
from linkwatch.sources.decoding import ReleaseFile
from linkwatch.sources.documents import DocumentText
from linkwatch.sources.frontmatter import split_front_matter
from linkwatch.sources.lines import (
    DATELINE_CHARS,
    DATELINE_LINES,
    clean_line,
    collapse,
    iter_lines,
    strip_inline_markdown,
    top_lines,
    unfenced_lines,
)

_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")

_SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*")

_MAY_HAVE_HEADING = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)", re.MULTILINE)

# A headline line may be long (press releases run to 200+ characters in capitals); a longer
# first line is the opening paragraph, not a title.
_MAX_PLAIN_TITLE = 250


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str
    position: int  # index of its first line among the non-empty lines
    after: str  # the non-empty line above it ("" at the top): is it a dateline?


@dataclass(slots=True)
class _HeadingScan:
    """Where a line scan stands: the open paragraph, and what came before it."""

    paragraph: list[str] = field(default_factory=list)
    position: int = -1
    previous: str = ""
    before_paragraph: str = ""


def _markdown_headings(text: str) -> Iterator[_Heading]:
    """ATX and setext headings outside fenced code, in document order.

    A setext heading takes the whole paragraph above its underline, as CommonMark does.
    """
    scan = _HeadingScan()
    for line in unfenced_lines(text):
        if not line.strip():
            scan.paragraph = []
            continue
        scan.position += 1
        heading = _heading_at(line, scan)
        if heading is not None:
            scan.paragraph = []
            yield heading
        elif not line.startswith("    "):
            if not scan.paragraph:
                scan.before_paragraph = scan.previous
            scan.paragraph.append(line)
        scan.previous = line


def _heading_at(line: str, scan: _HeadingScan) -> _Heading | None:
    atx = _ATX_HEADING.fullmatch(line)
    if atx:
        text = strip_inline_markdown(atx.group(2) or "")
        return _Heading(len(atx.group(1)), text, scan.position, scan.previous)
    underline = _SETEXT_UNDERLINE.fullmatch(line)
    if underline and scan.paragraph:
        level = 1 if underline.group(1)[0] == "=" else 2
        text = strip_inline_markdown(" ".join(scan.paragraph))
        start = scan.position - len(scan.paragraph)
        return _Heading(level, text, start, scan.before_paragraph)
    return None


def _markdown_heading_title(text: str) -> str | None:
    """A level-1 heading near the top, else any heading opening the document, else any level-1.

    A lower heading further down is a section name ("Notes", "Contact"), never the title;
    one opening the document (perhaps below a dateline) is the headline marked up small.
    """
    if not _MAY_HAVE_HEADING.search(text):
        return None  # the common case, found without a Python loop over every line
    opening: str | None = None
    for heading in _markdown_headings(text):
        if not heading.text:
            continue
        near_top = heading.position < DATELINE_LINES
        if heading.level == 1 and (near_top or opening is None):
            return heading.text
        if opening is None and _opens_document(heading):
            opening = heading.text
        elif opening is not None and not near_top:
            break
    return opening


def _opens_document(heading: _Heading) -> bool:
    return heading.position == 0 or (heading.position == 1 and bool(dates_in(heading.after)))


# Meta keys (property, name or itemprop, lower-cased) giving a publication date, best first.
_DATE_META_KEYS = (
    "article:published_time",
    "date",
    "dcterms.date",
    "datepublished",
    "dc:date",
    "dc:created",
    "dcterms.issued",
    "dcterms.created",
)

_INVISIBLE_TAGS = frozenset({"script", "style", "title", "template", "noscript", "textarea"})

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip

# The head and the top of the body hold all we look for; long pages are not read to the end.
_HTML_SCAN_CHARS = 65536

_HTML_CHUNK = 1024

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

# Attributes are read up to the first ">", which a quoted value could hold: not in date tags.
# Besides <meta> and <time>: any element naming its date in RDFa or microdata (Drupal 7's
# <span property="dc:date dc:created" content="...">, <span itemprop="datePublished">).
_DATE_TAG = re.compile(
    r"<(meta|time|[a-z][a-z0-9]*(?=[^<>]*\b(?:itemprop|property)\s*=\s*[\"']?[^\"'<>]*"
    r"(?:datepublished|dc:date|dc:created)))\b([^<>]*)>",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _HtmlFacts:
    title: list[str] | None = None
    h1: list[str] | None = None
    visible: list[str] = field(default_factory=list)
    visible_chars: int = 0


class _HtmlScanner(HTMLParser):
    """Collects the title, the first h1 and the visible text at the top of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = _HtmlFacts()
        self._in_title = False
        self._title_has_text = False
        self._h1_depth = 0
        self._h1_done = False
        self._invisible_depth = 0

    @property
    def has_enough(self) -> bool:
        """The title is known, and the top of the text seen or its dateline found.

        Lines after a dateline can change neither the date nor a plain-line title.
        """
        title_known = (self._title_has_text and not self._in_title) or self._h1_done
        if not title_known:
            return False
        if self.facts.visible_chars >= DATELINE_CHARS:
            return True
        complete_lines = "".join(self.facts.visible).split("\n")[:-1]
        return find_dateline(top_lines(complete_lines)) is not None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.facts.visible.append("\n")
        if tag == "title" and self.facts.title is None:
            self._in_title, self.facts.title = True, []
        elif tag == "h1" and not self._h1_done:
            self._h1_depth += 1
            if self.facts.h1 is None:
                self.facts.h1 = []
        if tag in _INVISIBLE_TAGS:
            self._invisible_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag opens nothing; only the line break it may make counts."""
        if tag in _BLOCK_TAGS:
            self.facts.visible.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.facts.visible.append("\n")
        if tag == "title":
            self._in_title = False
        elif tag == "h1" and self._h1_depth:
            self._h1_depth -= 1
            self._h1_done = self._h1_depth == 0
        if tag in _INVISIBLE_TAGS and self._invisible_depth:
            self._invisible_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title and self.facts.title is not None:
            self.facts.title.append(data)
            self._title_has_text = self._title_has_text or not data.isspace()
        if self._h1_depth and self.facts.h1 is not None:
            self.facts.h1.append(data)
        if not self._invisible_depth:
            collapsed = _collapse_keeping_edges(data)
            self.facts.visible.append(collapsed)
            self.facts.visible_chars += len(collapsed)


def _collapse_keeping_edges(data: str) -> str:
    """Whitespace collapsed, but a word boundary at either edge survives ("a <b>b</b>")."""
    collapsed = collapse(data)
    if not collapsed:
        return " " if data else ""
    lead = " " if data[0].isspace() else ""
    trail = " " if data[-1].isspace() else ""
    return f"{lead}{collapsed}{trail}"


def _scan_html(text: str) -> _HtmlFacts:
    """Parses only as far as needed: html.parser is pure Python, and pages run long."""
    scanner = _HtmlScanner()
    window = text[:_HTML_SCAN_CHARS]
    try:
        for start in range(0, len(window), _HTML_CHUNK):
            scanner.feed(window[start : start + _HTML_CHUNK])
            if scanner.has_enough:
                break
        else:
            if len(text) <= _HTML_SCAN_CHARS:
                scanner.close()
    except AssertionError:
        pass  # html.parser gives up on some malformed "<![" sections; keep what it found
    return scanner.facts


def _html_meta_date(text: str) -> dt.date | None:
    """The date a page's <meta> tags give, best key first, else its first dated <time>.

    Read with a regular expression rather than the parser: these tags may sit
    anywhere in the page, and the parser stops once the top has been read.
    """
    window = text[:_HTML_SCAN_CHARS]
    if "<!--" in window:
        window = _HTML_COMMENT.sub("", window)
    meta_dates: dict[str, str] = {}
    time_values: list[str] = []
    for tag in _DATE_TAG.finditer(window):
        attributes = attribute_values(tag.group(2))
        if tag.group(1).lower() == "time" and attributes.get("datetime"):
            time_values.append(attributes["datetime"])
        key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop")
        value = attributes.get("content") or attributes.get("datetime")
        for token in (key or "").lower().split():
            if value and token in _DATE_META_KEYS:
                meta_dates.setdefault(token, value)
    candidates = [meta_dates[key] for key in _DATE_META_KEYS if key in meta_dates]
    for value in candidates + time_values:
        found = parse_date_text(value)
        if found is not None:
            return found
    return None


def _html_title(facts: _HtmlFacts) -> str | None:
    for parts in (facts.title, facts.h1):
        if parts:
            title = collapse("".join(parts))
            if title:
                return title
    return None


def _html_top_lines(facts: _HtmlFacts) -> list[str]:
    return top_lines("".join(facts.visible).split("\n"))


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What a release says about itself, before precedence is applied."""

    front_matter: dict[object, object]
    meta_date: dt.date | None
    markup_title: str | None
    top_lines: list[str]


def release_meta(
    release: ReleaseFile,
    *,
    override: dt.date | None = None,
    mtime: float | None = None,
    url: str | None = None,
    title: str | None = None,
    declared: dt.date | None = None,
) -> ReleaseMeta:
    """Title and publication date (model.ReleaseMeta with model.DateSource).

    `url`, `title` and `declared` are what a web source says of a page: its address
    (whose path may carry the date) and the title and date its feed or API gives.
    """
    evidence = _gather_evidence(release)
    dateline = find_dateline(evidence.top_lines)
    if declared is not None and override is None:
        published, source = _publication_date(evidence, dateline, None, mtime)
        if source in (DateSource.MTIME, DateSource.DATELINE):
            published, source = declared, DateSource.HTML_META
    else:
        published, source = _publication_date(evidence, dateline, override, mtime)
    if source is DateSource.MTIME and release.format is Format.HTML:
        found = markup_date(release.text, url)
        if found is not None:
            published, source = found, DateSource.HTML_META
    chosen_title = _title(evidence, dateline)
    if title and collapse(title) and not evidence.front_matter.get("title"):
        chosen_title = collapse(title)
    return ReleaseMeta(title=chosen_title, published=published, date_source=source)


def document_meta(
    document: DocumentText, *, override: dt.date | None = None, mtime: float | None = None
) -> ReleaseMeta:
    """Title and date of a Word or PDF release: its own properties (title, creation
    date) first, then, as for plain text, a dateline and the first line."""
    lines = top_lines(iter_lines(document.text.replace("\f", "\n")))
    dateline = find_dateline(lines)
    if override is not None:
        published, source = override, DateSource.OVERRIDE
    elif document.created is not None:
        published, source = document.created, DateSource.DOCUMENT
    elif dateline is not None:
        published, source = dateline[0], DateSource.DATELINE
    else:
        published, source = mtime_date(mtime), DateSource.MTIME
    title = document.title or _plain_title(lines, None if dateline is None else dateline[1])
    return ReleaseMeta(title=title, published=published, date_source=source)


def _gather_evidence(release: ReleaseFile) -> _Evidence:
    """Front matter counts in Markdown and HTML (static site generators allow it in both)."""
    text = release.text
    if release.format is Format.TEXT:
        return _Evidence({}, None, None, top_lines(iter_lines(text)))
    front_matter, body = split_front_matter(text)
    if release.format is Format.HTML:
        facts = _scan_html(body)
        return _Evidence(
            front_matter, _html_meta_date(body), _html_title(facts), _html_top_lines(facts)
        )
    title = _markdown_heading_title(body)
    return _Evidence(front_matter, None, title, top_lines(unfenced_lines(body)))


def _publication_date(
    evidence: _Evidence,
    dateline: tuple[dt.date, int] | None,
    override: dt.date | None,
    mtime: float | None,
) -> tuple[dt.date, DateSource]:
    if override is not None:
        return override, DateSource.OVERRIDE
    front_matter_date = date_value(evidence.front_matter.get("date"))
    if front_matter_date is not None:
        return front_matter_date, DateSource.FRONT_MATTER
    if evidence.meta_date is not None:
        return evidence.meta_date, DateSource.HTML_META
    if dateline is not None:
        return dateline[0], DateSource.DATELINE
    return mtime_date(mtime), DateSource.MTIME


def _title(evidence: _Evidence, dateline: tuple[dt.date, int] | None) -> str | None:
    declared = evidence.front_matter.get("title")
    if isinstance(declared, str) and collapse(declared):
        return collapse(declared)
    if evidence.markup_title:
        return evidence.markup_title
    return _plain_title(evidence.top_lines, None if dateline is None else dateline[1])


def _plain_title(lines: Sequence[str], dateline_index: int | None) -> str | None:
    """Press releases often carry their headline as a plain first line."""
    for index, raw in enumerate(lines):
        line = "" if index == dateline_index else clean_line(raw[:DATELINE_CHARS])
        if line:
            return line if len(line) <= _MAX_PLAIN_TITLE else None
    return None
