"""What notifications are about, and where each delivery stands: plain enums, no imports.

Kept apart from the rest of `notify` so that the configuration and the store
can name them without importing Apprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class NotifyEvent(StrEnum):
    """An event `notify.on` may list. The state events are named after the `State` they
    watch; `usurped` and `drifted` are matched on the states of those names wherever the
    store has them (a linkwatch without those states simply never finds such an event)."""

    DEAD = "dead"
    SOFT404 = "soft404"
    USURPED = "usurped"
    DRIFTED = "drifted"
    SAVE_REFUSED = "save_refused"  # the archive refused a save for good
    REWRITTEN = "rewritten"  # a rewrite pointed a release's citations at archived copies
    REVERTED = "reverted"  # a rewrite was undone: the release is back as it was

    @property
    def is_state(self) -> bool:
        """An event about a URL entering a state (as opposed to an archive or rewrite event)."""
        return self in STATE_EVENTS


STATE_EVENTS: frozenset[NotifyEvent] = frozenset(
    {NotifyEvent.DEAD, NotifyEvent.SOFT404, NotifyEvent.USURPED, NotifyEvent.DRIFTED}
)


class DeliveryStatus(StrEnum):
    """Where one message stands for one notification URL (see `store.notifications`)."""

    PENDING = "pending"  # recorded, not tried yet
    SENDING = "sending"  # written down before the send; settled after it
    SENT = "sent"
    RETRY = "retry"  # failed; tried again after a backoff
    GAVE_UP = "gave_up"  # failed too many times
    # The process died between sending and settling: taken as delivered and never sent
    # again, since a message twice is what "only what is new" rules out.
    UNCONFIRMED = "unconfirmed"

    @property
    def is_done(self) -> bool:
        return self in (DeliveryStatus.SENT, DeliveryStatus.GAVE_UP, DeliveryStatus.UNCONFIRMED)


@dataclass(frozen=True, slots=True)
class NotifyTarget:
    """One Apprise URL. `url` has the `${LINKWATCH_...}` variables filled in, so it may hold
    a token: it is left out of the repr and is never logged or stored; `written` is the
    URL as the file has it, with the variables' names."""

    url: str = field(repr=False)
    written: str
