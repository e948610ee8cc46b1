"""One spelling per URL, so the store keeps one row however a release wrote it.

Normalisation only undoes differences no server can see: the case of scheme and
host, Unicode versus punycode hosts, an explicit default port, raw versus
percent-encoded UTF-8, the hex case of escapes, an empty path, and the fragment
(browsers never send it). Everything a server might read differently stays as
written: the query's order, dot segments, a trailing slash, escapes of
unreserved characters.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

import idna


class InvalidURL(ValueError):
    """A URL linkwatch cannot check; str() is a one-line reason."""


_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
# RFC 3986 characters left as they are; everything else is percent-encoded as UTF-8.
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = _PATH_SAFE + "?"
_USERINFO_SAFE = "!$&'()*+,;=:"
_ASCII_LABEL = re.compile(r"[a-z0-9_-]*")


def normalise_url(url: str) -> str:
    """The key under which the store keeps one row per URL; raises InvalidURL."""
    _refuse_invisible_characters(url)
    try:
        parts = urlsplit(url)
    except ValueError as err:  # e.g. an unclosed IPv6 bracket
        raise InvalidURL(f"malformed URL: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL(
            f"scheme {parts.scheme!r} is not http or https" if scheme else "no http(s) scheme"
        )
    userinfo, host, port = _split_netloc(parts.netloc)
    netloc = _normalise_host(host)
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if userinfo is not None:
        netloc = f"{_encode(userinfo, _USERINFO_SAFE)}@{netloc}"
    path = _encode(parts.path, _PATH_SAFE) or "/"
    query = _encode(parts.query, _QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def is_http_url(url: str) -> bool:
    """True when linkwatch can check the URL (normalise_url accepts it)."""
    try:
        normalise_url(url)
    except InvalidURL:
        return False
    return True


def _refuse_invisible_characters(url: str) -> None:
    """A space or control character means the extractor cut the URL wrongly: never guess."""
    if url.isascii() and url.isprintable() and " " not in url:
        return  # the common case, without a per-character lookup
    for char in url:
        category = unicodedata.category(char)
        if char.isspace() or category == "Zs":
            raise InvalidURL(f"contains whitespace (U+{ord(char):04X})")
        if category == "Cc":
            raise InvalidURL(f"contains a control character (U+{ord(char):04X})")


def _split_netloc(netloc: str) -> tuple[str | None, str, int | None]:
    """(userinfo, host, port) from 'user@host:port'; IPv6 literals keep their brackets."""
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]") + 1
        host, rest = hostport[:end], hostport[end:]
        port_text = rest.removeprefix(":") if rest.startswith(":") or not rest else None
        if port_text is None:
            raise InvalidURL(f"malformed host {hostport!r}")
    else:
        host, _, port_text = hostport.partition(":")
    if not host or host == "[]":
        raise InvalidURL("no host")
    return (userinfo or None), host, _parse_port(port_text)


def _parse_port(text: str) -> int | None:
    """None when absent or empty ('host:' means the default port)."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 65535:
        raise InvalidURL(f"invalid port {text!r}")
    return int(text)


def _normalise_host(host: str) -> str:
    """Lower-case, punycode for non-ASCII labels (IDNA 2008 with UTS #46 mapping).

    Labels are encoded one by one so that an ASCII label IDNA 2008 dislikes, such as
    one with an underscore (common in real host names), does not reject the whole URL.
    """
    if host.startswith("["):
        return host.lower()
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        labels = mapped.split(".")
        if "" in labels[:-1]:  # only the last may be empty: 'example.org.' is a full name
            raise idna.IDNAError("empty label")
        labels = [_encode_label(label) for label in labels]
    except idna.IDNAError as err:
        raise InvalidURL(f"host {host!r} is not IDNA-encodable: {err}") from None
    return ".".join(labels)


def _encode_label(label: str) -> str:
    if not label.isascii():
        return idna.alabel(label).decode("ascii")
    if not _ASCII_LABEL.fullmatch(label):
        raise idna.IDNAError(f"invalid character in label {label!r}")
    return label


def _encode(component: str, safe: str) -> str:
    """Percent-encode as UTF-8; existing escapes are kept (hex upper-cased), not doubled.

    A '%' not followed by two hex digits is literal, so it becomes %25.
    """
    pieces: list[str] = []
    position = 0
    for escape in _ESCAPE.finditer(component):
        pieces.append(quote(component[position : escape.start()], safe=safe))
        pieces.append(escape.group().upper())
        position = escape.end()
    pieces.append(quote(component[position:], safe=safe))
    return "".join(pieces)
