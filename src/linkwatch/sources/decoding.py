"""A release's bytes -> its text, encoding and format, losslessly or not at all.

Everything downstream works on byte offsets into the file as stored, so a
release is only returned when its text re-encodes to exactly the bytes on disk
(`bom + text.encode(encoding) == data`); a lossy decode is refused instead.

The encoding is decided in a fixed order, cheapest and most certain first: a
byte-order mark, then strict UTF-8, then (HTML only) the page's own charset
declaration, then charset-normalizer's guess. The guess is slow, so it runs only
for files that are not UTF-8. The format comes from the extension, else from
the start of the text.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import CharsetMatch, from_bytes

from linkwatch.errors import ReleaseReadError
from linkwatch.model import Format
from linkwatch.sources.frontmatter import starts_front_matter


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
    if starts_front_matter(head):
        return Format.MARKDOWN
    tags = {match.lower() for match in _COMMON_HTML_TAG.findall(head)}
    if len(tags) >= _HTML_TAGS_NEEDED:
        return Format.HTML
    if _MARKDOWN_SIGNAL.search(head):
        return Format.MARKDOWN
    return Format.TEXT
