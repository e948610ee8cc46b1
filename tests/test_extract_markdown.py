"""Markdown extraction: footnotes, links, autolinks and bare URLs, located exactly."""

from __future__ import annotations

import html
import time
from pathlib import Path

import pytest
from markdown_it.common.utils import unescapeAll

from linkwatch.extract import extract_citations, find_markdown
from linkwatch.model import Citation, Format

SEED = Path(__file__).parent / "fixtures" / "2016-04-07-juncker-kazakhstan.md"

SEED_CITATIONS = [
    ("1", "http://ec.europa.eu/avservices/video/player.cfm?ref=I118702"),
    ("2", "http://www.osce.org/odihr/elections/kazakhstan/229136"),
    (
        "3",
        "http://en.odfoundation.eu/a/7410,donald-tusk-must-raise-the-issue-of-mounting-"
        "restrictions-on-free-speech-and-continuous-repression-of-political-opposition-"
        "in-kazakhstan-during-his-meeting-with-president-nazarbayev",
    ),
    ("4", "https://euobserver.com/foreign/132858"),
    (
        "5",
        "http://en.odfoundation.eu/a/5465,kazakhstan-reform-of-the-criminal-legislation-"
        "endangers-human-rights",
    ),
    ("6", "http://iphronline.org/kazakhstan-report-documents-key-rights-trends-20160317.html"),
    ("7", "https://www.amnesty.org/en/documents/eur57/3345/2016/en/"),
    (
        "9",
        "http://en.odfoundation.eu/a/7228,kazakhstan-the-oppression-of-journalists-and-bloggers1",
    ),
    (
        "10",
        "http://en.odfoundation.eu/a/6264,international-community-calls-on-france-to-"
        "prevent-extradition-of-opposition-politician-mukhtar-ablyazov",
    ),
    (
        "11",
        "http://en.odfoundation.eu/a/7319,report-the-facts-which-confirm-the-fabrication-"
        "of-the-case-of-mukhtar-ablyazov-in-russia-tatiana-paraskevich-and-artur-trofimov-"
        "prosecution",
    ),
    (
        "12",
        "http://www.europarl.europa.eu/sides/getDoc.do?type=MOTION&reference=P8-RC-2016-0337"
        "&language=EN",
    ),
]


def extract(source: str) -> list[Citation]:
    """Citations of a UTF-8 Markdown source, each checked to splice back to its raw text."""
    citations = extract_citations(source, Format.MARKDOWN)
    data = source.encode("utf-8")
    for citation in citations:
        written = data[citation.start : citation.end].decode("utf-8")
        assert citation.url in (unescapeAll(written), html.unescape(written))
    return citations


def pairs(source: str) -> list[tuple[str | None, str]]:
    return [(c.label, c.url) for c in extract(source)]


def raw(source: str, citation: Citation) -> str:
    return source.encode("utf-8")[citation.start : citation.end].decode("utf-8")


# -- the seed release


def test_seed_gives_its_eleven_footnote_urls_in_order() -> None:
    data = SEED.read_bytes()
    citations = extract_citations(data.decode("utf-8"), Format.MARKDOWN)
    assert [(c.label, c.url) for c in citations] == SEED_CITATIONS
    for citation in citations:
        assert data[citation.start : citation.end].decode("utf-8") == citation.url


def test_seed_footnote_without_url_yields_nothing() -> None:
    citations = extract_citations(SEED.read_text(encoding="utf-8"), Format.MARKDOWN)
    assert "8" not in {c.label for c in citations}


def test_seed_bare_domain_and_email_addresses_are_not_cited() -> None:
    urls = [c.url for c in extract_citations(SEED.read_text(encoding="utf-8"), Format.MARKDOWN)]
    assert not [u for u in urls if "kazaword" in u or "@" in u]


def test_seed_footnote_context_is_the_footnote_text() -> None:
    citations = extract_citations(SEED.read_text(encoding="utf-8"), Format.MARKDOWN)
    second = citations[1]
    assert second.context.startswith("The OSCE stated that the legal framework in Kazakhstan")
    assert len(second.context) <= 120


def test_seed_extraction_is_fast() -> None:
    text = SEED.read_text(encoding="utf-8")
    started = time.perf_counter()
    for _ in range(200):
        extract_citations(text, Format.MARKDOWN)
    assert time.perf_counter() - started < 2.0  # about 0.25 s; the margin is for a busy machine


# -- superscript footnote definitions


def test_superscript_paragraph_with_autolink_is_a_definition() -> None:
    assert pairs("Said so.¹\n\n¹ <http://a.org/1>\n") == [("1", "http://a.org/1")]


def test_superscript_definition_may_have_prose_before_the_url() -> None:
    source = "² some prose - <http://b.org/2>\n"
    assert pairs(source) == [("2", "http://b.org/2")]


def test_multi_digit_superscript_definition_with_bare_url() -> None:
    source = "¹⁰ text http://c.org/10\n\n¹¹ <http://c.org/11>\n\n¹² <http://c.org/12>\n"
    assert pairs(source) == [
        ("10", "http://c.org/10"),
        ("11", "http://c.org/11"),
        ("12", "http://c.org/12"),
    ]


def test_superscript_references_in_body_yield_nothing() -> None:
    assert pairs("Body text.¹²³ More body text.¹\n") == []


def test_superscript_definitions_without_blank_lines_between_stay_apart() -> None:
    source = "Body <http://a.org/body>\n¹ <http://a.org/1>\n² The report,\nhttp://a.org/2\n"
    citations = extract(source)
    assert [(c.label, c.url) for c in citations] == [
        (None, "http://a.org/body"),
        ("1", "http://a.org/1"),
        ("2", "http://a.org/2"),
    ]
    assert citations[2].context == "The report, http://a.org/2"


def test_superscript_definition_without_url_yields_nothing() -> None:
    assert pairs("⁸ Batyrbekov was released, but was not acquitted.\n") == []


def test_superscripts_in_the_middle_of_a_paragraph_do_not_label_its_links() -> None:
    assert pairs("Text.¹²³ see <http://a.org/x>\n") == [(None, "http://a.org/x")]


# -- [^n] footnotes


def test_footnote_label_is_its_name_as_written() -> None:
    source = "Claim.[^civil]\n\n[^civil]: <http://a.org/civil>\n"
    assert pairs(source) == [("civil", "http://a.org/civil")]


def test_footnote_referenced_twice_is_cited_once() -> None:
    source = "One.[^1] Two.[^1]\n\n[^1]: <http://a.org/1>\n"
    assert pairs(source) == [("1", "http://a.org/1")]


def test_footnote_with_two_urls_gives_two_citations_with_its_label() -> None:
    source = "One.[^1]\n\n[^1]: <http://a.org/1> and http://a.org/2\n"
    assert pairs(source) == [("1", "http://a.org/1"), ("1", "http://a.org/2")]


def test_links_and_autolinks_inside_a_footnote_get_its_label() -> None:
    source = "One.[^n]\n\n[^n]: See [the report](http://a.org/r) and <https://a.org/s>.\n"
    assert pairs(source) == [("n", "http://a.org/r"), ("n", "https://a.org/s")]


def test_every_paragraph_of_a_multi_paragraph_footnote_gets_its_label() -> None:
    source = "One.[^long]\n\n[^long]: First <http://a.org/1>\n\n    Second <http://a.org/2>\n"
    assert pairs(source) == [("long", "http://a.org/1"), ("long", "http://a.org/2")]


def test_footnote_defined_before_its_reference_keeps_document_order() -> None:
    source = "[^1]: <http://a.org/1>\n\nBody <http://a.org/body>.[^1]\n"
    assert pairs(source) == [("1", "http://a.org/1"), (None, "http://a.org/body")]


def test_footnote_context_is_the_footnote_text() -> None:
    source = "One.[^1]\n\n[^1]: The OSCE report,   as published - <http://a.org/1>\n"
    assert extract(source)[0].context == "The OSCE report, as published - <http://a.org/1>"


# -- body links


def test_body_link_autolink_and_bare_url_have_no_label() -> None:
    source = "A [link](http://a.org/1), an <http://a.org/2> and http://a.org/3.\n"
    assert pairs(source) == [
        (None, "http://a.org/1"),
        (None, "http://a.org/2"),
        (None, "http://a.org/3"),
    ]


def test_link_whose_text_is_its_url_is_one_citation() -> None:
    source = "See [http://x.org/a](http://x.org/a).\n"
    citations = extract(source)
    assert [c.url for c in citations] == ["http://x.org/a"]
    assert citations[0].start == source.index("(") + 1


def test_same_url_twice_in_body_gives_both_occurrences_in_order() -> None:
    source = "First http://x.org/a then http://x.org/a again.\n"
    citations = extract(source)
    assert [c.start for c in citations] == [6, 26]


def test_body_link_context_is_its_sentence() -> None:
    source = "Intro sentence. The report <http://a.org/r> says so. Another one.\n"
    assert extract(source)[0].context == "The report <http://a.org/r> says so."


def test_long_context_is_cut_around_the_link_to_one_short_line() -> None:
    source = "word " * 60 + "<http://a.org/r>\n" + "more " * 60 + "\n"
    context = extract(source)[0].context
    assert len(context) <= 120
    assert "http://a.org/r" in context
    assert "\n" not in context


def test_reference_link_is_cited_once_where_its_definition_writes_the_url() -> None:
    source = 'See [the report][r] and [r].\n\n[r]: <http://a.org/r> "Title"\n'
    citations = extract(source)
    assert [c.url for c in citations] == ["http://a.org/r"]
    assert citations[0].start == source.index("<http") + 1


def test_unused_reference_definition_is_not_cited() -> None:
    assert pairs("Nothing links here.\n\n[unused]: http://a.org/u\n") == []


def test_front_matter_urls_are_not_citations() -> None:
    source = "---\ntitle: Release\nsource: http://front.org/x\n---\n\nBody <http://a.org/b>\n"
    assert pairs(source) == [(None, "http://a.org/b")]


def test_url_in_code_span_is_not_cited_and_does_not_shift_the_next() -> None:
    source = "Code `http://x.org/a` then http://x.org/a\n"
    citations = extract(source)
    assert [c.start for c in citations] == [source.rindex("http")]


def test_url_in_fenced_or_indented_code_is_not_cited() -> None:
    source = "```\nhttp://a.org/fenced\n```\n\n    http://a.org/indented\n\nText.\n"
    assert pairs(source) == []


def test_bracketed_number_line_is_a_definition_too() -> None:
    assert pairs("Claim.[1]\n\n[1] Report, http://a.org/1\n") == [("1", "http://a.org/1")]


def test_image_source_is_not_a_citation() -> None:
    source = "![chart](http://img.org/c.png) and [data](http://img.org/c.png)\n"
    citations = extract(source)
    assert [c.start for c in citations] == [source.rindex("http")]


def test_link_around_an_image_is_located_at_its_own_destination() -> None:
    source = "[![alt](http://img.org/a.png)](http://img.org/a.png)\n"
    assert [c.start for c in extract(source)] == [source.rindex("http")]


def test_url_in_link_title_does_not_take_the_place_of_a_later_bare_url() -> None:
    source = '[t](http://a.org/1 "see http://a.org/2") http://a.org/2\n'
    citations = extract(source)
    assert [c.start for c in citations] == [4, source.rindex("http")]


# -- what is not a citation


def test_email_addresses_and_mailto_are_not_citations() -> None:
    source = "Write to <a@b.org>, a@b.org or [us](mailto:a@b.org) or <mailto:a@b.org>.\n"
    assert pairs(source) == []


def test_bare_domains_relative_fragment_javascript_and_ftp_are_not_citations() -> None:
    source = (
        "Visit kazaword.wordpress.com, [about](/about), [page](page.html), [top](#top), "
        "[js](javascript:alert(1)), ftp://ftp.org/file and <ftp://ftp.org/x>.\n"
    )
    assert pairs(source) == []


# -- raw text versus decoded URL


def test_entities_in_destination_are_decoded_but_offsets_span_the_raw_text() -> None:
    source = "[q](http://a.org/?x=1&amp;y=2)\n"
    citation = extract(source)[0]
    assert citation.url == "http://a.org/?x=1&y=2"
    assert raw(source, citation) == "http://a.org/?x=1&amp;y=2"


def test_backslash_escape_in_destination_is_decoded_but_offsets_span_it() -> None:
    source = r"[q](http://a.org/a\_b)" + "\n"
    citation = extract(source)[0]
    assert (citation.url, raw(source, citation)) == ("http://a.org/a_b", r"http://a.org/a\_b")


def test_angle_bracketed_destination_excludes_the_brackets() -> None:
    source = "[q](<http://a.org/a b>)\n"
    citation = extract(source)[0]
    assert raw(source, citation) == "http://a.org/a b"


def test_destination_is_kept_as_written_not_percent_encoded() -> None:
    source = "[q](http://пример.рф/путь)\n"
    assert pairs(source) == [(None, "http://пример.рф/путь")]


def test_raw_html_anchor_in_a_block_is_cited_with_entities_decoded() -> None:
    source = '<div>\n<a href="http://h.org/?a=1&amp;b=2">http://h.org/?a=1&amp;b=2</a>\n</div>\n'
    citations = extract(source)
    assert [c.url for c in citations] == ["http://h.org/?a=1&b=2"]
    assert raw(source, citations[0]) == "http://h.org/?a=1&amp;b=2"


def test_raw_html_anchor_inside_a_paragraph_is_one_citation() -> None:
    source = 'Read <a href="http://h.org/x">http://h.org/x</a> today.\n'
    citations = extract(source)
    assert [c.start for c in citations] == [source.index("http")]


def test_crlf_source_keeps_exact_byte_offsets() -> None:
    source = "Body http://a.org/1\r\n\r\n¹ <http://a.org/2>\r\n\r\n[q](http://a.org/3)\r\n"
    data = source.encode("utf-8")
    citations = extract_citations(source, Format.MARKDOWN)
    assert [(c.label, c.url) for c in citations] == [
        (None, "http://a.org/1"),
        ("1", "http://a.org/2"),
        (None, "http://a.org/3"),
    ]
    assert [data[c.start : c.end].decode() for c in citations] == [c.url for c in citations]


@pytest.mark.parametrize("closer", [".", ",", ";", ":", "!", "?", ")", "»", "—", "”", "’"])
def test_bare_url_in_markdown_stops_before_trailing_punctuation(closer: str) -> None:
    source = f"See http://a.org/x{closer} next\n"
    assert [c.url for c in extract(source)] == ["http://a.org/x"]


def test_find_markdown_reports_character_offsets() -> None:
    source = "Ünïcödé ¹ text\n\n¹ <http://a.org/é>\n"
    found = find_markdown(source)
    assert [source[f.start : f.end] for f in found] == ["http://a.org/é"]
