"""Real .docx and .pdf releases, built by code so that every fixture can be regenerated.

* `make_docx`: python-docx writes the body (hyperlinks as w:hyperlink elements with
  an external relationship, as Word and LibreOffice write them; note references as
  w:footnoteReference / w:endnoteReference) and the core properties; python-docx
  cannot write notes, so word/footnotes.xml and word/endnotes.xml are added to the
  package as raw XML in Word's shape (separator notes 0 and 1, then the notes from
  id 2, each with its own relationships part for its hyperlinks).
* `make_pdf`: pypdf writes pages whose text is drawn with the standard Helvetica font
  (one text object per piece, at the given position), /Link annotations with a /URI
  action, and the Info dictionary's /Title and /CreationDate.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from pypdf import PdfWriter
from pypdf.annotations import Link as LinkAnnotation
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
NOTE_TYPES = {
    "footnote": (
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
    ),
    "endnote": (
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/endnotes",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.endnotes+xml",
    ),
}


@dataclass(frozen=True)
class Link:
    """A hyperlink: `text` shown, `url` its target."""

    text: str
    url: str


@dataclass(frozen=True)
class NoteRef:
    """A reference to the `number`-th footnote or endnote (1-based)."""

    kind: str  # "footnote" or "endnote"
    number: int


@dataclass(frozen=True)
class Field:
    """A HYPERLINK field code, as older Word documents and mail merges write links."""

    text: str
    url: str


Piece = str | Link | NoteRef | Field


def make_docx(
    path: Path,
    *,
    title: str,
    created: dt.datetime | None,
    paragraphs: list[list[Piece]],
    footnotes: list[list[Piece]] = [],  # noqa: B006 - never mutated
    endnotes: list[list[Piece]] = [],  # noqa: B006
) -> Path:
    """A Word document as Word writes one; returns `path`."""
    document = docx.Document()
    document.core_properties.title = title
    if created is not None:
        document.core_properties.created = created
    for pieces in paragraphs:
        paragraph = document.add_paragraph()
        for piece in pieces:
            if isinstance(piece, str):
                paragraph.add_run(piece)
            elif isinstance(piece, Field):
                _append_field(paragraph, piece)
            elif isinstance(piece, Link):
                rid = document.part.relate_to(piece.url, RELATIONSHIP_TYPE.HYPERLINK, True)
                link = OxmlElement("w:hyperlink")
                link.set(qn("r:id"), rid)
                run = OxmlElement("w:r")
                text = OxmlElement("w:t")
                text.text = piece.text
                run.append(text)
                link.append(run)
                paragraph._p.append(link)
            else:
                reference = OxmlElement(f"w:{piece.kind}Reference")
                reference.set(qn("w:id"), str(piece.number + 1))
                paragraph.add_run()._r.append(reference)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(_with_notes(buffer.getvalue(), {"footnote": footnotes, "endnote": endnotes}))
    return path


def _append_field(paragraph: Any, piece: Field) -> None:
    """begin, ` HYPERLINK "url" `, separate, the shown text, end: each in a run of its own."""
    for kind, text in (
        ("begin", None),
        (None, f' HYPERLINK "{piece.url}" '),
        ("separate", None),
        (None, piece.text),
        ("end", None),
    ):
        run = paragraph.add_run()
        if kind is not None:
            mark = OxmlElement("w:fldChar")
            mark.set(qn("w:fldCharType"), kind)
            run._r.append(mark)
        elif text is not None and text.startswith(" HYPERLINK"):
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            run._r.append(instruction)
        else:
            run.text = text


def _with_notes(package: bytes, notes: dict[str, list[list[Piece]]]) -> bytes:
    """The package with word/footnotes.xml and word/endnotes.xml added (raw XML)."""
    source = zipfile.ZipFile(io.BytesIO(package))
    entries = {name: source.read(name) for name in source.namelist()}
    document_rels = entries["word/_rels/document.xml.rels"].decode("utf-8")
    content_types = entries["[Content_Types].xml"].decode("utf-8")
    for kind, items in notes.items():
        if not items:
            continue
        reltype, content_type = NOTE_TYPES[kind]
        xml, rels = _notes_xml(kind, items)
        entries[f"word/{kind}s.xml"] = xml.encode("utf-8")
        entries[f"word/_rels/{kind}s.xml.rels"] = rels.encode("utf-8")
        document_rels = document_rels.replace(
            "</Relationships>",
            f'<Relationship Id="rIdNotes{kind}" Type="{reltype}" Target="{kind}s.xml"/>'
            "</Relationships>",
        )
        content_types = content_types.replace(
            "</Types>",
            f'<Override PartName="/word/{kind}s.xml" ContentType="{content_type}"/></Types>',
        )
    entries["word/_rels/document.xml.rels"] = document_rels.encode("utf-8")
    entries["[Content_Types].xml"] = content_types.encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries.items():
            target.writestr(name, data)
    return out.getvalue()


def _notes_xml(kind: str, items: list[list[Piece]]) -> tuple[str, str]:
    rels: list[str] = []
    notes = [
        f'<w:{kind} w:type="separator" w:id="0"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>',
        f'<w:{kind} w:type="continuationSeparator" w:id="1"><w:p><w:r>'
        f"<w:continuationSeparator/></w:r></w:p></w:{kind}>",
    ]
    for number, pieces in enumerate(items, start=1):
        runs = [
            f'<w:r><w:rPr><w:rStyle w:val="{kind.title()}Reference"/></w:rPr><w:{kind}Ref/></w:r>'
        ]
        for piece in pieces:
            if isinstance(piece, Link):
                rid = f"rId{len(rels) + 1}"
                rels.append(
                    f'<Relationship Id="{rid}" Type="{HYPERLINK}" '
                    f'Target={quoteattr(piece.url)} TargetMode="External"/>'
                )
                shown = f"<w:r><w:t>{escape(piece.text)}</w:t></w:r>"
                runs.append(f'<w:hyperlink r:id="{rid}">{shown}</w:hyperlink>')
            elif isinstance(piece, str):
                runs.append(f'<w:r><w:t xml:space="preserve">{escape(piece)}</w:t></w:r>')
        notes.append(f'<w:{kind} w:id="{number + 1}"><w:p>{"".join(runs)}</w:p></w:{kind}>')
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:{kind}s xmlns:w="{W_NS}" xmlns:r="{R_NS}">{"".join(notes)}</w:{kind}s>'
    )
    relationships = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{''.join(rels)}</Relationships>"
    )
    return xml, relationships


@dataclass(frozen=True)
class Text:
    """A piece of text drawn at (x, y) points from the page's bottom left."""

    text: str
    x: float
    y: float
    size: float = 10


@dataclass
class Page:
    texts: list[Text] = field(default_factory=list)
    links: list[tuple[tuple[float, float, float, float], str]] = field(default_factory=list)


def make_pdf(path: Path, *, title: str | None, created: str | None, pages: list[Page]) -> Path:
    """A PDF with Helvetica text, /Link /URI annotations and Info dates; returns `path`.

    `created` is a PDF date string (`D:20240305090000Z`) or None.
    """
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for number, spec in enumerate(pages):
        page = writer.add_blank_page(595, 842)
        stream = DecodedStreamObject()
        drawn = [
            f"BT /F1 {t.size} Tf {t.x} {t.y} Td ({_pdf_string(t.text)}) Tj ET" for t in spec.texts
        ]
        stream.set_data("\n".join(drawn).encode("cp1252"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        for rect, uri in spec.links:
            writer.add_annotation(page_number=number, annotation=LinkAnnotation(rect=rect, url=uri))
    info: dict[str, str] = {}
    if title is not None:
        info["/Title"] = title
    if created is not None:
        info["/CreationDate"] = created
    if info:
        writer.add_metadata(info)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
