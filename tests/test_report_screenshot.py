"""The HTML report as a person sees it: headless Chromium renders the example report."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "bench" / "screenshot.py"

needs_chromium = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium)",
)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@needs_chromium
def test_chromium_renders_the_example_report(tmp_path: Path) -> None:
    png, html = tmp_path / "report.png", tmp_path / "report.html"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(png), "--html", str(html)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    data = png.read_bytes()
    assert png_size(data) == (1200, 1600)
    assert len(data) > 100_000  # charts, pills and text, not a blank page
    assert "Citation health" in html.read_text(encoding="utf-8")


def test_the_committed_screenshot_is_the_readme_picture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/report.png" in readme
    assert png_size((ROOT / "docs" / "report.png").read_bytes()) == (1200, 1600)
