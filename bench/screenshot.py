"""Screenshot the HTML report of the example store with headless Chromium (docs/report.png).

The example store is the one the tests use (tests/support/report_example.py): the
Juncker release's citations over ten years, plus three later releases. The
report is rendered as `linkwatch report --format html` renders it, then
Debian's `chromium` (`apt-get install -y chromium`) takes the picture with
no network, no profile and no sandbox (it runs as root in containers).

Run from the project root:

    .venv/bin/python bench/screenshot.py                  # writes docs/report.png
    .venv/bin/python bench/screenshot.py --output /tmp/r.png --html /tmp/r.html

Exits 0 when the PNG was written, 2 when Chromium is missing or fails.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from linkwatch.report.build import build_report  # noqa: E402
from linkwatch.report.charts import load_html_extras  # noqa: E402
from linkwatch.report.to_html import render_html  # noqa: E402
from linkwatch.store import Store  # noqa: E402
from support.report_example import NOW, build_example_store  # noqa: E402

WINDOW = (1200, 1600)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def example_html(workdir: Path) -> str:
    store = Store.open(workdir / "state")
    try:
        build_example_store(store)
        report = build_report(store, now=NOW)
        return render_html(report, load_html_extras(store, report))
    finally:
        store.close()


def screenshot(html_path: Path, png_path: Path, chromium: str) -> None:
    """One headless run; raises CalledProcessError or TimeoutExpired when Chromium fails."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png_path}",
                f"--window-size={WINDOW[0]},{WINDOW[1]}",
                html_path.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--html", type=Path, help="also keep the HTML report here")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    if shutil.which(args.chromium) is None:
        print(f"{args.chromium} not found: apt-get install -y chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        html_path = args.html or Path(workdir) / "report.html"
        html_path.write_text(example_html(Path(workdir)), encoding="utf-8")
        try:
            screenshot(html_path.resolve(), args.output.resolve(), args.chromium)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            print(f"chromium failed: {err}", file=sys.stderr)
            return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
