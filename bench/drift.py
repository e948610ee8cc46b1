"""Benchmark the content-drift comparison: its CPU cost per citation and its error rates.

What it measures:

* the CPU a check spends on drift for one citation: fingerprinting the page
  from the body the check already read (main-text extraction, then the sketch
  of its shingles) and comparing with the snapshot's stored fingerprint
  (decoding it, then the similarity), for pages of the test fixtures' four site
  shapes (6-8 KB) and for long pages of 64 KiB and 256 KiB (`check.max_body`,
  the most a check reads), beside what the check already spends reading the
  page (decoding, title and meta refresh: `read_page`); the fingerprint again
  with the main-text reader's cache of attribute texts emptied first, as for
  the first page of a site a run checks;
* the stored size of one snapshot's fingerprint;
* the false-drift and missed-drift rates on the 96 pairs of `tests/support/drift_pages.py`,
  with the main-text extraction and, for comparison, with the page's whole
  visible text (the soft-404 reader's, no boilerplate discounted).

No network: the drift step adds no request (the live page is the check's own
body; the snapshot is replayed once, by the archive run). Run from the project
root (a few seconds):

    .venv/bin/python bench/drift.py
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from multidict import CIMultiDict, CIMultiDictProxy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from linkwatch.check.page import Page, _TextReader, read_page  # noqa: E402
from linkwatch.drift import maintext  # noqa: E402
from linkwatch.drift.prints import (  # noqa: E402
    content_print,
    from_text,
    is_drift,
    similarity,
    to_text,
)
from linkwatch.model import ContentPrint  # noqa: E402
from linkwatch.net.response import HttpResponse  # noqa: E402
from support.drift_pages import ARTICLES, HEADLINES, Shape, page, pairs  # noqa: E402


def response(markup: str) -> HttpResponse:
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "text/html; charset=utf-8"}))
    return HttpResponse("http://site.example/a/1", 200, headers, markup.encode(), False, 0.0)


def long_page(size: int) -> str:
    """A news page of about `size` bytes: a long article, a long 'most read' list."""
    paragraphs: list[str] = []
    base = page(Shape.NEWS, ARTICLES[0].title, (), seed=1)
    index = 0
    while len(base) + sum(len(p) + 40 for p in paragraphs) < size * 0.8:
        article = ARTICLES[index % len(ARTICLES)]
        paragraphs.append(f"{article.paragraphs[index % 4]} (part {index})")
        index += 1
    markup = page(Shape.NEWS, ARTICLES[0].title, tuple(paragraphs), seed=1)
    filler = "".join(f"<li><a href='/x/{n}'>{HEADLINES[n % 8]}</a></li>" for n in range(4000))
    return markup.replace("</ol>", filler[: max(0, size - len(markup))] + "</ol>", 1)


def cpu_ms(action: Callable[[], object], repeat: int) -> float:
    """CPU milliseconds per call (process time, best of 3 rounds)."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(repeat):
            action()
        best = min(best, (time.process_time() - start) / repeat)
    return best * 1000


def visible_text_print(read: Page) -> ContentPrint:
    """The baseline: the sketch of every visible word, as the soft-404 reader sees them."""
    reader = _TextReader()
    with contextlib.suppress(AssertionError):
        reader.feed(read.markup)
    text = " ".join(reader.text)
    markup = f"<html><body><p>{text.replace('<', ' ')}</p></body></html>"
    return content_print(read.title, markup)


def main() -> int:
    rows = []
    samples = [(f"{shape.value} article", page(shape, *_article(0), seed=1)) for shape in Shape]
    samples += [("long page, 64 KiB", long_page(64 * 1024))]
    samples += [("long page, 256 KiB (max_body)", long_page(256 * 1024))]
    for name, markup in samples:
        body = response(markup)
        read = read_page(body)
        assert read is not None
        live = content_print(read.title, read.markup)
        stored = to_text(live)
        repeat = 200 if len(markup) < 20000 else 10
        reading = cpu_ms(lambda b=body: read_page(b), repeat)  # type: ignore[misc]
        printing = cpu_ms(lambda r=read: content_print(r.title, r.markup), repeat)  # type: ignore[misc]
        first = cpu_ms(lambda r=read: _first_of_its_site(r), repeat)  # type: ignore[misc]
        comparing = cpu_ms(lambda s=stored, p=live: similarity(from_text(s), p), 2000)  # type: ignore[misc]
        rows.append((name, len(markup), reading, printing, first, comparing, len(stored)))
    print("| page | bytes | read_page ms (the check's own) | fingerprint ms | "
          "fingerprint ms, first page of its site | compare ms | stored bytes |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|--:|")
    for name, size, reading, printing, first, comparing, stored_size in rows:
        print(
            f"| {name} | {size:,} | {reading:.2f} | {printing:.2f} | {first:.2f} | "
            f"{comparing:.3f} | {stored_size:,} |"
        )
    made = pairs()
    print()
    print("| fingerprint of | pairs | false drift (same document flagged) | missed drift |")
    print("|---|--:|--:|--:|")
    for label, maker in (
        ("main text (linkwatch)", _main_print),
        ("whole visible text (baseline)", _visible_print),
    ):
        same = [p for p in made if not p.kind.is_drift]
        other = [p for p in made if p.kind.is_drift]
        false = sum(is_drift(similarity(maker(p.snapshot), maker(p.live))) for p in same)
        missed = sum(not is_drift(similarity(maker(p.snapshot), maker(p.live))) for p in other)
        print(
            f"| {label} | {len(made)} | {false}/{len(same)} ({false / len(same):.0%}) | "
            f"{missed}/{len(other)} ({missed / len(other):.0%}) |"
        )
    return 0


def _first_of_its_site(read: Page) -> ContentPrint:
    """The fingerprint with nothing kept of the site's attribute texts (`maintext`'s cache):
    what the first page of a site checked in a run costs."""
    maintext._CACHED_FLAGS.cache_clear()
    return content_print(read.title, read.markup)


def _article(index: int) -> tuple[str, tuple[str, ...]]:
    return ARTICLES[index].title, ARTICLES[index].paragraphs


def _read(markup: str) -> Page:
    read = read_page(response(markup))
    assert read is not None
    return read


def _main_print(markup: str) -> ContentPrint:
    read = _read(markup)
    return content_print(read.title, read.markup)


def _visible_print(markup: str) -> ContentPrint:
    return visible_text_print(_read(markup))


if __name__ == "__main__":
    sys.exit(main())
