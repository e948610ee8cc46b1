"""Archive links written next to a citation: the archived copy of it, not a citation.

`linkwatch rewrite` adds a link to an archived copy right after a rotted
citation, and authors sometimes do the same by hand. Such a link is a memento
URL (`https://web.archive.org/web/20160406120000/http://original`, or the same
shape from pywb and other Wayback-style archives) whose embedded URL is the
citation just before it. Wikipedia's citation templates write the pair the other
way round ("<a href=archived>Title</a>. Archived from <a href=original>the
original</a>"): a memento followed by its own original counts as well.
Taken as a citation of its own it would be checked and archived, an archive of
an archive; so it is kept with its citation instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from linkwatch.extract.common import Found
from linkwatch.urls import InvalidURL, normalise_url
from linkwatch.wrappers import unwrap

# scheme://host/[collection/...]timestamp[modifier]/embedded-url
_MEMENTO = re.compile(
    r"https?://[^/?#\s]+/(?:[^?#\s]*?/)?\d{4,14}(?:[a-z]{2}_|\*)?/(?P<original>\S+)",
    re.IGNORECASE,
)
# The same, the embedded URL with its scheme: tried first, so that an archive without a
# collection path (`arquivo.pt/wayback/2016.../http://a/2016/x`) is not read as one whose
# timestamp is a digit segment of the embedded URL.
_MEMENTO_OF_URL = re.compile(
    r"https?://[^/?#\s]+/(?:[^?#\s]*?/)?\d{4,14}(?:[a-z]{2}_|\*)?/(?P<original>https?:/?/?\S+)",
    re.IGNORECASE,
)
_NEAR = 1000  # characters between a citation and its archive link, at most (the link text)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n|\r[ \t]*\r")


def archived_copies(found: Sequence[Found], text: str) -> list[tuple[Found, str | None]]:
    """Each citation with the archive link written right after it, archive links removed.

    A link counts as the archived copy of the citation before it when it is a
    memento of that citation's URL and follows it within the same paragraph, with
    no other citation between them.
    """
    kept: list[tuple[Found, str | None]] = []
    waiting: Found | None = None  # a memento that may be followed by its original
    for citation in found:
        if waiting is not None:
            if _archives(citation, waiting, text, before=True):
                kept.append((citation, waiting.url))
                waiting = None
                continue
            kept.append((waiting, None))
            waiting = None
        if kept and _archives(kept[-1][0], citation, text):
            original, archived = kept[-1]
            kept[-1] = (original, archived or citation.url)
            continue
        if _MEMENTO.fullmatch(citation.url):
            waiting = citation
            continue
        kept.append((citation, None))
    if waiting is not None:
        kept.append((waiting, None))
    return kept


def _archives(original: Found, candidate: Found, text: str, *, before: bool = False) -> bool:
    """Whether `candidate` is the archived copy of `original`, written right after it
    (or right before it, with `before`)."""
    match = _MEMENTO_OF_URL.fullmatch(candidate.url) or _MEMENTO.fullmatch(candidate.url)
    if match is None or not _same_page(match.group("original"), original.url):
        return False
    first, second = (candidate, original) if before else (original, candidate)
    gap = second.start - first.end
    return 0 <= gap <= _NEAR and not _PARAGRAPH_BREAK.search(text, first.end, second.start)


def _same_page(embedded: str, url: str) -> bool:
    """Archives embed the URL as given to them, often percent-encoded differently; a
    wrapped citation's copy is of its target (`wrappers`)."""
    if unquote(embedded) == unquote(url):
        return True
    try:
        return normalise_url(unquote(embedded)) in (
            normalise_url(unquote(url)),
            normalise_url(unwrap(url)),
        )
    except InvalidURL:
        return False
