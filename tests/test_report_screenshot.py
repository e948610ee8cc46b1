"""The HTML report as a person sees it: headless Chromium renders the example report."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from linkwatch.model import State
from linkwatch.report.states import STATE_COLOURS
from support.png import Picture, decode, png_size

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "bench" / "screenshot.py"

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium)",
)


TILES = (6, 8)  # columns, rows of the grid the page is judged in


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _close(pixel: tuple[int, int, int], colour: tuple[int, int, int], slack: int = 20) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=True))


def busy_tiles(picture: Picture) -> int:
    """Tiles of the grid where more than 1% of the pixels are not the page's background."""
    sample = Counter(
        picture.pixel(x, y) for y in range(0, picture.height, 7) for x in range(0, picture.width, 7)
    )
    background = sample.most_common(1)[0][0]
    columns, rows = TILES
    busy = 0
    for row in range(rows):
        for column in range(columns):
            ys = range(row * picture.height // rows, (row + 1) * picture.height // rows, 4)
            xs = range(
                column * picture.width // columns, (column + 1) * picture.width // columns, 4
            )
            marked = sum(1 for y in ys for x in xs if picture.pixel(x, y) != background)
            busy += marked > 0.01 * len(ys) * len(xs)
    return busy


def assert_shows_the_report(data: bytes) -> None:
    """What the example report must show: the whole page filled (text, tables, charts),
    and the states' colours in their pills and charts, dead, soft 404 and alive alike."""
    picture = decode(data)
    assert (picture.width, picture.height) == (1200, 1600)
    assert busy_tiles(picture) >= 40, "most of the page is blank"
    for state in (State.DEAD, State.SOFT404, State.ALIVE):
        colour = _rgb(STATE_COLOURS[state])
        shown = sum(
            1
            for y in range(0, picture.height, 2)
            for x in range(0, picture.width, 2)
            if _close(picture.pixel(x, y), colour)
        )
        assert shown >= 200, f"{state} ({STATE_COLOURS[state]}) shows in {shown} pixels"


@needs_chromium
def test_chromium_renders_the_example_report(tmp_path: Path) -> None:
    png, html = tmp_path / "report.png", tmp_path / "report.html"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(png), "--html", str(html)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert_shows_the_report(png.read_bytes())
    assert "Citation health" in html.read_text(encoding="utf-8")


def test_the_committed_screenshot_is_the_readme_picture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/report.png" in readme
    assert_shows_the_report((ROOT / "docs" / "report.png").read_bytes())


def test_a_blank_page_is_not_taken_for_the_report() -> None:
    """The judge itself: a white page of the right size fails it."""
    import zlib

    row = b"\x00" + b"\xff" * (1200 * 3)
    header = (
        b"IHDR" + (1200).to_bytes(4, "big") + (1600).to_bytes(4, "big") + b"\x08\x02\x00\x00\x00"
    )
    body = b"IDAT" + zlib.compress(row * 1600)

    def chunk(payload: bytes) -> bytes:
        return (
            (len(payload) - 4).to_bytes(4, "big") + payload + zlib.crc32(payload).to_bytes(4, "big")
        )

    blank = b"\x89PNG\r\n\x1a\n" + chunk(header) + chunk(body) + chunk(b"IEND")
    assert png_size(blank) == (1200, 1600)
    with pytest.raises(AssertionError, match="blank"):
        assert_shows_the_report(blank)
