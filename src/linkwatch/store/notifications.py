"""Notifications: every event told once, ever, and each message's delivery to each URL.

- `notify_events`: one row per event ever found (its key, such as `dead:<url key>`, is
  unique), with the lines the message said about it and the message it went out in.
  An event whose kind was not watched yet when it was first seen is recorded with no
  message (a baseline): turning notifications on does not announce the whole past.
- `notify_watch`: the kinds of event watched, and since when.
- `notify_messages`: what was sent (title and body, redacted), one per pass that
  found something new.
- `notify_deliveries`: one row per message and notification URL (named by a hash of
  the URL and its masked form, never the URL itself). A delivery is written down
  (`sending`) before it is handed to Apprise and settled after (`sent`, or `retry`
  with its next attempt); one found still `sending` long after is a process that
  died in between, and is settled `unconfirmed`, never sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from linkwatch.notify.kinds import DeliveryStatus
from linkwatch.redact import redact, redact_optional
from linkwatch.store.base import StoreBase
from linkwatch.text import from_iso, iso_utc

_PRESENT = "r.missing = 0 AND r.sha256 IS NOT NULL"


def m0013_notifications(db: Database) -> None:
    """The notification log: events told once, the messages, their deliveries per URL."""
    db.table("notify_messages").create(
        {
            "id": int,
            "created_at": str,
            "title": str,
            "body": str,  # as sent (every remote text redacted)
            "events": int,
        },
        pk="id",
        not_null={"created_at", "title", "body"},
    )
    db.table("notify_events").create(
        {
            "id": int,
            "key": str,  # kind:what, e.g. dead:http://example.org/a; unique: told once ever
            "kind": str,
            "subject": str,  # the URL or release it is about
            "lines": str,  # what the message said about it
            "found_at": str,
            "message_id": int,  # None: found before its kind was watched (a baseline)
        },
        pk="id",
        not_null={"key", "kind", "found_at"},
        foreign_keys=[("message_id", "notify_messages", "id")],
    )
    db.table("notify_events").create_index(["key"], unique=True)
    db.table("notify_watch").create({"kind": str, "since": str}, pk="kind")
    db.table("notify_deliveries").create(
        {
            "id": int,
            "message_id": int,
            "target": str,  # a hash of the URL: the URL may hold a token
            "shown": str,  # the URL with its secrets masked
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "attempt_started_at": str,
            "sent_at": str,
            "error": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"message_id", "target", "status", "updated_at"},
        defaults={"attempts": 0},
        foreign_keys=[("message_id", "notify_messages", "id")],
    )
    db.table("notify_deliveries").create_index(["message_id", "target"], unique=True)
    db.table("notify_deliveries").create_index(["status", "next_attempt_at"])


@dataclass(frozen=True, slots=True)
class StateCitation:
    """A citation of a present release whose URL is in a state an event watches."""

    url_key: str
    url: str
    state: str  # effective: a pin wins
    state_since: str | None
    path: str
    title: str | None
    label: str | None
    archive_url: str | None  # the snapshot chosen for this citation
    pinned: bool = False  # `state` is a person's pin


@dataclass(frozen=True, slots=True)
class RefusedSave:
    source: str
    url_key: str
    url: str
    reason: str | None
    done_at: str | None
    releases: tuple[str, ...]  # present releases citing it


@dataclass(frozen=True, slots=True)
class RewriteEntry:
    id: int
    path: str
    at: str
    citations: int
    undone_at: str | None


@dataclass(frozen=True, slots=True)
class FoundEvent:
    """An event as a notify pass found it; `lines` is what a message says about it."""

    key: str
    kind: str
    subject: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Target:
    id: str  # a hash of the URL
    shown: str  # the URL with its secrets masked


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    message_id: int
    target: str
    shown: str
    status: DeliveryStatus
    attempts: int
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A delivery as `notify --status` shows it."""

    message_id: int
    created_at: str
    title: str
    shown: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    sent_at: str | None
    error: str | None


_DELIVERY = (
    "SELECT d.id, d.message_id, d.target, d.shown, d.status, d.attempts, m.title, m.body "
    "FROM notify_deliveries d JOIN notify_messages m ON m.id = d.message_id"
)


def _delivery(row: Sequence[Any]) -> Delivery:
    did, mid, target, shown, status, attempts, title, body = row
    return Delivery(did, mid, target, shown, DeliveryStatus(status), attempts, title, body)


class NotificationsMixin(StoreBase):
    """Queries of the notification concern; SQL stays inside the store package."""

    def notify_state_citations(self, states: Collection[str]) -> list[StateCitation]:
        """Citations of present releases whose URL's effective state is one of `states`,
        by URL and then in each release's document order."""
        if not states:
            return []
        marks = ",".join("?" * len(states))
        rows = self.db.execute(
            "SELECT u.key, u.url, COALESCE(u.pinned, u.state), u.state_since, r.path, "
            "r.title, c.label, s.archive_url, u.pinned IS NOT NULL FROM citations c "
            "JOIN releases r ON r.id = c.release_id JOIN urls u ON u.id = c.url_id "
            "LEFT JOIN citation_snapshots s ON s.release_path = r.path AND s.url_key = u.key "
            f"WHERE {_PRESENT} AND COALESCE(u.pinned, u.state) IN ({marks}) "
            "ORDER BY u.key, r.path, c.position",
            list(states),
        ).fetchall()
        return [
            StateCitation(key, url, state, since, path, title, label, archive, bool(pinned))
            for key, url, state, since, path, title, label, archive, pinned in rows
        ]

    def notify_refused_saves(self) -> list[RefusedSave]:
        """Saves every archive refused for good, with the present releases citing each URL."""
        rows = self.db.execute(
            "SELECT q.source, u.key, u.url, q.reason, q.done_at, "
            "(SELECT group_concat(path, char(10)) FROM (SELECT DISTINCT r.path FROM citations c "
            f"JOIN releases r ON r.id = c.release_id WHERE c.url_id = u.id AND {_PRESENT} "
            "ORDER BY r.path)) FROM save_queue q JOIN urls u ON u.id = q.url_id "
            "WHERE q.status = 'refused' ORDER BY q.done_at, u.key"
        ).fetchall()
        return [
            RefusedSave(source, key, url, reason, done, tuple(paths.split("\n")) if paths else ())
            for source, key, url, reason, done, paths in rows
        ]

    def notify_rewrites(self) -> list[RewriteEntry]:
        """Every rewrite logged, oldest first (undone ones with when)."""
        return [
            RewriteEntry(*row)
            for row in self.db.execute(
                "SELECT id, path, at, citations, undone_at FROM rewrites ORDER BY id"
            )
        ]

    def notify_known(self, keys: Iterable[str]) -> set[str]:
        """Which of these event keys were recorded already (told, or a baseline)."""
        wanted = list(dict.fromkeys(keys))
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT key FROM notify_events WHERE key IN ({marks})", chunk
                )
            )
        return known

    def notify_watched(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT kind FROM notify_watch")}

    def record_notification(
        self,
        found: Sequence[FoundEvent],
        watched: Collection[str],
        targets: Sequence[Target],
        compose: Callable[[Sequence[FoundEvent]], tuple[str, str]],
        now: dt.datetime,
    ) -> int | None:
        """Record what is new among `found`, in one write transaction; the message id, or
        None when nothing was new.

        Kinds in `watched` not watched before start now: their events found already
        are recorded as a baseline, never told. The rest, when not recorded yet, are
        worded by `compose` into one message, written down with a delivery pending
        for each target, before anything is sent.
        """
        stamp = iso_utc(now)
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            message_id = self._record(found, watched, targets, compose, stamp)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return message_id

    def _record(
        self,
        found: Sequence[FoundEvent],
        watched: Collection[str],
        targets: Sequence[Target],
        compose: Callable[[Sequence[FoundEvent]], tuple[str, str]],
        stamp: str,
    ) -> int | None:
        before = self.notify_watched()
        starting = [kind for kind in watched if kind not in before]
        self.db.conn.executemany(
            "INSERT INTO notify_watch (kind, since) VALUES (?, ?)",
            [(kind, stamp) for kind in starting],
        )
        known = self.notify_known(event.key for event in found)
        fresh: dict[str, FoundEvent] = {}
        baseline: dict[str, FoundEvent] = {}
        for event in found:
            if event.key in known:
                continue
            (fresh if event.kind in before else baseline).setdefault(event.key, event)
        insert = (
            "INSERT INTO notify_events (key, kind, subject, lines, found_at, message_id) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        self.db.conn.executemany(
            insert,
            [(e.key, e.kind, redact(e.subject), None, stamp, None) for e in baseline.values()],
        )
        if not fresh:
            return None
        events = list(fresh.values())
        title, body = compose(events)
        message_id = int(
            self.db.execute(
                "INSERT INTO notify_messages (created_at, title, body, events) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                [stamp, redact(title), redact(body), len(events)],
            ).fetchone()[0]
        )
        self.db.conn.executemany(
            insert,
            [
                (e.key, e.kind, redact(e.subject), redact("\n".join(e.lines)), stamp, message_id)
                for e in events
            ],
        )
        self.db.conn.executemany(
            "INSERT INTO notify_deliveries (message_id, target, shown, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                (message_id, t.id, redact(t.shown), DeliveryStatus.PENDING.value, stamp)
                for t in targets
            ],
        )
        return message_id

    def notify_message_events(self, message_id: int) -> int:
        """How many events a message told."""
        row = self.db.execute(
            "SELECT events FROM notify_messages WHERE id = ?", [message_id]
        ).fetchone()
        return 0 if row is None else int(row[0])

    def due_deliveries(self, targets: Collection[str], now: dt.datetime) -> list[Delivery]:
        """Deliveries to these targets waiting for a first try or whose retry is due,
        oldest message first."""
        if not targets:
            return []
        marks = ",".join("?" * len(targets))
        rows = self.db.execute(
            f"{_DELIVERY} WHERE d.target IN ({marks}) AND (d.status = ? "
            "OR (d.status = ? AND d.next_attempt_at <= ?)) ORDER BY d.message_id, d.id",
            [*targets, DeliveryStatus.PENDING.value, DeliveryStatus.RETRY.value, iso_utc(now)],
        ).fetchall()
        return [_delivery(row) for row in rows]

    def settle_stale_deliveries(self, started_before: dt.datetime, now: dt.datetime) -> int:
        """Deliveries left `sending` by a process that died: taken as delivered, never
        sent again. Returns how many."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE notify_deliveries SET status = ?, updated_at = ?, error = ? "
                "WHERE status = ? AND attempt_started_at < ?",
                [
                    DeliveryStatus.UNCONFIRMED.value,
                    iso_utc(now),
                    "the process stopped between sending and recording",
                    DeliveryStatus.SENDING.value,
                    iso_utc(started_before),
                ],
            )
        return int(cursor.rowcount)

    def start_delivery(self, delivery_id: int, now: dt.datetime) -> bool:
        """Write an attempt down before it is made; False when another process took it."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE notify_deliveries SET status = ?, attempts = attempts + 1, "
                "attempt_started_at = ?, updated_at = ? WHERE id = ? AND status IN (?, ?)",
                [
                    DeliveryStatus.SENDING.value,
                    iso_utc(now),
                    iso_utc(now),
                    delivery_id,
                    DeliveryStatus.PENDING.value,
                    DeliveryStatus.RETRY.value,
                ],
            )
        return int(cursor.rowcount) == 1

    def finish_delivery(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        now: dt.datetime,
        *,
        error: str | None = None,
        next_attempt_at: dt.datetime | None = None,
    ) -> None:
        """Settle an attempt: sent, to retry at `next_attempt_at`, or given up."""
        if status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            raise ValueError(f"not how an attempt ends: {status!r}")
        stamp = iso_utc(now)
        with self.db.atomic():
            self.db.execute(
                "UPDATE notify_deliveries SET status = ?, updated_at = ?, error = ?, "
                "next_attempt_at = ?, attempt_started_at = NULL, "
                "sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE id = ?",
                [
                    status.value,
                    stamp,
                    redact_optional(error),
                    iso_utc(next_attempt_at) if next_attempt_at else None,
                    status.value,
                    stamp,
                    delivery_id,
                ],
            )

    def delivery_records(self, limit: int = 20) -> list[DeliveryRecord]:
        """The latest messages' deliveries, newest first."""
        rows = self.db.execute(
            "SELECT m.id, m.created_at, m.title, d.shown, d.status, d.attempts, "
            "d.next_attempt_at, d.sent_at, d.error FROM notify_deliveries d "
            "JOIN notify_messages m ON m.id = d.message_id ORDER BY m.id DESC, d.id LIMIT ?",
            [limit],
        ).fetchall()
        return [
            DeliveryRecord(
                mid, created, title, shown, DeliveryStatus(status), attempts, from_iso(nxt), sent, e
            )
            for mid, created, title, shown, status, attempts, nxt, sent, e in rows
        ]
