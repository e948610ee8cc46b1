"""Citations of a Word or PDF release, found in its plain-text rendition.

`sources.documents` writes the document out as text with every hyperlink's target
in it and its notes marked; here the URLs in that text are found as in any plain
text (with a line-broken URL of a PDF rejoined by `wrapped`'s rule) and labelled by
the note holding them.
"""

from __future__ import annotations

from linkwatch.extract.common import (
    Found,
    Spans,
    definition_context,
    find_bare_urls,
    sentence_context,
)
from linkwatch.extract.wrapped import rejoin
from linkwatch.sources.documents import DocumentText

_NOTE_OPENING = "[] "


def find_document(document: DocumentText) -> list[Found]:
    """Citations of a document release, in CHARACTER offsets of its rendition."""
    text = document.text
    notes = Spans([(note.start, note.end) for note in document.notes])
    found: list[Found] = []
    for start, end in find_bare_urls(text):
        url = text[start:end]
        joined = rejoin(text, start, end)
        if joined is not None:
            end, url = joined
        index = notes.index_at(start)
        if index is None:
            found.append(Found(None, url, start, end, sentence_context(text, start, end)))
            continue
        note = document.notes[index]
        body = text[note.start : note.end].lstrip(_NOTE_OPENING)
        body = body.removeprefix(note.label).lstrip(_NOTE_OPENING)
        found.append(Found(note.label, url, start, end, definition_context(body)))
    return found
