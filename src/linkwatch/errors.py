"""Every exception linkwatch raises, under one root.

    LinkwatchError
    ├── ConfigError            a config file or value that cannot be used
    ├── StoreError             the database cannot be used
    │   ├── StoreLocked        another process holds its write lock right now
    │   ├── StoreReadOnly      the file or its folder cannot be written
    │   ├── NotADatabase       the file is not an SQLite database
    │   └── SchemaTooNew       written by a newer linkwatch; left untouched
    ├── StateLocked            another linkwatch is using the state directory
    ├── ReleaseReadError       one release cannot be read (the run goes on without it)
    ├── NetError               one request got no usable answer (`kind` says why)
    ├── WebSourceError         a web page or listing could not be had (the scan goes on)
    ├── ArchiveError           an archive request got no usable answer
    │   ├── ArchiveUnreachable the archive cannot be reached at all
    │   ├── ArchiveDown        it answers 5xx, or not in time: rest it, ask the others
    │   └── ArchiveRateLimited the archive asked us to slow down
    ├── RewriteError           a release cannot be rewritten or restored
    │   └── WordingError       a rewrite template cannot be used
    ├── SendError              a message (digest, notification) was not delivered
    └── DaemonError            the daemon cannot start

Per-link outcomes are not exceptions: a check's result is a `CheckResult`
with an `ErrorKind`. `NetError` carries that kind from the network layer to
the checker and is turned into a result there; it never reaches the command
line. Every other class may: the command line turns `LinkwatchError` into its
exit code in one place (`cli.LinkwatchGroup`), so no command catches errors of
its own to decide how to exit.

Every message is one line: a newline from a file name or a remote answer
would split a log line or a terminal message in two.
"""

from __future__ import annotations

from pathlib import Path

from linkwatch.model import ErrorKind
from linkwatch.text import one_line


class LinkwatchError(Exception):
    """The root: anything linkwatch itself raises."""


class ConfigError(LinkwatchError):
    """A configuration file that cannot be used; str() is one line naming file, line, key."""


class StoreError(LinkwatchError):
    """The database cannot be used; the message is one line naming the file."""


class StoreLocked(StoreError):
    """Another process holds the database's write lock (and did not let go in time)."""


class StoreReadOnly(StoreError):
    """The database, or the folder it lives in, cannot be written."""


class NotADatabase(StoreError):
    """The file is not an SQLite database (or is damaged beyond reading)."""


class SchemaTooNew(StoreError):
    """A newer linkwatch wrote this database; nothing was changed in it."""


class StateLocked(LinkwatchError):
    """Another process holds the state lock; `holder` is its pid when it could be read."""

    def __init__(self, path: Path, holder: int | None) -> None:
        who = f"pid {holder}" if holder is not None else "a process whose pid could not be read"
        super().__init__(
            f"{path}: another linkwatch ({who}) is using this state directory; "
            "stop it first, or wait for it to finish"
        )
        self.path = path
        self.holder = holder


class ReleaseReadError(LinkwatchError):
    """A release that could not be read; str(err) is one line: '<path>: <reason>'."""

    path: Path
    reason: str

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = one_line(reason)

    def __str__(self) -> str:
        return f"{one_line(str(self.path))}: {self.reason}"


class NetError(LinkwatchError):
    """A request got no usable HTTP answer; `kind` says why, `detail` says it to people."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


class ArchiveError(LinkwatchError):
    """An archive request got no usable answer; str() is one line without secrets."""


class ArchiveUnreachable(ArchiveError):
    """The archive cannot be reached at all (no network, DNS fails, nothing listens)."""


class ArchiveDown(ArchiveError):
    """The archive is failing as a whole (a 5xx answer, no answer in time), not for one URL."""


class ArchiveSilent(ArchiveDown):
    """The archive took the request and gave no answer in time. Asking it again in the
    same run would cost the whole timeout once more, so the run leaves it alone."""


class ArchiveRateLimited(ArchiveError):
    """The archive asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RewriteError(LinkwatchError):
    """A release that cannot be rewritten or restored; one line naming it."""


class WordingError(RewriteError):
    """A rewrite template that cannot be used; one line naming the template."""


class SendError(LinkwatchError):
    """A message was not delivered; one line, with no secret in it."""


class DaemonError(LinkwatchError):
    """The daemon cannot start (a bad schedule, the port taken); one line for the user."""


class WebSourceError(LinkwatchError):
    """A web page or listing (sitemap, feed, API) could not be had; `reason` is its line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
