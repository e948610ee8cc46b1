"""Reading releases: which files, their bytes, their format and encoding, their date and title.

Everything downstream works on byte offsets into the file as stored, so a
release is only returned when its text re-encodes to exactly the bytes on disk
(`bom + text.encode(encoding) == data`); a lossy decode is refused instead.

The encoding is decided in a fixed order, cheapest and most certain first: a
byte-order mark, then strict UTF-8, then (HTML only) the page's own charset
declaration, then charset-normalizer's guess. The guess is slow, so it runs only
for files that are not UTF-8.

The publication date is taken from the most trusted source present: the
configured override, front matter, HTML meta data, a dateline near the top,
and only then the file's modification time, which is flagged as a guess.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import glob
import html
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import yaml
from charset_normalizer import CharsetMatch, from_bytes

from linkwatch.model import DateSource, Format, ReleaseMeta

__all__ = [
    "ReleaseFile",
    "ReleaseReadError",
    "decode_release",
    "find_releases",
    "read_bytes",
    "release_meta",
]


class ReleaseReadError(Exception):
    """A release that could not be read; str(err) is one line: '<path>: <reason>'."""

    path: Path
    reason: str

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = _one_line(reason)

    def __str__(self) -> str:
        return f"{_one_line(str(self.path))}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    """A release decoded losslessly: `bom + text.encode(encoding) == data` always holds."""

    path: Path
    data: bytes
    format: Format
    encoding: str
    bom: bytes
    text: str
    notice: str | None


def _one_line(text: str) -> str:
    """Escapes control characters, so that a newline in a file name cannot split a message."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], text)


# --- finding files -------------------------------------------------------------------------------


def find_releases(patterns: Sequence[str], base_dir: Path) -> tuple[list[Path], list[str]]:
    """Expand globs (relative to base_dir unless absolute; `**` recursive) to files.

    Paths are made absolute but symlinks are not resolved, so that a release
    inside base_dir keeps a name relative to it. Anything that is not a regular
    file (directories, broken links, pipes) is skipped: reading a pipe would block.
    As in the shell, `*` and `**` do not match names starting with a dot.
    """
    root = os.path.abspath(base_dir)
    found: set[Path] = set()
    warnings: list[str] = []
    for pattern in patterns:
        files = [path for path in _expand_glob(pattern, root) if _is_regular_file(path)]
        if not files:
            warnings.append(f"sources.paths: {pattern!r} matches no files")
        found.update(files)
    return sorted(found), warnings


def _expand_glob(pattern: str, root: str) -> list[Path]:
    expanded = os.path.expanduser(pattern)
    if os.path.isabs(expanded):
        names = glob.glob(expanded, recursive=True)
    else:
        relative = glob.glob(expanded, root_dir=root, recursive=True)
        names = [os.path.join(root, name) for name in relative]
    return [Path(os.path.normpath(name)) for name in names]


def _is_regular_file(path: Path) -> bool:
    """Unlike Path.is_file, never raises (a permission error on stat just means 'skip')."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


# --- reading bytes -------------------------------------------------------------------------------


def read_bytes(path: Path, *, max_size: int) -> bytes:
    """Read a release's bytes, refusing oversized files before reading any of them.

    The file is opened non-blocking and checked with fstat, so that a pipe
    swapped in after globbing cannot hang the scan, and the size checked is the
    size of the file actually opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        raise ReleaseReadError(path, _os_error_reason(err)) from err
    try:
        _check_readable_size(path, os.fstat(fd), max_size)
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(max_size + 1)
    except OSError as err:
        raise ReleaseReadError(path, _os_error_reason(err)) from err
    finally:
        os.close(fd)
    if len(data) > max_size:
        limit = _human_size(max_size)
        raise ReleaseReadError(path, f"grew past sources.max_size ({limit}) while being read")
    return data


def _check_readable_size(path: Path, info: os.stat_result, max_size: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise ReleaseReadError(path, "cannot read: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise ReleaseReadError(path, "cannot read: not a regular file")
    if info.st_size > max_size:
        size, limit = _human_size(info.st_size), _human_size(max_size)
        raise ReleaseReadError(path, f"{size} exceeds sources.max_size ({limit})")


def _os_error_reason(err: OSError) -> str:
    reasons = {
        errno.ENOENT: "cannot read: no such file (removed since it was found?)",
        errno.EACCES: "cannot read: permission denied",
        errno.EPERM: "cannot read: permission denied",
        errno.EISDIR: "cannot read: is a directory",
        errno.ELOOP: "cannot read: too many levels of symbolic links",
    }
    return reasons.get(err.errno or 0, f"cannot read: {err.strerror or err}")


def _human_size(size: int) -> str:
    """Decimal units (1 MB = 1,000,000 bytes), as sources.max_size is written ("5MB")."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 999.95:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} TB"


# --- bytes to text -------------------------------------------------------------------------------

# UTF-32 LE must come before UTF-16 LE: its mark starts with the same two bytes.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive or office document"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"PK\x07\x08", "ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy office document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
)

_NUL_WINDOW = 8192
_CHARSET_WINDOW = 2048
_SNIFF_CHARS = 4096

# The HTML standard reads these labels as windows-1252; browsers do, so authors wrote for that.
_WINDOWS_1252_ALIASES = frozenset({"iso8859-1", "ascii"})

# Most used first. They break ties between guesses charset-normalizer finds equally clean,
# and are tried alone when its best guess reads as no language at all.
_COMMON_LEGACY_CODECS = (
    "cp1252",
    "cp1250",
    "cp1251",
    "iso8859-2",
    "koi8-r",
    "koi8-u",
    "iso8859-15",
    "cp1257",
)
_UNICODE_CODECS = frozenset(
    {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
)
_TIE_CHAOS = 0.01
_TIE_COHERENCE = 0.05
_INTACT_PER_BROKEN = 4

_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)


def decode_release(path: Path, data: bytes) -> ReleaseFile:
    """Decide a release's encoding and format; refuses empty, binary and undecodable files."""
    if not data:
        raise ReleaseReadError(path, "empty file")
    if data.isspace():
        raise ReleaseReadError(path, "empty file (whitespace only)")
    bom, bom_encoding = _find_bom(data)
    if not bom_encoding.startswith(("utf-16", "utf-32")):
        _refuse_binary(path, data[len(bom) :])
    extension_format = _format_from_extension(path)
    if bom:
        encoding, text, notice = _decode_with_bom(path, data, bom, bom_encoding)
    else:
        encoding, text, notice = _decode_without_bom(path, data, extension_format)
    if not text or text.isspace():
        raise ReleaseReadError(path, "empty file (whitespace only)")
    if not _round_trips(data, bom, text, encoding):
        raise ReleaseReadError(path, f"{encoding} does not re-encode to the same bytes")
    return ReleaseFile(
        path=Path(os.path.abspath(path)),
        data=data,
        format=extension_format or _sniff_format(text),
        encoding=encoding,
        bom=bom,
        text=text,
        notice=notice,
    )


def _round_trips(data: bytes, bom: bytes, text: str, encoding: str) -> bool:
    """Byte offsets computed on the text are only right if this holds."""
    try:
        return memoryview(data)[len(bom) :] == text.encode(encoding)
    except UnicodeEncodeError:
        return False


def _find_bom(data: bytes) -> tuple[bytes, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return bom, encoding
    return b"", ""


def _refuse_binary(path: Path, data: bytes) -> None:
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise ReleaseReadError(path, f"binary file ({kind}), not a text release")
    if data.find(b"\x00", 0, _NUL_WINDOW) != -1:
        raise ReleaseReadError(path, "binary file (NUL bytes), not a text release")


def _decode_with_bom(
    path: Path, data: bytes, bom: bytes, encoding: str
) -> tuple[str, str, str | None]:
    try:
        return encoding, data[len(bom) :].decode(encoding), None
    except UnicodeDecodeError as err:
        where = _describe_decode_error(err, offset=len(bom))
        raise ReleaseReadError(path, f"has a {encoding} byte-order mark but {where}") from err


def _decode_without_bom(
    path: Path, data: bytes, extension_format: Format | None
) -> tuple[str, str, str | None]:
    try:
        return "utf-8", data.decode("utf-8"), None
    except UnicodeDecodeError as err:
        utf8_error = err
    if _mostly_utf8(data):
        where = _describe_decode_error(utf8_error, offset=0)
        raise ReleaseReadError(path, f"not valid UTF-8: {where}, in text that is otherwise UTF-8")
    if _may_be_html(data, extension_format):
        declared = _decode_as_declared(data)
        if declared is not None:
            encoding, text = declared
            return encoding, text, f"not valid UTF-8; read as {encoding} (declared in the HTML)"
    detected = _decode_as_detected(data)
    if detected is None:
        where = _describe_decode_error(utf8_error, offset=0)
        raise ReleaseReadError(path, f"cannot determine the text encoding: not UTF-8 ({where})")
    encoding, text = detected
    return encoding, text, f"not valid UTF-8; read as {encoding} (detected)"


def _describe_decode_error(err: UnicodeDecodeError, *, offset: int) -> str:
    bad = err.object[err.start : err.start + 1].hex()
    return f"invalid byte 0x{bad} at offset {err.start + offset}"


def _may_be_html(data: bytes, extension_format: Format | None) -> bool:
    if extension_format is not None:
        return extension_format is Format.HTML
    return _sniff_format(data[:_SNIFF_CHARS].decode("latin-1")) is Format.HTML


def _decode_as_declared(data: bytes) -> tuple[str, str] | None:
    """The charset a page declares in its first 2 KiB: the author's word beats a guess."""
    match = _DECLARED_CHARSET.search(data, 0, _CHARSET_WINDOW)
    if match is None:
        return None
    label = (match.group(1) or match.group(2)).decode("ascii")
    encoding = _normalise_codec(label)
    if encoding is None or encoding == "utf-8":
        return None
    candidates = ["cp1252", encoding] if encoding in _WINDOWS_1252_ALIASES else [encoding]
    for candidate in candidates:
        text = _decode_losslessly(data, candidate)
        if text is not None:
            return candidate, text
    return None


def _mostly_utf8(data: bytes) -> bool:
    """UTF-8 with a few damaged bytes, rather than a legacy encoding.

    Read as a legacy encoding, every intact UTF-8 character would turn into
    mojibake; refusing with the offset of the bad byte lets the author fix it.
    Legacy multi-byte text (Shift-JIS, GBK) also forms valid UTF-8 pairs by
    chance, but about as many broken ones: hence a clear majority is required.
    """
    decoded = data.decode("utf-8", errors="replace")
    broken = decoded.count("\ufffd")
    intact = len(decoded) - len(decoded.encode("ascii", errors="ignore")) - broken
    return intact >= _INTACT_PER_BROKEN * broken


def _decode_as_detected(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's guess, with its ties broken in favour of common legacy encodings.

    On short or mostly-ASCII text it ranks several codecs as equally clean and
    picks an arbitrary one (cp852 for English with curly quotes); among those
    the one releases were actually written in is far more likely cp1252.
    UTF-16/32 guesses are dropped: text without NUL bytes is not UTF-16/32.
    """
    matches = _detect(data)
    if not matches or matches[0].coherence == 0:
        # Its best guess reads as no known language, and it does not always try the
        # common codecs (KOI8-R Russian comes out as Shift-JIS): ask among those alone.
        common = _detect(data, among=_COMMON_LEGACY_CODECS)
        if common and (not matches or common[0].coherence > matches[0].coherence):
            matches = common + matches
    for encoding in _ranked_encodings(matches):
        text = _decode_losslessly(data, encoding)
        if text is not None:
            return encoding, text
    return None


def _detect(data: bytes, among: Sequence[str] | None = None) -> list[CharsetMatch]:
    isolation = list(among) if among is not None else None
    return [
        match
        for match in from_bytes(data, cp_isolation=isolation)
        if _normalise_codec(match.encoding) not in _UNICODE_CODECS
    ]


def _ranked_encodings(matches: Sequence[CharsetMatch]) -> list[str]:
    if not matches:
        return []
    best = matches[0]
    tied = {
        name
        for match in matches
        if match.chaos <= best.chaos + _TIE_CHAOS
        and match.coherence >= best.coherence - _TIE_COHERENCE
        for name in (_normalise_codec(label) for label in match.could_be_from_charset)
        if name is not None
    }
    preferred = [name for name in _COMMON_LEGACY_CODECS if name in tied]
    guessed = [name for name in (_normalise_codec(m.encoding) for m in matches) if name is not None]
    return list(dict.fromkeys(preferred + guessed))


def _normalise_codec(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode_losslessly(data: bytes, encoding: str) -> str | None:
    try:
        text = data.decode(encoding)
        same = text.encode(encoding) == data
    except (UnicodeError, LookupError):
        return None
    return text if same else None


# --- format --------------------------------------------------------------------------------------

_EXTENSION_FORMATS = {
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".xhtml": Format.HTML,
    ".txt": Format.TEXT,
}

_COMMON_HTML_TAG = re.compile(
    r"<(html|head|body|title|meta|link|div|span|p|a|br|hr|img|h[1-6]|ul|ol|li|table|tr|td"
    r"|strong|em|b|i|section|article|header|footer|nav|script|style)\b[^>]*>",
    re.IGNORECASE,
)
_MARKDOWN_SIGNAL = re.compile(
    r"^ {0,3}#{1,6}[ \t]+\S"  # ATX heading
    r"|!?\[[^\]\n]+\]\([^)\s]+[^)\n]*\)"  # [text](url)
    r"|^ {0,3}\[\^[^\]\s]+\]:",  # footnote definition
    re.MULTILINE,
)
_HTML_TAGS_NEEDED = 3


def _format_from_extension(path: Path) -> Format | None:
    return _EXTENSION_FORMATS.get(path.suffix.lower())


def _sniff_format(text: str) -> Format:
    """The format of a file whose extension does not say, from the start of its text."""
    head = text[:_SNIFF_CHARS]
    lowered = head.lstrip().lower()
    if lowered.startswith(("<!doctype html", "<html")):
        return Format.HTML
    if lowered.startswith("<?xml") and "<html" in lowered:
        return Format.HTML
    if _starts_front_matter(head):
        return Format.MARKDOWN
    tags = {match.lower() for match in _COMMON_HTML_TAG.findall(head)}
    if len(tags) >= _HTML_TAGS_NEEDED:
        return Format.HTML
    if _MARKDOWN_SIGNAL.search(head):
        return Format.MARKDOWN
    return Format.TEXT


# --- front matter --------------------------------------------------------------------------------


class _FrontMatterLoader(yaml.SafeLoader):
    """A SafeLoader that leaves timestamps as strings.

    PyYAML raises on an impossible date such as 2016-02-30, which would lose
    the whole front matter (title included); as a string it is judged alone.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)


def _starts_front_matter(text: str) -> bool:
    return text.startswith(("---\n", "---\r\n"))


def _split_front_matter(text: str) -> tuple[dict[object, object], str]:
    """Front matter mapping (empty if none or unparseable) and the text after it."""
    if not _starts_front_matter(text):
        return {}, text
    body_start = text.index("\n") + 1
    closing = _FRONT_MATTER_END.search(text, body_start)
    if closing is None:
        return {}, text
    return _load_front_matter(text[body_start : closing.start()]), text[closing.end() :]


def _load_front_matter(body: str) -> dict[object, object]:
    try:
        loaded = yaml.load(body, Loader=_FrontMatterLoader)  # a SafeLoader: no arbitrary objects
    except (yaml.YAMLError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- dates ---------------------------------------------------------------------------------------

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "januar", "jänner", "janvier", "enero", "styczeń", "stycznia",
        "январь", "января", "січень", "січня"),
    2: ("february", "feb", "februar", "février", "fevrier", "febrero", "luty", "lutego",
        "февраль", "февраля", "лютий", "лютого"),
    3: ("march", "mar", "märz", "maerz", "mars", "marzo", "marzec", "marca",
        "март", "марта", "березень", "березня"),
    4: ("april", "apr", "avril", "abril", "kwiecień", "kwietnia",
        "апрель", "апреля", "квітень", "квітня"),
    5: ("may", "mai", "mayo", "maj", "maja", "май", "мая", "травень", "травня"),
    6: ("june", "jun", "juni", "juin", "junio", "czerwiec", "czerwca",
        "июнь", "июня", "червень", "червня"),
    7: ("july", "jul", "juli", "juillet", "julio", "lipiec", "lipca",
        "июль", "июля", "липень", "липня"),
    8: ("august", "aug", "août", "aout", "agosto", "sierpień", "sierpnia",
        "август", "августа", "серпень", "серпня"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "wrzesień",
        "września", "сентябрь", "сентября", "вересень", "вересня"),
    10: ("october", "oct", "oktober", "octobre", "octubre", "październik", "października",
         "октябрь", "октября", "жовтень", "жовтня"),
    11: ("november", "nov", "novembre", "noviembre", "listopad", "listopada",
         "ноябрь", "ноября", "листопад", "листопада"),
    12: ("december", "dec", "dezember", "décembre", "decembre", "diciembre", "grudzień",
         "grudnia", "декабрь", "декабря", "грудень", "грудня"),
}  # fmt: skip
_MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names}
# Longest first, so that "april" is tried before "apr".
_MONTH = "|".join(re.escape(name) for name in sorted(_MONTHS, key=len, reverse=True))

_DATE_PATTERNS = (
    # 7 April 2016, 7 April, 2016, 7th of April 2016, 7. April 2016, 1er avril 2016,
    # 7 de abril de 2016, 7 kwietnia 2016, 7 квітня 2016
    re.compile(
        rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|\.)?(?:\s+of)?\s+(?:de\s+)?"
        rf"(?P<month>{_MONTH})\b\.?,?\s+(?:de\s+)?(?P<year>\d{{4}})(?!\d)",
        re.IGNORECASE,
    ),
    # April 7, 2016
    re.compile(
        rf"\b(?P<month>{_MONTH})\b\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
        rf"(?P<year>\d{{4}})(?!\d)",
        re.IGNORECASE,
    ),
    # 07.04.2016: day first, as written in Europe
    re.compile(r"(?<![\d.])(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})(?!\d|\.\d)"),
    # 2016-04-07
    re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?!\d)"),
)

# What may stand before a dateline's date: nothing, a place or label ended by a separator
# ("Warsaw, ", "Brussels – ", "Date: "), or a publishing verb ("Published on ").
# A sentence such as "On 30 March, 2016, ..." does not qualify.
_DATELINE_PREFIX = re.compile(
    r"[\W_]*"
    r"|.{0,60}?[,:;|–—(/•·-]\s*"
    r"|(?:published|posted|dated|released|issued|updated)(?:\s+on)?\s*",
    re.IGNORECASE,
)

# Plausible publication years; a four-digit number outside them is not a date we trust.
_MIN_YEAR, _MAX_YEAR = 1900, 2100
_DATELINE_LINES = 12
_DATELINE_CHARS = 1500
_DATELINE_SPAN = 300  # characters of a line searched: prefix, date, and markup around them
_DIGIT = re.compile(r"\d")
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class _DateMatch:
    day: dt.date
    start: int


def _dates_in(line: str) -> list[_DateMatch]:
    """Every possible date in a line, leftmost first."""
    found: list[_DateMatch] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(line):
            day = _valid_date(match["year"], match["month"], match["day"])
            if day is not None:
                found.append(_DateMatch(day, match.start()))
    return sorted(found, key=lambda found_date: found_date.start)


def _valid_date(year: str, month: str, day: str) -> dt.date | None:
    number = _MONTHS.get(month.lower()) or (int(month) if month.isdigit() else 0)
    try:
        value = dt.date(int(year), number, int(day))
    except ValueError:
        return None
    return value if _MIN_YEAR <= value.year <= _MAX_YEAR else None


def _parse_date_text(text: str) -> dt.date | None:
    """A date written as a value (front matter, meta content, datetime attribute)."""
    dates = _dates_in(text.strip())
    return dates[0].day if dates else None


def _date_value(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _parse_date_text(value)
    return None


def _find_dateline(lines: Sequence[str]) -> tuple[dt.date, int] | None:
    """The first dateline among the top lines, and the index of its line.

    Only the start of a line is read: a dateline's date comes after a short prefix at most.
    """
    for index, raw in enumerate(lines):
        start = raw[:_DATELINE_SPAN]
        if not _DIGIT.search(start):
            continue
        line = _clean_line(start)
        for found in _dates_in(line):
            if _DATELINE_PREFIX.fullmatch(line[: found.start]):
                return found.day, index
    return None


def _mtime_date(mtime: float | None) -> dt.date:
    if mtime is None:
        return _EPOCH
    try:
        return dt.date.fromtimestamp(mtime)
    except (OverflowError, OSError, ValueError):
        return _EPOCH


# --- visible text --------------------------------------------------------------------------------

_HTML_TAG = re.compile(r"<[^>\n]*>")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]+\]")
_EMPHASIS = re.compile(r"(?<![\\\w])[*_]+|(?<!\\)[*_]+(?!\w)")
_MARKUP_CHARS = re.compile(r"[\[<*_`\\]")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT_UNDERLINE = re.compile(r" {0,3}(=+|-+)[ \t]*")
_MAY_HAVE_HEADING = re.compile(r"^ {0,3}(?:#{1,6}(?:[ \t]|$)|=+[ \t]*$|-+[ \t]*$)", re.MULTILINE)
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_RULE_ONLY = re.compile(r"[\s=*_~#>-]*")
_LINE_MARKUP = re.compile(r"^\s*(?:>\s*)*(?:#{1,6}\s+)?")
# A headline line may be long (press releases run to 200+ characters in capitals); a longer
# first line is the opening paragraph, not a title.
_MAX_PLAIN_TITLE = 250


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _iter_lines(text: str) -> Iterator[str]:
    """Lines one at a time (CR of CRLF dropped), so that a scan near the top stays cheap."""
    start = 0
    while start <= len(text):
        end = text.find("\n", start)
        if end == -1:
            end = len(text)
        yield text[start:end].removesuffix("\r")
        start = end + 1


def _strip_inline_markdown(text: str) -> str:
    """Headline text as a reader sees it: no emphasis markers, links reduced to their label."""
    if not _MARKUP_CHARS.search(text):
        return _collapse(text)
    text = _IMAGE.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text).replace("`", "")
    text = _EMPHASIS.sub("", text)
    return _collapse(_ESCAPE.sub(r"\1", text))


def _top_lines(lines: Iterable[str]) -> list[str]:
    """The first non-empty lines, markup still in: where datelines and plain headlines are."""
    found: list[str] = []
    consumed = 0
    for line in lines:
        if _RULE_ONLY.fullmatch(line):
            continue
        found.append(line)
        consumed += len(line)
        if len(found) >= _DATELINE_LINES or consumed >= _DATELINE_CHARS:
            break
    return found


def _clean_line(line: str) -> str:
    return _strip_inline_markdown(_LINE_MARKUP.sub("", line))


def _unfenced_lines(text: str) -> Iterator[str]:
    """Markdown lines outside fenced code blocks (the fences themselves left out)."""
    fence: str | None = None
    for line in _iter_lines(text):
        fence_match = _FENCE.match(line)
        if fence is None and fence_match:
            fence = fence_match.group(1)
        elif fence is not None:
            if fence_match and fence_match.group(1).startswith(fence):
                fence = None
        else:
            yield line


# --- Markdown headings ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str
    position: int  # index of its first line among the non-empty lines
    after: str  # the non-empty line above it ("" at the top): is it a dateline?


@dataclass(slots=True)
class _HeadingScan:
    """Where a line scan stands: the open paragraph, and what came before it."""

    paragraph: list[str] = field(default_factory=list)
    position: int = -1
    previous: str = ""
    before_paragraph: str = ""


def _markdown_headings(text: str) -> Iterator[_Heading]:
    """ATX and setext headings outside fenced code, in document order.

    A setext heading takes the whole paragraph above its underline, as CommonMark does.
    """
    scan = _HeadingScan()
    for line in _unfenced_lines(text):
        if not line.strip():
            scan.paragraph = []
            continue
        scan.position += 1
        heading = _heading_at(line, scan)
        if heading is not None:
            scan.paragraph = []
            yield heading
        elif not line.startswith("    "):
            if not scan.paragraph:
                scan.before_paragraph = scan.previous
            scan.paragraph.append(line)
        scan.previous = line


def _heading_at(line: str, scan: _HeadingScan) -> _Heading | None:
    atx = _ATX_HEADING.fullmatch(line)
    if atx:
        text = _strip_inline_markdown(atx.group(2) or "")
        return _Heading(len(atx.group(1)), text, scan.position, scan.previous)
    underline = _SETEXT_UNDERLINE.fullmatch(line)
    if underline and scan.paragraph:
        level = 1 if underline.group(1)[0] == "=" else 2
        text = _strip_inline_markdown(" ".join(scan.paragraph))
        start = scan.position - len(scan.paragraph)
        return _Heading(level, text, start, scan.before_paragraph)
    return None


def _markdown_heading_title(text: str) -> str | None:
    """A level-1 heading near the top, else any heading opening the document, else any level-1.

    A lower heading further down is a section name ("Notes", "Contact"), never the title;
    one opening the document (perhaps below a dateline) is the headline marked up small.
    """
    if not _MAY_HAVE_HEADING.search(text):
        return None  # the common case, found without a Python loop over every line
    opening: str | None = None
    for heading in _markdown_headings(text):
        if not heading.text:
            continue
        near_top = heading.position < _DATELINE_LINES
        if heading.level == 1 and (near_top or opening is None):
            return heading.text
        if opening is None and _opens_document(heading):
            opening = heading.text
        elif opening is not None and not near_top:
            break
    return opening


def _opens_document(heading: _Heading) -> bool:
    return heading.position == 0 or (heading.position == 1 and bool(_dates_in(heading.after)))


# --- HTML ----------------------------------------------------------------------------------------

# Meta keys (property, name or itemprop, lower-cased) giving a publication date, best first.
_DATE_META_KEYS = ("article:published_time", "date", "dcterms.date", "datepublished")
_INVISIBLE_TAGS = frozenset({"script", "style", "title", "template", "noscript", "textarea"})
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
# The head and the top of the body hold all we look for; long pages are not read to the end.
_HTML_SCAN_CHARS = 65536
_HTML_CHUNK = 1024
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# Attributes are read up to the first ">", which a quoted value could hold: not in date tags.
_DATE_TAG = re.compile(r"<(meta|time)\b([^<>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>=`]+)))?""")


@dataclass(slots=True)
class _HtmlFacts:
    title: list[str] | None = None
    h1: list[str] | None = None
    visible: list[str] = field(default_factory=list)
    visible_chars: int = 0


class _HtmlScanner(HTMLParser):
    """Collects the title, the first h1 and the visible text at the top of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.facts = _HtmlFacts()
        self._in_title = False
        self._title_has_text = False
        self._h1_depth = 0
        self._h1_done = False
        self._invisible_depth = 0

    @property
    def has_enough(self) -> bool:
        """The title is known, and the top of the text seen or its dateline found.

        Lines after a dateline can change neither the date nor a plain-line title.
        """
        title_known = (self._title_has_text and not self._in_title) or self._h1_done
        if not title_known:
            return False
        if self.facts.visible_chars >= _DATELINE_CHARS:
            return True
        complete_lines = "".join(self.facts.visible).split("\n")[:-1]
        return _find_dateline(_top_lines(complete_lines)) is not None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.facts.visible.append("\n")
        if tag == "title" and self.facts.title is None:
            self._in_title, self.facts.title = True, []
        elif tag == "h1" and not self._h1_done:
            self._h1_depth += 1
            if self.facts.h1 is None:
                self.facts.h1 = []
        if tag in _INVISIBLE_TAGS:
            self._invisible_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag opens nothing; only the line break it may make counts."""
        if tag in _BLOCK_TAGS:
            self.facts.visible.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.facts.visible.append("\n")
        if tag == "title":
            self._in_title = False
        elif tag == "h1" and self._h1_depth:
            self._h1_depth -= 1
            self._h1_done = self._h1_depth == 0
        if tag in _INVISIBLE_TAGS and self._invisible_depth:
            self._invisible_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_title and self.facts.title is not None:
            self.facts.title.append(data)
            self._title_has_text = self._title_has_text or not data.isspace()
        if self._h1_depth and self.facts.h1 is not None:
            self.facts.h1.append(data)
        if not self._invisible_depth:
            collapsed = _collapse_keeping_edges(data)
            self.facts.visible.append(collapsed)
            self.facts.visible_chars += len(collapsed)


def _collapse_keeping_edges(data: str) -> str:
    """Whitespace collapsed, but a word boundary at either edge survives ("a <b>b</b>")."""
    collapsed = _collapse(data)
    if not collapsed:
        return " " if data else ""
    lead = " " if data[0].isspace() else ""
    trail = " " if data[-1].isspace() else ""
    return f"{lead}{collapsed}{trail}"


def _scan_html(text: str) -> _HtmlFacts:
    """Parses only as far as needed: html.parser is pure Python, and pages run long."""
    scanner = _HtmlScanner()
    window = text[:_HTML_SCAN_CHARS]
    try:
        for start in range(0, len(window), _HTML_CHUNK):
            scanner.feed(window[start : start + _HTML_CHUNK])
            if scanner.has_enough:
                break
        else:
            if len(text) <= _HTML_SCAN_CHARS:
                scanner.close()
    except AssertionError:
        pass  # html.parser gives up on some malformed "<![" sections; keep what it found
    return scanner.facts


def _html_meta_date(text: str) -> dt.date | None:
    """The date a page's <meta> tags give, best key first, else its first dated <time>.

    Read with a regular expression rather than the parser: these tags may sit
    anywhere in the page, and the parser stops once the top has been read.
    """
    window = text[:_HTML_SCAN_CHARS]
    if "<!--" in window:
        window = _HTML_COMMENT.sub("", window)
    meta_dates: dict[str, str] = {}
    time_values: list[str] = []
    for tag in _DATE_TAG.finditer(window):
        attributes = _tag_attributes(tag.group(2))
        if tag.group(1).lower() == "time" and attributes.get("datetime"):
            time_values.append(attributes["datetime"])
        key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop")
        value = attributes.get("content") or attributes.get("datetime")
        if key and value and key.lower() in _DATE_META_KEYS:
            meta_dates.setdefault(key.lower(), value)
    candidates = [meta_dates[key] for key in _DATE_META_KEYS if key in meta_dates]
    for value in candidates + time_values:
        found = _parse_date_text(value)
        if found is not None:
            return found
    return None


def _tag_attributes(source: str) -> dict[str, str]:
    """Attribute names lower-cased, values unescaped; the first of a repeated name wins."""
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(source):
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), "")
        attributes.setdefault(name.lower(), html.unescape(value))
    return attributes


def _html_title(facts: _HtmlFacts) -> str | None:
    for parts in (facts.title, facts.h1):
        if parts:
            title = _collapse("".join(parts))
            if title:
                return title
    return None


def _html_top_lines(facts: _HtmlFacts) -> list[str]:
    return _top_lines("".join(facts.visible).split("\n"))


# --- meta data -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What a release says about itself, before precedence is applied."""

    front_matter: dict[object, object]
    meta_date: dt.date | None
    markup_title: str | None
    top_lines: list[str]


def release_meta(
    release: ReleaseFile, *, override: dt.date | None = None, mtime: float | None = None
) -> ReleaseMeta:
    """Title and publication date (model.ReleaseMeta with model.DateSource)."""
    evidence = _gather_evidence(release)
    dateline = _find_dateline(evidence.top_lines)
    published, source = _publication_date(evidence, dateline, override, mtime)
    return ReleaseMeta(title=_title(evidence, dateline), published=published, date_source=source)


def _gather_evidence(release: ReleaseFile) -> _Evidence:
    """Front matter counts in Markdown and HTML (static site generators allow it in both)."""
    text = release.text
    if release.format is Format.TEXT:
        return _Evidence({}, None, None, _top_lines(_iter_lines(text)))
    front_matter, body = _split_front_matter(text)
    if release.format is Format.HTML:
        facts = _scan_html(body)
        return _Evidence(
            front_matter, _html_meta_date(body), _html_title(facts), _html_top_lines(facts)
        )
    title = _markdown_heading_title(body)
    return _Evidence(front_matter, None, title, _top_lines(_unfenced_lines(body)))


def _publication_date(
    evidence: _Evidence,
    dateline: tuple[dt.date, int] | None,
    override: dt.date | None,
    mtime: float | None,
) -> tuple[dt.date, DateSource]:
    if override is not None:
        return override, DateSource.OVERRIDE
    front_matter_date = _date_value(evidence.front_matter.get("date"))
    if front_matter_date is not None:
        return front_matter_date, DateSource.FRONT_MATTER
    if evidence.meta_date is not None:
        return evidence.meta_date, DateSource.HTML_META
    if dateline is not None:
        return dateline[0], DateSource.DATELINE
    return _mtime_date(mtime), DateSource.MTIME


def _title(evidence: _Evidence, dateline: tuple[dt.date, int] | None) -> str | None:
    declared = evidence.front_matter.get("title")
    if isinstance(declared, str) and _collapse(declared):
        return _collapse(declared)
    if evidence.markup_title:
        return evidence.markup_title
    return _plain_title(evidence.top_lines, None if dateline is None else dateline[1])


def _plain_title(lines: Sequence[str], dateline_index: int | None) -> str | None:
    """Press releases often carry their headline as a plain first line."""
    for index, raw in enumerate(lines):
        line = "" if index == dateline_index else _clean_line(raw[:_DATELINE_CHARS])
        if line:
            return line if len(line) <= _MAX_PLAIN_TITLE else None
    return None
