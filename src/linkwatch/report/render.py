"""One report in the format asked for: bytes for files and pipes, a renderable for a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import RenderableType

from linkwatch.store import Store

if TYPE_CHECKING:
    pass
from linkwatch.report.charts import load_html_extras
from linkwatch.report.rows import OutputFormat, Report
from linkwatch.report.to_csv import render_csv
from linkwatch.report.to_html import render_html
from linkwatch.report.to_json import render_json
from linkwatch.report.to_markdown import render_markdown
from linkwatch.report.to_table import render_table


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered report: UTF-8 bytes for a file or a pipe, or a rich renderable for a terminal.

    Bytes, because the JSON of a large report is 80 MB that orjson already wrote as
    bytes: decoding it to text only to encode it again costs a tenth of the command.
    """

    data: bytes | None = None
    table: RenderableType | None = field(default=None)


def render(report: Report, fmt: OutputFormat, store: Store | None = None) -> Rendered:
    """Dispatch to a renderer; HTML needs the store again for the history."""
    if fmt is OutputFormat.TABLE:
        return Rendered(table=render_table(report))
    if fmt is OutputFormat.JSON:
        return Rendered(data=render_json(report))
    if fmt is OutputFormat.CSV:
        text = render_csv(report)
    elif fmt is OutputFormat.MARKDOWN:
        text = render_markdown(report)
    elif store is None:
        raise ValueError("the HTML report reads the history: pass the store")
    else:
        text = render_html(report, load_html_extras(store, report))
    return Rendered(data=text.encode())
