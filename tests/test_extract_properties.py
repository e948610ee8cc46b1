"""Whatever a release contains, extraction returns offsets that splice back exactly."""

from __future__ import annotations

import html
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it.common.utils import unescapeAll

from linkwatch.extract import extract_citations
from linkwatch.model import Citation, Format

URL = st.builds(
    "{}://{}.{}/{}".format,
    st.sampled_from(["http", "https", "HTTP", "ftp", "mailto"]),
    st.sampled_from(["example", "пример", "a-b", "x"]),
    st.sampled_from(["org", "com", "рф"]),
    st.text(alphabet="abc/_-()?=&;.,%é", max_size=12),
)
PROSE = st.text(
    alphabet=st.sampled_from([*"ab yé ñ.,;:!?\t", "¹", "²", "⁰", "—", "«", "»", "“", "”"]),
    max_size=15,
)
STRAY = st.sampled_from(["<", ">", "]", "[", "(", ")", "&", "&amp;", "\\", "`", "*", '"', "'"])
NEWLINE = st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n"])
# What the footnote tools, CMS themes and mail clients write around citations.
HTML_PIECES_OF_TOOLS = [
    *("<h2>Notes</h2>", "<p><strong>Sources</strong></p>", '<ol start="3">', "<li>"),
    *('<span class="modern-footnotes-footnote__note" data-mfn="2">', "<span>", "</span>"),
    *('<div class="entry-content">', '<div class="sharedaddy">', "<nav>", "</nav>", "</div>"),
    *("<article>", "</article>", "<footer>", "Proudly powered by ", "[ii]", "<a href=#_edn1>"),
]
HTML_PIECES = [
    *HTML_PIECES_OF_TOOLS,
    *("<p>", "</p>", "<li id=fn1>", "</li>", "<ol>", "</ol>", "<sup>", "</sup>"),
    *('<a href="#fn1">', "</a>", "<script>", "</script>", "<br>", "<!-- c -->"),
    *("<![CDATA[x]]>", "<![", "<!", "<?", "<div", "&nbsp;", "&raquo;", "<a name=fn1>", "<style>"),
]
TAILS = ["a/b.pdf", "eng&tab=1", "x?y=2", "word", "https://b.org/", "www.b.org/x", "-c/d"]
Forms = Callable[[str], set[str]]


def _markdown_fragments() -> st.SearchStrategy[str]:
    return st.one_of(
        PROSE,
        STRAY,
        NEWLINE,
        URL,
        URL.map("<{}>".format),
        st.builds("[{}]({})".format, PROSE, URL),
        st.builds("[{}](<{}>)".format, PROSE, URL),
        URL.map(lambda u: f"[{u}]({u})"),
        st.builds("\n\n[^{}]: ".format, st.sampled_from(["1", "2", "civil"])),
        st.sampled_from(["[^1]", "[^civil]", "\n\n¹ ", "\n\n¹⁰ ", "\n> ", "\n- ", "`", "\n    "]),
        st.builds("\n\n[{}]: {}\n\n".format, st.sampled_from(["r", "s", "1"]), URL),
        st.builds("[{}](//{})".format, PROSE, URL.map(lambda u: u.partition("://")[2])),
        st.sampled_from(["\n## Notes\n\n", "\n**Sources**\n\n", "\n1. ", "\n2) ", "[1]"]),
        st.sampled_from(["[r]", "[x][s]", "![i](", "&quot;", "&#41;"]),
        URL.map('<a href="{}">x</a>'.format),
    )


def _html_fragments() -> st.SearchStrategy[str]:
    return st.one_of(
        PROSE,
        STRAY,
        NEWLINE,
        URL,
        URL.map(lambda u: f'<a href="{html.escape(u)}">{u}</a>'),
        URL.map(lambda u: f"<a href='  {u} '>x</a>"),
        URL.map("<a href={}>x</a>".format),
        URL.map(lambda u: f'<a href="{u.partition(":")[2]}">x</a>'),  # protocol-relative
        st.sampled_from(HTML_PIECES),
    )


def _text_fragments() -> st.SearchStrategy[str]:
    return st.one_of(
        PROSE,
        STRAY,
        NEWLINE,
        URL,
        URL.map("<{}>".format),
        st.sampled_from(["\n[1] ", "\n  [2]: ", "\n¹ ", "\n¹⁰ ", "[3]", "²"]),
        st.sampled_from(["\nSources:\n", "\nNotes to editors\n", "\n1. ", "\n2) "]),
        # a mail client's break inside a URL, after a line long enough to be wrapped
        st.builds("{} {}\n{}".format, st.just("x" * 60), URL, st.sampled_from(TAILS)),
        st.builds("<{}\n   {}>".format, URL, st.sampled_from(TAILS)),
    )


def _documents(fragments: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(fragments, max_size=25).map("".join)


def _assert_splices_back(
    data: bytes, citations: list[Citation], encoding: str, decoded_forms: Forms
) -> None:
    previous_start = -1
    for citation in citations:
        assert 0 <= citation.start < citation.end <= len(data)
        assert citation.start > previous_start
        previous_start = citation.start
        raw = data[citation.start : citation.end].decode(encoding)
        forms = decoded_forms(raw)
        if citation.scheme_assumed:  # written `//host/path`: checked with https: assumed
            forms = {"https:" + form for form in forms if form.startswith("//")}
        assert citation.url in forms


def _markdown_forms(raw: str) -> set[str]:
    return {raw, unescapeAll(raw), html.unescape(raw)}


def _html_forms(raw: str) -> set[str]:
    return {html.unescape(raw)}


def _text_forms(raw: str) -> set[str]:
    """As written, or rejoined: a URL broken across lines is the pieces without the break."""
    return {raw, "".join(raw.split())}


PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(_documents(_markdown_fragments()), st.sampled_from(["utf-8", "utf-16-le"]))
def test_markdown_offsets_always_splice_back(document: str, encoding: str) -> None:
    data = document.encode(encoding)
    citations = extract_citations(document, Format.MARKDOWN, encoding=encoding)
    _assert_splices_back(data, citations, encoding, _markdown_forms)


@PROPERTY_SETTINGS
@given(_documents(_html_fragments()), st.sampled_from(["utf-8", "utf-16-le"]))
def test_html_offsets_always_splice_back(document: str, encoding: str) -> None:
    data = document.encode(encoding)
    citations = extract_citations(document, Format.HTML, encoding=encoding)
    _assert_splices_back(data, citations, encoding, _html_forms)


@PROPERTY_SETTINGS
@given(_documents(_text_fragments()), st.sampled_from(["utf-8", "utf-16-le"]))
def test_text_offsets_always_splice_back(document: str, encoding: str) -> None:
    data = document.encode(encoding)
    citations = extract_citations(document, Format.TEXT, encoding=encoding)
    _assert_splices_back(data, citations, encoding, _text_forms)


@PROPERTY_SETTINGS
@given(_documents(st.one_of(_markdown_fragments(), _html_fragments(), _text_fragments())))
def test_every_format_survives_any_mix(document: str) -> None:
    data = document.encode("utf-8")
    for fmt, forms in (
        (Format.MARKDOWN, _markdown_forms),
        (Format.HTML, _html_forms),
        (Format.TEXT, _text_forms),
    ):
        citations = extract_citations(document, fmt)
        _assert_splices_back(data, citations, "utf-8", forms)
        assert all(c.url.lower().startswith(("http://", "https://")) for c in citations)
