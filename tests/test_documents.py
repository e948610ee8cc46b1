"""Word and PDF releases: read, labelled, dated; then scanned, checked, archived, reported,
and left alone by rewrite, against the hostile web and the fake Wayback Machine."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from linkwatch.archive.run import archive_run
from linkwatch.check.run import check_urls
from linkwatch.cli import main
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import Settings
from linkwatch.errors import ReleaseReadError
from linkwatch.extract import document_citations
from linkwatch.extract.chrome import is_chrome_block
from linkwatch.model import DateSource
from linkwatch.report import View, build_report
from linkwatch.report.to_json import report_dict
from linkwatch.rewrite.run import rewrite_releases
from linkwatch.scan import scan
from linkwatch.sources.documents import MAX_UNPACKED, format_number, read_document
from linkwatch.sources.meta import document_meta
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from support.documents import Field, Link, NoteRef, Page, Text, make_docx, make_pdf
from support.fake_wayback import FakeWayback, Serve
from support.hostile_web import HostileWeb, NameResolver

FIXTURES = Path(__file__).parent / "fixtures" / "markup"
MANIFEST = {e["file"]: e for e in json.loads((FIXTURES / "manifest.json").read_text("utf-8"))}
CREATED = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def citations_of(path: Path) -> list[tuple[str | None, str]]:
    document = read_document(path, path.read_bytes())
    return [(c.label, c.url) for c in document_citations(document)]


DATA = "https://data.example.org/lakes-2024.csv"


def word_release(
    path: Path, page: str, gone: str, *, data: str = DATA, created: dt.datetime | None = CREATED
) -> Path:
    return make_docx(
        path,
        title="Glacier lakes: warning systems cover a quarter of communities",
        created=created,
        paragraphs=[
            [
                "Kathmandu, 5 March 2024 – The ",
                Link("review", page),
                " was published today.",
                NoteRef("footnote", 1),
            ],
            ["Data are on the monitoring service's site.", NoteRef("endnote", 1)],
        ],
        footnotes=[["Alliance, ", Link("Early Warning, Late Action", gone), ", annex 1."]],
        endnotes=[[f"Lake data set: {data} (CC BY 4.0)."]],
    )


def pdf_release(
    path: Path, page: str, gone: str, *, created: str | None = "D:20240305090000Z"
) -> Path:
    return make_pdf(
        path,
        title="Glacier lakes: warning systems cover a quarter of communities",
        created=created,
        pages=[
            Page(
                texts=[
                    Text("Kathmandu, 5 March 2024 - The review was published by the", 57, 760),
                    Text("alliance", 57, 746),
                    Text(" today.", 97, 746),
                    Text("1", 127.1, 750, size=6),  # right after " today." (30 pt wide)
                    Text(f"1Alliance, Early Warning, Late Action, annex 1, {gone}", 57, 80, size=8),
                ],
                links=[((56, 743, 95, 756), page)],
            ),
        ],
    )


# -- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["document-release.docx", "document-release.pdf"])
def test_libreoffice_documents_give_the_manifest_citations(name: str) -> None:
    entry = MANIFEST[name]
    path = FIXTURES / name
    assert citations_of(path) == [(c["label"], c["url"]) for c in entry["citations"]]
    document = read_document(path, path.read_bytes())
    meta = document_meta(document)
    assert meta.title == entry["title"]
    assert (meta.published.isoformat(), meta.date_source) == (
        entry["published"],
        DateSource.DOCUMENT,
    )


def test_word_hyperlinks_footnotes_and_endnotes_are_labelled_as_word_shows_them(
    tmp_path: Path,
) -> None:
    path = word_release(tmp_path / "r.docx", "https://a.org/review", "https://b.org/annex")
    assert citations_of(path) == [
        (None, "https://a.org/review"),
        ("1", "https://b.org/annex"),
        ("i", DATA),
    ]
    meta = document_meta(read_document(path, path.read_bytes()))
    assert (meta.published, meta.date_source) == (CREATED.date(), DateSource.DOCUMENT)


def test_pdf_link_annotation_is_placed_after_its_text_and_notes_are_labelled(
    tmp_path: Path,
) -> None:
    path = pdf_release(tmp_path / "r.pdf", "https://a.org/review", "https://b.org/annex")
    document = read_document(path, path.read_bytes())
    assert [(c.label, c.url) for c in document_citations(document)] == [
        (None, "https://a.org/review"),
        ("1", "https://b.org/annex"),
    ]
    assert "\nalliance <https://a.org/review> " in document.text
    meta = document_meta(document)
    assert (meta.published, meta.date_source) == (dt.date(2024, 3, 5), DateSource.DOCUMENT)


def test_without_document_dates_the_dateline_dates_the_release(tmp_path: Path) -> None:
    path = pdf_release(tmp_path / "r.pdf", "https://a.org/", "https://b.org/", created=None)
    meta = document_meta(read_document(path, path.read_bytes()))
    assert (meta.published, meta.date_source) == (dt.date(2024, 3, 5), DateSource.DATELINE)


def test_a_damaged_document_is_one_line_naming_what_it_should_be(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ReleaseReadError) as caught:
        read_document(path, path.read_bytes())
    assert caught.value.reason.startswith("cannot read as a Word document: ")
    assert "\n" not in caught.value.reason


def test_word_hyperlink_fields_are_links(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "f.docx",
        title="F",
        created=CREATED,
        paragraphs=[["See the ", Field("annual report", "https://a.org/annual"), "."]],
    )
    document = read_document(path, path.read_bytes())
    assert "See the annual report <https://a.org/annual>." in document.text
    assert [c.url for c in document_citations(document)] == ["https://a.org/annual"]


def test_note_numbers_follow_word_formats() -> None:
    assert [format_number(n, "lowerRoman") for n in (1, 4, 9, 14)] == ["i", "iv", "ix", "xiv"]
    assert format_number(3, "upperLetter") == "C" and format_number(12, "decimal") == "12"


PIECE = st.one_of(
    st.text(alphabet="ab .,;é–", max_size=12),
    st.builds(
        Link,
        st.text(alphabet="ab ", min_size=1, max_size=6),
        st.sampled_from(["https://a.org/x?y=1&z=2", "http://b.org/(c)", "mailto:x@y.org"]),
    ),
    st.sampled_from(["see https://c.org/d.", "<https://e.org/f>", "https://g.org/h)"]),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(PIECE, max_size=5), min_size=1, max_size=4), st.lists(PIECE, max_size=4))
def test_document_offsets_slice_the_rendition_back_to_each_url(
    paragraphs: list[list[Any]], note: list[Any]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        body = [
            [*pieces, NoteRef("footnote", 1)] if i == 0 else pieces
            for i, pieces in enumerate(paragraphs)
        ]
        path = make_docx(
            Path(folder) / "p.docx", title="P", created=None, paragraphs=body, footnotes=[note]
        )
        document = read_document(path, path.read_bytes())
    data = document.text.encode("utf-8")
    previous = -1
    for citation in document_citations(document):
        assert citation.start > previous
        previous = citation.start
        assert data[citation.start : citation.end].decode("utf-8") == citation.url


# -- end to end --------------------------------------------------------------------------


def project(tmp_path: Path, base: str) -> Settings:
    (tmp_path / "config.toml").write_text(
        '[sources]\npaths = ["releases/*.docx", "releases/*.pdf"]\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "2s"\n\n'
        f'[archive]\nwayback_url = "{base}"\nsaves_per_minute = 600\n',
        encoding="utf-8",
    )
    return load_settings(tmp_path / "config.toml")


async def test_word_and_pdf_releases_are_scanned_checked_archived_and_reported(
    tmp_path: Path, hostile_web: HostileWeb, serve: Serve
) -> None:
    page, gone = hostile_web.url("plain.test", "/page"), hostile_web.url("plain.test", "/gone")
    (tmp_path / "releases").mkdir()
    broken = hostile_web.url("plain.test", "/broken")
    docx_file = word_release(tmp_path / "releases" / "word.docx", page, gone, data=broken)
    pdf_file = pdf_release(tmp_path / "releases" / "print.pdf", page, gone)
    before = {path: path.read_bytes() for path in (docx_file, pdf_file)}
    fake = FakeWayback()
    fake.add_capture(gone, "20240301000000")
    settings_ = project(tmp_path, await serve(fake))
    with Store.open(settings_.state.dir) as store:
        summary = scan(settings_, store, now=START, workers=1)
    assert summary.errors == [] and summary.parsed == 2 and summary.citations == 5

    for day in range(4):  # dead only after three failures over three days
        with AsyncStore.open(settings_.state.dir) as db:
            clock = (lambda moment: lambda: moment)(START + dt.timedelta(days=day))
            await check_urls(
                settings_, db, db.read.urls_to_check(), resolver=NameResolver(), now=clock
            )
    with AsyncStore.open(settings_.state.dir) as db:
        later = START + dt.timedelta(days=4)
        archived = await archive_run(settings_, db, environ={}, now=lambda: later)
    assert archived.chosen >= 1

    with Store.open(settings_.state.dir) as store:
        report = report_dict(
            build_report(store, now=START + dt.timedelta(days=4), view=View.RELEASE)
        )
        releases = {r["path"]: r for r in report["releases"]}
        rewrite = rewrite_releases(settings_, store, now=START + dt.timedelta(days=4), workers=1)
    word, pdf = releases["releases/word.docx"], releases["releases/print.pdf"]
    assert (word["published"], word["date_source"]) == ("2024-03-05", "document")
    assert (
        word["title"]
        == pdf["title"]
        == "Glacier lakes: warning systems cover a quarter of communities"
    )
    assert [(c["label"], c["url"], c["state"]) for c in word["citations"]] == [
        (None, page, "alive"),
        ("1", gone, "dead"),
        ("i", broken, "transient"),
    ]
    assert [(c["label"], c["url"], c["state"]) for c in pdf["citations"]] == [
        (None, page, "alive"),
        ("1", gone, "dead"),
    ]
    dead = next(c for c in word["citations"] if c["state"] == "dead")
    assert dead["archive_url"] is not None and "20240301000000" in dead["archive_url"]

    assert rewrite.ok and rewrite.skipped == []
    assert sorted(rewrite.documents) == [
        "releases/print.pdf: a PDF document: rewrite cannot edit it; nothing changed",
        "releases/word.docx: a DOCX document: rewrite cannot edit it; nothing changed",
    ]
    assert rewrite.changed == [] and rewrite.written == []
    cli = CliRunner().invoke(main, ["--config", str(tmp_path / "config.toml"), "rewrite"])
    assert cli.exit_code == 0, cli.output
    said = [line for line in cli.output.splitlines() if "cannot edit" in line]
    assert said == sorted(rewrite.documents)
    assert {path: path.read_bytes() for path in before} == before


def test_a_docx_that_unpacks_to_too_much_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = word_release(tmp_path / "bomb.docx", "https://a.org/", "https://b.org/")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/media/zeros.bin", b"\0" * (MAX_UNPACKED + 1))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ReleaseReadError) as caught:
        read_document(path, path.read_bytes())
    assert "more than a Word release" in caught.value.reason


def test_theme_class_names_are_matched_as_whole_tokens() -> None:
    assert is_chrome_block("div", ["sd-sharing-enabled"], None)
    assert is_chrome_block("section", ["widget_recent_entries"], None)
    assert is_chrome_block("div", [], "comments")
    assert not is_chrome_block("div", ["shareholders-report"], None)
    assert not is_chrome_block("div", ["commentary"], None)
