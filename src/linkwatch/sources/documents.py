"""Word (.docx) and PDF releases, read as text with their notes marked.

Press offices write in Word and send PDFs; linkwatch reads both, but cannot edit
them, so a document is turned into a plain-text rendition once, at scan time, and
its citations are found in that rendition: offsets of a document's citations are
byte offsets into the UTF-8 of the rendition, not into the file (nothing splices
into a document). A hyperlink whose text is not its target is written
`text <target>`, so that every citation is a URL written in the rendition.

* .docx (python-docx opens the package; its footnotes and endnotes parts are read
  from the package, as python-docx does not parse them): the body in document
  order, each paragraph a line, then each footnote and each endnote as a note of
  its own, labelled by its number as Word shows it (footnotes in order of
  reference, `1 2 3`; endnotes `i ii iii` unless the document sets another
  w:numFmt). Hyperlinks are the body's or the note's relationships; HYPERLINK
  field codes count too. A package that would unpack to more than 100 MB (a zip
  bomb) is refused before anything is unpacked.
* .pdf (pypdf): each page's text in reading order (the first 200 pages); a /Link
  annotation's /URI is written after the text it covers, unless that text is the
  URL itself. A note at the foot of a page, or an endnote, is a line that opens
  with its marker glued to its text (`1Mountain Communities...`, `iiThe data
  set...`), as PDF text comes out, where the same marker also ends a word in the
  text (`Alliance.1`).

The date is the document's own (docx core properties `created`, PDF
/CreationDate), before a dateline in its text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkwatch.errors import ReleaseReadError
from linkwatch.model import Format

DOCUMENT_FORMATS = {".docx": Format.DOCX, ".pdf": Format.PDF}

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ENDNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes"
_FIELD_URL = re.compile(r'HYPERLINK\s+"([^"]+)"', re.IGNORECASE)
_HTTP = re.compile(r"https?://", re.IGNORECASE)
_MAX_NOTES = 5000  # a document with more is not a press release; bounds the work
_MAX_PAGES = 200  # of a PDF: a release runs to a few; a 2,000-page report is not read whole
# A .docx is a zip: a few MB on disk may unpack to gigabytes (a zip bomb). Its entries'
# declared sizes are added up before anything is unpacked.
MAX_UNPACKED = 100_000_000


@dataclass(frozen=True, slots=True)
class Note:
    """A footnote or endnote in the rendition: text[start:end], shown as `label`."""

    label: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DocumentText:
    """What linkwatch reads from a .docx or .pdf release."""

    format: Format
    text: str  # the rendition: body, then notes
    notes: tuple[Note, ...]
    title: str | None
    created: dt.date | None


def document_format(path: Path) -> Format | None:
    """DOCX or PDF when the file's extension says it is a document release."""
    return DOCUMENT_FORMATS.get(path.suffix.lower())


def read_document(path: Path, data: bytes) -> DocumentText:
    """The rendition of a document release; ReleaseReadError (one line) if unreadable."""
    fmt = document_format(path)
    try:
        if fmt is Format.DOCX:
            return _read_docx(path, data)
        if fmt is Format.PDF:
            return _read_pdf(data)
    except ReleaseReadError:
        raise
    except Exception as err:  # a damaged document costs this release, not the scan
        kind = "Word document" if fmt is Format.DOCX else "PDF"
        reason = f"cannot read as a {kind}: {type(err).__name__}: {err}"
        raise ReleaseReadError(path, reason) from err
    raise ReleaseReadError(path, "not a .docx or .pdf document")


# -- rendition builder


@dataclass(slots=True)
class _Rendition:
    parts: list[str] = field(default_factory=list)
    length: int = 0
    notes: list[Note] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def link(self, shown: str, target: str | None) -> None:
        """Link text, then its target when the text does not already say it."""
        self.write(shown)
        if target and _HTTP.match(target) and target.strip() not in shown:
            self.write(f" <{target.strip()}>")

    def note(self, label: str, write_body: Any) -> None:
        start = self.length
        self.write(f"[{label}] ")
        write_body()
        self.notes.append(Note(label, start, self.length))
        self.write("\n")

    def text(self) -> str:
        return "".join(self.parts)


# -- .docx


def _read_docx(path: Path, data: bytes) -> DocumentText:
    import docx  # python-docx: imported here, so that a scan of text releases never loads it
    from docx.opc.constants import RELATIONSHIP_TYPE

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        unpacked = sum(entry.file_size for entry in package.infolist())
    if unpacked > MAX_UNPACKED:
        raise ReleaseReadError(
            path, f"unpacks to {unpacked:,} bytes, more than a Word release ({MAX_UNPACKED:,})"
        )
    document = docx.Document(io.BytesIO(data))
    body_part = document.part
    out = _Rendition()
    formats = _note_formats(body_part.element)
    references = _References(formats)
    targets = _targets(body_part)
    for paragraph in body_part.element.body.iter(f"{_W}p"):
        _write_paragraph(out, paragraph, targets, references)
        out.write("\n")
    for kind, reltype in (("footnote", RELATIONSHIP_TYPE.FOOTNOTES), ("endnote", _ENDNOTES)):
        part = _related_part(body_part, reltype)
        if part is not None:
            _write_notes(out, kind, part, references)
    title, created = _core_properties(body_part.package)
    return DocumentText(Format.DOCX, out.text(), tuple(out.notes), title, created)


_CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"


def _core_properties(package: Any) -> tuple[str | None, dt.date | None]:
    """(dc:title, dcterms:created) from docProps/core.xml, read from the part itself:
    LibreOffice relates it with a misspelt type (`officedocument`), which python-docx's
    core_properties does not follow (it then makes up a 'Word Document' title)."""
    for part in package.iter_parts():
        if part.content_type != _CORE_TYPE:
            continue
        root = _parse_xml(part.blob)
        title = (root.findtext(f"{_DC}title") or "").strip() or None
        return title, _w3c_date(root.findtext(f"{_DCTERMS}created") or "")
    return None, None


def _parse_xml(blob: bytes) -> Any:
    """A part's XML, with entities left unresolved and no network access. lxml (python-
    docx's own dependency) is imported here, so that scanning text releases never loads it."""
    from lxml import etree

    return etree.fromstring(blob, etree.XMLParser(resolve_entities=False, no_network=True))


def _w3c_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _related_part(part: Any, reltype: str) -> Any | None:
    try:
        return part.part_related_by(reltype)
    except KeyError:
        return None


def _targets(part: Any) -> dict[str, str]:
    """Relationship id -> external target, for the hyperlinks of one part."""
    return {rid: rel.target_ref for rid, rel in part.rels.items() if rel.is_external}


@dataclass(slots=True)
class _References:
    """The notes the body refers to, in order: Word numbers them so."""

    formats: dict[str, str]
    order: dict[str, list[str]] = field(default_factory=lambda: {"footnote": [], "endnote": []})

    def add(self, kind: str, note_id: str) -> str:
        """The label of the next reference of `kind` (`1`, `ii`)."""
        self.order[kind].append(note_id)
        return format_number(len(self.order[kind]), self.formats[kind])


def _write_paragraph(
    out: _Rendition, paragraph: Any, targets: dict[str, str], references: _References | None
) -> None:
    """A paragraph's text in order: runs, hyperlinks (with their target), note markers."""
    field_url: str | None = None
    field_text: list[str] = []
    for node in paragraph.iter():
        tag = node.tag
        if tag == f"{_W}hyperlink":
            target = targets.get(node.get(f"{_R}id") or "")
            out.link("".join(t.text or "" for t in node.iter(f"{_W}t")), target)
        elif tag == f"{_W}t" and not _inside_hyperlink(node, paragraph):
            if field_url is not None:
                field_text.append(node.text or "")
            else:
                out.write(node.text or "")
        elif tag == f"{_W}tab":
            out.write("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            out.write("\n")
        elif tag == f"{_W}instrText" and (found := _FIELD_URL.search(node.text or "")):
            field_url, field_text = found.group(1), []
        elif tag == f"{_W}fldChar" and node.get(f"{_W}fldCharType") == "end" and field_url:
            out.link("".join(field_text), field_url)
            field_url = None
        elif tag == f"{_W}fldSimple" and (found := _FIELD_URL.search(node.get(f"{_W}instr", ""))):
            out.link("", found.group(1))
        elif references is not None and tag in (f"{_W}footnoteReference", f"{_W}endnoteReference"):
            kind = "footnote" if tag == f"{_W}footnoteReference" else "endnote"
            if node.get(f"{_W}customMarkFollows") not in ("1", "true"):
                # after a space, so that a URL just before the marker does not run into it
                out.write(f" [{references.add(kind, node.get(f'{_W}id') or '')}]")


def _inside_hyperlink(node: Any, paragraph: Any) -> bool:
    parent = node.getparent()
    while parent is not None and parent is not paragraph:
        if parent.tag == f"{_W}hyperlink":
            return True
        parent = parent.getparent()
    return False


def _note_formats(body: Any) -> dict[str, str]:
    """w:numFmt of footnotes and endnotes (the section's, else Word's defaults)."""
    formats = {"footnote": "decimal", "endnote": "lowerRoman"}
    for kind in formats:
        for properties in body.iter(f"{_W}{kind}Pr"):
            number_format = properties.find(f"{_W}numFmt")
            if number_format is not None and number_format.get(f"{_W}val"):
                formats[kind] = number_format.get(f"{_W}val")
    return formats


def _write_notes(out: _Rendition, kind: str, part: Any, references: _References) -> None:
    root = _parse_xml(part.blob)
    notes = {
        node.get(f"{_W}id"): node
        for node in root.iter(f"{_W}{kind}")
        if node.get(f"{_W}type") in (None, "normal")
    }
    targets = _targets(part)
    for number, note_id in enumerate(references.order[kind][:_MAX_NOTES], start=1):
        node = notes.get(note_id)
        if node is None:
            continue

        def body(node: Any = node) -> None:
            for index, paragraph in enumerate(node.iter(f"{_W}p")):
                if index:
                    out.write(" ")
                _write_paragraph(out, paragraph, targets, None)

        out.note(format_number(number, references.formats[kind]), body)


_ROMAN: tuple[tuple[int, str], ...] = (
    *((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc")),
    *((50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")),
)


def format_number(number: int, number_format: str) -> str:
    """A note number as Word shows it in `number_format` (w:numFmt)."""
    if number_format in ("lowerRoman", "upperRoman"):
        roman = ""
        for value, letters in _ROMAN:
            while number >= value:
                roman += letters
                number -= value
        return roman.upper() if number_format == "upperRoman" else roman
    if number_format in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return letter.upper() if number_format == "upperLetter" else letter
    return str(number)


# -- .pdf

_PDF_NOTE_LINE = re.compile(r"(?P<label>[0-9]{1,3}|[ivxlc]{1,6})(?=[A-Z“\"(])")
# A marker in the text: glued to the end of a word or its punctuation (`Alliance.1`).
_PDF_REFERENCE = re.compile(r"[^\s\d](?P<label>[0-9]{1,3}|[ivxlc]{1,6})(?=[\s.,;:]|\Z)")
_PDF_LINE = re.compile(r"[^\n\f]+")
_NEAR = 2.0  # points of slack around an annotation's rectangle


@dataclass(frozen=True, slots=True)
class _Fragment:
    text: str
    x: float
    y: float


def _read_pdf(data: bytes) -> DocumentText:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = [_page_text(page) for page in reader.pages[:_MAX_PAGES]]
    text = "\f".join(pages)  # a form feed between pages: a note ends with its page
    notes = tuple(_pdf_notes(text))
    metadata = reader.metadata
    created: dt.date | None = None
    title: str | None = None
    if metadata is not None:
        try:
            stamp = metadata.creation_date
        except ValueError:  # a malformed /CreationDate: the dateline decides
            stamp = None
        created = stamp.date() if stamp is not None else None
        title = (metadata.title or "").strip() or None
    return DocumentText(Format.PDF, text, notes, title, created)


def _page_text(page: Any) -> str:
    """The page's text with each /Link /URI written after the text it covers."""
    fragments: list[_Fragment] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: Any) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        fragments.append(_Fragment(text, x, y))

    page.extract_text(visitor_text=visit)
    after: dict[int, list[str]] = {}
    for uri, rect in _link_annotations(page):
        covered = [i for i, f in enumerate(fragments) if f.text.strip() and _inside(f, rect)]
        if not covered:
            after.setdefault(len(fragments) - 1, []).append(uri)
        elif uri not in "".join(fragments[i].text for i in covered):
            after.setdefault(covered[-1], []).append(uri)
    pieces: list[str] = []
    for index, fragment in enumerate(fragments):
        pieces.append(fragment.text)
        for uri in after.get(index, []):
            pieces.append(f" <{uri}>")
    return "".join(pieces)


def _link_annotations(page: Any) -> Iterator[tuple[str, tuple[float, float, float, float]]]:
    for reference in page.get("/Annots") or []:
        annotation = reference.get_object()
        if annotation.get("/Subtype") != "/Link":
            continue
        action = annotation.get("/A")
        action = action.get_object() if action is not None else None
        uri = action.get("/URI") if action is not None else None
        rect = annotation.get("/Rect")
        if not isinstance(uri, str) or not _HTTP.match(uri) or rect is None:
            continue
        left, bottom, right, top = (float(value) for value in rect)
        yield uri, (min(left, right), min(bottom, top), max(left, right), max(bottom, top))


def _inside(fragment: _Fragment, rect: tuple[float, float, float, float]) -> bool:
    """Whether a piece of text starts inside the rectangle; one starting at its right edge
    is the text after the link (a note marker), not the link's."""
    left, bottom, right, top = rect
    across = left - _NEAR <= fragment.x < right - _NEAR
    return across and bottom - _NEAR <= fragment.y <= top + _NEAR


def _pdf_notes(text: str) -> Iterator[Note]:
    """Lines opening with a marker glued to their text, a marker that also ends a word
    in the text: the notes, each running to the next note line."""
    referenced = {m.group("label") for m in _PDF_REFERENCE.finditer(text)}
    opened: list[tuple[str, int]] = []
    for line in _PDF_LINE.finditer(text):
        found = _PDF_NOTE_LINE.match(line.group())
        if found is not None and found.group("label") in referenced:
            opened.append((found.group("label"), line.start()))
        if len(opened) >= _MAX_NOTES:
            break
    for index, (label, start) in enumerate(opened):
        end = _page_end(text, start)
        if index + 1 < len(opened):
            end = min(end, opened[index + 1][1] - 1)
        yield Note(label, start, end)


def _page_end(text: str, start: int) -> int:
    end = text.find("\f", start)
    return len(text) if end < 0 else end
