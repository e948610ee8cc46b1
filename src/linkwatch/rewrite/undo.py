"""`rewrite --undo`: a release put back, byte for byte, as it was before its last rewrite."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from linkwatch.config.settings import Settings
from linkwatch.errors import ReleaseReadError, RewriteError
from linkwatch.pool import mtime_of
from linkwatch.rewrite.files import atomic_write, fsync_directory, sha256_of
from linkwatch.scan import ParseJob, date_override, parse_release, release_key
from linkwatch.sources.files import read_bytes
from linkwatch.store import Store


@dataclass(frozen=True, slots=True)
class UndoResult:
    path: str
    backup: Path
    rewritten_at: str


def undo_rewrite(
    settings: Settings, store: Store, path: Path, *, now: dt.datetime | None = None
) -> UndoResult:
    """Put back, byte for byte, the version the last rewrite of `path` replaced.

    Refused when the file is not exactly what that rewrite wrote (edited since),
    so an undo never throws away someone's later work.
    """
    moment = now or dt.datetime.now(dt.UTC)
    file = Path(os.path.abspath(path))
    key = release_key(file, settings.base_dir)
    try:
        data = read_bytes(file, max_size=settings.sources.max_size)
    except ReleaseReadError as err:
        raise RewriteError(str(err)) from err
    record = store.undoable_rewrite(key, sha256_of(data))
    if record is None:
        if not any(r.undone_at is None for r in store.rewrites_of(key)):
            raise RewriteError(f"{key}: no rewrite to undo")
        raise RewriteError(f"{key}: the file is not the version the last rewrite wrote")
    backup = settings.state.dir / record.backup
    try:
        previous = backup.read_bytes()
    except OSError as err:
        raise RewriteError(f"{key}: cannot read the backup {backup}: {err.strerror}") from err
    if sha256_of(previous) != record.old_sha256:
        raise RewriteError(f"{key}: the backup {backup} is not the version it should hold")
    target = Path(os.path.realpath(file))
    atomic_write(target, previous, like=target.stat())
    fsync_directory(target.parent)
    store.mark_undone(record.id, moment)
    job = ParseJob(
        file,
        key,
        previous,
        record.old_sha256,
        date_override(settings, key),
        mtime_of(backup),
        settings.sources.max_citations,
    )
    parsed = parse_release(job).release
    if parsed is not None:
        store.save_releases([parsed], moment)
    return UndoResult(key, backup, record.at)
