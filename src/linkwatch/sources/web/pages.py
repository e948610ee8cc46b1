"""Where a web release's body is kept, and where `rewrite --output` puts its edited copy.

The store keeps citations with their byte offsets; `rewrite` splices at those
offsets, so it needs the exact bytes they were taken from. A page's body is
kept in `state.dir/pages/`, one file per URL, named by the URL's hash.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

PAGES = "pages"

_UNSAFE = re.compile(r"[^A-Za-z0-9._~@+=,-]")


def is_web_key(key: str) -> bool:
    """A release stored under a URL rather than a file path."""
    return key.startswith(("http://", "https://"))


def body_file(state_dir: Path, url: str) -> Path:
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return state_dir / PAGES / digest[:2] / f"{digest}.html"


def keep_body(state_dir: Path, url: str, data: bytes) -> Path:
    """Write the body atomically (a reader never sees half a page)."""
    target = body_file(state_dir, url)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(f".{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, target)
    return target


def output_name(url: str) -> Path:
    """A relative file name for a page under `rewrite --output DIR`: host, then path.

    `https://ngo.example/press/2024/x/` -> `ngo.example/press/2024/x/index.html`; a
    query gets a short hash, so two pages never share a file.
    """
    parts = urlsplit(url)
    host = _UNSAFE.sub("_", (parts.netloc or "page").lower())
    segments = [
        _UNSAFE.sub("_", unquote(segment))
        for segment in PurePosixPath(parts.path or "/").parts
        if segment not in ("/", ".", "..")
    ]
    if not segments or parts.path.endswith("/"):
        segments.append("index.html")
    stem = segments[-1]
    if parts.query:
        tag = hashlib.sha256(parts.query.encode()).hexdigest()[:8]
        stem = f"{stem}_{tag}"
    if not stem.lower().endswith((".html", ".htm")):
        stem += ".html"
    segments[-1] = stem
    return Path(host, *segments)
