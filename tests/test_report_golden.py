"""Golden outputs: every view in every format on the example store, byte for byte.

After an intended change, regenerate with
`LINKWATCH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_report_golden.py` and
review the diff of tests/golden/report/ like any other change.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from linkwatch.report.render import render
from linkwatch.report.rows import Filters, OutputFormat, View
from linkwatch.report.to_table import render_table
from linkwatch.store import Store
from support.report_example import WEEK_AGO, build_example_store, report_of

GOLDEN = Path(__file__).parent / "golden" / "report"
EXTENSIONS = {
    OutputFormat.TABLE: "txt",
    OutputFormat.JSON: "json",
    OutputFormat.CSV: "csv",
    OutputFormat.MARKDOWN: "md",
    OutputFormat.HTML: "html",
}


def rendered(store: Store, view: View, fmt: OutputFormat, filters: Filters) -> str:
    report = report_of(store, view=view, filters=filters)
    if fmt is OutputFormat.TABLE:
        console = Console(file=io.StringIO(), width=80, color_system=None)
        console.print(render_table(report))
        return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]
    data = render(report, fmt, store).data
    assert data is not None
    return data.decode("utf-8")


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LINKWATCH_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"{name} differs from the golden file"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("golden") / "state")
    build_example_store(store)
    return store


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("view", list(View))
def test_golden_output(example: Store, view: View, fmt: OutputFormat) -> None:
    actual = rendered(example, view, fmt, Filters())
    check_golden(f"{view.value}.{EXTENSIONS[fmt]}", actual)


@pytest.mark.parametrize("fmt", [OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.MARKDOWN])
def test_golden_changes_of_the_week(example: Store, fmt: OutputFormat) -> None:
    actual = rendered(example, View.RELEASE, fmt, Filters(since=WEEK_AGO))
    check_golden(f"since-7d.{EXTENSIONS[fmt]}", actual)
