"""Pure: a release's bytes + the citations to archive + their snapshots -> new bytes.

The added text is spliced in at the byte offsets the scan stored, in the
release's own syntax; everything else stays byte for byte. Text added before is
recognised and kept or replaced in place, never doubled.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkTitle
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from linkwatch.markup import Attribute, attributes_at
from linkwatch.model import Format
from linkwatch.rewrite.dates import archive_date
from linkwatch.rewrite.values import Action, CitationRewrite, Rewritten, Splice, Target
from linkwatch.rewrite.wording import Values, Wording, safe_url
from linkwatch.sources.decoding import ReleaseFile


class _Skip(Exception):
    """A citation that cannot be rewritten safely; the message says why."""


@dataclass(frozen=True, slots=True)
class _Edit:
    """Characters `start:end` of the text replaced by `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class _StartTag:
    start: int
    end: int  # just past `>`
    attributes_end: int  # where a new attribute goes: after the last one
    attributes: tuple[Attribute, ...]


_SPACE = " \t\r\n"

_URL_WHITESPACE = " \t\n\r\f"

_ANCHOR_OPEN = re.compile(r"<a(?=[\s/>])", re.IGNORECASE)

_ANCHOR_CLOSE = re.compile(r"</a\s*>", re.IGNORECASE)

_TAG_END = re.compile(r"\s*/?>")

_REFERENCE_DEFINITION = re.compile(r" {0,3}\[(?!\^)")

_LOOK_BACK = 8  # `<` tried when looking for the tag an href sits in

_NEWLINE = re.compile(r"\r\n?|\n")

_MAY_OPEN_HTML_BLOCK = re.compile(r"^[ \t>*+-]*<[a-zA-Z/!?]", re.MULTILINE)


class _Document:
    """A release's text, and what planning needs to know about it, computed once."""

    def __init__(self, release: ReleaseFile) -> None:
        self.text = release.text
        self.format = release.format

    @functools.cached_property
    def html_block_spans(self) -> list[tuple[int, int]]:
        """Character ranges of HTML blocks in a Markdown release: their text is HTML.

        Only the block structure is parsed (no inline parsing), and only when some line
        starts the way an HTML block must.
        """
        if not _MAY_OPEN_HTML_BLOCK.search(self.text):
            return []
        starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        spans: list[tuple[int, int]] = []
        for token in _block_parser().parse(self.text):
            if token.type == "html_block" and token.map:
                first, last = token.map
                end = starts[last] if last < len(starts) else len(self.text)
                spans.append((starts[first], end))
        return spans

    def in_html_block(self, position: int) -> bool:
        spans = self.html_block_spans
        index = bisect_right(spans, (position, len(self.text) + 1)) - 1
        return index >= 0 and spans[index][0] <= position < spans[index][1]


@functools.cache
def _block_parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark").use(front_matter_plugin).use(footnote_plugin)
    parser.core.ruler.disable("inline")
    return parser


def _plan(doc: _Document, start: int, end: int, add: _Adder) -> list[_Edit]:
    """The edits that point the citation at text[start:end] to its archived copy."""
    text = doc.text
    if doc.format is Format.TEXT:
        wrapped = start > 0 and text[start - 1] == "<" and text.startswith(">", end)
        return add(Format.TEXT, end + 1 if wrapped else end)
    tag = _anchor_around(text, start, end)
    if tag is not None:
        return _anchor_edits(text, tag, add)
    if doc.format is Format.HTML or doc.in_html_block(start):
        return add(Format.HTML, end)
    return add(Format.MARKDOWN, _markdown_syntax_end(text, start, end))


def _markdown_syntax_end(text: str, start: int, end: int) -> int:
    """Just past the citation's Markdown syntax: `>` of an autolink, `)` of an inline link."""
    bracketed = start > 0 and text[start - 1] == "<" and text.startswith(">", end)
    lead = _before_space(text, start - 1 if bracketed else start)
    after = end + 1 if bracketed else end
    if text.startswith("](", lead - 2):
        return _inline_link_end(text, after)
    if text.startswith("]:", lead - 2):
        line_start = _line_start(text, lead - 2)
        if _REFERENCE_DEFINITION.match(text, line_start):
            raise _Skip("a reference definition: text after it would unmake the link")
    return after


def _line_start(text: str, position: int) -> int:
    return max(text.rfind("\n", 0, position), text.rfind("\r", 0, position)) + 1


def _before_space(text: str, position: int) -> int:
    while position > 0 and text[position - 1] in _SPACE:
        position -= 1
    return position


def _past_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in _SPACE:
        position += 1
    return position


def _inline_link_end(text: str, position: int) -> int:
    position = _past_space(text, position)
    title = parseLinkTitle(text, position, len(text))
    if title.ok:
        position = _past_space(text, title.pos)
    if text.startswith(")", position):
        return position + 1
    raise _Skip("cannot find where the link ends")


def _anchor_around(text: str, start: int, end: int) -> _StartTag | None:
    """The `<a>` start tag whose href value is text[start:end], if the URL sits in one."""
    position = start
    for _ in range(_LOOK_BACK):
        position = text.rfind("<", 0, position)
        if position < 0:
            return None
        if _ANCHOR_OPEN.match(text, position):
            tag = _parse_start_tag(text, position)
            if tag is None or tag.end <= start:
                return None
            for attribute in tag.attributes:
                if attribute.name == "href" and _holds(text, attribute, start, end):
                    return tag
            return None
    return None


def _holds(text: str, attribute: Attribute, start: int, end: int) -> bool:
    if attribute.value_start is None or attribute.value_end is None:
        return False
    if not attribute.value_start <= start <= end <= attribute.value_end:
        return False
    raw = text[attribute.value_start : attribute.value_end].strip(_URL_WHITESPACE)
    return raw == text[start:end]


def _parse_start_tag(text: str, start: int) -> _StartTag | None:
    attributes = tuple(attributes_at(text, start + 2))
    attributes_end = attributes[-1].written_end if attributes else start + 2
    closing = _TAG_END.match(text, attributes[-1].end if attributes else start + 2)
    if closing is None:
        return None
    return _StartTag(start, closing.end(), attributes_end, attributes)


def _anchor_edits(text: str, tag: _StartTag, add: _Adder) -> list[_Edit]:
    close = _ANCHOR_CLOSE.search(text, tag.end)
    reopened = _ANCHOR_OPEN.search(text, tag.end, close.start() if close else len(text))
    if close is None or reopened is not None:
        raise _Skip("the link has no closing </a>")
    if add.reverting:
        removed = add(Format.HTML, close.end())
        if not removed:  # the archive link is the author's: the tag is theirs too
            return []
        return [*removed, *_version_attribute_removals(text, tag, add.target)]
    attributes = _version_attribute_edits(text, tag, add.values, add.target)
    return [*attributes, *add(Format.HTML, close.end())]


_VERSION_ATTRIBUTES = ("data-versionurl", "data-versiondate")


def _version_attribute_removals(text: str, tag: _StartTag, target: Target) -> list[_Edit]:
    """The Robust Links attributes as linkwatch adds them (` name="value"`), removed whole.

    `data-versionurl` and `data-versiondate` go; `data-originalurl` goes when it
    names the cited page as linkwatch writes it. Only the space linkwatch wrote
    before each goes with it, so that the tag reads byte for byte as it did
    before the rewrite.
    """
    original = target.original or target.url
    edits: list[_Edit] = []
    for attribute in tag.attributes:
        if attribute.name == "data-originalurl":
            if attribute.value_start is None or attribute.value_end is None:
                continue
            if html.unescape(text[attribute.value_start : attribute.value_end]) != original:
                continue
        elif attribute.name not in _VERSION_ATTRIBUTES:
            continue
        start = attribute.name_end - len(attribute.name)
        if start > 0 and text[start - 1] == " ":
            start -= 1
        edits.append(_Edit(start, attribute.written_end, ""))
    return edits


def _version_attribute_edits(
    text: str, tag: _StartTag, values: Values, target: Target
) -> list[_Edit]:
    """Robust Links (the 2025 draft): the href stays as written; `data-originalurl` names
    the cited page, `data-versiondate` the chosen copy's day, and `data-versionurl` the
    chosen copy first, then every other verified copy, each followed by its datetime
    when there are several (space-separated, as the draft's ABNF has it)."""
    existing = {attribute.name: attribute for attribute in tag.attributes}
    edits: list[_Edit] = []
    missing: list[str] = []
    versions = values.archive_url
    if target.others:
        copies = [(values.archive_url, target.captured), *target.others]
        versions = " ".join(f"{safe_url(url)} {_robust_datetime(at)}" for url, at in copies)
    for name, value in (
        ("data-originalurl", target.original or target.url),
        ("data-versionurl", versions),
        ("data-versiondate", values.iso_date),
    ):
        written = html.escape(value, quote=True)
        attribute = existing.get(name)
        if attribute is None:
            missing.append(f' {name}="{written}"')
        elif attribute.value_start is None or attribute.value_end is None:
            edits.append(_Edit(attribute.name_end, attribute.name_end, f'="{written}"'))
        elif html.unescape(text[attribute.value_start : attribute.value_end]) != value:
            quoted = written if attribute.quoted else f'"{written}"'
            edits.append(_Edit(attribute.value_start, attribute.value_end, quoted))
    if missing:
        edits.append(_Edit(tag.attributes_end, tag.attributes_end, "".join(missing)))
    return edits


class _Adder:
    """Renders the added text for one target, and finds text added for it earlier."""

    def __init__(
        self, doc: _Document, wording: Wording, target: Target, language: str | None, encoding: str
    ) -> None:
        self._doc = doc
        self._wording = wording
        self._target = target
        self.target = target
        self._encoding = encoding
        self.values = _values(target, language)
        self._fallback = _values(target, None)

    @property
    def reverting(self) -> bool:
        return self._target.revert

    def __call__(self, syntax: Format, position: int) -> list[_Edit]:
        text = self._doc.text
        earlier_end = self._wording.added_text_end(syntax, text, position)
        if self._target.revert:
            # Only linkwatch's own wording goes: an archive link the author wrote stays.
            return [] if earlier_end is None else [_Edit(position, earlier_end, "")]
        wanted = self._encodable(syntax)
        if earlier_end is not None:
            return [_Edit(position, earlier_end, wanted)]
        if self._target.archived is not None:
            if _same_url(self._target.archived, self.values.archive_url):
                return []
            raise _Skip("links another archived copy, in a wording linkwatch does not recognise")
        return [_Edit(position, position, wanted)]

    def _encodable(self, syntax: Format) -> str:
        """The added text in the release's encoding; an English date if the language's month
        cannot be written in it, character references (HTML) or `?` as a last resort."""
        rendered = self._wording.render(syntax, self.values)
        for attempt in (rendered, self._wording.render(syntax, self._fallback)):
            try:
                attempt.encode(self._encoding)
            except UnicodeEncodeError:
                continue
            return attempt
        errors = "xmlcharrefreplace" if syntax is Format.HTML else "replace"
        return rendered.encode(self._encoding, errors).decode(self._encoding)


def _values(target: Target, language: str | None) -> Values:
    day = target.captured.astimezone(dt.UTC)
    return Values(
        archive_url=safe_url(target.archive_url),
        original_url=target.url,
        date=archive_date(day.date(), language),
        iso_date=day.date().isoformat(),
        timestamp=day.strftime("%Y%m%d%H%M%S"),
        language=language or "en",
        archive_name=target.archive_name,
    )


def _robust_datetime(moment: dt.datetime) -> str:
    """A snapshot's datetime as Robust Links write it: ISO 8601 in UTC, `Z` notation."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _same_url(written: str, wanted: str) -> bool:
    return safe_url(html.unescape(written)) == wanted


def rewrite_release(
    release: ReleaseFile,
    targets: Sequence[Target],
    wording: Wording,
    *,
    language: str | None = None,
) -> Rewritten:
    """The release with each target pointing at its archived copy; every other byte kept.

    Targets whose edits would overlap an earlier target's are skipped rather than
    guessed at. `language` picks the date format (see `release_language`).
    """
    doc = _Document(release)
    ordered = sorted(targets, key=lambda t: (t.start, t.end))
    to_char = _char_offsets(release, (o for t in ordered for o in (t.start, t.end)))
    outcomes: list[CitationRewrite] = []
    accepted: list[_Edit] = []
    cited = [(to_char[t.start], to_char[t.end]) for t in ordered]
    for target in ordered:
        adder = _Adder(doc, wording, target, language, release.encoding)
        try:
            edits = _plan(doc, to_char[target.start], to_char[target.end], adder)
        except _Skip as skip:
            outcomes.append(CitationRewrite(target, Action.SKIPPED, str(skip)))
            continue
        edits = [e for e in edits if doc.text[e.start : e.end] != e.text]
        if _collides(edits, accepted, cited):
            reason = "overlaps the text added for another citation"
            outcomes.append(CitationRewrite(target, Action.SKIPPED, reason))
            continue
        accepted.extend(edits)
        action = Action.REVERTED if target.revert and edits else _action(edits)
        outcomes.append(CitationRewrite(target, action))
    splices = _splices(release, accepted)
    return Rewritten(_apply(release.data, splices), tuple(splices), tuple(outcomes))


def _action(edits: Sequence[_Edit]) -> Action:
    if not edits:
        return Action.UNCHANGED
    if any(edit.start != edit.end for edit in edits):
        return Action.REPLACED
    return Action.ADDED


def _collides(
    edits: Sequence[_Edit], accepted: Sequence[_Edit], cited: Sequence[tuple[int, int]]
) -> bool:
    for edit in edits:
        for other in accepted:
            if edit.start < other.end and other.start < edit.end:
                return True
            if edit.start == edit.end == other.start == other.end:
                return True
            if edit.start == edit.end and other.start < edit.start < other.end:
                return True
        for start, end in cited:
            if (edit.start < end and start < edit.end) or start < edit.start < end:
                return True
    return False


def _char_offsets(release: ReleaseFile, byte_positions: Iterable[int]) -> dict[int, int]:
    """Character position in release.text of each byte offset, decoding each stretch once."""
    data, encoding = release.data, release.encoding
    offsets: dict[int, int] = {}
    done_byte = len(release.bom)
    done_char = 0
    for position in sorted(set(byte_positions)):
        if position < done_byte:
            raise ValueError(f"byte offset {position} lies inside the byte-order mark")
        done_char += len(data[done_byte:position].decode(encoding))
        done_byte = position
        offsets[position] = done_char
    return offsets


def _splices(release: ReleaseFile, edits: Sequence[_Edit]) -> list[Splice]:
    """The character edits as byte splices of the original file."""
    text, encoding = release.text, release.encoding
    splices: list[Splice] = []
    done_char, done_byte = 0, len(release.bom)
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        start_byte = done_byte + len(text[done_char : edit.start].encode(encoding))
        end_byte = start_byte + len(text[edit.start : edit.end].encode(encoding))
        splices.append(Splice(start_byte, end_byte, edit.text.encode(encoding)))
        done_char, done_byte = edit.end, end_byte
    return splices


def _apply(data: bytes, splices: Sequence[Splice]) -> bytes:
    if not splices:
        return data
    parts: list[bytes] = []
    done = 0
    for splice in splices:
        parts.append(data[done : splice.start])
        parts.append(splice.data)
        done = splice.end
    parts.append(data[done:])
    return b"".join(parts)
