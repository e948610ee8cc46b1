"""Finding the URLs a release cites, located exactly in the file's bytes.

Each format module finds citations in character offsets of the decoded text; this module
turns them into byte offsets of the file, so the rewrite step can splice without parsing.
"""

from __future__ import annotations

from collections.abc import Callable

from linkwatch.extract.archived import archived_copies
from linkwatch.extract.chrome import is_share_link
from linkwatch.extract.common import Found, byte_offsets
from linkwatch.extract.document import find_document
from linkwatch.extract.html import find_html
from linkwatch.extract.markdown import find_markdown
from linkwatch.extract.text import find_text
from linkwatch.model import Citation, Format
from linkwatch.sources.documents import DocumentText

__all__ = [
    "Found",
    "document_citations",
    "extract_citations",
    "find_html",
    "find_markdown",
    "find_text",
]

_FINDERS: dict[Format, Callable[[str], list[Found]]] = {
    Format.MARKDOWN: find_markdown,
    Format.HTML: find_html,
    Format.TEXT: find_text,
}


def extract_citations(
    text: str,
    fmt: Format,
    *,
    encoding: str = "utf-8",
    bom: bytes = b"",
    site_links: bool = False,
) -> list[Citation]:
    """Citations of one release, in document order.

    `text` is the file's bytes after the BOM, decoded with `encoding` (a codec name that
    encodes without emitting a BOM, e.g. 'utf-8', 'cp1252', 'utf-16-le'), with NO newline
    translation (CRLF stays CRLF). Offsets in the returned Citation objects are BYTE offsets
    into the whole file: len(bom) + len(text[:char_index].encode(encoding)).

    `text` must encode back to the file's bytes; text decoded with errors='replace' may
    not, and then UnicodeEncodeError is raised rather than an offset that splices wrongly.

    A link to an archived copy written right after a citation (as `rewrite` adds it)
    is not a citation: it comes back as that citation's `archived`. Nor is a share
    button's link (`chrome.is_share_link`), in any format. `site_links` keeps the links
    of an HTML page's own blocks (for a page cut by a content selector).
    """
    finder = _FINDERS.get(Format(fmt))
    if finder is None:  # a programming error: documents have no text of their own
        raise ValueError(f"{fmt} releases are read with document_citations")
    found = find_html(text, site_links=True) if site_links and fmt is Format.HTML else finder(text)
    return _located(_kept(found, text), text, encoding, bom)


def document_citations(document: DocumentText) -> list[Citation]:
    """Citations of a Word or PDF release, in document order.

    Offsets are byte offsets into the UTF-8 of the document's plain-text rendition
    (`sources.documents`): a document is never spliced, so they only need to say
    where in what linkwatch read each URL was.
    """
    return _located(_kept(find_document(document), document.text), document.text, "utf-8", b"")


def _kept(found: list[Found], text: str) -> list[tuple[Found, str | None]]:
    return archived_copies([f for f in found if not is_share_link(f.url)], text)


def _located(
    found: list[tuple[Found, str | None]], text: str, encoding: str, bom: bytes
) -> list[Citation]:
    at_byte = byte_offsets(
        text, (offset for f, _ in found for offset in (f.start, f.end)), encoding, len(bom)
    )
    return [
        Citation(
            label=f.label,
            url=f.url,
            start=at_byte[f.start],
            end=at_byte[f.end],
            context=f.context,
            archived=archived,
            scheme_assumed=f.scheme_assumed,
        )
        for f, archived in found
    ]
