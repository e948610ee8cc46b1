"""The web archives asked for captures: a list in the shape of MemGator's `archives.json`.

Each entry names an archive (`id`, `name`) and its Memento endpoints: a TimeMap
(`timemap`, the URL to which the cited URL is appended) and a TimeGate
(`timegate`, likewise). MemGator's `ignore` flag keeps an entry in the list
without asking it. linkwatch adds three optional keys of its own: `cdx` (a
Wayback CDX endpoint, which answers with each capture's HTTP status, so that
captured error pages are known before any replay), `concurrency` (look-ups in
flight to that archive) and `timeout` (seconds per request).

The list is data, not code, so an operator can replace it (`archive.lookup` in
the config, or `archive.lookup_file` pointing at a JSON file of the same
shape) when an archive moves, closes or asks not to be queried. The built-in
list (`archives.json` beside this module) holds the archives that answer
Memento today, taken from MemGator's own list; the README cites the source of
each endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from linkwatch.errors import ConfigError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TIMEOUT",
    "ArchiveSpec",
    "archive_names",
    "archives_to_ask",
    "as_archive_list",
    "default_archives",
    "parse_archives",
    "read_archive_file",
]

DEFAULT_CONCURRENCY = 4  # look-ups in flight to one archive: national archives are small
DEFAULT_TIMEOUT = 30.0  # seconds per request to one archive
_KNOWN = frozenset({"id", "name", "timemap", "timegate", "cdx", "concurrency", "timeout", "ignore"})
_MEMGATOR_ONLY = frozenset({"probability"})  # MemGator's own keys, read and left alone


@dataclass(frozen=True, slots=True)
class ArchiveSpec:
    """One archive of the look-up list: where to ask it, and how hard."""

    id: str  # stored with every capture found there (`snapshots.source`)
    name: str  # for people: reports, the rewrite's wording
    timemap: str  # the cited URL is appended
    timegate: str  # the cited URL is appended
    cdx: str | None = None  # a Wayback CDX endpoint, used instead of the TimeMap
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    ignore: bool = False  # kept in the list, never asked

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Every URL this archive is asked through: what the guard trusts it for."""
        return tuple(url for url in (self.timemap, self.timegate, self.cdx) if url)


def _http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _entry(raw: object, where: str) -> ArchiveSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected an object with id, name, timemap, timegate")
    unknown = sorted(set(raw) - _KNOWN - _MEMGATOR_ONLY)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})"
        )
    for key in ("id", "name"):
        if not isinstance(raw.get(key), str) or not str(raw.get(key)).strip():
            raise ConfigError(f"{where}: {key!r} must be a non-empty string")
    for key in ("timemap", "timegate"):
        if not _http_url(raw.get(key)):
            raise ConfigError(f"{where}: {key!r} must be an http(s) URL, got {raw.get(key)!r}")
    cdx = raw.get("cdx")
    if cdx is not None and not _http_url(cdx):
        raise ConfigError(f"{where}: 'cdx' must be an http(s) URL, got {cdx!r}")
    concurrency = raw.get("concurrency", DEFAULT_CONCURRENCY)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"{where}: 'concurrency' must be an integer >= 1, got {concurrency!r}")
    timeout = raw.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{where}: 'timeout' must be a number of seconds > 0, got {timeout!r}")
    ignore = raw.get("ignore", False)
    if not isinstance(ignore, bool):
        raise ConfigError(f"{where}: 'ignore' must be true or false, got {ignore!r}")
    return ArchiveSpec(
        id=str(raw["id"]).strip(),
        name=str(raw["name"]).strip(),
        timemap=str(raw["timemap"]),
        timegate=str(raw["timegate"]),
        cdx=None if cdx is None else str(cdx),
        concurrency=concurrency,
        timeout=float(timeout),
        ignore=ignore,
    )


def parse_archives(data: object, where: str) -> tuple[ArchiveSpec, ...]:
    """A list of archives from parsed JSON or TOML; ConfigError naming `where`, entry and key."""
    if not isinstance(data, Sequence) or isinstance(data, str | bytes):
        raise ConfigError(f"{where}: expected a list of archives")
    specs = tuple(_entry(raw, f"{where}[{index}]") for index, raw in enumerate(data))
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if spec.id in seen:
            raise ConfigError(f"{where}[{index}]: the id {spec.id!r} is listed twice")
        seen.add(spec.id)
    return specs


def read_archive_file(path: Path) -> tuple[ArchiveSpec, ...]:
    """The list in a JSON file of MemGator's `archives.json` shape."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the archive list: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the archive list is not UTF-8") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        line = getattr(err, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: not JSON: {err}") from None
    return parse_archives(data, str(path))


def default_archives() -> tuple[ArchiveSpec, ...]:
    """The built-in list (`archives.json`, shipped with linkwatch)."""
    text = resources.files("linkwatch.archive").joinpath("archives.json").read_text("utf-8")
    return parse_archives(json.loads(text), "linkwatch/archive/archives.json")


def archives_to_ask(
    lookup: Sequence[ArchiveSpec], lookup_file: Path | None, backend_url: str
) -> list[ArchiveSpec]:
    """The entries to ask besides the backend: not `ignore`d, and not the backend itself.

    The backend (the Internet Archive by default) is looked up through its CDX API
    already, which also says each capture's status; its entry in the list would
    ask it a second time.
    """
    specs = read_archive_file(lookup_file) if lookup_file is not None else lookup
    backend = _origin(backend_url)
    return [
        spec
        for spec in specs
        if not spec.ignore and all(_origin(url) != backend for url in spec.endpoints)
    ]


def archive_names(lookup: Sequence[ArchiveSpec], lookup_file: Path | None) -> dict[str, str]:
    """Archive id -> name for the archives of the look-up list (the rewrite's wording).

    An unreadable list file gives no names rather than stopping a rewrite: the
    archive run says what is wrong with it.
    """
    try:
        specs = read_archive_file(lookup_file) if lookup_file is not None else lookup
    except ConfigError:
        specs = lookup
    return {spec.id: spec.name for spec in specs}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port or default)


def as_archive_list(value: object, base_dir: Path) -> tuple[ArchiveSpec, ...]:
    """The `archive.lookup` key: "default" (the built-in list) or an array of tables."""
    from linkwatch.config.values import Invalid  # the config's own error type

    if value == "default":
        return default_archives()
    if not isinstance(value, list):
        raise Invalid('an array of archives, or "default"', wrong_type=True)
    try:
        return parse_archives(value, "archive.lookup")
    except ConfigError as err:
        raise Invalid(f"a list of archives ({err})", wrong_type=False) from None
