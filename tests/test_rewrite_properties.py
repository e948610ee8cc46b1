"""Properties of rewriting random releases: only the spliced spans change, and twice is once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkwatch.extract import extract_citations
from linkwatch.model import Citation
from linkwatch.rewrite.splice import rewrite_release
from linkwatch.rewrite.values import Rewritten, Target
from linkwatch.rewrite.wording import Wording
from linkwatch.sources.decoding import ReleaseFile, decode_release

WORDING = Wording()
EXTENSIONS = {"markdown": "md", "html": "html", "text": "txt"}

hosts = st.sampled_from(["a.example", "b.example.org", "xn--bcher-kva.example", "c.example"])
paths = st.lists(
    st.sampled_from(["p", "q1", "ä", "x_(y)", "doc.html", "r%20s", "~u"]), min_size=0, max_size=3
)
queries = st.sampled_from(["", "?id=1", "?a=1&b=2", "?q=[x]"])
urls = st.builds(
    lambda scheme, host, parts, query: f"{scheme}://{host}/{'/'.join(parts)}{query}",
    st.sampled_from(["http", "https"]),
    hosts,
    paths,
    queries,
)
words = st.sampled_from(["Warsaw", "said", "the", "report", "Київ", "—", "“quoted”", "(see", "it)"])
separators = st.sampled_from([" ", "\n", "\r\n", "  \n", "\n\n", "\r\n\r\n"])


def markdown_citation(url: str, n: int) -> str:
    escaped = url.replace(" ", "%20")
    forms = [
        f"<{escaped}>",
        f"[the source]({escaped})",
        f'[a title]({escaped} "Title")',
        f"{escaped} ",
        f"\n\n[^{n}]: <{escaped}>\n\n",
        f"\n\n{'¹²³⁴⁵'[n % 5]} <{escaped}>\n\n",
    ]
    return forms[n % len(forms)]


def html_citation(url: str, n: int) -> str:
    attribute = url.replace("&", "&amp;")
    forms = [
        f'<a href="{attribute}">the source</a>',
        f"<a class=x href='{attribute}' title=t>text</a>",
        f"{attribute} ",
        f'<p id="fn{n}"><a href="{attribute}">{attribute}</a></p>',
    ]
    return forms[n % len(forms)]


def text_citation(url: str, n: int) -> str:
    forms = [f"{url} ", f"<{url}>", f"\n[{n}] {url}\n"]
    return forms[n % len(forms)]


CITATION_FORMS = {"markdown": markdown_citation, "html": html_citation, "text": text_citation}


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(CITATION_FORMS)))
    pieces: list[str] = []
    for n in range(draw(st.integers(min_value=1, max_value=12))):
        if draw(st.booleans()):
            pieces.append(CITATION_FORMS[fmt](draw(urls), n + draw(st.integers(0, 5))))
        else:
            pieces.append(draw(words))
        pieces.append(draw(separators))
    body = "".join(pieces)
    if fmt == "html":
        body = f"<html><body><p>{body}</p></body></html>"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    return fmt, body.encode(encoding)


def release(fmt: str, data: bytes) -> ReleaseFile:
    return decode_release(Path(f"release.{EXTENSIONS[fmt]}"), data)


def citations(doc: ReleaseFile) -> list[Citation]:
    return extract_citations(doc.text, doc.format, encoding=doc.encoding, bom=doc.bom)


def rewrite(doc: ReleaseFile, chosen: set[int], day: int) -> Rewritten:
    when = dt.datetime(2016, 4, day, 12, 0, tzinfo=dt.UTC)
    targets = [
        Target(
            c.label,
            c.url,
            c.start,
            c.end,
            f"https://web.archive.org/web/{when:%Y%m%d%H%M%S}/{c.url}",
            when,
            c.archived,
        )
        for index, c in enumerate(citations(doc))
        if index in chosen
    ]
    return rewrite_release(doc, targets, WORDING)


def chosen_indices(draw: st.DrawFn) -> set[int]:
    return set(draw(st.lists(st.integers(min_value=0, max_value=15), max_size=16)))


QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(documents(), st.data())
def test_every_byte_outside_the_spliced_spans_is_unchanged(
    document: tuple[str, bytes], data: st.DataObject
) -> None:
    fmt, source = document
    result = rewrite(release(fmt, source), chosen_indices(data.draw), 6)
    position = done = 0
    for splice in result.splices:
        assert splice.start == splice.end  # a fresh release only gains text
        kept = source[done : splice.start]
        assert result.data[position : position + len(kept)] == kept
        position += len(kept) + len(splice.data)
        done = splice.end
    assert result.data[position:] == source[done:]


@QUICK
@given(documents(), st.data())
def test_rewriting_the_rewritten_release_changes_nothing(
    document: tuple[str, bytes], data: st.DataObject
) -> None:
    fmt, source = document
    chosen = chosen_indices(data.draw)
    once = rewrite(release(fmt, source), chosen, 6).data
    assert rewrite(release(fmt, once), chosen, 6).data == once


@QUICK
@given(documents(), st.data())
def test_rewritten_release_scans_to_the_same_citations(
    document: tuple[str, bytes], data: st.DataObject
) -> None:
    fmt, source = document
    before = citations(release(fmt, source))
    once = rewrite(release(fmt, source), chosen_indices(data.draw), 6).data
    after = citations(release(fmt, once))
    assert [(c.label, c.url) for c in after] == [(c.label, c.url) for c in before]


@QUICK
@given(documents(), st.data())
def test_later_snapshot_replaces_rather_than_adds(
    document: tuple[str, bytes], data: st.DataObject
) -> None:
    fmt, source = document
    chosen = chosen_indices(data.draw)
    once = rewrite(release(fmt, source), chosen, 6).data
    later = rewrite(release(fmt, once), chosen, 9).data
    assert len(later) == len(once)
    assert "20160406120000" not in release(fmt, later).text
    assert rewrite(release(fmt, source), chosen, 9).data == later
