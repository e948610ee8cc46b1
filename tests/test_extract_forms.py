"""The markup editors really produce: every fixture in tests/fixtures/markup gives the
citations (labels included, in order) its manifest says, and nothing it lists as not
a citation (theme chrome, share buttons, archived copies)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from linkwatch.extract import extract_citations
from linkwatch.extract.chrome import is_credit_line, is_share_link
from linkwatch.extract.wrapped import rejoin
from linkwatch.model import Citation, Format
from linkwatch.sources.decoding import decode_release

FIXTURES = Path(__file__).parent / "fixtures" / "markup"
MANIFEST: list[dict[str, Any]] = json.loads((FIXTURES / "manifest.json").read_text("utf-8"))
MARKUP = [entry for entry in MANIFEST if entry["format"] in ("html", "markdown", "text")]


def _extract(entry: dict[str, Any]) -> tuple[bytes, list[Citation]]:
    path = FIXTURES / entry["file"]
    data = path.read_bytes()
    release = decode_release(path, data)
    assert release.format is Format(entry["format"])
    found = extract_citations(
        release.text, release.format, encoding=release.encoding, bom=release.bom
    )
    return data, found


@pytest.mark.parametrize("entry", MARKUP, ids=[entry["file"] for entry in MARKUP])
def test_fixture_gives_the_manifest_citations_with_their_labels(entry: dict[str, Any]) -> None:
    _, found = _extract(entry)
    assert [(c.label, c.url) for c in found] == [(c["label"], c["url"]) for c in entry["citations"]]


@pytest.mark.parametrize("entry", MARKUP, ids=[entry["file"] for entry in MARKUP])
def test_fixture_offsets_hold_the_url_as_written(entry: dict[str, Any]) -> None:
    data, found = _extract(entry)
    encoding = entry.get("encoding", "utf-8")
    for citation in found:
        written = data[citation.start : citation.end].decode(encoding)
        if entry["format"] == "html":
            written = html.unescape(written)
        if citation.scheme_assumed:
            assert written.startswith("//")
            written = "https:" + written
        assert "".join(written.split()) == citation.url  # a rejoined URL spans its breaks


@pytest.mark.parametrize("entry", MARKUP, ids=[entry["file"] for entry in MARKUP])
def test_fixture_chrome_and_archived_copies_are_not_citations(entry: dict[str, Any]) -> None:
    _, found = _extract(entry)
    urls = {c.url for c in found}
    for url in entry.get("not_citations", []):
        absolute = "https:" + url if url.startswith("//") else url
        assert absolute not in urls


def test_protocol_relative_links_assume_https_and_say_so() -> None:
    entry = next(e for e in MANIFEST if e["file"] == "wikipedia-references.html")
    _, found = _extract(entry)
    assumed = [c.url for c in found if c.scheme_assumed]
    assert assumed == [
        "https://doi.org/10.1038%2Fs41598-018-27340-1",
        "https://www.worldcat.org/issn/2045-2322",
        "https://www.ncbi.nlm.nih.gov/pubmed/29895900",
        "https://www.worldcat.org/oclc/1104845677",
    ]
    assert not any(c.scheme_assumed for c in found if c.url.startswith("http://"))


def test_protocol_relative_markdown_link_is_a_citation() -> None:
    source = "See [the paper](//doi.org/10.1/x) and <//not-an-autolink.org>.\n"
    found = extract_citations(source, Format.MARKDOWN)
    assert [(c.url, c.scheme_assumed) for c in found] == [("https://doi.org/10.1/x", True)]


def test_wikipedia_archived_from_the_original_keeps_the_copy_with_its_citation() -> None:
    entry = next(e for e in MANIFEST if e["file"] == "wikipedia-references.html")
    _, found = _extract(entry)
    expected = {c["url"]: c["archived_copy"] for c in entry["citations"] if "archived_copy" in c}
    assert {c.url: c.archived for c in found if c.archived} == expected


def test_share_endpoints_are_not_citations() -> None:
    assert is_share_link("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fa.org")
    assert is_share_link("https://twitter.com/intent/tweet?text=x&url=https://a.org/")
    assert is_share_link("https://www.linkedin.com/shareArticle?mini=true&url=https://a.org/")
    assert is_share_link("https://a.org/2023/10/17/post/?share=twitter")
    assert not is_share_link("https://twitter.com/UNHCR/status/1")
    assert not is_share_link("https://www.facebook.com/NHRCommission")


def test_share_buttons_in_markdown_and_text_are_not_citations() -> None:
    source = "Report: https://a.org/r.pdf\nShare: https://twitter.com/intent/tweet?url=x\n"
    for fmt in (Format.MARKDOWN, Format.TEXT):
        assert [c.url for c in extract_citations(source, fmt)] == ["https://a.org/r.pdf"]


def test_credit_lines_are_recognised_and_prose_is_not() -> None:
    assert is_credit_line("Proudly powered by WordPress")
    assert is_credit_line("Designed with WordPress")
    assert not is_credit_line("The report was powered by volunteers, says the survey.")


def test_powered_by_link_without_content_mark_is_not_a_citation() -> None:
    source = (
        '<p>See <a href="https://a.org/report">the report</a>.</p>'
        '<div class="site-info"><a href="https://wordpress.org/">Proudly powered by '
        "WordPress</a></div><p>Proudly powered by "
        '<a href="https://wordpress.org/">WordPress</a></p>'
    )
    assert [c.url for c in extract_citations(source, Format.HTML)] == ["https://a.org/report"]


def test_notes_list_in_html_is_labelled_by_item_number() -> None:
    source = (
        "<p>Claim [1]. Another [2].</p><h2>Notes</h2>"
        '<ol><li>Report: https://a.org/r</li><li>Data: <a href="https://b.org/d">d</a></li></ol>'
        '<ol><li>Unrelated list: <a href="https://c.org/">c</a></li></ol>'
    )
    found = extract_citations(source, Format.HTML)
    assert [(c.label, c.url) for c in found] == [
        ("1", "https://a.org/r"),
        ("2", "https://b.org/d"),
        (None, "https://c.org/"),
    ]


def test_notes_list_in_text_is_labelled_by_item_number() -> None:
    source = "Claim [1].\n\n1. Not a note: https://a.org/x\n\nSources:\n2. https://b.org/y\n"
    found = extract_citations(source, Format.TEXT)
    assert [(c.label, c.url) for c in found] == [
        (None, "https://a.org/x"),
        ("2", "https://b.org/y"),
    ]


# -- rejoining URLs broken by mail clients: the negative cases


def _rejoined(text: str) -> list[str]:
    return [c.url for c in extract_citations(text, Format.TEXT)]


PADDING = "The figures are set out in the appendix published by the network at "


def test_a_url_cut_at_a_slash_rejoins_with_its_tail() -> None:
    text = f"{PADDING}https://a.org/en/\nreports/2023/annex.pdf. Then prose.\n"
    assert _rejoined(text) == ["https://a.org/en/reports/2023/annex.pdf"]


def test_two_urls_on_consecutive_lines_are_never_joined() -> None:
    text = f"{PADDING}https://a.org/en/\nhttps://b.org/x/y\n"
    assert _rejoined(text) == ["https://a.org/en/", "https://b.org/x/y"]


def test_a_url_and_the_next_word_are_never_joined() -> None:
    text = f"{PADDING}https://a.org/en/\nwhich shows the trend.\n"
    assert _rejoined(text) == ["https://a.org/en/"]


def test_a_www_name_on_the_next_line_is_another_url() -> None:
    text = f"{PADDING}https://a.org/en/\nwww.b.org/x?y=1\n"
    assert _rejoined(text) == ["https://a.org/en/"]


def test_a_short_line_was_ended_by_its_author() -> None:
    text = "Data: https://a.org/en/\nreports/2023/annex.pdf\n"
    assert _rejoined(text) == ["https://a.org/en/"]


def test_a_url_followed_by_prose_on_its_line_is_whole() -> None:
    text = f"{PADDING}https://a.org/en/ and\nreports/2023/annex.pdf\n"
    assert _rejoined(text) == ["https://a.org/en/"]


def test_a_url_ending_in_a_letter_is_not_joined_without_brackets() -> None:
    text = f"{PADDING}https://a.org/en/report\ns/2023/annex.pdf\n"
    assert _rejoined(text) == ["https://a.org/en/report"]


def test_angle_brackets_join_any_cut_up_to_the_closing_bracket() -> None:
    text = "See <https://a.org/en/multipl\n   e-indicator-survey-2019> for more.\n"
    found = extract_citations(text, Format.TEXT)
    assert [c.url for c in found] == ["https://a.org/en/multiple-indicator-survey-2019"]
    assert text[found[0].end] == ">"


def test_angle_brackets_never_closed_join_nothing() -> None:
    text = "See <https://a.org/en/multipl\ne-indicator and more prose\n\nNext.\n"
    assert _rejoined(text) == ["https://a.org/en/multipl"]


def test_angle_brackets_holding_a_second_url_join_nothing() -> None:
    text = "See <https://a.org/en/\nhttps://b.org/> here.\n"
    assert _rejoined(text) == ["https://a.org/en/", "https://b.org/"]


def test_rejoin_reports_the_end_of_the_tail() -> None:
    text = f"{PADDING}https://a.org/en/\nreports/x.pdf."
    start = text.index("https")
    joined = rejoin(text, start, text.index("\n"))
    assert joined is not None
    assert (
        text[start : joined[0]].replace("\n", "") == joined[1] == "https://a.org/en/reports/x.pdf"
    )
