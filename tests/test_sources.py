"""Finding, reading and decoding releases, and what they say about themselves."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkwatch.errors import ReleaseReadError
from linkwatch.model import DateSource, Format, ReleaseMeta
from linkwatch.sources.decoding import ReleaseFile, decode_release
from linkwatch.sources.files import find_releases, read_bytes
from linkwatch.sources.meta import release_meta

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "2016-04-07-juncker-kazakhstan.md"
SEED_TITLE = (
    "JEAN-CLAUDE JUNCKER'S STATEMENT ON 'PROMISING REFORM' IN KAZAKHSTAN CALLS INTO QUESTION "
    "THE COMPETENCE OF REPRESENTATIVES OF THE EUROPEAN COMMISSION GIVEN THEIR ASSESSMENT OF "
    "THE REAL SITUATION IN THE COUNTRY"
)
MB = 1_000_000


def decode(name: str, content: str | bytes) -> ReleaseFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return decode_release(Path("/releases") / name, data)


def meta_of(
    name: str,
    content: str | bytes,
    *,
    override: dt.date | None = None,
    mtime: float | None = None,
) -> ReleaseMeta:
    return release_meta(decode(name, content), override=override, mtime=mtime)


def touch(path: Path, content: bytes = b"# Release\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def assert_round_trips(release: ReleaseFile) -> None:
    assert release.bom + release.text.encode(release.encoding) == release.data


# --- the seed release ----------------------------------------------------------------------------


def test_seed_release_is_dated_by_its_dateline() -> None:
    release = decode_release(SEED, read_bytes(SEED, max_size=5 * MB))
    meta = release_meta(release, mtime=0.0)
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.DATELINE)


def test_seed_release_title_is_its_headline_line() -> None:
    release = decode_release(SEED, read_bytes(SEED, max_size=5 * MB))
    assert release_meta(release).title == SEED_TITLE


def test_seed_release_is_utf8_markdown() -> None:
    release = decode_release(SEED, SEED.read_bytes())
    assert (release.format, release.encoding, release.bom, release.notice) == (
        Format.MARKDOWN,
        "utf-8",
        b"",
        None,
    )


# --- publication date: sources and precedence ----------------------------------------------------

EVERY_SOURCE_HTML = """---
date: 2016-01-01
---
<html><head><title>T</title>
<meta property="article:published_time" content="2016-02-02T10:00:00+01:00"></head>
<body><p>Warsaw, 3 March 2016</p><p>Body</p></body></html>
"""


def test_override_beats_front_matter() -> None:
    meta = meta_of("r.html", EVERY_SOURCE_HTML, override=dt.date(2015, 5, 5))
    assert (meta.published, meta.date_source) == (dt.date(2015, 5, 5), DateSource.OVERRIDE)


def test_front_matter_beats_html_meta() -> None:
    meta = meta_of("r.html", EVERY_SOURCE_HTML)
    assert (meta.published, meta.date_source) == (dt.date(2016, 1, 1), DateSource.FRONT_MATTER)


def test_html_meta_beats_dateline() -> None:
    without_front_matter = EVERY_SOURCE_HTML.split("---\n", 2)[2]
    meta = meta_of("r.html", without_front_matter)
    assert (meta.published, meta.date_source) == (dt.date(2016, 2, 2), DateSource.HTML_META)


def test_dateline_beats_mtime() -> None:
    meta = meta_of("r.md", "Warsaw, 3 March 2016\n\nHeadline\n", mtime=1_000_000_000.0)
    assert (meta.published, meta.date_source) == (dt.date(2016, 3, 3), DateSource.DATELINE)


def test_mtime_is_the_last_resort_and_a_guess() -> None:
    mtime = dt.datetime(2019, 6, 15, 12, 0).timestamp()
    meta = meta_of("r.md", "Headline\n\nNo date anywhere.\n", mtime=mtime)
    assert (meta.published, meta.date_source) == (dt.date(2019, 6, 15), DateSource.MTIME)
    assert meta.date_source.is_guess


def test_missing_mtime_gives_the_epoch() -> None:
    meta = meta_of("r.md", "Headline\n\nNo date anywhere.\n")
    assert (meta.published, meta.date_source) == (dt.date(1970, 1, 1), DateSource.MTIME)


@pytest.mark.parametrize(
    "value",
    ["2016-04-07", "2016-04-07T09:30:00+02:00", "2016-04-07 09:30:00", "'7 April 2016'"],
)
def test_front_matter_date_accepts_dates_datetimes_and_strings(value: str) -> None:
    meta = meta_of("r.md", f"---\ndate: {value}\n---\nBody\n")
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.FRONT_MATTER)


def test_front_matter_with_impossible_date_falls_through_but_keeps_its_title() -> None:
    meta = meta_of("r.md", "---\ntitle: Kept\ndate: 2016-02-30\n---\nWarsaw, 7 April 2016\n")
    assert (meta.title, meta.published, meta.date_source) == (
        "Kept",
        dt.date(2016, 4, 7),
        DateSource.DATELINE,
    )


def test_unparseable_front_matter_is_ignored() -> None:
    meta = meta_of("r.md", "---\ndate: [unclosed\n---\nWarsaw, 7 April 2016\n")
    assert meta.date_source is DateSource.DATELINE


@pytest.mark.parametrize(
    "tag",
    [
        '<meta property="article:published_time" content="2016-04-07T08:00:00Z">',
        '<meta name="date" content="2016-04-07">',
        '<meta name="dcterms.date" content="2016-04-07">',
        '<meta itemprop="datePublished" content="2016-04-07">',
        '<meta name="DATE" content="7 April 2016">',
    ],
)
def test_html_meta_date(tag: str) -> None:
    meta = meta_of("r.html", f"<html><head>{tag}</head><body><p>Text</p></body></html>")
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.HTML_META)


def test_html_time_element_dates_a_release_without_meta() -> None:
    html = '<html><body><p>By us, <time datetime="2016-04-07T10:00">Thursday</time></p></body>'
    meta = meta_of("r.html", html)
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.HTML_META)


def test_published_time_beats_other_html_meta() -> None:
    html = (
        '<head><meta name="date" content="2016-01-01">'
        '<meta property="article:published_time" content="2016-04-07"></head>'
    )
    assert meta_of("r.html", html).published == dt.date(2016, 4, 7)


def test_html_dateline_is_read_from_visible_text() -> None:
    html = (
        "<html><head><script>var d = '1 January 2001';</script></head>"
        "<body><p>Warsaw, <b>7 April</b>\n 2016</p><p>Body</p></body></html>"
    )
    meta = meta_of("r.html", html)
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.DATELINE)


# --- datelines -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dateline",
    [
        "Warsaw, 7 April, 2016",
        "Warsaw, 7 April 2016",
        "7 April 2016",
        "April 7, 2016",
        "WARSAW, APRIL 7, 2016 – The Foundation said today",
        "07.04.2016",
        "2016-04-07",
        "Published on 7 Apr. 2016",
        "**Brussels/Warsaw, 7th April 2016**",
        "Warschau, 7. April 2016",
        "Varsovie, 7 avril 2016",
        "Warszawa, 7 kwietnia 2016",
        "Madrid, 7 de abril de 2016",
        "Варшава, 7 апреля 2016 г.",
        "Варшава, 7 квітня 2016 р.",
    ],
)
def test_dateline_forms(dateline: str) -> None:
    meta = meta_of("r.md", f"{dateline}\n\nHeadline\n")
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.DATELINE)


@pytest.mark.parametrize("dateline", ["Warsaw, 31 February 2016", "31.02.2016", "2016-13-01"])
def test_impossible_dateline_date_is_rejected(dateline: str) -> None:
    meta = meta_of("r.md", f"{dateline}\n\nHeadline\n")
    assert meta.date_source is DateSource.MTIME


def test_date_inside_a_sentence_is_not_a_dateline() -> None:
    meta = meta_of("r.md", "Headline\n\nOn 30 March, 2016, the minister met the president.\n")
    assert meta.date_source is DateSource.MTIME


def test_dateline_must_be_near_the_top() -> None:
    lines = "\n\n".join(f"Paragraph {n}." for n in range(15))
    meta = meta_of("r.md", f"{lines}\n\nWarsaw, 7 April 2016\n")
    assert meta.date_source is DateSource.MTIME


def test_front_matter_may_close_with_dots_and_use_crlf() -> None:
    meta = meta_of("r.md", "---\r\ntitle: T\r\ndate: 2016-04-07\r\n...\r\nBody\r\n")
    assert (meta.title, meta.published) == ("T", dt.date(2016, 4, 7))


def test_html_time_element_far_down_a_long_page_is_found() -> None:
    paragraphs = "".join(f"<p>Paragraph {n} of the release.</p>" for n in range(500))
    html = f"<html><body><h1>H</h1>{paragraphs}<time datetime='2016-04-07'>x</time></body></html>"
    meta = meta_of("r.html", html)
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.HTML_META)


def test_html_meta_inside_a_comment_is_ignored() -> None:
    html = '<html><head><!-- <meta name="date" content="2001-01-01"> --></head><p>x</p></html>'
    assert meta_of("r.html", html).date_source is DateSource.MTIME


def test_dateline_inside_front_matter_body_is_found_after_it() -> None:
    meta = meta_of("r.md", "---\ntitle: T\n---\nWarsaw, 7 April 2016\n")
    assert (meta.published, meta.date_source) == (dt.date(2016, 4, 7), DateSource.DATELINE)


# --- titles --------------------------------------------------------------------------------------


def test_front_matter_title_wins() -> None:
    meta = meta_of("r.md", "---\ntitle: '  From   front matter '\n---\n# Heading\n")
    assert meta.title == "From front matter"


def test_atx_heading_title_has_markup_stripped() -> None:
    meta = meta_of("r.md", "# The **real** [title](http://example.org) `here` #\n\nBody\n")
    assert meta.title == "The real title here"


def test_setext_heading_title() -> None:
    assert meta_of("r.md", "Headline   text\n=============\n\nBody\n").title == "Headline text"


def test_heading_below_a_dateline_is_the_title() -> None:
    assert meta_of("r.md", "Warsaw, 7 April 2016\n\n## The headline\n\nBody\n").title == (
        "The headline"
    )


def test_section_heading_is_not_the_title() -> None:
    meta = meta_of("r.md", "Plain headline\n\nBody text.\n\n## Notes\n\n1. a note\n")
    assert meta.title == "Plain headline"


def test_heading_in_fenced_code_is_not_the_title() -> None:
    assert meta_of("r.md", "```\n# not a title\n```\n\nReal headline\n").title == "Real headline"


def test_html_title_element_with_whitespace_collapsed_and_entities_decoded() -> None:
    html = "<html><head><title>\n  Juncker &amp;\n  Kazakhstan </title></head><h1>H</h1></html>"
    assert meta_of("r.html", html).title == "Juncker & Kazakhstan"


def test_html_first_h1_when_there_is_no_title_element() -> None:
    html = "<html><body><h1>The <em>first</em>\n heading</h1><h1>Second</h1></body></html>"
    assert meta_of("r.html", html).title == "The first heading"


def test_plain_first_line_title_skips_the_dateline_and_emphasis() -> None:
    meta = meta_of("r.txt", "\n\nWarsaw, 7 April 2016\n\n**STATEMENT ON REFORM**\n\nBody.\n")
    assert meta.title == "STATEMENT ON REFORM"


def test_overlong_first_line_is_not_a_title() -> None:
    assert meta_of("r.txt", "word " * 100 + "\n\nSecond line\n").title is None


def test_release_with_only_a_dateline_has_no_title() -> None:
    assert meta_of("r.md", "Warsaw, 7 April 2016\n").title is None


# --- format --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("r.md", Format.MARKDOWN),
        ("r.markdown", Format.MARKDOWN),
        ("R.MD", Format.MARKDOWN),
        ("r.html", Format.HTML),
        ("r.htm", Format.HTML),
        ("r.xhtml", Format.HTML),
        ("r.txt", Format.TEXT),
    ],
)
def test_format_from_extension(name: str, expected: Format) -> None:
    assert decode(name, "<!doctype html><p>[a](b)</p>").format is expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<!DOCTYPE html>\n<html><body>Hi</body></html>", Format.HTML),
        ("  <html lang='en'><p>Hi</p></html>", Format.HTML),
        ("<div><p>One</p><p>Two <a href='x'>link</a></p></div>", Format.HTML),
        ("# Heading\n\nText", Format.MARKDOWN),
        ("See [the report](http://example.org).", Format.MARKDOWN),
        ("Text.[^1]\n\n[^1]: A note.", Format.MARKDOWN),
        ("---\ntitle: T\n---\nText", Format.MARKDOWN),
        ("Just words, #hashtag and 3 < 4.", Format.TEXT),
    ],
)
def test_format_sniffed_without_extension(content: str, expected: Format) -> None:
    assert decode("release", content).format is expected


# --- encodings -----------------------------------------------------------------------------------


def test_utf8_bom_is_kept_apart_from_the_text() -> None:
    release = decode("r.md", codecs.BOM_UTF8 + "# Tytuł\r\n".encode())
    assert (release.encoding, release.bom, release.text) == (
        "utf-8",
        codecs.BOM_UTF8,
        "# Tytuł\r\n",
    )
    assert_round_trips(release)


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_utf16_and_utf32_with_bom_use_an_endian_codec(bom: bytes, encoding: str) -> None:
    text = "Warsaw, 7 квітня 2016\r\n# Заява 🙂\r\n"
    release = decode("r.md", bom + text.encode(encoding))
    assert (release.encoding, release.bom, release.text) == (encoding, bom, text)
    assert_round_trips(release)


def test_utf16_with_bom_but_broken_body_is_an_error() -> None:
    with pytest.raises(ReleaseReadError, match="utf-16-le byte-order mark"):
        decode("r.txt", codecs.BOM_UTF16_LE + "Hi".encode("utf-16-le") + b"\x00")


def test_crlf_is_kept_and_the_path_made_absolute() -> None:
    release = decode_release(Path("r.txt"), b"Line one\r\nLine two\r\n")
    assert release.text == "Line one\r\nLine two\r\n"
    assert release.path == Path.cwd() / "r.txt"


def test_valid_utf8_wins_over_a_declared_charset() -> None:
    html = '<html><head><meta charset="windows-1252"></head><p>Zażółć</p></html>'
    release = decode("r.html", html)
    assert (release.encoding, release.text, release.notice) == ("utf-8", html, None)


def test_cp1252_release_is_read_with_a_notice() -> None:
    text = "Warsaw, 7 April 2016\n\nThe President said that “reforms” are ‘ongoing’ – café.\n"
    release = decode("r.md", text.encode("cp1252"))
    assert (release.encoding, release.text) == ("cp1252", text)
    assert release.notice == "not valid UTF-8; read as cp1252 (detected)"
    assert_round_trips(release)


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1250", "Warszawa, 7 kwietnia 2016\n\nOświadczenie fundacji w sprawie reform, "
         "które podważa kompetencje przedstawicieli Komisji Europejskiej. Spotkał się z nim.\n"),
        ("cp1251", "Варшава, 7 апреля 2016 года. Заявление о многообещающих реформах в "
         "Казахстане ставит под сомнение компетентность представителей комиссии.\n"),
        ("koi8-r", "Варшава, 7 апреля 2016 года. Заявление о многообещающих реформах в "
         "Казахстане ставит под сомнение компетентность представителей комиссии.\n"),
    ],
)  # fmt: skip
def test_other_legacy_encodings_are_detected(encoding: str, text: str) -> None:
    release = decode("r.txt", text.encode(encoding))
    assert (release.encoding, release.text) == (encoding, text)
    assert release.notice == f"not valid UTF-8; read as {encoding} (detected)"


def test_html_declared_charset_is_used_when_utf8_fails() -> None:
    html = '<html><head><meta charset="iso-8859-1"><title>Caf\xe9 “x”</title></head></html>'
    release = decode("r.html", html.encode("cp1252"))
    assert (release.encoding, release.notice) == (
        "cp1252",
        "not valid UTF-8; read as cp1252 (declared in the HTML)",
    )
    assert release_meta(release).title == "Café “x”"


def test_http_equiv_charset_declaration_is_honoured() -> None:
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1250">'
        "</head><body><p>Zażółć gęślą jaźń</p></body></html>"
    )
    release = decode("r.html", html.encode("cp1250"))
    assert (release.encoding, release.text) == ("cp1250", html)


def test_invalid_bytes_in_utf8_text_are_a_clear_error() -> None:
    before = "Zażółć gęślą jaźń – ".encode()
    with pytest.raises(ReleaseReadError) as caught:
        decode("r.md", before + b"\xff" + " więcej".encode())
    assert str(caught.value) == (
        f"/releases/r.md: not valid UTF-8: invalid byte 0xff at offset {len(before)}, "
        "in text that is otherwise UTF-8"
    )


def test_legacy_multibyte_text_is_not_mistaken_for_damaged_utf8() -> None:
    text = "東京で発表されました。これは日本語のプレスリリースです。" * 3
    release = decode("r.txt", text.encode("cp932"))
    assert release.text == text
    assert release.notice is not None and release.notice.endswith("(detected)")


def test_lossy_encoding_is_refused() -> None:
    # cp932 reads 0x87 0x90 as U+2252 but writes U+2252 as 0x81 0xBE: offsets would shift.
    data = b'<html><head><meta charset="cp932"></head><body>\x87\x90</body></html>'
    with pytest.raises(ReleaseReadError, match="cannot determine the text encoding"):
        decode("r.html", data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=300))
def test_any_bytes_either_round_trip_or_are_refused(data: bytes) -> None:
    try:
        release = decode("r.txt", data)
    except ReleaseReadError as err:
        assert "\n" not in str(err)
    else:
        assert_round_trips(release)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(min_size=1, max_size=200).filter(lambda t: t.strip() and "\x00" not in t),
    bom_and_codec=st.sampled_from(
        [
            (b"", "utf-8"),
            (codecs.BOM_UTF8, "utf-8"),
            (codecs.BOM_UTF16_LE, "utf-16-le"),
            (codecs.BOM_UTF16_BE, "utf-16-be"),
            (codecs.BOM_UTF32_LE, "utf-32-le"),
            (codecs.BOM_UTF32_BE, "utf-32-be"),
        ]
    ),
)
def test_unicode_text_decodes_to_itself(text: str, bom_and_codec: tuple[bytes, str]) -> None:
    bom, codec = bom_and_codec
    try:
        data = bom + text.encode(codec)
    except UnicodeEncodeError:  # lone surrogates have no encoding
        return
    if bom == b"" and text[:1] == "\ufeff":
        return  # reads as a UTF-8 byte-order mark, by design
    try:
        release = decode("r.txt", data)
    except ReleaseReadError as err:  # text that happens to start like a binary format
        assert "binary file" in err.reason
        return
    assert (release.text, release.encoding, release.bom) == (text, codec, bom)


# --- refused files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"PK\x03\x04\x14\x00\x06\x00",
        b"GIF89a\x01\x00\x01\x00",
        b"\xff\xd8\xff\xe0\x00\x10JFIF",
        b"plain text\x00with a NUL byte",
    ],
)
def test_binary_file_is_refused_naming_the_file(data: bytes) -> None:
    with pytest.raises(ReleaseReadError) as caught:
        decode("image.md", data)
    assert str(caught.value).startswith("/releases/image.md: binary file (")
    assert caught.value.path == Path("/releases/image.md")


@pytest.mark.parametrize("data", [b"", b" \r\n\t \n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n"])
def test_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(ReleaseReadError, match="empty file"):
        decode("r.md", data)


def test_whitespace_only_utf16_file_is_refused() -> None:
    with pytest.raises(ReleaseReadError, match="empty file"):
        decode("r.md", codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"))


def test_error_message_is_one_line_even_for_odd_file_names() -> None:
    err = ReleaseReadError(Path("/releases/bad\nname.md"), "empty file")
    assert str(err) == "/releases/bad\\nname.md: empty file"


# --- reading bytes -------------------------------------------------------------------------------


def test_read_bytes_returns_the_bytes_exactly(tmp_path: Path) -> None:
    content = codecs.BOM_UTF8 + b"line\r\nline\n"
    assert read_bytes(touch(tmp_path / "r.md", content), max_size=100) == content


def test_file_of_exactly_max_size_is_read(tmp_path: Path) -> None:
    assert len(read_bytes(touch(tmp_path / "r.md", b"x" * 100), max_size=100)) == 100


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.touch()
    os.truncate(path, 50 * 1024 * 1024)  # sparse: takes no space, would take time to read
    with pytest.raises(ReleaseReadError) as caught:
        read_bytes(path, max_size=5 * MB)
    assert str(caught.value) == f"{path}: 52.4 MB exceeds sources.max_size (5.0 MB)"
    assert caught.value.reason == "52.4 MB exceeds sources.max_size (5.0 MB)"


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read a file without permissions")
    path = touch(tmp_path / "secret.md")
    path.chmod(0)
    try:
        with pytest.raises(ReleaseReadError, match="permission denied"):
            read_bytes(path, max_size=MB)
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseReadError, match="is a directory") as caught:
        read_bytes(tmp_path, max_size=MB)
    assert str(caught.value).startswith(f"{tmp_path}: ")


def test_vanished_file_is_refused(tmp_path: Path) -> None:
    path = touch(tmp_path / "gone.md")
    path.unlink()
    with pytest.raises(ReleaseReadError, match="no such file"):
        read_bytes(path, max_size=MB)


def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.md"
    os.mkfifo(path)
    with pytest.raises(ReleaseReadError, match="not a regular file"):
        read_bytes(path, max_size=MB)


# --- finding files -------------------------------------------------------------------------------


def test_recursive_glob_finds_nested_files(tmp_path: Path) -> None:
    top = touch(tmp_path / "releases" / "a.md")
    deep = touch(tmp_path / "releases" / "2016" / "04" / "b.md")
    touch(tmp_path / "releases" / "c.html")
    paths, warnings = find_releases(["releases/**/*.md"], tmp_path)
    assert (paths, warnings) == ([deep, top], [])


def test_glob_matching_nothing_warns_naming_the_pattern(tmp_path: Path) -> None:
    touch(tmp_path / "releases" / "a.md")
    paths, warnings = find_releases(["releases/*.md", "releases/*.txt"], tmp_path)
    assert paths == [tmp_path / "releases" / "a.md"]
    assert warnings == ["sources.paths: 'releases/*.txt' matches no files"]


def test_results_are_sorted_and_deduplicated(tmp_path: Path) -> None:
    names = ["b.md", "a.md", "c.md"]
    for name in names:
        touch(tmp_path / "releases" / name)
    paths, _ = find_releases(["releases/*.md", "releases/**/*.md", "./releases/a.md"], tmp_path)
    assert paths == [tmp_path / "releases" / name for name in sorted(names)]


def test_directories_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "releases" / "folder.md").mkdir(parents=True)
    release = touch(tmp_path / "releases" / "a.md")
    paths, warnings = find_releases(["releases/*.md"], tmp_path)
    assert (paths, warnings) == ([release], [])


def test_absolute_glob_ignores_base_dir(tmp_path: Path) -> None:
    release = touch(tmp_path / "elsewhere" / "a.md")
    paths, _ = find_releases([str(tmp_path / "elsewhere" / "*.md")], tmp_path / "unrelated")
    assert paths == [release]


def test_relative_base_dir_gives_absolute_paths(tmp_path: Path) -> None:
    release = touch(tmp_path / "site" / "releases" / "a.md")
    paths, _ = find_releases(["releases/*.md"], Path(os.path.relpath(tmp_path / "site")))
    assert paths == [release]
    assert paths[0].is_absolute()
