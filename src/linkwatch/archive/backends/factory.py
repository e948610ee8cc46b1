"""The backends the settings name, built for one run: the look-up archive and the save targets."""

from __future__ import annotations

import os
from collections.abc import Mapping

from linkwatch.archive.backends.client import archive_options
from linkwatch.archive.backends.perma import PermaCC, PermaKey
from linkwatch.archive.backends.pywb import Pywb
from linkwatch.archive.backends.wayback import SaveKeys, WaybackMachine
from linkwatch.archive.protocol import Archive
from linkwatch.config.settings import ArchiveBackend, SaveTarget, Settings
from linkwatch.net.session import NetOptions

__all__ = [
    "LOOKUP_CONCURRENCY",
    "archive_base_url",
    "open_archive",
    "open_save_archives",
    "save_base_url",
]

LOOKUP_CONCURRENCY = 16  # requests in flight to the archive


def archive_base_url(settings: Settings) -> str:
    """Where the configured backend lives (used for messages and to trust its host)."""
    if settings.archive.backend is ArchiveBackend.PYWB:
        return settings.archive.pywb_url
    return settings.archive.wayback_url


def save_base_url(target: SaveTarget, settings: Settings) -> list[str]:
    """Where a save target lives: its API, and where its captures are read."""
    archive = settings.archive
    if target is SaveTarget.PYWB:
        return [archive.pywb_url]
    if target is SaveTarget.PERMA:
        return [archive.perma_api_url, archive.perma_url]
    return [archive.wayback_url]


def _options(settings: Settings, concurrency: int) -> NetOptions:
    return archive_options(
        settings.check.user_agent,
        allow_private=settings.check.allow_private,
        concurrency=concurrency,
    )


def _wayback(settings: Settings, environ: Mapping[str, str], concurrency: int) -> WaybackMachine:
    return WaybackMachine(
        settings.archive.wayback_url,
        _options(settings, concurrency),
        keys=SaveKeys.from_env(environ),
        if_not_archived_within=settings.archive.if_not_archived_within,
    )


def _pywb(settings: Settings, concurrency: int) -> Pywb:
    archive = settings.archive
    return Pywb(archive.pywb_url, archive.pywb_collection, _options(settings, concurrency))


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
    if settings.archive.backend is ArchiveBackend.PYWB:
        return _pywb(settings, concurrency)
    return _wayback(settings, environ, concurrency)


def open_save_archives(
    settings: Settings,
    environ: Mapping[str, str] = os.environ,
    *,
    primary: Archive,
    given: Mapping[str, Archive] | None = None,
) -> dict[str, Archive]:
    """Each archive of `archive.save_to`, by name, in that order; use each with `async with`.

    The look-up archive (`primary`) is reused when it is also a save target, so
    one session serves both. ArchiveError for a target without its key
    (LINKWATCH_PERMA_API_KEY): a misconfiguration, said before any work.
    """
    archives: dict[str, Archive] = {}
    for target in settings.archive.save_to:
        name = target.value
        if given is not None and name in given:
            archives[name] = given[name]
        elif primary.name == name:
            archives[name] = primary
        elif target is SaveTarget.PERMA:
            archive = settings.archive
            archives[name] = PermaCC(
                archive.perma_api_url,
                archive.perma_url,
                PermaKey.from_env(environ),
                _options(settings, LOOKUP_CONCURRENCY),
                folder=archive.perma_folder,
            )
        elif target is SaveTarget.PYWB:
            archives[name] = _pywb(settings, LOOKUP_CONCURRENCY)
        else:
            archives[name] = _wayback(settings, environ, LOOKUP_CONCURRENCY)
    return archives
