"""Weekly digests: one row per digest attempt chain, so that each week gets exactly one.

A row is *claimed* before its message is sent and *finished* after, both in
their own write transaction (`BEGIN IMMEDIATE`, so that two processes, the
daemon and a person at the CLI, cannot both claim the same week):

- `sending`: claimed, the SMTP conversation is under way. A claim older than
  `stale_after` is taken to be a crashed sender and may be claimed again.
- `sent`: done; the week needs nothing more unless forced.
- `failed`: the server was down or refused; the next claim of the week reuses
  this row and its Message-ID, so a retry is the same message, never a second.
- `skipped`: nothing changed and `digest.skip_empty` is on; the week is done.

The period a digest covers starts where the last sent (or skipped) one
ended, so that no change falls between two digests.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from linkwatch.model import DigestState
from linkwatch.redact import redact_optional
from linkwatch.store.base import StoreBase
from linkwatch.text import from_iso, iso_utc

_DONE = [DigestState.SENT.value, DigestState.SKIPPED.value]


def m0006_digests(db: Database) -> None:
    """The digest log, and the index that makes "changes since the last digest" fast."""
    db.table("digests").create(
        {
            "id": int,
            "week": str,  # ISO week in digest.timezone, e.g. 2026-W48
            "status": str,  # sending, sent, failed, skipped
            "message_id": str,  # kept across retries: a retried digest is the same message
            "subject": str,
            "period_start": str,  # the changes covered: period_start <= first_at < period_end
            "period_end": str,
            "counts": str,  # JSON object: category -> number, as in the subject
            "attempts": int,
            "forced": int,
            "created_at": str,
            "updated_at": str,
            "sent_at": str,
            "error": str,  # why the last attempt failed (never contains credentials)
        },
        pk="id",
        not_null={"week", "status", "message_id", "period_start", "created_at", "updated_at"},
        defaults={"attempts": 0, "forced": 0},
    )
    db.table("digests").create_index(["week", "status"])
    db.execute("CREATE INDEX idx_history_first_at ON history (first_at)")


@dataclass(frozen=True, slots=True)
class DigestRecord:
    id: int
    week: str
    status: DigestState
    message_id: str
    subject: str | None
    period_start: dt.datetime
    period_end: dt.datetime | None
    counts: dict[str, int]
    attempts: int
    forced: bool
    sent_at: str | None
    error: str | None


_COLUMNS = (
    "id, week, status, message_id, subject, period_start, period_end, counts, attempts, "
    "forced, sent_at, error"
)


def _record(row: tuple[Any, ...]) -> DigestRecord:
    rid, week, status, message_id, subject, start, end, counts, attempts, forced, sent, err = row
    period_start = from_iso(start)
    assert period_start is not None  # NOT NULL column
    return DigestRecord(
        id=int(rid),
        week=str(week),
        status=DigestState(status),
        message_id=str(message_id),
        subject=subject,
        period_start=period_start,
        period_end=from_iso(end),
        counts=json.loads(counts) if counts else {},
        attempts=int(attempts),
        forced=bool(forced),
        sent_at=sent,
        error=err,
    )


class DigestsMixin(StoreBase):
    """Queries of the digest concern; SQL stays inside the store package."""

    def last_digest_end(self) -> dt.datetime | None:
        """Where the next digest's period starts: the end of the last sent or skipped one."""
        row = self.db.execute(
            "SELECT max(period_end) FROM digests WHERE status IN (?, ?)", _DONE
        ).fetchone()
        return from_iso(row[0]) if row else None

    def digests(self, limit: int = 20) -> list[DigestRecord]:
        """The latest digest rows, newest first."""
        return [
            _record(row)
            for row in self.db.execute(
                f"SELECT {_COLUMNS} FROM digests ORDER BY id DESC LIMIT ?", [limit]
            )
        ]

    def claim_digest(
        self,
        week: str,
        *,
        message_id: str,
        period_start: dt.datetime,
        now: dt.datetime,
        force: bool,
        stale_after: dt.timedelta,
    ) -> DigestRecord | None:
        """Take the week's digest for sending, or None when it is done or in flight.

        A failed (or stale) attempt of the week is reused with its Message-ID
        and period start; otherwise a new row gets the values passed in.
        With `force`, a week already done gets a new row.
        """
        stamp, stale = iso_utc(now), iso_utc(now - stale_after)
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            claimed = self._claim(week, message_id, period_start, stamp, stale, force)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return claimed

    def _claim(
        self,
        week: str,
        message_id: str,
        period_start: dt.datetime,
        stamp: str,
        stale: str,
        force: bool,
    ) -> DigestRecord | None:
        found = self.db.execute(
            f"SELECT {_COLUMNS}, updated_at FROM digests WHERE week = ? ORDER BY id", [week]
        ).fetchall()
        rows = [_record(row[:-1]) for row in found]
        if any(
            r.status == DigestState.SENDING and row[-1] > stale
            for r, row in zip(rows, found, strict=True)
        ):
            return None  # another sender is at it right now
        retry = next(
            (r for r in rows if r.status in (DigestState.FAILED, DigestState.SENDING)), None
        )
        if retry is None and any(r.status.is_done for r in rows) and not force:
            return None
        if retry is not None:
            self.db.execute(
                "UPDATE digests SET status = ?, attempts = attempts + 1, updated_at = ?, "
                "forced = forced OR ? WHERE id = ?",
                [DigestState.SENDING.value, stamp, int(force), retry.id],
            )
            rid = retry.id
        else:
            rid = int(
                self.db.execute(
                    "INSERT INTO digests (week, status, message_id, period_start, attempts, "
                    "forced, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
                    [
                        week,
                        DigestState.SENDING.value,
                        message_id,
                        iso_utc(period_start),
                        int(force),
                        stamp,
                        stamp,
                    ],
                ).fetchone()[0]
            )
        row = self.db.execute(f"SELECT {_COLUMNS} FROM digests WHERE id = ?", [rid]).fetchone()
        return _record(row)

    def finish_digest(
        self,
        digest_id: int,
        status: DigestState,
        *,
        now: dt.datetime,
        subject: str | None = None,
        period_end: dt.datetime | None = None,
        counts: dict[str, int] | None = None,
        error: str | None = None,
    ) -> None:
        """Record how a claimed digest ended: sent, failed (to be retried) or skipped."""
        if status is DigestState.SENDING:
            raise ValueError(f"not a final digest status: {status!r}")
        stamp = iso_utc(now)
        with self.db.atomic():
            self.db.execute(
                "UPDATE digests SET status = ?, updated_at = ?, subject = COALESCE(?, subject), "
                "period_end = COALESCE(?, period_end), counts = COALESCE(?, counts), "
                "error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                [
                    status,
                    stamp,
                    subject,
                    iso_utc(period_end) if period_end else None,
                    json.dumps(counts, sort_keys=True) if counts is not None else None,
                    redact_optional(error),
                    status,
                    stamp,
                    digest_id,
                ],
            )
