"""Reports: queries (in the store) -> rows -> renderers.

`build` turns the store's flat citation rows into a `Report` (`rows`):
sections per release, lines per URL and per host, a summary, all filtered
alike. Each renderer (`to_table`, `to_json`, `to_csv`, `to_markdown`,
`to_html` with `charts`) only formats a `Report`, so every format shows the
same citations in the same order; `render` picks one.

Whether a footnote already points at an archived copy is what the scan found
in the release file: the archive link `rewrite` adds right after a citation.
"""

from linkwatch.report.build import build_report, collector_paused
from linkwatch.report.render import Rendered, render
from linkwatch.report.rows import (
    CitationLine,
    Filters,
    OutputFormat,
    Report,
    View,
    failing,
    summary_sentence,
)
from linkwatch.report.states import STATE_ORDER, STATE_STYLES

__all__ = [
    "STATE_ORDER",
    "STATE_STYLES",
    "CitationLine",
    "Filters",
    "OutputFormat",
    "Rendered",
    "Report",
    "View",
    "build_report",
    "collector_paused",
    "failing",
    "render",
    "summary_sentence",
]
