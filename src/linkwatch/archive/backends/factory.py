"""The backend the settings name, built for one run."""

from __future__ import annotations

import os
from collections.abc import Mapping

from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.pywb import Pywb
from linkwatch.archive.backends.wayback import SaveKeys, WaybackMachine
from linkwatch.archive.protocol import Archive
from linkwatch.config.settings import ArchiveBackend, Settings

__all__ = ["LOOKUP_CONCURRENCY", "archive_base_url", "open_archive"]

LOOKUP_CONCURRENCY = 16  # requests in flight to the archive


def archive_base_url(settings: Settings) -> str:
    """Where the configured backend lives (used for messages and to trust its host)."""
    if settings.archive.backend is ArchiveBackend.PYWB:
        return settings.archive.pywb_url
    return settings.archive.wayback_url


def open_archive(
    settings: Settings,
    environ: Mapping[str, str] = os.environ,
    *,
    concurrency: int = LOOKUP_CONCURRENCY,
) -> Archive:
    """The backend `archive.backend` names; use it with `async with`.

    Save Page Now 2 keys come from the environment only (`SaveKeys.from_env`);
    ArchiveError when just one of the two is set.
    """
    options = archive_options(
        settings.check.user_agent,
        allow_private=settings.check.allow_private,
        concurrency=concurrency,
    )
    archive = settings.archive
    if archive.backend is ArchiveBackend.PYWB:
        return Pywb(archive.pywb_url, archive.pywb_collection, options)
    return WaybackMachine(archive.wayback_url, options, keys=SaveKeys.from_env(environ))
