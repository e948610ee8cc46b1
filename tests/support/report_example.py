"""The example store behind the report and digest tests, the golden files and the screenshot.

Ten years in the life of the Juncker release's citations, plus three later
releases citing some of the same pages: links that died years ago, a domain
that lapsed this very week, pages that moved, a soft-404, a bot wall a person
pinned alive, an invalid URL, a URL never checked, archived copies chosen for
most citations and one footnote already rewritten to its archived copy.

Everything is written through the store's public methods, as scan, check and
archive write it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from linkwatch.check.verdict import Streak, Verdict
from linkwatch.clock import fixed_clock
from linkwatch.model import (
    CheckResult,
    Citation,
    DateSource,
    ErrorKind,
    Format,
    QueueStatus,
    ReleaseMeta,
    Snapshot,
    State,
)
from linkwatch.report.build import build_report
from linkwatch.report.rows import Report
from linkwatch.store import CheckRecord, ParsedRelease, Store
from linkwatch.store.archive import ChosenSnapshot
from linkwatch.urls import InvalidURL, normalise_url

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # a Wednesday, ISO week 2026-W48
WEEK_AGO = NOW - dt.timedelta(days=7)


def at(moment: dt.datetime) -> dict[str, object]:
    """The CLI's context object with a fixed clock, for `CliRunner().invoke(..., obj=at(NOW))`."""
    return {"clock": fixed_clock(moment)}


WAYBACK = "https://web.archive.org/web"

JUNCKER = "releases/2016-04-07-juncker-kazakhstan.md"
KOZLOV = "releases/2019-05-14-kozlov-parole.md"
BAIDALINOVA = "releases/2021-10-01-baidalinova-verdict.html"
ANNIVERSARY = "releases/2026-11-20-anniversary-statement.txt"

EC = "http://ec.europa.eu/avservices/video/player.cfm?ref=I118702"
OSCE = "http://www.osce.org/odihr/elections/kazakhstan/229136"
ODF_7410 = (
    "http://en.odfoundation.eu/a/7410,donald-tusk-must-raise-the-issue-of-mounting-restrictions"
    "-on-free-speech-and-continuous-repression-of-political-opposition-in-kazakhstan-during-his"
    "-meeting-with-president-nazarbayev"
)
EUOBSERVER = "https://euobserver.com/foreign/132858"
ODF_5465 = (
    "http://en.odfoundation.eu/a/5465,kazakhstan-reform-of-the-criminal-legislation-endangers"
    "-human-rights"
)
IPHR = "http://iphronline.org/kazakhstan-report-documents-key-rights-trends-20160317.html"
AMNESTY = "https://www.amnesty.org/en/documents/eur57/3345/2016/en/"
ODF_7228 = "http://en.odfoundation.eu/a/7228,kazakhstan-the-oppression-of-journalists-and-bloggers1"
ODF_6264 = (
    "http://en.odfoundation.eu/a/6264,international-community-calls-on-france-to-prevent"
    "-extradition-of-opposition-politician-mukhtar-ablyazov"
)
ODF_7319 = (
    "http://en.odfoundation.eu/a/7319,report-the-facts-which-confirm-the-fabrication-of-the-case"
    "-of-mukhtar-ablyazov-in-russia-tatiana-paraskevich-and-artur-trofimov-prosecution"
)
EUROPARL = (
    "http://www.europarl.europa.eu/sides/getDoc.do?type=MOTION&reference=P8-RC-2016-0337"
    "&language=EN"
)
HRW = "https://www.hrw.org/news/2019/05/14/kazakhstan-activist-denied-parole"
BITLY = "https://bit.ly/kozlov-appeal-2019"
RFERL = "https://www.rferl.org/a/kazakhstan-kozlov-parole-denied/29940000.html"
OSCE_RFOM = "https://www.osce.org/representative-on-freedom-of-media/503456"
EMBASSY = "https://kz.usembassy.gov/statement-on-the-baidalinova-verdict/"
ZAKON = "https://www.zakon.kz/2021/10/01/baidalinova-acquitted.html"
BAD = "http://www.kazpravda.kz/news/sud 2021"

ODF_URLS = (ODF_7410, ODF_5465, ODF_7228, ODF_6264, ODF_7319)
JUNCKER_CITATIONS = (
    ("1", EC),
    ("2", OSCE),
    ("3", ODF_7410),
    ("4", EUOBSERVER),
    ("5", ODF_5465),
    ("6", IPHR),
    ("7", AMNESTY),
    ("9", ODF_7228),
    ("10", ODF_6264),
    ("11", ODF_7319),
    ("12", EUROPARL),
)


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(hour=6, tzinfo=dt.UTC)


def snapshot_url(url: str, when: str) -> str:
    return f"{WAYBACK}/{when.replace('-', '')}000000/{url}"


def release(
    path: str,
    title: str,
    published: str,
    source: DateSource,
    fmt: Format,
    citations: Sequence[tuple[str | None, str]],
    *,
    archived: dict[str, str] | None = None,
) -> ParsedRelease:
    """A release as the scan stores it; `archived` maps a URL to the copy its footnote links."""
    archived = archived or {}
    rows = [
        Citation(
            label=label,
            url=url,
            start=100 * index,
            end=100 * index + len(url),
            context=f"footnote {label}" if label else "in the text",
            archived=archived.get(url),
        )
        for index, (label, url) in enumerate(citations)
    ]
    keys: list[str] = []
    invalid: list[str | None] = []
    for _label, url in citations:
        try:
            keys.append(normalise_url(url))
            invalid.append(None)
        except InvalidURL as err:  # kept as written, as the scan keeps it
            keys.append(url)
            invalid.append(str(err))
    return ParsedRelease(
        path=path,
        sha256=path.encode().hex()[:64].ljust(64, "0"),
        size=4000,
        format=fmt,
        encoding="utf-8",
        meta=ReleaseMeta(title, dt.date.fromisoformat(published), source),
        citations=rows,
        url_keys=keys,
        invalid=invalid,
    )


RELEASES = (
    release(
        JUNCKER,
        "JEAN-CLAUDE JUNCKER'S STATEMENT ON 'PROMISING REFORM' IN KAZAKHSTAN CALLS INTO "
        "QUESTION THE COMPETENCE OF REPRESENTATIVES OF THE EUROPEAN COMMISSION GIVEN THEIR "
        "ASSESSMENT OF THE REAL SITUATION IN THE COUNTRY",
        "2016-04-07",
        DateSource.DATELINE,
        Format.MARKDOWN,
        JUNCKER_CITATIONS,
        archived={ODF_7410: snapshot_url(ODF_7410, "2016-04-06")},
    ),
    release(
        KOZLOV,
        "Kazakhstan refuses parole for Vladimir Kozlov",
        "2019-05-14",
        DateSource.FRONT_MATTER,
        Format.MARKDOWN,
        (("1", ODF_7228), ("2", AMNESTY), ("3", HRW), ("4", BITLY), (None, RFERL)),
    ),
    release(
        BAIDALINOVA,
        "Court overturns the verdict against journalist Gyuzyal Baidalinova",
        "2021-10-01",
        DateSource.HTML_META,
        Format.HTML,
        (("1", OSCE_RFOM), ("2", EMBASSY), ("3", IPHR), ("4", ZAKON), ("5", BAD)),
    ),
    release(
        ANNIVERSARY,
        "Statement on the anniversary of the Zhanaozen events",
        "2026-11-20",
        DateSource.DATELINE,
        Format.TEXT,
        (),
    ),
)


@dataclass(frozen=True, slots=True)
class Phase:
    """From `start`, checks every `every` days give this outcome (until the next phase)."""

    start: str
    state: State
    status: int | None = 200
    error: ErrorKind | None = None
    final_url: str | None = None
    every: int = 30


def alive(start: str) -> Phase:
    return Phase(start, State.ALIVE)


def failing(start: str, state: State, status: int | None, error: ErrorKind | None = None) -> Phase:
    return Phase(start, state, status, error, every=1 if state is State.TRANSIENT else 30)


ODF_LAPSE = (
    alive("2016-04-08"),
    failing("2026-11-16", State.TRANSIENT, None, ErrorKind.DNS),
    failing("2026-11-19", State.DEAD, None, ErrorKind.DNS),
)
STORIES: dict[str, tuple[Phase, ...]] = {
    EC: (
        alive("2016-04-08"),
        failing("2018-03-01", State.TRANSIENT, 404),
        failing("2018-03-04", State.DEAD, 404),
    ),
    OSCE: (
        alive("2016-04-08"),
        Phase("2017-09-01", State.MOVED, 200, final_url=OSCE.replace("http:", "https:")),
    ),
    EUOBSERVER: (
        alive("2016-04-08"),
        failing("2025-08-01", State.TRANSIENT, 404),
        failing("2025-08-04", State.DEAD, 404),
        alive("2026-11-21"),
    ),
    IPHR: (
        alive("2016-04-08"),
        failing("2021-02-01", State.TRANSIENT, 200),
        failing("2021-02-04", State.SOFT404, 200),
    ),
    AMNESTY: (alive("2016-04-08"), failing("2024-03-01", State.BLOCKED, 403)),
    EUROPARL: (
        alive("2016-04-08"),
        Phase(
            "2023-11-01",
            State.MOVED,
            200,
            final_url="https://www.europarl.europa.eu/doceo/document/RC-8-2016-0337_EN.html",
        ),
    ),
    HRW: (
        alive("2019-05-15"),
        Phase("2026-11-23", State.MOVED, 200, final_url=HRW.replace("/news/", "/en/news/")),
    ),
    BITLY: (
        alive("2019-05-15"),
        failing("2020-01-10", State.TRANSIENT, 404),
        failing("2020-01-13", State.DEAD, 404),
    ),
    RFERL: (
        alive("2019-05-15"),
        failing("2026-11-16", State.TRANSIENT, 200),
        failing("2026-11-19", State.SOFT404, 200),
    ),
    OSCE_RFOM: (alive("2021-10-02"),),
    EMBASSY: (alive("2021-10-02"), failing("2022-06-01", State.BLOCKED, 403)),
} | dict.fromkeys(ODF_URLS, ODF_LAPSE)

SNAPSHOTS: dict[tuple[str, str], str] = {
    (JUNCKER, EC): "2016-04-07",
    (JUNCKER, OSCE): "2016-04-05",
    (JUNCKER, ODF_7410): "2016-04-06",
    (JUNCKER, EUOBSERVER): "2016-04-02",
    (JUNCKER, IPHR): "2016-03-20",
    (JUNCKER, AMNESTY): "2016-04-01",
    (JUNCKER, ODF_7228): "2016-02-11",
    (JUNCKER, ODF_7319): "2016-03-30",
    (KOZLOV, ODF_7228): "2019-05-10",
    (KOZLOV, HRW): "2019-05-14",
    (BAIDALINOVA, IPHR): "2021-09-30",
    (BAIDALINOVA, OSCE_RFOM): "2021-10-01",
}
PINS = {AMNESTY: State.ALIVE}
ARCHIVE_EVENTS = (  # (url, status, reason, done_at)
    (HRW, "saved", None, "2026-11-20"),
    (ZAKON, "saved", None, "2026-11-22"),
    (BITLY, "refused", "the site excludes archiving (robots.txt)", "2026-11-23"),
)


def checks_of(url_id: int, url: str, phases: Sequence[Phase]) -> list[CheckRecord]:
    records = []
    for index, phase in enumerate(phases):
        start = day(phase.start)
        until = day(phases[index + 1].start) if index + 1 < len(phases) else NOW
        moment = start
        while moment < until:
            result = CheckResult(
                url=url,
                checked_at=moment,
                status=phase.status,
                final_url=phase.final_url or (url if phase.status else None),
                error=phase.error,
            )
            verdict = Verdict(phase.state, Streak(), f"{phase.state} by the example's script")
            records.append(CheckRecord(url_id, result, verdict, moment + dt.timedelta(days=1)))
            moment += dt.timedelta(days=phase.every)
    return records


def build_example_store(store: Store) -> None:
    """Fill an empty store with the example; NOW is the moment it describes."""
    store.save_releases(RELEASES, day("2026-11-20"))
    ids = {row.key: row.id for row in store.urls_to_check()}
    records = [
        record
        for url, phases in STORIES.items()
        for record in checks_of(ids[normalise_url(url)], url, phases)
    ]
    records.sort(key=lambda record: record.result.checked_at)
    store.record_checks(records)
    for url, state in PINS.items():
        store.set_pin(ids[normalise_url(url)], state)
    for (path, url), when in SNAPSHOTS.items():
        snapshot = ChosenSnapshot(snapshot_url(url, when), day(when), 200)
        store.set_chosen_snapshot(path, normalise_url(url), snapshot, day("2026-11-20"))
    for url, status, reason, done_at in ARCHIVE_EVENTS:
        url_id, finished = ids[normalise_url(url)], day(done_at)
        store.enqueue_saves("wayback", [url_id], finished - dt.timedelta(hours=1))
        capture = Snapshot(snapshot_url(url, done_at), finished, 200, "wayback")
        saved = status == "saved"
        store.finish_save(
            "wayback",
            url_id,
            QueueStatus(status),
            finished,
            reason=reason,
            snapshot=capture if saved else None,
        )


def seed(store: Store, urls: Sequence[str], path: str = "a.md") -> list[int]:
    """One release citing `urls`; returns their URL ids in the same order."""
    store.save_releases(
        [
            release(
                path,
                "A",
                "2020-01-01",
                DateSource.DATELINE,
                Format.MARKDOWN,
                [(str(n), url) for n, url in enumerate(urls, start=1)],
            )
        ],
        day("2020-01-01"),
    )
    ids = {row.key: row.id for row in store.urls_to_check()}
    return [ids[normalise_url(url)] for url in urls]


def check(
    store: Store,
    url_id: int,
    when: dt.datetime,
    state: State,
    status: int | None,
    error: ErrorKind | None = None,
) -> None:
    """Record one judged check, as a check run does."""
    result = CheckResult(url="http://x", checked_at=when, status=status, error=error)
    verdict = Verdict(state, Streak(), f"{state} by hand")
    store.record_checks([CheckRecord(url_id, result, verdict, when + dt.timedelta(days=1))])


def report_of(store: Store, **options: Any) -> Report:
    """The report of `store` as built at NOW."""
    return build_report(store, now=NOW, **options)
