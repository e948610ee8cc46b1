"""Weekly digests."""

from __future__ import annotations

from sqlite_utils import Database

from linkwatch.store.base import StoreBase


def m0006_digests(db: Database) -> None:
    """Schema step 0006_digests."""


class DigestsMixin(StoreBase):
    """Queries of this concern; SQL stays inside the store package."""
