"""The HTML report: one self-contained page (jinja2, autoescaped; no script, no remote file)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    import jinja2
from linkwatch.paths import shown
from linkwatch.report.charts import HtmlExtras, colour
from linkwatch.report.rows import CitationLine, Report, View, day, summary_sentence
from linkwatch.report.states import ROTTEN, STATE_COLOURS, STATE_ORDER
from linkwatch.report.words import drift_words, filters_text, percent, when
from linkwatch.text import plural

ERROR_WORDS: dict[str, str] = {
    "invalid_url": "not a valid URL",
    "private_address": "a private address (not checked)",
    "dns": "no such host (DNS)",
    "refused": "connection refused",
    "unreachable": "host unreachable",
    "reset": "connection reset",
    "timeout": "timed out",
    "tls": "bad TLS certificate",
    "too_many_redirects": "too many redirects",
    "redirect_loop": "redirect loop",
    "protocol": "broken HTTP answer",
    "excluded": "redirects to an excluded URL (not asked)",
}


def answer_text(line: CitationLine) -> str:
    """The last check's answer in words: 'HTTP 404', 'no such host (DNS)'."""
    if line.error:
        return ERROR_WORDS.get(line.error, line.error)
    return f"HTTP {line.http_status}" if line.http_status else "no answer"


def _href(url: str | None) -> str:
    """Only web links become links: a stored URL is data, never a javascript: door."""
    scheme, colon, _rest = (url or "").partition(":")
    return url if url and colon and scheme.lower() in ("http", "https") else "#"


_CODE_SPAN = re.compile(r"`([^`]+)`")


def _code_spans(text: str) -> Markup:
    """`command` in linkwatch's own messages becomes <code>, everything else escaped."""
    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(text))))


def template_environment() -> jinja2.Environment:
    """The report and digest templates; autoescaping is on for everything but .txt."""
    import jinja2  # only the HTML report and the digest need templates

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("linkwatch", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = day
    env.filters["shown"] = shown
    env.filters["colour"] = colour
    env.filters["plural"] = plural
    env.filters["percent"] = percent
    env.filters["href"] = _href
    env.filters["answer"] = answer_text
    env.filters["drift_words"] = drift_words
    env.filters["code_spans"] = _code_spans
    env.globals["STATE_ORDER"] = STATE_ORDER
    env.globals["STATE_COLOURS"] = STATE_COLOURS
    env.globals["ROTTEN"] = ROTTEN
    return env


def render_html(report: Report, extras: HtmlExtras, *, form: bool = False) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, no fetched assets.

    `form` adds the daemon's filter form (state, host, release: a GET form whose
    query filters the page); a report written to a file has no server to ask.
    """
    template = template_environment().get_template("report/report.html")
    return template.render(
        report=report,
        extras=extras,
        summary=report.summary,
        sentence=summary_sentence(report.summary),
        generated=when(report.generated_at),
        filters_text=filters_text(report.filters),
        View=View,
        form=form,
    )
