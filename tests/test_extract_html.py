"""HTML extraction: anchors, bare URLs in text, endnotes, located exactly in the source."""

from __future__ import annotations

import html

import pytest

from linkwatch.extract import extract_citations, find_html
from linkwatch.model import Citation, Format


def extract(source: str) -> list[Citation]:
    """Citations of a UTF-8 HTML source, each checked to splice back to its raw text."""
    citations = extract_citations(source, Format.HTML)
    data = source.encode("utf-8")
    for citation in citations:
        assert html.unescape(data[citation.start : citation.end].decode("utf-8")) == citation.url
    return citations


def pairs(source: str) -> list[tuple[str | None, str]]:
    return [(c.label, c.url) for c in extract(source)]


def raw(source: str, citation: Citation) -> str:
    return source.encode("utf-8")[citation.start : citation.end].decode("utf-8")


def test_anchor_with_http_href_is_a_citation() -> None:
    source = '<p>See <a href="https://a.org/report">the report</a>.</p>'
    citations = extract(source)
    assert [(c.label, c.url) for c in citations] == [(None, "https://a.org/report")]
    assert citations[0].start == source.index("https")


def test_endnote_marker_labels_links_inside_the_li_it_points_at() -> None:
    source = (
        '<p>Claim.<sup><a href="#fn3">3</a></sup></p>'
        '<ol><li id="fn3">Report: <a href="http://a.org/3">here</a></li></ol>'
    )
    assert pairs(source) == [("3", "http://a.org/3")]


def test_endnote_marker_labels_links_inside_the_paragraph_it_points_at() -> None:
    source = (
        '<p>Claim.<sup><a href="#note-7">7</a></sup></p>'
        '<p id="note-7">Report, http://a.org/7 and <a href="http://a.org/7b">more</a></p>'
    )
    assert pairs(source) == [("7", "http://a.org/7"), ("7", "http://a.org/7b")]


def test_superscript_marker_text_becomes_ascii_label() -> None:
    source = '<p>Claim<a href="#n12">¹²</a></p><p id="n12"><a href="http://a.org/12">x</a></p>'
    assert pairs(source) == [("12", "http://a.org/12")]


def test_marker_may_wrap_its_superscript() -> None:
    source = '<p>Claim<a href="#n1"><sup>1</sup></a></p><div id="n1"><p>http://a.org/1</p></div>'
    assert pairs(source) == [("1", "http://a.org/1")]


def test_named_anchor_names_the_endnote_paragraph_it_opens() -> None:
    source = (
        '<p>Claim<sup><a href="#n2">2</a></sup></p>'
        '<p><a name="n2"></a>Source: <a href="http://a.org/2">x</a></p>'
    )
    assert pairs(source) == [("2", "http://a.org/2")]


def test_return_link_from_an_endnote_does_not_label_the_body() -> None:
    source = (
        '<p>Body <a href="#_ftn1" name="_ftnref1">[1]</a> and http://a.org/body</p>'
        '<p><a href="#_ftnref1" name="_ftn1">[1]</a> Source http://a.org/1</p>'
    )
    assert pairs(source) == [(None, "http://a.org/body"), ("1", "http://a.org/1")]


def test_plain_in_page_link_is_not_a_marker() -> None:
    source = '<p><a href="#sec2">2</a></p><p id="sec2">Text <a href="http://a.org/s">x</a></p>'
    assert pairs(source) == [(None, "http://a.org/s")]


def test_paragraph_starting_with_superscript_is_an_endnote() -> None:
    source = '<p>¹ <a href="http://a.org/1">Report</a></p><p>² prose - http://a.org/2</p>'
    assert pairs(source) == [("1", "http://a.org/1"), ("2", "http://a.org/2")]


def test_paragraph_starting_with_sup_tag_is_an_endnote() -> None:
    source = "<ul><li><sup>5</sup> Five, http://a.org/5</li></ul>"
    assert pairs(source) == [("5", "http://a.org/5")]


def test_paragraph_starting_with_bracketed_number_is_an_endnote() -> None:
    source = "<p>[4] Four <a href='http://a.org/4'>x</a></p>"
    assert pairs(source) == [("4", "http://a.org/4")]


def test_endnotes_separated_by_line_breaks_stay_apart() -> None:
    source = "<p>¹ Report:<br>http://a.org/1<br>² <a href='http://a.org/2'>Second</a></p>"
    citations = extract(source)
    assert [(c.label, c.url) for c in citations] == [
        ("1", "http://a.org/1"),
        ("2", "http://a.org/2"),
    ]
    assert citations[0].context == "Report: http://a.org/1"


def test_unclosed_endnote_paragraphs_end_at_the_next_paragraph() -> None:
    source = "<p>¹ http://a.org/1\n<p>Body http://a.org/body\n<p>² http://a.org/2\n"
    assert pairs(source) == [
        ("1", "http://a.org/1"),
        (None, "http://a.org/body"),
        ("2", "http://a.org/2"),
    ]


def test_unclosed_list_items_end_at_the_next_item() -> None:
    source = (
        '<p><sup><a href="#a">1</a></sup></p><ol><li id=a>http://a.org/1<li>http://a.org/x</ol>'
    )
    assert pairs(source) == [("1", "http://a.org/1"), (None, "http://a.org/x")]


def test_entities_in_href_are_decoded_but_offsets_span_the_raw_text() -> None:
    source = '<a href="http://a.org/?x=1&amp;y=2">q</a>'
    citation = extract(source)[0]
    assert citation.url == "http://a.org/?x=1&y=2"
    assert raw(source, citation) == "http://a.org/?x=1&amp;y=2"


def test_single_quoted_unquoted_and_padded_hrefs_are_located() -> None:
    source = (
        "<a href='http://a.org/1'>1</a><a HREF=http://a.org/2>2</a>"
        '<a href = "  http://a.org/3 ">3</a>'
    )
    citations = extract(source)
    assert [raw(source, c) for c in citations] == [
        "http://a.org/1",
        "http://a.org/2",
        "http://a.org/3",
    ]


def test_stylesheet_script_and_image_sources_are_not_citations() -> None:
    source = (
        '<head><link rel=stylesheet href="http://a.org/s.css">'
        '<script src="http://a.org/s.js"></script></head>'
        '<body><img src="http://a.org/i.png"></body>'
    )
    assert pairs(source) == []


def test_script_and_style_contents_are_not_scanned() -> None:
    source = '<script>var u = "http://a.org/js";</script><style>a{b:url(http://a.org/c)}</style>'
    assert pairs(source) == []


def test_fragment_relative_and_mailto_links_are_not_citations() -> None:
    source = (
        '<a href="#frag">f</a><a href="/about">a</a><a href="page.html">p</a>'
        '<a href="mailto:a@b.org">m</a><a href="javascript:void(0)">j</a>'
        '<a href="ftp://a.org/f">f</a> a@b.org kazaword.wordpress.com'
    )
    assert pairs(source) == []


def test_anchor_whose_text_is_its_url_is_one_citation() -> None:
    source = '<a href="http://x.org/a">http://x.org/a</a>'
    assert [c.start for c in extract(source)] == [source.index("http")]


def test_bare_url_in_text_is_a_citation() -> None:
    source = "<p>The report http://a.org/r says so.</p>"
    citations = extract(source)
    assert [(c.url, c.start) for c in citations] == [("http://a.org/r", source.index("http"))]


def test_bare_url_ends_before_an_encoded_closing_quote() -> None:
    source = "<p>&laquo;http://a.org/r&raquo; and &quot;http://a.org/q&quot;</p>"
    assert [c.url for c in extract(source)] == ["http://a.org/r", "http://a.org/q"]


def test_bare_url_keeps_an_encoded_ampersand() -> None:
    source = "<p>See http://a.org/?x=1&amp;y=2.</p>"
    citation = extract(source)[0]
    assert (citation.url, raw(source, citation)) == (
        "http://a.org/?x=1&y=2",
        "http://a.org/?x=1&amp;y=2",
    )


def test_comment_contents_are_not_scanned() -> None:
    assert pairs("<!-- old: http://a.org/old --><p>none</p>") == []


def test_malformed_marked_section_is_read_as_text() -> None:
    source = "<p><![) http://a.org/after</p>"
    assert [c.url for c in extract(source)] == ["http://a.org/after"]


def test_crlf_source_keeps_exact_byte_offsets() -> None:
    source = '<p>\r\nBody\r\n<a\r\nhref="http://a.org/1">x</a>\r\nhttp://a.org/2</p>\r\n'
    data = source.encode("utf-8")
    citations = extract_citations(source, Format.HTML)
    assert [data[c.start : c.end].decode() for c in citations] == [
        "http://a.org/1",
        "http://a.org/2",
    ]


def test_body_link_context_is_its_sentence() -> None:
    source = '<p>First one. The <a href="http://a.org/r">report</a> says so. Last one.</p>'
    assert extract(source)[0].context == "The report says so."


def test_endnote_context_is_the_endnote_text_without_its_marker() -> None:
    source = "<p><sup>3</sup> Also, on 30 March:   <a href='http://a.org/3'>link</a></p>"
    assert extract(source)[0].context == "Also, on 30 March: link"


@pytest.mark.parametrize(
    "closer", [".", ",", ";", ":", "!", "?", ")", "]", "»", "—", "–", "”", "’"]
)
def test_bare_url_in_html_stops_before_trailing_punctuation(closer: str) -> None:
    source = f"<p>See http://a.org/x{closer} next</p>"
    assert [c.url for c in extract(source)] == ["http://a.org/x"]


def test_find_html_reports_character_offsets() -> None:
    source = '<p>Ünïcödé <a href="http://a.org/é">x</a></p>'
    found = find_html(source)
    assert [source[f.start : f.end] for f in found] == ["http://a.org/é"]
