"""Rewrites of release files: what each one changed, where its backup is, and undo.

A rewrite is recorded before the file is replaced, with the hashes of the
version it replaces and of the version it writes. Undo picks the newest
rewrite whose written version is what the file holds now, so a record whose
replacement never happened (a crash in between) is simply never picked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from linkwatch.model import State
from linkwatch.store.base import StoreBase, state_of
from linkwatch.text import iso_utc


def m0005_rewrites(db: Database) -> None:
    """The rewrite log, and each citation's archive link as the scan found it in the file."""
    db.table("citations").add_column("archived", str)
    db.table("rewrites").create(
        {
            "id": int,
            "path": str,  # the release, as in releases.path
            "at": str,
            "old_sha256": str,  # the version replaced (the backup holds it)
            "new_sha256": str,  # the version written
            "backup": str,  # relative to state.dir
            "citations": int,  # how many citations were added or replaced
            "undone_at": str,  # set once `rewrite --undo` restored the backup
        },
        pk="id",
        not_null={"path", "at", "old_sha256", "new_sha256", "backup"},
    )
    db.table("rewrites").create_index(["path", "id"])


def m0015_web_outputs(db: Database) -> None:
    """Edited web pages written by `rewrite --output` for a person to apply in the CMS."""
    db.table("web_outputs").create(
        {
            "path": str,  # the web release, as releases.path (its URL)
            "at": str,
            "sha256": str,  # of the page body the edit was computed from
            "output": str,  # the file written, absolute
            "citations": int,  # how many citations the edited page adds or replaces
        },
        pk="path",
        not_null={"at", "sha256", "output"},
    )


def m0016_reverts(db: Database) -> None:
    """Citations whose added archive link was removed because their URL recovered."""
    db.table("reverts").create(
        {
            "id": int,
            "path": str,  # the release
            "url": str,  # the citation's URL as written
            "archive_url": str,  # the archived copy it no longer links
            "at": str,
        },
        pk="id",
        not_null={"path", "url", "at"},
    )
    db.table("reverts").create_index(["at"])


@dataclass(frozen=True, slots=True)
class Revert:
    """One citation whose archive link `rewrite` removed: its URL is alive again."""

    path: str
    url: str
    archive_url: str | None
    at: str


@dataclass(frozen=True, slots=True)
class RewriteCandidate:
    """A present release's citation that has a chosen snapshot, with what rewrite needs."""

    path: str
    sha256: str  # of the release as last scanned
    label: str | None
    url: str
    start: int
    end: int
    state: State  # effective: a pin wins over the evidence
    archived: str | None  # the archive link the scan found next to it
    archive_url: str
    archive_timestamp: str
    url_id: int = 0
    archive_source: str | None = None  # the archive holding the chosen snapshot
    pinned: bool = False  # `state` is a person's pin
    url_key: str = ""  # the URL as checked (normalised, unwrapped): what rules match


@dataclass(frozen=True, slots=True)
class NewRewrite:
    """A rewrite to log: the release, both versions' hashes, where the old one is kept."""

    path: str
    old_sha256: str
    new_sha256: str
    backup: str  # relative to state.dir
    citations: int  # added, replaced or reverted
    reverted: tuple[tuple[str, str], ...] = ()  # (URL, archive URL) of each citation reverted


@dataclass(frozen=True, slots=True)
class RewriteRecord:
    id: int
    path: str
    at: str
    old_sha256: str
    new_sha256: str
    backup: str
    citations: int
    undone_at: str | None


@dataclass(frozen=True, slots=True)
class NewWebOutput:
    """An edited web page just written under --output, to remember until it is applied."""

    path: str
    sha256: str  # of the page body it was computed from
    output: str  # the file written, absolute
    citations: int  # added or replaced


@dataclass(frozen=True, slots=True)
class WebOutput:
    """An edited web page waiting for a person: the page still holds what it was made from."""

    path: str
    at: str
    output: str
    citations: int


_RECORD = "SELECT id, path, at, old_sha256, new_sha256, backup, citations, undone_at FROM rewrites"


class RewritesMixin(StoreBase):
    """Queries of the rewrite concern; SQL stays inside the store package."""

    def rewrite_candidates(
        self, states: Collection[str] | None = None, *, drifted: bool = False
    ) -> list[RewriteCandidate]:
        """Citations with a chosen snapshot, by release path and document order.

        `states` keeps only citations in those effective states; None keeps all.
        `drifted` keeps as well the citations whose last drift comparison with
        that snapshot found the page drifted, unless a person pinned the URL.
        """
        where, params = "", []
        if states is not None:
            where = f"AND (COALESCE(u.pinned, u.state) IN ({','.join('?' * len(states))}) "
            if drifted:
                where += (
                    "OR (u.pinned IS NULL AND EXISTS (SELECT 1 FROM citation_drift d "
                    "WHERE d.release_path = s.release_path AND d.url_key = s.url_key "
                    "AND d.archive_url = s.archive_url AND d.drifted = 1))"
                )
            where += ") "
            params = list(states)
        rows = self.db.execute(
            'SELECT r.path, r.sha256, c.label, c.url, c.start, c."end", '
            "COALESCE(u.pinned, u.state), c.archived, s.archive_url, s.timestamp, u.id, s.source, "
            "u.pinned IS NOT NULL, u.key "
            "FROM citation_snapshots s "
            "JOIN releases r ON r.path = s.release_path "
            "JOIN citations c ON c.release_id = r.id "
            "JOIN urls u ON u.id = c.url_id AND u.key = s.url_key "
            f"WHERE r.missing = 0 AND r.sha256 IS NOT NULL {where}"
            "ORDER BY r.path, c.position",
            params,
        ).fetchall()
        return [_candidate(*row) for row in rows]

    def revert_candidates(self) -> list[RewriteCandidate]:
        """Citations alive again (moved counts) that the scan found linking an archived copy
        in a release linkwatch has rewritten; whether they recovered for long enough is the
        caller's call (`rewrite.recovery.is_recovered`)."""
        rows = self.db.execute(
            'SELECT r.path, r.sha256, c.label, c.url, c.start, c."end", '
            "COALESCE(u.pinned, u.state), c.archived, s.archive_url, s.timestamp, u.id, s.source "
            "FROM citation_snapshots s "
            "JOIN releases r ON r.path = s.release_path "
            "JOIN citations c ON c.release_id = r.id "
            "JOIN urls u ON u.id = c.url_id AND u.key = s.url_key "
            "WHERE r.missing = 0 AND r.sha256 IS NOT NULL AND c.archived IS NOT NULL "
            "AND COALESCE(u.pinned, u.state) IN ('alive', 'moved') "
            "AND EXISTS (SELECT 1 FROM rewrites w WHERE w.path = r.path) "
            "ORDER BY r.path, c.position"
        ).fetchall()
        return [
            RewriteCandidate(path, sha, label, url, start, end, state_of(state), *rest)
            for path, sha, label, url, start, end, state, *rest in rows
        ]

    def reverts_since(self, since: dt.datetime) -> list[Revert]:
        """Citations reverted at or after `since`, oldest first (for the digest)."""
        return [
            Revert(*row)
            for row in self.db.execute(
                "SELECT path, url, archive_url, at FROM reverts WHERE at >= ? ORDER BY at, id",
                [iso_utc(since)],
            )
        ]

    def release_sha256(self, path: str) -> str | None:
        """The hash recorded at the last scan of a present release, None if there is none."""
        row = self.db.execute(
            "SELECT sha256 FROM releases WHERE path = ? AND missing = 0", [path]
        ).fetchone()
        return None if row is None else row[0]

    def record_rewrites(self, rewrites: Sequence[NewRewrite], now: dt.datetime) -> None:
        """Log rewrites about to be written, in one transaction (before the files change)."""
        stamp = iso_utc(now)
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO rewrites (path, at, old_sha256, new_sha256, backup, citations) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.path, stamp, r.old_sha256, r.new_sha256, r.backup, r.citations)
                    for r in rewrites
                ],
            )
            self.db.conn.executemany(
                "INSERT INTO reverts (path, url, archive_url, at) VALUES (?, ?, ?, ?)",
                [(r.path, url, archive, stamp) for r in rewrites for url, archive in r.reverted],
            )

    def rewrites_of(self, path: str) -> list[RewriteRecord]:
        """Every rewrite of a release, newest first, undone ones included."""
        return [
            RewriteRecord(*row)
            for row in self.db.execute(f"{_RECORD} WHERE path = ? ORDER BY id DESC", [path])
        ]

    def written_hashes(self) -> dict[str, str]:
        """Per release, the hash of the version its latest rewrite (not undone) wrote."""
        return {
            str(path): str(sha)
            for path, sha in self.db.execute(
                "SELECT path, new_sha256 FROM rewrites r WHERE undone_at IS NULL AND id = "
                "(SELECT max(id) FROM rewrites s WHERE s.path = r.path AND s.undone_at IS NULL)"
            )
        }

    def undoable_rewrite(self, path: str, current_sha256: str) -> RewriteRecord | None:
        """The newest rewrite not yet undone that wrote exactly what the file holds now."""
        row = self.db.execute(
            f"{_RECORD} WHERE path = ? AND new_sha256 = ? AND undone_at IS NULL "
            "ORDER BY id DESC LIMIT 1",
            [path, current_sha256],
        ).fetchone()
        return None if row is None else RewriteRecord(*row)

    def mark_undone(self, record_id: int, now: dt.datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "UPDATE rewrites SET undone_at = ? WHERE id = ?", [iso_utc(now), record_id]
            )

    def record_web_outputs(self, outputs: Sequence[NewWebOutput], now: dt.datetime) -> None:
        """Remember the edited pages `rewrite --output` wrote.

        One row per page, the latest: a page is applied by a person once, from its newest edit.
        """
        stamp = iso_utc(now)
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO web_outputs (path, at, sha256, output, citations) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET at = excluded.at, "
                "sha256 = excluded.sha256, output = excluded.output, "
                "citations = excluded.citations",
                [(o.path, stamp, o.sha256, o.output, o.citations) for o in outputs],
            )

    def waiting_web_outputs(self) -> dict[str, WebOutput]:
        """Per web release, the edited page still waiting to be applied.

        Waiting means the page as last scanned is the one the edit was made from:
        once a person applies it (or the page changes otherwise), the next scan
        stores another version and the edit is no longer news.
        """
        return {
            row[0]: WebOutput(*row)
            for row in self.db.execute(
                "SELECT w.path, w.at, w.output, w.citations FROM web_outputs w "
                "JOIN releases r ON r.path = w.path AND r.sha256 = w.sha256 WHERE r.missing = 0"
            )
        }


def _candidate(
    path: str,
    sha256: str,
    label: str | None,
    url: str,
    start: int,
    end: int,
    state: str,
    archived: str | None,
    archive_url: str,
    timestamp: str,
    url_id: int,
    source: str | None,
    pinned: int,
    url_key: str,
) -> RewriteCandidate:
    return RewriteCandidate(
        path,
        sha256,
        label,
        url,
        start,
        end,
        state_of(state),
        archived,
        archive_url,
        timestamp,
        url_id,
        source,
        bool(pinned),
        url_key,
    )
