"""Plain-text extraction, the shared URL boundary rules, and byte offsets per encoding."""

from __future__ import annotations

import pytest

from linkwatch.extract import extract_citations, find_text
from linkwatch.extract.common import trim_url_end
from linkwatch.model import Citation, Format


def extract(source: str) -> list[Citation]:
    """Citations of a UTF-8 text source, each checked to splice back to its URL."""
    citations = extract_citations(source, Format.TEXT)
    data = source.encode("utf-8")
    for citation in citations:
        assert data[citation.start : citation.end].decode("utf-8") == citation.url
    return citations


def pairs(source: str) -> list[tuple[str | None, str]]:
    return [(c.label, c.url) for c in extract(source)]


# -- [N] reference lists


def test_line_starting_with_bracketed_number_is_a_definition() -> None:
    source = "Claim.[1]\n\n[1] The report, http://a.org/1\n"
    assert pairs(source) == [("1", "http://a.org/1")]


def test_indented_definition_with_colon_is_a_definition() -> None:
    assert pairs("  [23]: http://a.org/23\n") == [("23", "http://a.org/23")]


def test_continuation_lines_belong_to_the_definition() -> None:
    source = "[1] The report,\n    published at http://a.org/1\n"
    assert pairs(source) == [("1", "http://a.org/1")]


def test_blank_line_ends_a_definition() -> None:
    source = "[1] The report.\n\nBody again http://a.org/body\n"
    assert pairs(source) == [(None, "http://a.org/body")]


def test_next_definition_ends_the_previous_one() -> None:
    source = "[1] http://a.org/1\n[2] http://a.org/2\n"
    assert pairs(source) == [("1", "http://a.org/1"), ("2", "http://a.org/2")]


def test_bracketed_reference_inside_a_line_is_not_a_definition() -> None:
    assert pairs("Claim [1] with http://a.org/x\n") == [(None, "http://a.org/x")]


# -- superscript definitions


def test_superscript_line_is_a_definition() -> None:
    source = "Claim.¹\n\n¹ <http://a.org/1>\n² some prose - http://a.org/2\n"
    assert pairs(source) == [("1", "http://a.org/1"), ("2", "http://a.org/2")]


def test_multi_digit_superscript_definition() -> None:
    assert pairs("¹⁰ text http://a.org/10\n") == [("10", "http://a.org/10")]


def test_superscript_references_in_body_yield_nothing() -> None:
    assert pairs("Body text.¹²³ and more.¹\n") == []


def test_definition_context_is_its_own_text() -> None:
    source = "[2]: The OSCE   report,\n  as published http://a.org/2\n"
    assert extract(source)[0].context == "The OSCE report, as published http://a.org/2"


def test_body_context_is_the_sentence_around_the_url() -> None:
    source = "First sentence. The report at http://a.org/r is\nwrapped. Last one.\n"
    assert extract(source)[0].context == "The report at http://a.org/r is wrapped."


# -- what is not a citation


def test_emails_bare_domains_and_other_schemes_are_not_citations() -> None:
    source = (
        "Mail a@b.org or mailto:a@b.org, visit kazaword.wordpress.com, "
        "ftp://a.org/f, javascript:alert(1), //a.org/x and /about.\n"
    )
    assert pairs(source) == []


# -- URL boundaries (one rule for every format)


@pytest.mark.parametrize(
    "closer", [".", ",", ";", ":", "!", "?", ")", "]", ">", "»", "—", "–", '"', "'", "”", "’"]
)
def test_trailing_punctuation_is_not_part_of_the_url(closer: str) -> None:
    assert [c.url for c in extract(f"See http://a.org/x{closer} next\n")] == ["http://a.org/x"]


@pytest.mark.parametrize("closers", [".)", "”.", "),", "»."])
def test_several_trailing_punctuation_marks_are_all_cut(closers: str) -> None:
    assert trim_url_end(f"http://a.org/x{closers}") == len("http://a.org/x")


def test_balanced_parenthesis_stays_in_the_url() -> None:
    source = "See https://en.wikipedia.org/wiki/Foo_(bar).\n"
    assert [c.url for c in extract(source)] == ["https://en.wikipedia.org/wiki/Foo_(bar)"]


def test_url_in_parentheses_loses_only_the_closing_one() -> None:
    source = "(see https://en.wikipedia.org/wiki/Foo_(bar))\n"
    assert [c.url for c in extract(source)] == ["https://en.wikipedia.org/wiki/Foo_(bar)"]


def test_idn_host_and_non_ascii_path_are_kept_as_written() -> None:
    source = "См. http://пример.рф/путь/страница.\n"
    assert [c.url for c in extract(source)] == ["http://пример.рф/путь/страница"]


def test_non_ascii_path_is_kept_as_written() -> None:
    assert [c.url for c in extract("Voir http://a.org/café/été?q=ü\n")] == [
        "http://a.org/café/été?q=ü"
    ]


def test_encoded_trailing_quote_is_cut_but_encoded_ampersand_kept() -> None:
    assert trim_url_end("http://a.org/x&quot;", entities=True) == len("http://a.org/x")
    assert trim_url_end("http://a.org/?a&amp;", entities=True) == len("http://a.org/?a&amp;")


# -- byte offsets


def test_crlf_text_keeps_exact_byte_offsets() -> None:
    source = (
        "Body http://a.org/body\r\n\r\n[1] Report\r\n  http://a.org/1\r\n[2] http://a.org/2\r\n"
    )
    data = source.encode("utf-8")
    citations = extract_citations(source, Format.TEXT)
    assert [(c.label, c.url) for c in citations] == [
        (None, "http://a.org/body"),
        ("1", "http://a.org/1"),
        ("2", "http://a.org/2"),
    ]
    assert [data[c.start : c.end].decode() for c in citations] == [c.url for c in citations]


@pytest.mark.parametrize("fmt", [fmt for fmt in Format if not fmt.is_document])
def test_cp1252_offsets_count_one_byte_per_character(fmt: Format) -> None:
    source = "Café – «Été» “quoted” ¹ http://a.org/x\n"
    data = source.encode("cp1252")
    citations = extract_citations(source, fmt, encoding="cp1252")
    assert [data[c.start : c.end].decode("cp1252") for c in citations] == ["http://a.org/x"]


@pytest.mark.parametrize("fmt", [fmt for fmt in Format if not fmt.is_document])
def test_utf8_bom_shifts_every_offset(fmt: Format) -> None:
    bom = b"\xef\xbb\xbf"
    source = "Ünïcödé — http://a.org/é\n"
    data = bom + source.encode("utf-8")
    citations = extract_citations(source, fmt, encoding="utf-8", bom=bom)
    assert [data[c.start : c.end].decode("utf-8") for c in citations] == ["http://a.org/é"]


@pytest.mark.parametrize("fmt", [fmt for fmt in Format if not fmt.is_document])
def test_utf16le_offsets_slice_back(fmt: Format) -> None:
    bom = b"\xff\xfe"
    source = "Text 𝄞 ü\r\nhttp://a.org/ü\r\n"
    data = bom + source.encode("utf-16-le")
    citations = extract_citations(source, fmt, encoding="utf-16-le", bom=bom)
    assert [data[c.start : c.end].decode("utf-16-le") for c in citations] == ["http://a.org/ü"]


def test_utf16_codec_name_is_measured_without_a_bom() -> None:
    source = "ü http://a.org/x"
    data = b"\xff\xfe" + source.encode("utf-16-le")
    citation = extract_citations(source, Format.TEXT, encoding="utf-16", bom=b"\xff\xfe")[0]
    assert data[citation.start : citation.end].decode("utf-16-le") == "http://a.org/x"


def test_text_that_does_not_encode_back_raises_instead_of_misplacing() -> None:
    with pytest.raises(UnicodeEncodeError):
        extract_citations("\ufffd http://a.org/x", Format.TEXT, encoding="cp1252")


def test_find_text_reports_character_offsets() -> None:
    source = "Ünïcödé http://a.org/é"
    assert [source[f.start : f.end] for f in find_text(source)] == ["http://a.org/é"]
