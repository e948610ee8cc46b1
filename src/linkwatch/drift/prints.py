"""A page's content fingerprint, and how alike two of them are.

The fingerprint keeps the page's title and a bottom-k sketch of its main
text: the `SKETCH` smallest 64-bit hashes of its word 3-shingles, and how many
distinct shingles there were. Two sketches estimate how much of the
snapshot's text the live page still holds (containment, not resemblance: an
article that gained an "Updated on" paragraph still holds all it said), at
a fixed size (about 1.5 KB stored) whatever the page's length.

The similarity is 0.8 × text containment + 0.2 × title resemblance (shared
title words): the text decides, the title tips a close call. It is None when
either page has too little main text to judge (fewer than `MIN_SHINGLES`
shingles: a page drawn by JavaScript, a PDF, a stub), and then nothing is
flagged.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import heapq
import operator
import re
from collections.abc import Iterable

import orjson

from linkwatch.drift.maintext import main_text
from linkwatch.model import ContentPrint

SKETCH = 128  # hashes kept per page
MIN_SHINGLES = 20  # fewer: not enough main text to say what a page is about
TEXT_WEIGHT = 0.8
DRIFT_BELOW = 0.5  # similarity under which a page no longer is the cited document (see tests)
_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


_BLAKE2B_64 = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


def _sketch(words: list[str]) -> tuple[tuple[int, ...], int]:
    """The `SKETCH` smallest 64-bit BLAKE2b hashes of the distinct word 3-shingles, and how
    many distinct shingles there are.

    The hashes are those fingerprints were always made of (a stored one must compare
    with a new one), made cheaper: each distinct shingle is hashed once (a page repeats
    itself), the shingles are encoded in one call, and the digests are ranked as bytes
    (big-endian, so in the order of their integers) and only the kept ones made ints.
    """
    if not words:
        return (), 0
    if len(words) < 3:
        shingles = {" ".join(words)}
    else:
        shingles = set(map(" ".join, zip(words, words[1:], words[2:], strict=False)))
    encoded = "\n".join(shingles).encode().split(b"\n")  # words hold no line break
    digests = map(_DIGEST, map(_BLAKE2B_64, encoded))
    kept = heapq.nsmallest(SKETCH, digests)
    return tuple(int.from_bytes(digest, "big") for digest in kept), len(shingles)


def content_print(title: str | None, markup: str) -> ContentPrint:
    """The fingerprint of a page from its title and decoded markup."""
    sketch, shingles = _sketch(_words(main_text(markup)))
    return ContentPrint(title=" ".join(_words(title or "")), sketch=sketch, shingles=shingles)


def _resemblance(a: Iterable[str], b: Iterable[str]) -> float:
    left, right = set(a), set(b)
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


def _containment(snapshot: ContentPrint, live: ContentPrint) -> float:
    """Estimated share of the snapshot's shingles the live page still has."""
    mine, theirs = set(snapshot.sketch), set(live.sketch)
    union = heapq.nsmallest(SKETCH, mine | theirs)
    if not union:
        return 0.0
    both = sum(1 for value in union if value in mine and value in theirs)
    jaccard = both / len(union)
    shared = jaccard / (1 + jaccard) * (snapshot.shingles + live.shingles)
    return min(1.0, shared / snapshot.shingles)


def still_held(snapshot: ContentPrint, live: ContentPrint) -> float | None:
    """Share of the snapshot's main text the live page still holds, 0..1, whatever the live
    page's length (a parking page has a few words); None when the snapshot has too little
    text to say what the page was."""
    if snapshot.shingles < MIN_SHINGLES:
        return None
    return _containment(snapshot, live)


def similarity(snapshot: ContentPrint, live: ContentPrint) -> float | None:
    """How much the live page is still the snapshot's document, 0..1; None: cannot say."""
    if snapshot.shingles < MIN_SHINGLES or live.shingles < MIN_SHINGLES:
        return None
    text = _containment(snapshot, live)
    title = _resemblance(snapshot.title.split(), live.title.split())
    return round(TEXT_WEIGHT * text + (1 - TEXT_WEIGHT) * title, 3)


def is_drift(value: float | None) -> bool:
    return value is not None and value < DRIFT_BELOW


def to_text(fingerprint: ContentPrint) -> str:
    """The stored form: compact JSON with the sketch as base64 of its 8-byte hashes."""
    packed = b"".join(value.to_bytes(8, "big") for value in fingerprint.sketch)
    return orjson.dumps(
        {
            "title": fingerprint.title,
            "shingles": fingerprint.shingles,
            "sketch": base64.b64encode(packed).decode("ascii"),
        }
    ).decode("utf-8")


def from_text(text: str) -> ContentPrint:
    data = orjson.loads(text)
    packed = base64.b64decode(data["sketch"])
    return ContentPrint(
        title=str(data["title"]),
        sketch=tuple(int.from_bytes(packed[i : i + 8], "big") for i in range(0, len(packed), 8)),
        shingles=int(data["shingles"]),
    )
