"""A rewrite run: which citations, the hash check against the scan, backups, writes.

One function serves the CLI's `rewrite` and the daemon's rewrite job. A release
is replaced only when its bytes still hash to what the last scan recorded (the
stored offsets would splice in the wrong place otherwise); the version replaced
is kept as a backup first; the new one is written durably (`files`). After the
writes each release is parsed again and stored, so that the store's hash and
offsets match the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path, PurePosixPath

from linkwatch.archive.archives import archive_names
from linkwatch.config.settings import OnRecovery, RewriteMode, Settings
from linkwatch.errors import ReleaseReadError
from linkwatch.model import Format, Snapshot, State
from linkwatch.paths import path_of
from linkwatch.pool import default_workers, map_in_pool, mtime_of
from linkwatch.rewrite.dates import release_language
from linkwatch.rewrite.diff import unified_diff
from linkwatch.rewrite.files import (
    FSYNC_THREADS,
    atomic_write,
    fsync_directory,
    keep_backup,
    os_reason,
    remove,
    sha256_of,
    sweep_stale_temp_files,
    temp_copy_or_error,
)
from linkwatch.rewrite.recovery import is_recovered
from linkwatch.rewrite.splice import rewrite_release
from linkwatch.rewrite.values import Action, CitationRewrite, Target, wants_archive
from linkwatch.rewrite.wording import Wording, safe_url
from linkwatch.rules import Applied, RuleSet
from linkwatch.scan import ParseJob, date_override, parse_release, release_key
from linkwatch.sources.decoding import decode_release
from linkwatch.sources.documents import document_format
from linkwatch.sources.files import read_bytes
from linkwatch.sources.web import is_web_key
from linkwatch.sources.web.pages import body_file, output_name
from linkwatch.store import ParsedRelease, Store
from linkwatch.store.rewrites import NewRewrite, NewWebOutput, RewriteCandidate
from linkwatch.wrappers import unwrap

BATCH = 256  # releases written per batch: one fsync per folder, one transaction

POOL_THRESHOLD = 64  # fewer releases to read than this are prepared in-process

BACKUPS = "backups"

CHANGED_SINCE_SCAN = "changed since scan, run scan"


@dataclass(slots=True)
class RewriteSummary:
    """What one run did (or, in a dry run, would do), for the CLI to print."""

    mode: RewriteMode
    dry_run: bool = False
    releases: int = 0  # releases with at least one citation to point at its archived copy
    changed: list[str] = field(default_factory=list)  # release paths rewritten (or that would be)
    written: list[Path] = field(default_factory=list)  # files written (the release or a copy)
    added: int = 0
    replaced: int = 0
    reverted: int = 0  # archive links removed: their URLs recovered (rewrite.on_recovery)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # "path: reason", whole releases
    # A release was skipped because the store's offsets no longer describe it: a scan
    # must run before a rewrite can (the daemon asks for one).
    needs_scan: bool = False
    skipped_citations: list[str] = field(default_factory=list)  # "path [label] url: reason"
    excluded: int = 0  # citations left alone: a [[rules]] table excludes their URL
    # Web releases: linkwatch cannot write to a website. Without --output they are listed
    # here and left alone; with it, their edited page is written there for a person to
    # apply in the CMS (`written` has the file, `by_hand` the page).
    by_hand: list[str] = field(default_factory=list)
    # Word and PDF releases, which rewrite reads but never edits: "path: reason". Not a
    # problem to fix (the run is still `ok`): the report shows their archived copies.
    documents: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)  # unified diffs, in a dry run
    # per release read: what was done to each citation
    outcomes: dict[str, tuple[CitationRewrite, ...]] = field(default_factory=dict)

    @property
    def rewritten(self) -> int:
        return self.added + self.replaced

    def absorb(self, other: RewriteSummary) -> None:
        """Add a second pass's work (over releases the first pass resynced) to this one."""
        self.changed += other.changed
        self.written += other.written
        self.added += other.added
        self.replaced += other.replaced
        self.reverted += other.reverted
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.skipped_citations += other.skipped_citations
        self.by_hand += other.by_hand
        self.documents += other.documents
        self.outcomes |= other.outcomes
        self.needs_scan = self.needs_scan or other.needs_scan
        self.excluded = max(self.excluded, other.excluded)  # the same citations, counted again

    @property
    def ok(self) -> bool:
        return not self.skipped


def rewrite_releases(
    settings: Settings,
    store: Store,
    *,
    paths: Sequence[Path] | None = None,
    mode: RewriteMode | None = None,
    dry_run: bool = False,
    output: Path | None = None,
    refresh: bool = False,
    now: dt.datetime | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RewriteSummary:
    """Point the citations `mode` selects (default: rewrite.mode) at their archived copies.

    `paths` limits the run to those releases (files or folders). `dry_run`
    computes a unified diff per release and writes nothing. `output` writes the
    rewritten releases under that folder (same relative paths) and leaves the
    releases, backups and store alone. `refresh` reads every release even where
    the store says its archived copies are linked already, so that text added
    earlier is rendered again in the current templates. Raises WordingError for a
    template that cannot be used, before anything is read.
    """
    chosen = mode or settings.rewrite.mode
    summary = RewriteSummary(mode=chosen, dry_run=dry_run)
    if chosen is RewriteMode.OFF:
        return summary
    wording = Wording(settings.rewrite.template_dir)  # a broken template fails here, once
    states = [state.value for state in State if wants_archive(state.value, chosen)]
    drifted = chosen is RewriteMode.DRIFTED
    ruled = _ruled(settings.rules, store.rewrite_candidates(states, drifted=drifted), chosen)
    summary.excluded = sum(1 for r in ruled if r.excluded)
    candidates = [r.candidate for r in ruled if not r.excluded]
    recovered = [  # an excluded URL's citations are never touched, a revert included
        c
        for c in _recovered(settings, store, chosen, now or dt.datetime.now(dt.UTC))
        if not (settings.rules and _rules_of(settings.rules, c).exclude)
    ]
    reverting = {(c.path, c.start) for c in recovered}
    by_path = _by_release(candidates)
    for candidate in recovered:  # alive now, so not among the candidates of `mode`
        by_path.setdefault(candidate.path, []).append(candidate)
    for rows in by_path.values():
        rows.sort(key=lambda c: c.start)
    copies = _Copies(
        archive_names(settings.archive.lookup, settings.archive.lookup_file),
        store.verified_captures({c.url_id for c in (*candidates, *recovered)}),
    )
    writer = _Writer(settings, store, summary, output, now)
    written = store.written_hashes()
    jobs: list[_Job] = []
    for key in _selected(settings, store, by_path, paths, summary):
        summary.releases += 1
        targets = tuple(copies.target(c, (key, c.start) in reverting) for c in by_path[key])
        if not refresh and all(_links_snapshot(t) and not t.revert for t in targets):
            summary.unchanged += len(targets)
            continue
        if is_web_key(key) and output is None and not dry_run:
            summary.by_hand.append(key)  # a website cannot be written to: --output DIR can
            continue
        job = _job(settings, key, by_path[key][0].sha256, targets, dry_run, output)
        jobs.append(dataclasses.replace(job, written_sha256=written.get(key)))
    pool_size = workers if workers is not None else default_workers()
    for prepared in _prepare_all(jobs, wording, pool_size):
        if progress is not None:
            progress(prepared.key)
        writer.take(prepared)
    writer.close()
    if writer.resynced and not dry_run and output is None:
        # Releases this linkwatch had already rewritten when it was stopped (a kill, a full
        # disk): now that the store knows them again, what is left of their work is done.
        again = rewrite_releases(
            settings,
            store,
            paths=[_release_file(settings, key) for key in writer.resynced],
            mode=chosen,
            refresh=refresh,
            now=now,
            workers=workers,
            progress=progress,
        )
        summary.absorb(again)
    return summary


def _rules_of(rules: RuleSet, candidate: RewriteCandidate) -> Applied:
    """The rules for a citation's URL as checked (normalised, unwrapped), as everywhere."""
    return rules.for_url(candidate.url_key or candidate.url)


@dataclass(frozen=True, slots=True)
class _Ruled:
    candidate: RewriteCandidate
    excluded: bool  # left as it is: a rule excludes the URL


def _ruled(
    rules: RuleSet, candidates: Sequence[RewriteCandidate], mode: RewriteMode
) -> list[_Ruled]:
    """The candidates as `[[rules]]` see them. An excluded URL's citations are never
    touched; one a rule shows as alive or blocked (`treat_as`) is not rotten, so only
    `rewrite.mode = all` or a person's pin of it gets it rewritten."""
    if not rules:
        return [_Ruled(c, excluded=False) for c in candidates]
    ruled = []
    for candidate in candidates:
        applied = _rules_of(rules, candidate)
        if applied.exclude:
            ruled.append(_Ruled(candidate, excluded=True))
        elif applied.treat_as is None or candidate.pinned or mode is RewriteMode.ALL:
            ruled.append(_Ruled(candidate, excluded=False))
    return ruled


@dataclass(frozen=True, slots=True)
class Skip:
    """Why a whole release was left alone; `stale` when only a scan can fix it."""

    reason: str
    stale: bool = False
    document: bool = False  # a Word or PDF release: never edited, and no problem


def cannot_edit(document: Format) -> str:
    """The one line a Word or PDF release gets: linkwatch reads documents, never edits them."""
    return f"a {document.value.upper()} document: rewrite cannot edit it; nothing changed"


@dataclass(frozen=True, slots=True)
class _Job:
    """One release to read and rewrite; small and picklable, for a worker process."""

    key: str
    file: Path
    sha256: str  # as recorded at the last scan
    targets: tuple[Target, ...]
    template_dir: Path | None
    published: dt.date | None  # configured override
    max_size: int
    max_citations: int
    dry_run: bool
    reparse: bool  # the release itself is replaced: the store must learn its new version
    written_sha256: str | None = None  # what this linkwatch's last rewrite of it wrote


@dataclass(frozen=True, slots=True)
class _Prepared:
    key: str
    file: Path
    skip: Skip | None = None  # why the whole release was left alone
    outcomes: tuple[CitationRewrite, ...] = ()
    old: bytes = b""  # the bytes the rewrite was computed from
    new: bytes | None = None  # None: nothing to change
    parsed: ParsedRelease | None = None  # the new version as the scan would store it
    resync: bool = False  # the file is our own last write: only the store is behind
    diff: str | None = None


def _job(
    settings: Settings,
    key: str,
    sha256: str,
    targets: tuple[Target, ...],
    dry_run: bool,
    output: Path | None,
) -> _Job:
    return _Job(
        key=key,
        file=_release_file(settings, key),
        sha256=sha256,
        targets=targets,
        template_dir=settings.rewrite.template_dir,
        published=date_override(settings, key),
        max_size=settings.sources.max_size,
        max_citations=settings.sources.max_citations,
        dry_run=dry_run,
        reparse=not dry_run and output is None and not is_web_key(key),
    )


def _prepare(job: _Job, wording: Wording | None = None) -> _Prepared:
    """Everything but the writing. Never raises for a bad file.

    A worker process builds its wording once (`_wording`); in-process, the run's own
    is passed, so that a long-running daemon picks up edited templates.
    """
    document = document_format(job.file)
    if document is not None:
        return _Prepared(job.key, job.file, skip=Skip(cannot_edit(document), document=True))
    try:
        data = read_bytes(job.file, max_size=job.max_size)
        digest = sha256_of(data)
        if digest != job.sha256 and digest == job.written_sha256 and job.reparse:
            return _resync(job, data, digest)
        if digest != job.sha256:
            return _Prepared(job.key, job.file, skip=Skip(CHANGED_SINCE_SCAN, stale=True))
        release = decode_release(job.file, data)
    except ReleaseReadError as err:
        return _Prepared(job.key, job.file, skip=Skip(err.reason))
    wording = wording or _wording(job.template_dir)
    result = rewrite_release(release, job.targets, wording, language=release_language(release))
    if not result.changed:
        return _Prepared(job.key, job.file, outcomes=result.outcomes)
    if job.dry_run:
        diff = unified_diff(job.key, release, result.data)
        return _Prepared(job.key, job.file, outcomes=result.outcomes, new=result.data, diff=diff)
    parsed = None
    if job.reparse:
        # the old modification time keeps a publication date guessed from it unchanged
        parse = ParseJob(
            job.file,
            job.key,
            result.data,
            sha256_of(result.data),
            job.published,
            mtime_of(job.file),
            job.max_citations,
        )
        parsed = parse_release(parse).release
    return _Prepared(
        job.key, job.file, outcomes=result.outcomes, old=data, new=result.data, parsed=parsed
    )


def _resync(job: _Job, data: bytes, digest: str) -> _Prepared:
    """A release that holds exactly what the last rewrite wrote, while the store still has
    the version before: the rewrite completed but its store update did not (a kill, a full
    disk). It is ours, not an edit: parse it again, so the store agrees with the file."""
    parse = ParseJob(
        job.file, job.key, data, digest, job.published, mtime_of(job.file), job.max_citations
    )
    outcome = parse_release(parse)
    if outcome.release is None:
        return _Prepared(job.key, job.file, skip=Skip(outcome.error or "unreadable"))
    return _Prepared(job.key, job.file, parsed=outcome.release, resync=True)


@functools.cache
def _wording(template_dir: Path | None) -> Wording:
    return Wording(template_dir)


def _prepare_all(jobs: Sequence[_Job], wording: Wording, workers: int) -> Iterator[_Prepared]:
    """In-process with the run's `wording`; in workers each builds its own once (`_wording`)."""
    if workers <= 1 or len(jobs) < POOL_THRESHOLD:
        yield from (_prepare(job, wording) for job in jobs)
        return
    yield from map_in_pool(_prepare, jobs, workers=workers, threshold=0, chunksize=8)


class _Writer:
    """Takes prepared releases in order and writes them durably, a batch at a time."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        summary: RewriteSummary,
        output: Path | None,
        now: dt.datetime | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.summary = summary
        self.output = None if output is None else Path(os.path.abspath(output))
        self.now = now or dt.datetime.now(dt.UTC)
        self.backup_dir: Path | None = None
        self.batch: list[_Prepared] = []
        self.swept: set[Path] = set()
        self.threads = ThreadPoolExecutor(max_workers=FSYNC_THREADS)
        self.resynced: list[str] = []

    def _skip(self, key: str, skip: Skip) -> None:
        if skip.document:
            self.summary.documents.append(f"{key}: {skip.reason}")
            return
        self.summary.skipped.append(f"{key}: {skip.reason}")
        self.summary.needs_scan = self.summary.needs_scan or skip.stale

    def take(self, prepared: _Prepared) -> None:
        if prepared.skip is not None:
            self._skip(prepared.key, prepared.skip)
            return
        if prepared.resync and prepared.parsed is not None:
            self.store.save_releases([prepared.parsed], self.now)
            self.resynced.append(prepared.key)
            return
        self._count(prepared.key, prepared.outcomes)
        if prepared.new is None:
            return
        if self.summary.dry_run:
            self.summary.changed.append(prepared.key)
            self.summary.diffs.append(prepared.diff or "")
            return
        self.batch.append(prepared)
        if len(self.batch) >= BATCH:
            self.flush()

    def _count(self, key: str, outcomes: tuple[CitationRewrite, ...]) -> None:
        self.summary.outcomes[key] = outcomes
        for outcome in outcomes:
            if outcome.action is Action.ADDED:
                self.summary.added += 1
            elif outcome.action is Action.REPLACED:
                self.summary.replaced += 1
            elif outcome.action is Action.REVERTED:
                self.summary.reverted += 1
            elif outcome.action is Action.UNCHANGED:
                self.summary.unchanged += 1
            else:
                label = f"[{outcome.target.label}] " if outcome.target.label else ""
                self.summary.skipped_citations.append(
                    f"{key} {label}{outcome.target.url}: {outcome.reason}"
                )

    def close(self) -> None:
        self.flush()
        self.threads.shutdown()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        if self.output is not None:
            self._write_copies(batch)
        else:
            self._replace_releases(batch)

    def _write_copies(self, batch: Sequence[_Prepared]) -> None:
        assert self.output is not None
        folders: set[Path] = set()
        pages: list[NewWebOutput] = []
        for prepared in batch:
            web = is_web_key(prepared.key)
            copy = self.output / (output_name(prepared.key) if web else _relative(prepared.key))
            try:
                if copy.exists() and copy.resolve() == prepared.file.resolve():
                    raise OSError(0, "--output would overwrite the release itself")
                copy.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(copy, prepared.new or b"", like=prepared.file.stat())
            except OSError as err:
                self.summary.skipped.append(f"{prepared.key}: cannot write: {os_reason(err)}")
                continue
            folders.add(copy.parent)
            self.summary.changed.append(prepared.key)
            self.summary.written.append(copy)
            if web:
                self.summary.by_hand.append(prepared.key)
                pages.append(
                    NewWebOutput(
                        path=prepared.key,
                        sha256=sha256_of(prepared.old),
                        output=str(copy),
                        citations=sum(o.changed for o in prepared.outcomes),
                    )
                )
        for folder in folders:
            fsync_directory(folder)
        # Only web pages are remembered: the report says which edits wait for a person.
        # A copy of a file release is the person's own business (the release is the truth).
        if pages:
            self.store.record_web_outputs(pages, self.now)

    def _replace_releases(self, batch: Sequence[_Prepared]) -> None:
        """Backups first (durable), then the new versions to temporary files, then the log,
        then the renames, then the store.

        File work runs on a few threads: it is mostly waiting for the disk, and the file
        system commits concurrent fsyncs together.
        """
        targets = [_written_path(prepared.file) for prepared in batch]
        for folder in {target.parent for target in targets} - self.swept:
            self.swept.add(folder)
            sweep_stale_temp_files(folder)
        if self.backup_dir is None:
            self.backup_dir = _new_backup_dir(self.settings.state.dir / BACKUPS, self.now)
        backup_dir = self.backup_dir
        secured = self.threads.map(
            lambda prepared, target: secure(prepared, target, backup_dir), batch, targets
        )
        ready: list[tuple[_Prepared, Path, Path, os.stat_result]] = []
        for prepared, target, result in zip(batch, targets, secured, strict=True):
            if isinstance(result, Skip):
                self._skip(prepared.key, result)
            else:
                ready.append((prepared, target, *result))
        if not ready:
            return
        list(self.threads.map(fsync_directory, {backup.parent for _, _, backup, _ in ready}))
        # The new versions are written (and fsynced) before anything is recorded: a full
        # disk shows here, and a release that could not be written is logged as nothing.
        temps = self.threads.map(
            temp_copy_or_error, [(t, p.new or b"", info) for p, t, _, info in ready]
        )
        staged: list[tuple[_Prepared, Path, Path, Path]] = []
        for (prepared, target, backup, _), temp in zip(ready, temps, strict=True):
            if isinstance(temp, OSError):
                self.summary.skipped.append(f"{prepared.key}: cannot write: {os_reason(temp)}")
            else:
                staged.append((prepared, target, backup, temp))
        if not staged:
            return
        try:
            self.store.record_rewrites(
                [
                    NewRewrite(
                        path=prepared.key,
                        old_sha256=sha256_of(prepared.old),
                        new_sha256=sha256_of(prepared.new or b""),
                        backup=backup.relative_to(self.settings.state.dir).as_posix(),
                        citations=sum(o.changed for o in prepared.outcomes),
                        reverted=tuple(
                            (o.target.url, o.target.archive_url)
                            for o in prepared.outcomes
                            if o.action is Action.REVERTED
                        ),
                    )
                    for prepared, _, backup, _ in staged
                ],
                self.now,
            )
        except BaseException:  # not recorded, so not replaced: the releases stay as they were
            for *_, temp in staged:
                remove(temp)
            raise
        written: list[ParsedRelease] = []
        for prepared, target, _, temp in staged:
            try:
                os.replace(temp, target)
            except OSError as err:
                remove(temp)
                self.summary.skipped.append(f"{prepared.key}: cannot write: {os_reason(err)}")
                continue
            self.summary.changed.append(prepared.key)
            self.summary.written.append(target)
            if prepared.parsed is not None:
                written.append(prepared.parsed)
        list(self.threads.map(fsync_directory, {target.parent for _, target, _, _ in staged}))
        # Should this fail (a full disk), the files are ahead of the store: the next run
        # knows them by the hash it recorded above, and parses them again (`_resync`).
        self.store.save_releases(written, self.now)


def _written_path(file: Path) -> Path:
    """Where the new version goes: a symlinked release is replaced at its target."""
    return Path(os.path.realpath(file)) if file.is_symlink() else file


def secure(
    prepared: _Prepared, target: Path, backup_dir: Path
) -> tuple[Path, os.stat_result] | Skip:
    """Back up the release if it still holds what the rewrite was computed from; else why not."""
    try:
        info = target.stat()
        with open(target, "rb") as handle:
            current = handle.read()
    except OSError as err:
        return Skip(os_reason(err))
    if current != prepared.old:
        return Skip(CHANGED_SINCE_SCAN, stale=True)
    try:
        return keep_backup(backup_dir / _relative(prepared.key), target, prepared.old, info), info
    except OSError as err:
        return Skip(f"cannot back up: {os_reason(err)}")


def _by_release(candidates: Iterable[RewriteCandidate]) -> dict[str, list[RewriteCandidate]]:
    return {path: list(rows) for path, rows in groupby(candidates, key=lambda c: c.path)}


def _selected(
    settings: Settings,
    store: Store,
    by_path: dict[str, list[RewriteCandidate]],
    paths: Sequence[Path] | None,
    summary: RewriteSummary,
) -> list[str]:
    """Release paths to consider: all with candidates, or those under the paths given."""
    if paths is None:
        return sorted(by_path)
    chosen: set[str] = set()
    for given in paths:
        key = release_key(Path(os.path.abspath(given)), settings.base_dir)
        under = {p for p in by_path if p == key or p.startswith(key.rstrip("/") + "/")}
        if not under and store.release_sha256(key) is None and not Path(given).is_dir():
            summary.skipped.append(f"{key}: not a scanned release (run scan)")
            summary.needs_scan = True
        chosen |= under
    return sorted(chosen)


MAX_OTHER_COPIES = 4  # Robust Links beside the chosen copy: enough ways back, a short tag


@dataclass(frozen=True, slots=True)
class _Copies:
    """What a rewrite adds besides the chosen copy: its archive's name, the other copies."""

    names: dict[str, str]  # archive id -> name, for archives of archive.lookup
    verified: dict[int, list[Snapshot]]  # per URL: captures whose replay was a real page

    def target(self, candidate: RewriteCandidate, revert: bool = False) -> Target:
        captured = dt.datetime.fromisoformat(candidate.archive_timestamp)
        others = [
            s
            for s in self.verified.get(candidate.url_id, [])
            if s.archive_url != candidate.archive_url
        ]
        others.sort(key=lambda s: abs((s.timestamp - captured).total_seconds()))
        original = unwrap(candidate.url)
        return Target(
            label=candidate.label,
            url=candidate.url,
            start=candidate.start,
            end=candidate.end,
            archive_url=candidate.archive_url,
            captured=captured,
            archived=candidate.archived,
            archive_name=self.names.get(candidate.archive_source or "", ""),
            others=tuple((s.archive_url, s.timestamp) for s in others[:MAX_OTHER_COPIES]),
            original=None if original == candidate.url else original,
            revert=revert,
        )


def _recovered(
    settings: Settings, store: Store, mode: RewriteMode, now: dt.datetime
) -> list[RewriteCandidate]:
    """Citations whose added archive link goes (`rewrite.on_recovery = "revert"`).

    Only in `dead` mode: with `all`, every citation keeps its archived copy
    whatever its state. The history decides (`recovery.is_recovered`).
    """
    if settings.rewrite.on_recovery is not OnRecovery.REVERT or mode is not RewriteMode.DEAD:
        return []
    policy = settings.policy
    histories: dict[int, bool] = {}
    recovered = []
    for candidate in store.revert_candidates():
        url_id = candidate.url_id
        if url_id not in histories:
            spans = store.history(url_id)
            histories[url_id] = is_recovered(
                spans, now, policy.recovered_after, policy.recovered_after_checks
            )
        if histories[url_id]:
            recovered.append(candidate)
    return recovered


def _links_snapshot(target: Target) -> bool:
    """The last scan found the chosen snapshot already linked right after the citation."""
    return target.archived is not None and safe_url(target.archived) == safe_url(target.archive_url)


def _release_file(settings: Settings, key: str) -> Path:
    """The release's file; a web page's is its body as the last scan fetched it."""
    if is_web_key(key):
        return body_file(settings.state.dir, key)
    path = path_of(key)
    return path if path.is_absolute() else settings.base_dir / path


def _relative(key: str) -> Path:
    """A release path made relative, for a place under backups/ or --output."""
    parts = PurePosixPath(path_of(key).as_posix()).parts
    if parts and parts[0] == "/":
        parts = parts[1:]
    return Path(*[part for part in parts if part not in ("..", ".")])


def _new_backup_dir(root: Path, now: dt.datetime) -> Path:
    """One folder per run, named by its time so that backups sort chronologically."""
    stamp = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    candidate = root / stamp
    suffix = 1
    while True:
        try:
            candidate.mkdir(parents=True)
            return candidate
        except FileExistsError:
            suffix += 1
            candidate = root / f"{stamp}-{suffix}"
