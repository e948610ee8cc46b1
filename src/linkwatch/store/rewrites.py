"""Rewrites of release files."""

from __future__ import annotations

from sqlite_utils import Database

from linkwatch.store.base import StoreBase


def m0005_rewrites(db: Database) -> None:
    """Schema step 0005_rewrites."""


class RewritesMixin(StoreBase):
    """Queries of this concern; SQL stays inside the store package."""
