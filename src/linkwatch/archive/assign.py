"""Phase 4 of an archive run: give each citation the capture closest to its release's date.

Candidates are tried in `choose.candidate_order` and replayed until one is a
real page; the choice is stored per release and URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from linkwatch.archive.backends.factory import LOOKUP_CONCURRENCY
from linkwatch.archive.choose import candidate_order, publication_moment
from linkwatch.archive.replay import ReplayChecker, ReplayInconclusive
from linkwatch.archive.run_state import ArchiveStep, Run
from linkwatch.model import Snapshot
from linkwatch.store import Store
from linkwatch.store.archive import ChosenSnapshot, CitationToChoose

MAX_TRIES = 5  # candidates replayed per citation per run; the next run goes on


@dataclass(slots=True)
class _Choice:
    citation: CitationToChoose
    snapshot: Snapshot | None
    keep: bool  # inconclusive or out of tries: judged again by a later run


@dataclass(slots=True)
class _UrlChoices:
    url_id: int
    choices: list[_Choice]
    verdicts: list[tuple[Snapshot, str | None]]  # replays judged: (capture, rejection or None)


async def choose(run: Run, replays: ReplayChecker) -> None:
    citations = run.db.read.citations_to_choose()
    rules = run.settings.rules
    if rules:  # an excluded URL is given no snapshot: its citations are left as they are
        citations = [c for c in citations if not rules.for_url(c.url_key).exclude]
    by_url: dict[int, list[CitationToChoose]] = {}
    for citation in citations:
        by_url.setdefault(citation.url_id, []).append(citation)
    candidates = run.db.read.candidate_snapshots(by_url)
    if run.summary.down:  # an archive down this run was asked once already: no replays there
        candidates = {
            url_id: [s for s in snapshots if s.source not in run.summary.down]
            for url_id, snapshots in candidates.items()
        }
    verified = run.db.read.verified_snapshots(by_url)
    chosen = run.db.read.chosen_snapshots()
    work = {
        url_id: group
        for url_id, group in by_url.items()
        if any(_needs_choice(c, candidates.get(url_id, []), chosen) for c in group)
    }
    run.progress.phase("choosing", len(work))
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def one_url(url_id: int, group: list[CitationToChoose]) -> _UrlChoices:
        async with gate:
            judged: dict[str, str | None] = {}
            snapshots = candidates.get(url_id, [])
            choices = [
                await _choose_one(c, snapshots, chosen, verified, judged, replays) for c in group
            ]
            await _verify_other_archives(group[0], choices, snapshots, verified, judged, replays)
            verdicts = [(s, judged[s.archive_url]) for s in snapshots if s.archive_url in judged]
            return _UrlChoices(url_id, choices, verdicts)

    tasks = [asyncio.create_task(one_url(url_id, group)) for url_id, group in work.items()]
    try:
        for next_done in asyncio.as_completed(tasks):
            done = await next_done
            for snapshot, rejection in done.verdicts:
                await run.db.write(
                    Store.judge_snapshot, done.url_id, snapshot, rejection, run.now()
                )
                run.summary.rejected += rejection is not None
            await _store_choices(run, done.choices, chosen)
            run.progress.step(by_url[done.url_id][0].url_key, _choice_step(done.choices))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    final = run.db.read.chosen_snapshots()
    run.summary.no_snapshot = sum(1 for c in citations if (c.release_path, c.url_key) not in final)


def _needs_choice(
    citation: CitationToChoose,
    snapshots: Sequence[Snapshot],
    chosen: Mapping[tuple[str, str], ChosenSnapshot],
) -> bool:
    order = candidate_order(snapshots, publication_moment(citation.published))
    current = chosen.get((citation.release_path, citation.url_key))
    if not order:
        return False  # nothing to choose from; a choice made before stays
    return current is None or current.archive_url != order[0].archive_url


async def _choose_one(
    citation: CitationToChoose,
    snapshots: Sequence[Snapshot],
    chosen: Mapping[tuple[str, str], ChosenSnapshot],
    verified: set[str],
    judged: dict[str, str | None],
    replays: ReplayChecker,
) -> _Choice:
    """Walk the candidates in order; the first real page wins, the current choice stands."""
    current = chosen.get((citation.release_path, citation.url_key))
    order = candidate_order(snapshots, publication_moment(citation.published))
    tries = 0
    for candidate in order:
        url = candidate.archive_url
        if url in verified or (current is not None and url == current.archive_url):
            return _Choice(citation, candidate, keep=False)
        if url not in judged:
            if tries >= MAX_TRIES:
                return _Choice(citation, None, keep=True)
            tries += 1
            try:
                judged[url] = await replays.rejection(candidate, citation.url_key)
            except ReplayInconclusive:
                return _Choice(citation, None, keep=True)
        if judged[url] is None:
            verified.add(url)
            return _Choice(citation, candidate, keep=False)
    return _Choice(citation, None, keep=False)


async def _verify_other_archives(
    citation: CitationToChoose,
    choices: Sequence[_Choice],
    snapshots: Sequence[Snapshot],
    verified: set[str],
    judged: dict[str, str | None],
    replays: ReplayChecker,
) -> None:
    """Replay the best capture of each other archive too, once: Robust Links list every
    verified copy, so that a reader has a way back when one archive loses its copy."""
    held = {c.snapshot.source for c in choices if c.snapshot is not None}
    if not held:
        return
    best: dict[str, Snapshot] = {}
    for candidate in candidate_order(snapshots, publication_moment(citation.published)):
        best.setdefault(candidate.source, candidate)
    for source, candidate in best.items():
        url = candidate.archive_url
        if source in held or url in verified or url in judged:
            continue
        if any(s.archive_url in verified for s in snapshots if s.source == source):
            continue  # that archive has a verified copy already
        try:
            judged[url] = await replays.rejection(candidate, citation.url_key)
        except ReplayInconclusive:
            continue
        if judged[url] is None:
            verified.add(url)


async def _store_choices(
    run: Run, choices: Iterable[_Choice], chosen: Mapping[tuple[str, str], ChosenSnapshot]
) -> None:
    moment = run.now()
    for choice in choices:
        key = (choice.citation.release_path, choice.citation.url_key)
        current = chosen.get(key)
        if choice.snapshot is None:
            continue  # every candidate rejected, or judged later: a choice made before stays
        if current is not None and current.archive_url == choice.snapshot.archive_url:
            continue
        snapshot = ChosenSnapshot(
            choice.snapshot.archive_url,
            choice.snapshot.timestamp,
            choice.snapshot.status,
            choice.snapshot.source,
        )
        await run.db.write(Store.set_chosen_snapshot, *key, snapshot, moment)
        run.summary.chosen += 1


def _choice_step(choices: Sequence[_Choice]) -> ArchiveStep:
    if any(choice.snapshot is not None for choice in choices):
        return ArchiveStep.CHOSEN
    return ArchiveStep.KEPT if any(choice.keep for choice in choices) else ArchiveStep.NO_SNAPSHOT
