"""Read-only queries behind the reports: per URL, per host, changes over time."""

from __future__ import annotations

from linkwatch.store.base import StoreBase


class ReportsMixin(StoreBase):
    """Queries of the report concern; SQL stays inside the store package."""
