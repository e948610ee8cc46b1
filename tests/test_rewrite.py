"""rewrite.py: where the archived copy goes in each syntax, recognition, wording, dates."""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from linkwatch.config.settings import RewriteMode
from linkwatch.errors import WordingError
from linkwatch.extract import extract_citations
from linkwatch.rewrite.dates import archive_date, release_language
from linkwatch.rewrite.splice import rewrite_release
from linkwatch.rewrite.values import Action, Rewritten, Target, wants_archive
from linkwatch.rewrite.wording import Wording, safe_url
from linkwatch.sources.decoding import ReleaseFile, decode_release

APRIL_6 = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
JUNE_1 = dt.datetime(2016, 6, 1, 8, 30, tzinfo=dt.UTC)
GOLDEN = Path(__file__).parent / "golden" / "rewrite"


def release(data: bytes, name: str = "release.md") -> ReleaseFile:
    return decode_release(Path(name), data)


def archive_of(url: str, when: dt.datetime = APRIL_6) -> str:
    return f"https://web.archive.org/web/{when:%Y%m%d%H%M%S}/{url}"


def targets_for(doc: ReleaseFile, when: dt.datetime = APRIL_6) -> list[Target]:
    return [
        Target(c.label, c.url, c.start, c.end, archive_of(c.url, when), when, c.archived)
        for c in extract_citations(doc.text, doc.format, encoding=doc.encoding, bom=doc.bom)
    ]


def rewrite_all(
    data: bytes,
    name: str = "release.md",
    when: dt.datetime = APRIL_6,
    wording: Wording | None = None,
) -> Rewritten:
    doc = release(data, name)
    return rewrite_release(
        doc, targets_for(doc, when), wording or Wording(), language=release_language(doc)
    )


def links_in_markdown(text: str) -> list[str]:
    md = MarkdownIt("commonmark", {"linkify": True}).enable("linkify").use(footnote_plugin)

    def hrefs(tokens: list[Token]) -> list[str]:
        found: list[str] = []
        for token in tokens:
            if token.type == "link_open":
                found.append(str(token.attrs["href"]))
            found.extend(hrefs(token.children or []))
        return found

    return hrefs(md.parse(text))


class AnchorCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def anchors(text: str) -> list[dict[str, str | None]]:
    collector = AnchorCollector()
    collector.feed(text)
    return collector.anchors


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_autolink_gains_the_archived_copy_after_its_closing_bracket() -> None:
    result = rewrite_all("¹ <http://a.example/x>\n".encode())
    assert result.data.decode() == (
        "¹ <http://a.example/x> (archived [6 Apr 2016]"
        "(https://web.archive.org/web/20160406120000/http://a.example/x))\n"
    )


def test_inline_link_with_a_title_gains_the_archived_copy_after_its_parenthesis() -> None:
    source = '[the ruling](http://court.example/r?id=1 "Ruling") said so.\n'
    result = rewrite_all(source.encode())
    assert result.data.decode().startswith(
        '[the ruling](http://court.example/r?id=1 "Ruling") (archived [6 Apr 2016]('
    )


def test_bare_url_keeps_the_sentence_punctuation_after_the_added_text() -> None:
    result = rewrite_all(b"See http://a.example/page.\n")
    assert result.data.decode().endswith(
        "http://a.example/page (archived [6 Apr 2016]"
        "(https://web.archive.org/web/20160406120000/http://a.example/page)).\n"
    )


@pytest.mark.parametrize("name", ["seed.expected.md", "footnotes.expected.md", "bom.expected.md"])
def test_rewritten_markdown_parses_with_original_and_archived_copy_as_links(name: str) -> None:
    text = (GOLDEN / name).read_bytes().decode("utf-8-sig")
    links = links_in_markdown(text)
    doc = release((GOLDEN / name).read_bytes(), name)
    archived = [
        c
        for c in extract_citations(doc.text, doc.format, encoding=doc.encoding, bom=doc.bom)
        if c.archived
    ]
    assert archived
    for citation in archived:
        assert citation.url in links or safe_url(citation.url) in links
        assert citation.archived in links


def test_html_link_inside_markdown_is_rewritten_as_html() -> None:
    result = rewrite_all(b'Text <a href="http://a.example/x">the report</a>.\n')
    text = result.data.decode()
    [original, archived] = anchors(text)
    assert original["href"] == "http://a.example/x"
    assert original["data-versionurl"] == archive_of("http://a.example/x")
    assert archived["href"] == archive_of("http://a.example/x")


@pytest.mark.parametrize(
    "source",
    [
        b'Text <a href="http://a.example/x">the report</a>.\n',
        b"<div>\nSee http://a.example/x here\n</div>\n",
        b'Body.[^1]\n\n[^1]: see <a href="http://a.example/y">y</a>\n',
    ],
)
def test_html_inside_markdown_rewritten_twice_is_rewritten_once(source: bytes) -> None:
    once = rewrite_all(source).data
    assert once != source
    assert rewrite_all(once).data == once


def test_bare_url_in_a_markdown_html_block_gets_an_html_link() -> None:
    result = rewrite_all(b"<div>\nSee http://a.example/x here\n</div>\n")
    assert '(<a href="https://web.archive.org/web/' in result.data.decode()


# --- HTML -------------------------------------------------------------------------------------


def test_html_anchor_keeps_its_href_and_gains_robust_links_attributes() -> None:
    source = '<p><a href="http://a.example/x" class="c">Report</a></p>\n'
    result = rewrite_all(source.encode(), "page.html")
    [original, visible] = anchors(result.data.decode())
    assert original == {
        "href": "http://a.example/x",
        "class": "c",
        "data-originalurl": "http://a.example/x",  # REQUIRED by the 2025 Robust Links draft
        "data-versionurl": archive_of("http://a.example/x"),
        "data-versiondate": "2016-04-06",
    }
    assert visible == {"href": archive_of("http://a.example/x")}
    assert "</a> (<a href=" in result.data.decode()


def _one_target(doc: ReleaseFile, **changes: Any) -> list[Target]:
    return [dataclasses.replace(target, **changes) for target in targets_for(doc)]


def test_robust_links_list_every_verified_copy_each_with_its_datetime() -> None:
    """The 2025 draft: the chosen copy first, then the others, URI and datetime pairs."""
    doc = release(b'<p><a href="http://a.example/x">Report</a></p>\n', "page.html")
    perma = ("https://perma.cc/44TF-9JXB", dt.datetime(2016, 4, 8, 16, 43, 33, tzinfo=dt.UTC))
    arquivo = (
        "https://arquivo.pt/wayback/20160301000000/http://a.example/x",
        dt.datetime(2016, 3, 1, tzinfo=dt.UTC),
    )
    targets = _one_target(doc, others=(perma, arquivo))
    result = rewrite_release(doc, targets, Wording())
    [original, _visible] = anchors(result.data.decode())
    assert original["data-versionurl"].split(" ") == [
        archive_of("http://a.example/x"), "2016-04-06T12:00:00Z",
        "https://perma.cc/44TF-9JXB", "2016-04-08T16:43:33Z",
        "https://arquivo.pt/wayback/20160301000000/http://a.example/x", "2016-03-01T00:00:00Z",
    ]  # fmt: skip
    again = rewrite_release(release(result.data, "page.html"), targets, Wording())
    assert again.data == result.data  # twice is once


def test_a_copy_held_by_another_archive_is_named_in_the_wording() -> None:
    for name, source in [
        ("r.md", b"See <http://a.example/x>.\n"),
        ("r.txt", b"See http://a.example/x here.\n"),
        ("page.html", b'<p><a href="http://a.example/x">R</a></p>\n'),
    ]:
        doc = release(source, name)
        targets = _one_target(doc, archive_name="Arquivo.pt")
        result = rewrite_release(doc, targets, Wording())
        assert "by Arquivo.pt" in result.data.decode(), name
        again = rewrite_release(release(result.data, name), targets, Wording())
        assert again.data == result.data, name  # the named wording is recognised
        back = rewrite_release(
            release(result.data, name), targets_for(release(result.data, name)), Wording()
        )
        assert "by Arquivo.pt" not in back.data.decode(), name  # replaced, never doubled


def test_a_wrapped_link_keeps_its_href_and_names_its_target_as_the_original() -> None:
    wrapped = "https://www.google.com/url?q=http://a.example/x&amp;sa=D"
    doc = release(f'<p><a href="{wrapped}">R</a></p>\n'.encode(), "page.html")
    targets = _one_target(doc, original="http://a.example/x")
    result = rewrite_release(doc, targets, Wording())
    [original, _visible] = anchors(result.data.decode())
    assert original["href"] == "https://www.google.com/url?q=http://a.example/x&sa=D"
    assert original["data-originalurl"] == "http://a.example/x"


def test_html_version_attributes_already_there_are_updated_in_place() -> None:
    first = rewrite_all(b'<p><a href="http://a.example/x">R</a></p>\n', "page.html").data
    later = rewrite_all(first, "page.html", when=JUNE_1)
    [original, visible] = anchors(later.data.decode())
    assert original["data-versionurl"] == archive_of("http://a.example/x", JUNE_1)
    assert original["data-versiondate"] == "2016-06-01"
    assert visible["href"] == archive_of("http://a.example/x", JUNE_1)
    assert later.data.decode().count("data-versionurl") == 1


def test_html_anchor_without_a_closing_tag_is_skipped() -> None:
    result = rewrite_all(b'<p><a href="http://a.example/x">Report</p>\n', "page.html")
    [outcome] = result.outcomes
    assert outcome.action is Action.SKIPPED and not result.changed


def test_bare_url_in_html_text_gets_only_the_visible_link() -> None:
    result = rewrite_all(b"<p>See http://a.example/x.</p>\n", "page.html")
    assert result.data.decode() == (
        '<p>See http://a.example/x (<a href="https://web.archive.org/web/20160406120000/'
        'http://a.example/x">archived 6 Apr 2016</a>).</p>\n'
    )


def test_html_entities_in_the_archive_url_are_escaped() -> None:
    result = rewrite_all(b'<a href="http://a.example/?a=1&amp;b=2">R</a>\n', "page.html")
    assert 'href="https://web.archive.org/web/20160406120000/http://a.example/?a=1&amp;b=2"' in (
        result.data.decode()
    )


# --- plain text and bytes ---------------------------------------------------------------------


def test_plain_text_url_gains_a_bracketed_archived_copy() -> None:
    result = rewrite_all(b"[1] http://a.example/x\n", "release.txt")
    assert result.data == (
        b"[1] http://a.example/x [archived 2016-04-06: "
        b"https://web.archive.org/web/20160406120000/http://a.example/x]\n"
    )


def test_utf16_release_is_spliced_in_its_own_encoding() -> None:
    data = codecs.BOM_UTF16_LE + "¹ <http://a.example/x>\r\n".encode("utf-16-le")
    result = rewrite_all(data)
    assert result.data.startswith(codecs.BOM_UTF16_LE)
    assert result.data[2:].decode("utf-16-le").endswith("/http://a.example/x))\r\n")


def test_only_the_spliced_spans_change() -> None:
    data = "¹ <http://a.example/x>  \r\n\r\n² http://b.example/y\r\n".encode()
    result = rewrite_all(data)
    rebuilt = bytearray(result.data)
    for splice in reversed(result.splices):
        start = splice.start + sum(
            len(s.data) - (s.end - s.start) for s in result.splices if s.start < splice.start
        )
        rebuilt[start : start + len(splice.data)] = data[splice.start : splice.end]
    assert bytes(rebuilt) == data


def test_month_that_the_legacy_encoding_cannot_write_falls_back_to_english() -> None:
    source = '<html lang="uk"><meta charset="windows-1252"><p>Café – <a href="http://a.example/x">R</a></p>'
    result = rewrite_all(source.encode("cp1252"), "page.html")
    assert ">archived 6 Apr 2016</a>" in result.data.decode("cp1252")


# --- idempotence and replacement ----------------------------------------------------------------


def test_rewriting_a_rewritten_release_changes_nothing() -> None:
    once = rewrite_all(b"1. <http://a.example/x>\n2. http://b.example/y\n").data
    twice = rewrite_all(once)
    assert twice.data == once
    assert {o.action for o in twice.outcomes} == {Action.UNCHANGED}


def test_later_snapshot_replaces_the_added_text_in_place() -> None:
    once = rewrite_all(b"1. <http://a.example/x> and more\n").data
    later = rewrite_all(once, when=JUNE_1)
    assert [o.action for o in later.outcomes] == [Action.REPLACED]
    assert later.data.decode() == (
        "1. <http://a.example/x> (archived [1 Jun 2016]"
        "(https://web.archive.org/web/20160601083000/http://a.example/x)) and more\n"
    )


def test_archive_link_in_another_wording_is_not_doubled() -> None:
    source = b"1. <http://a.example/x> - archived at <https://web.archive.org/web/2015/http://a.example/x>\n"
    result = rewrite_all(source)
    [outcome] = result.outcomes
    assert outcome.action is Action.SKIPPED and result.data == source


def test_same_span_given_twice_is_rewritten_once() -> None:
    doc = release(b"1. <http://a.example/x>\n")
    [target] = targets_for(doc)
    result = rewrite_release(doc, [target, target], Wording())
    assert [o.action for o in result.outcomes] == [Action.ADDED, Action.SKIPPED]
    assert result.data.decode().count("archived") == 1


# --- wording ----------------------------------------------------------------------------------


def test_template_dir_sets_the_house_wording(tmp_path: Path) -> None:
    (tmp_path / "markdown.j2").write_text(" — [Archiv {{ iso_date }}]({{ archive_url }})\n")
    result = rewrite_all(b"1. <http://a.example/x>\n", wording=Wording(tmp_path))
    assert result.data.decode() == (
        "1. <http://a.example/x> — [Archiv 2016-04-06]"
        "(https://web.archive.org/web/20160406120000/http://a.example/x)\n"
    )


def test_text_in_the_builtin_wording_is_replaced_after_a_switch_of_templates(
    tmp_path: Path,
) -> None:
    builtin = rewrite_all(b"1. <http://a.example/x>\n").data
    (tmp_path / "markdown.j2").write_text(" [copy]({{ archive_url }})")
    result = rewrite_all(builtin, wording=Wording(tmp_path))
    assert result.data.decode() == (
        "1. <http://a.example/x> [copy](https://web.archive.org/web/20160406120000/http://a.example/x)\n"
    )


def test_broken_template_is_reported_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "html.j2").write_text(" {{ archive_url ")
    with pytest.raises(WordingError, match=r"html\.j2"):
        Wording(tmp_path)


def test_template_using_an_unknown_value_is_refused(tmp_path: Path) -> None:
    (tmp_path / "text.j2").write_text(" [{{ archive_link }}]")
    with pytest.raises(WordingError, match=r"text\.j2"):
        Wording(tmp_path)


# --- dates, languages, modes, URLs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (None, "7 Apr 2016"),
        ("en", "7 Apr 2016"),
        ("pl", "7 kwi 2016"),
        ("de", "7. Apr. 2016"),
        ("fr", "7 avr. 2016"),
        ("uk", "7 квіт. 2016"),
        ("xx", "7 Apr 2016"),
    ],
)
def test_archive_date_follows_the_language(language: str | None, expected: str) -> None:
    assert archive_date(dt.date(2016, 4, 7), language) == expected


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b'<!DOCTYPE html>\n<html lang="pl-PL"><p>x</p>', "a.html", "pl"),
        (b"---\ntitle: T\nlang: de\n---\n\nText\n", "a.md", "de"),
        (b"---\r\nlanguage: 'fr'\r\n---\r\nText\r\n", "a.md", "fr"),
        (b"Plain text\n", "a.txt", None),
        (b"# Title\n\nText\n", "a.md", None),
    ],
)
def test_release_language_is_read_from_html_lang_or_front_matter(
    data: bytes, name: str, expected: str | None
) -> None:
    assert release_language(release(data, name)) == expected


@pytest.mark.parametrize(
    ("state", "mode", "expected"),
    [
        ("dead", RewriteMode.DEAD, True),
        ("soft404", RewriteMode.DEAD, True),
        ("alive", RewriteMode.DEAD, False),
        ("transient", RewriteMode.DEAD, False),
        ("blocked", RewriteMode.DEAD, False),
        ("alive", RewriteMode.ALL, True),
        ("unchecked", RewriteMode.ALL, True),
        ("dead", RewriteMode.OFF, False),
    ],
)
def test_mode_decides_which_states_get_their_archived_copy(
    state: str, mode: RewriteMode, expected: bool
) -> None:
    assert wants_archive(state, mode) is expected


def test_safe_url_encodes_what_would_end_a_link_early() -> None:
    url = "https://web.archive.org/web/2016/http://a.example/p_(x) y?q=[ä]&r='s'"
    assert safe_url(url) == (
        "https://web.archive.org/web/2016/http://a.example/p_%28x%29%20y?q=%5B%C3%A4%5D&r=%27s%27"
    )


def test_safe_url_keeps_existing_escapes() -> None:
    assert safe_url("http://a.example/%7Euser?a=%20") == "http://a.example/%7Euser?a=%20"
