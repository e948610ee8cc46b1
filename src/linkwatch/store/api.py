"""Look-ups the daemon's read-only API needs beyond the report's."""

from __future__ import annotations

from linkwatch.store.base import StoreBase


class ApiMixin(StoreBase):
    """Queries of the API concern; SQL stays inside the store package."""

    def url_key_of(self, url_id: int) -> str | None:
        """The key of the URL with this id (the API names URLs by id), None if none."""
        row = self.db.execute("SELECT key FROM urls WHERE id = ?", [url_id]).fetchone()
        return None if row is None else str(row[0])
