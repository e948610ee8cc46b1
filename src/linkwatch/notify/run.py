"""One notify pass: find what is new, write the message down, deliver it to each URL.

`notify_pass` is the one function the CLI (`check`, `archive`, `rewrite`) and the
daemon (after its check, archive and rewrite jobs) call. Its steps:

1. Find the events of the kinds in `notify.on` (`events.find_events`).
2. Record what is new in one write transaction (`Store.record_notification`): the
   message and a pending delivery per URL, before anything is sent. An event is
   recorded once, ever; a kind just added to `notify.on` starts with a baseline.
3. Deliver each pending delivery, and each failed one whose backoff is over, the
   way the archive's save queue does: written down (`sending`) before Apprise is
   called, settled after (`sent`, or `retry` after `backoff(attempts)`, or
   `gave_up` after `MAX_ATTEMPTS`). A delivery still `sending` after `STALE` was
   left by a process that died between sending and settling: it is settled
   `unconfirmed` and never sent again, since the message may well have gone out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field

from linkwatch.clock import Clock
from linkwatch.config.settings import Settings
from linkwatch.notify.events import find_events
from linkwatch.notify.kinds import DeliveryStatus
from linkwatch.notify.message import compose
from linkwatch.notify.send import masked, send, target_id
from linkwatch.store import Store
from linkwatch.store.notifications import FoundEvent, Target
from linkwatch.store.writer import AsyncStore
from linkwatch.text import iso_utc

log = logging.getLogger(__name__)

RETRY_FIRST = dt.timedelta(minutes=15)  # as the digest's retry
RETRY_MOST = dt.timedelta(hours=6)
MAX_ATTEMPTS = 10  # about two days of tries before a delivery is given up
STALE = dt.timedelta(minutes=10)  # far longer than any send: a `sending` this old is a crash
# Test hook: the process kills itself right after a send, before settling it, which is
# the moment a crash could double a message. Read at each send; tests set it.
DIE_AFTER_SEND_ENV = "LINKWATCH_TEST_DIE_AFTER_SEND"


def _find_events(settings: Settings) -> list[FoundEvent]:
    """In a thread, on a connection of its own: a store with thousands of dead links
    gives thousands of rows, which the daemon's loop must not wait for."""
    with Store.open(settings.state.dir, writing=False) as store:
        return find_events(store, settings.notify.on, settings.rules)


def backoff(attempts: int) -> dt.timedelta:
    """How long after the n-th failed attempt the next one waits: doubling, capped."""
    wait: dt.timedelta = RETRY_FIRST * (2 ** max(0, attempts - 1))
    return min(wait, RETRY_MOST)


@dataclass(slots=True)
class NotifySummary:
    """What one pass did."""

    configured: bool  # notify.urls is not empty
    message_id: int | None = None  # the message this pass recorded, if anything was new
    events: int = 0  # new events in that message
    sent: int = 0
    failed: int = 0  # to be retried
    gave_up: int = 0
    unconfirmed: int = 0  # left by a crash between sending and recording
    errors: list[str] = field(default_factory=list)  # one line per failed delivery

    @property
    def line(self) -> str:
        """One line for the command line and the daemon's log."""
        parts = [f"{self.events} new events" if self.message_id is not None else "nothing new"]
        parts.append(f"{self.sent} sent")
        if self.failed:
            parts.append(f"{self.failed} failed (will retry)")
        if self.gave_up:
            parts.append(f"{self.gave_up} given up")
        if self.unconfirmed:
            parts.append(f"{self.unconfirmed} unconfirmed after a crash")
        return "notify: " + ", ".join(parts)


async def notify_pass(settings: Settings, db: AsyncStore, clock: Clock) -> NotifySummary:
    """Tell what is new to every `notify.urls` URL, and retry what failed before."""
    config = settings.notify
    if not config.urls:
        return NotifySummary(configured=False)
    summary = NotifySummary(configured=True)
    moment = clock()
    found = await asyncio.to_thread(_find_events, settings)
    urls = {target_id(target.url): target.url for target in config.urls}
    targets = [Target(tid, masked(url)) for tid, url in urls.items()]
    public_url = settings.run.public_url

    def word(events: Sequence[FoundEvent]) -> tuple[str, str]:
        return compose(events, public_url)

    summary.message_id = await db.write(
        Store.record_notification,
        found,
        sorted(event.value for event in config.on),
        targets,
        word,
        moment,
    )
    if summary.message_id is not None:
        summary.events = db.read.notify_message_events(summary.message_id)
    summary.unconfirmed = await db.write(Store.settle_stale_deliveries, moment - STALE, moment)
    for delivery in db.read.due_deliveries(list(urls), moment):
        if not await db.write(Store.start_delivery, delivery.id, clock()):
            continue  # another process took it meanwhile
        result = await asyncio.to_thread(send, urls[delivery.target], delivery.title, delivery.body)
        if os.environ.get(DIE_AFTER_SEND_ENV):
            os.kill(os.getpid(), signal.SIGKILL)
        attempts = delivery.attempts + 1
        done = clock()
        if result.ok:
            summary.sent += 1
            await db.write(Store.finish_delivery, delivery.id, DeliveryStatus.SENT, done)
            log.info("notify: message %d sent to %s", delivery.message_id, result.shown)
            continue
        line = f"{result.shown}: not sent (attempt {attempts}): {result.error}"
        summary.errors.append(line)
        if attempts >= MAX_ATTEMPTS:
            summary.gave_up += 1
            await db.write(
                Store.finish_delivery,
                delivery.id,
                DeliveryStatus.GAVE_UP,
                done,
                error=result.error,
            )
            log.warning("notify: %s; given up", line)
            continue
        summary.failed += 1
        retry_at = done + backoff(attempts)
        await db.write(
            Store.finish_delivery,
            delivery.id,
            DeliveryStatus.RETRY,
            done,
            error=result.error,
            next_attempt_at=retry_at,
        )
        log.warning("notify: %s; will retry at %s", line, iso_utc(retry_at))
    return summary
