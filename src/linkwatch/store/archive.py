"""Archive look-ups, the persistent save queue and each citation's chosen snapshot."""

from __future__ import annotations

from sqlite_utils import Database

from linkwatch.store.base import StoreBase


def m0004_archive(db: Database) -> None:
    """Schema step 0004_archive."""


class ArchiveMixin(StoreBase):
    """Queries of this concern; SQL stays inside the store package."""
