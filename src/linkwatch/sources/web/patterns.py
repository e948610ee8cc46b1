"""Which listed pages are releases: `include` and `exclude` URL globs.

A source's own patterns and the `sources.*` ones both apply: a page must match
an include pattern of each list that has any, and no exclude pattern at all.
Globs are matched against the whole URL, case-sensitively (paths are).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from linkwatch.config.settings import SourcesSettings, WebSource


def _any(url: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(url, pattern) for pattern in patterns)


def wanted(url: str, source: WebSource, sources: SourcesSettings) -> bool:
    for include in (source.include, sources.include):
        if include and not _any(url, include):
            return False
    return not _any(url, source.exclude) and not _any(url, sources.exclude)
