"""Golden files: each format's release rewritten, compared byte for byte with the committed result.

To regenerate after a deliberate change of wording, run with LINKWATCH_REGENERATE_GOLDEN=1
and review the diff of tests/golden/rewrite/ before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from linkwatch.extract import extract_citations
from linkwatch.model import Citation
from linkwatch.rewrite.dates import release_language
from linkwatch.rewrite.splice import rewrite_release
from linkwatch.rewrite.values import Action, Target
from linkwatch.rewrite.wording import Wording, safe_url
from linkwatch.sources.decoding import ReleaseFile, decode_release

GOLDEN = Path(__file__).parent / "golden" / "rewrite"
SEED = Path(__file__).parent / "fixtures" / "2016-04-07-juncker-kazakhstan.md"
CAPTURED = dt.datetime(2016, 4, 6, 12, 0, tzinfo=dt.UTC)
REGENERATE = os.environ.get("LINKWATCH_REGENERATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Case:
    source: Path
    expected: str
    rewrite: Callable[[Citation], bool]


def _every(citation: Citation) -> bool:
    return "alive" not in citation.url


CASES = {
    "seed markdown": Case(SEED, "seed.expected.md", lambda c: c.label in {"1", "4", "9", "12"}),
    "markdown footnotes": Case(GOLDEN / "footnotes.md", "footnotes.expected.md", _every),
    "html endnotes": Case(GOLDEN / "endnotes.html", "endnotes.expected.html", _every),
    "crlf plain text": Case(GOLDEN / "crlf.txt", "crlf.expected.txt", _every),
    "utf-8 with bom": Case(GOLDEN / "bom.md", "bom.expected.md", _every),
    "windows-1251": Case(GOLDEN / "legacy-cp1251.html", "legacy-cp1251.expected.html", _every),
}


def read(path: Path) -> ReleaseFile:
    return decode_release(path, path.read_bytes())


def citations(release: ReleaseFile) -> list[Citation]:
    return extract_citations(
        release.text, release.format, encoding=release.encoding, bom=release.bom
    )


def targets(release: ReleaseFile, chosen: Callable[[Citation], bool]) -> list[Target]:
    return [
        Target(
            c.label,
            c.url,
            c.start,
            c.end,
            f"https://web.archive.org/web/20160406120000/{c.url}",
            CAPTURED,
            c.archived,
        )
        for c in citations(release)
        if chosen(c)
    ]


def rewritten(release: ReleaseFile, chosen: Callable[[Citation], bool]) -> bytes:
    result = rewrite_release(
        release, targets(release, chosen), Wording(), language=release_language(release)
    )
    return result.data


@pytest.mark.parametrize("name", CASES)
def test_rewrite_matches_the_golden_file_byte_for_byte(name: str) -> None:
    case = CASES[name]
    output = rewritten(read(case.source), case.rewrite)
    expected = GOLDEN / case.expected
    if REGENERATE:
        expected.write_bytes(output)
    assert output == expected.read_bytes()


@pytest.mark.parametrize("name", CASES)
def test_golden_file_rewritten_again_is_unchanged(name: str) -> None:
    case = CASES[name]
    expected = GOLDEN / case.expected
    assert rewritten(read(expected), case.rewrite) == expected.read_bytes()


@pytest.mark.parametrize("name", CASES)
def test_golden_file_scans_to_the_same_citations_with_their_archived_copy(name: str) -> None:
    case = CASES[name]
    source = read(case.source)
    result = rewrite_release(source, targets(source, case.rewrite), Wording())
    added = {o.target.start for o in result.outcomes if o.action is Action.ADDED}
    before = citations(source)
    after = citations(read(GOLDEN / case.expected))
    assert [(c.label, c.url) for c in after] == [(c.label, c.url) for c in before]
    for old, new in zip(before, after, strict=True):
        wanted = safe_url(f"https://web.archive.org/web/20160406120000/{old.url}")
        assert new.archived == (wanted if old.start in added else None)


def test_reference_definition_is_left_alone_with_a_reason() -> None:
    source = read(GOLDEN / "footnotes.md")
    result = rewrite_release(source, targets(source, _every), Wording())
    [skipped] = [o for o in result.outcomes if o.action is Action.SKIPPED]
    assert skipped.target.url == "http://ref.example.org/def"
    assert skipped.reason is not None and "reference definition" in skipped.reason
