"""Handing one message to Apprise, one notification URL at a time.

Each URL gets an `Apprise` object of its own, so that its outcome is its own:
a Slack that answers and a Matrix that does not are two results, and only the
failed one is tried again. Apprise is synchronous (it speaks through
`requests`), so the daemon calls it in a thread.

Apprise, not the project's aiohttp session: every service has its own API, and
Apprise is the well-kept library that knows them. Its requests go to endpoints
the operator configured (like the SMTP server of the digest), never to a URL
taken from a release, so the private-address guard of `net` has nothing to
vet; `requests` honours the proxy variables and `REQUESTS_CA_BUNDLE` itself.

URLs are shown masked (Apprise's own privacy form, `json://hooks.example.org/...`
with tokens as `****`), and what Apprise logs while sending is read back as the
reason of a failure, redacted, instead of reaching the log as it is.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkwatch.redact import MASK, redact
from linkwatch.text import one_line

if TYPE_CHECKING:
    import apprise

MAX_REASON = 300  # characters of Apprise's log kept as the reason of a failure


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    shown: str  # the URL, secrets masked
    error: str | None = None


def target_id(url: str) -> str:
    """What the store names a notification URL by: a hash, since the URL may hold a token."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=16).hexdigest()


def _asset() -> apprise.AppriseAsset:
    import apprise  # imported when a message goes out: `report` never pays for it

    return apprise.AppriseAsset(
        app_id="linkwatch",
        app_desc="linkwatch: citations of press releases kept alive",
        app_url="https://github.com/linkwatch/linkwatch",
        storage_mode="memory",  # nothing of a service's state written under ~/.local
    )


def masked(url: str) -> str:
    """The URL as logs and the store show it: Apprise's privacy form, or the scheme alone
    when Apprise does not know the URL."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, asset=_asset())
    if plugin is None:
        return f"{url.partition('://')[0]}://{MASK}"
    shown = str(plugin.url(privacy=True))  # type: ignore[no-untyped-call]
    return redact(shown.partition("?")[0])  # the options after "?" are noise


def send(url: str, title: str, body: str) -> SendResult:
    """Send one message to one Apprise URL; never raises for a service's failure."""
    import apprise

    shown = masked(url)
    notifier = apprise.Apprise(asset=_asset())
    if not notifier.add(url):
        return SendResult(False, shown, "not a URL Apprise understands")
    capture = apprise.LogCapture(level=logging.WARNING, fmt="%(message)s")  # type: ignore[no-untyped-call]
    with capture as captured:
        try:
            ok = bool(notifier.notify(body=body, title=title))
        except Exception as err:  # a plugin's own bug must not stop the pass
            ok = False
            captured.write(f"{type(err).__name__}: {err}")
        text = captured.getvalue()
    if ok:
        return SendResult(True, shown)
    reason = redact(one_line(" ".join(text.split())))[:MAX_REASON] or "the service refused it"
    return SendResult(False, shown, reason)
