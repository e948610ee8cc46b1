"""What the scan remembers of each web page: its validators and its listed date.

A page is a release whose path is its URL (`releases.path`); this table holds
what makes a rescan cheap: the ETag and Last-Modified of the last answer (sent
back as If-None-Match / If-Modified-Since, so an unchanged page costs a 304)
and the date its sitemap, feed or API gave it (`lastmod`: when it did not
change, the page is not asked at all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from linkwatch.store.base import StoreBase
from linkwatch.text import iso_utc


def m0009_web_pages(db: Database) -> None:
    db.table("web_pages").create(
        {
            "path": str,  # the page's URL, as releases.path
            "source": str,  # the sitemap, feed, site or list it was found in
            "etag": str,
            "last_modified": str,  # the Last-Modified header as sent
            "lastmod": str,  # the date its listing gave, as written
            "fetched_at": str,
        },
        pk="path",
    )


@dataclass(frozen=True, slots=True)
class WebPageState:
    path: str
    source: str | None
    etag: str | None
    last_modified: str | None
    lastmod: str | None
    stored: bool  # the store holds a readable version of it (releases.sha256 is set)
    sha256: str | None


class WebPagesMixin(StoreBase):
    def web_pages(self) -> dict[str, WebPageState]:
        rows = self.db.execute(
            "SELECT w.path, w.source, w.etag, w.last_modified, w.lastmod, r.sha256 "
            "FROM web_pages w LEFT JOIN releases r ON r.path = w.path"
        ).fetchall()
        return {
            path: WebPageState(path, source, etag, modified, lastmod, sha is not None, sha)
            for path, source, etag, modified, lastmod, sha in rows
        }

    def save_web_pages(self, pages: Sequence[WebPageState], now: dt.datetime) -> None:
        """Remember each page's validators, once its release is stored (or unchanged)."""
        stamp = iso_utc(now)
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO web_pages (path, source, etag, last_modified, lastmod, fetched_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
                "source = excluded.source, etag = excluded.etag, "
                "last_modified = excluded.last_modified, lastmod = excluded.lastmod, "
                "fetched_at = excluded.fetched_at",
                [(p.path, p.source, p.etag, p.last_modified, p.lastmod, stamp) for p in pages],
            )
