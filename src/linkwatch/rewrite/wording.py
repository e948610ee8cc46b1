"""The wording of added archive links: three jinja2 templates, and how to recognise them.

Each template renders one line. Text added earlier is recognised by rendering
the template with placeholders and matching the result, so that a release
rewritten under another template (or the built-in one) is still understood.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jinja2

from linkwatch.errors import WordingError
from linkwatch.model import Format

BUILTIN_TEMPLATES = Path(__file__).parents[1] / "templates" / "rewrite"

TEMPLATE_NAMES: dict[Format, str] = {
    Format.MARKDOWN: "markdown.j2",
    Format.HTML: "html.j2",
    Format.TEXT: "text.j2",
}


def safe_url(url: str) -> str:
    """The archive URL with anything that could end a link in any syntax percent-encoded.

    Spaces, quotes, brackets, parentheses and non-ASCII characters would end a Markdown
    destination, an HTML attribute or a plain-text URL early; percent-encoded, the
    URL means the same to the archive and ends exactly where it should.
    """
    return quote(url, safe="!#$%&*+,-./:;=?@_~")


@dataclass(frozen=True, slots=True)
class Values:
    archive_url: str
    original_url: str
    date: str
    iso_date: str
    timestamp: str
    language: str
    archive_name: str = ""  # the archive holding the copy, when it is not the backend's


_PLACEHOLDERS = Values(
    archive_url="\x001\x00",
    original_url="\x002\x00",
    date="\x003\x00",
    iso_date="\x004\x00",
    timestamp="\x005\x00",
    language="\x006\x00",
    archive_name="\x007\x00",
)
# Templates may leave the archive's name out when it is empty: text added for a copy in
# the backend is recognised with this set, text naming another archive with the one above.
_PLACEHOLDERS_NO_ARCHIVE = dataclasses.replace(_PLACEHOLDERS, archive_name="")

# What each value can look like once rendered; a date always ends with its year.
_SHAPES = {
    "archive_url": r"[^\s\"'<>()\[\]]+",
    "original_url": r"[^\s\"'<>]+?",
    "date": r"[^\r\n<>\[\]()]{0,30}?\d{4}",
    "iso_date": r"\d{4}-\d{2}-\d{2}",
    "timestamp": r"\d{14}",
    "language": r"[A-Za-z-]{0,12}",
    "archive_name": r"[^\r\n<>\[\]():]{1,80}?",
}

_PLACEHOLDER_NAMES = {getattr(_PLACEHOLDERS, name): name for name in _SHAPES}

_PLACEHOLDER_SPLIT = re.compile("(\x00\\d\x00)")

_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")


class Wording:
    """The jinja2 templates of the added text, and the patterns that recognise it again.

    Templates are `markdown.j2`, `html.j2` and `text.j2`; a `template_dir` overrides
    any of them, the built-in ones fill in the rest. A template renders one line
    (line breaks become spaces, so that a CRLF file never gains a bare LF).
    """

    def __init__(self, template_dir: Path | None = None) -> None:
        self._environment = _environment(template_dir)
        builtin = _environment(None) if template_dir is not None else self._environment
        self._templates = {
            syntax: self._load(self._environment, name) for syntax, name in TEMPLATE_NAMES.items()
        }
        self._recognisers: dict[Format, tuple[re.Pattern[str], ...]] = {}
        for syntax, name in TEMPLATE_NAMES.items():
            templates = [self._templates[syntax]]
            if builtin is not self._environment:
                templates.append(self._load(builtin, name))
            patterns: list[re.Pattern[str]] = []
            for template in templates:
                for placeholders in (_PLACEHOLDERS, _PLACEHOLDERS_NO_ARCHIVE):
                    pattern = _recogniser(self._render(template, placeholders))
                    if all(p.pattern != pattern.pattern for p in patterns):
                        patterns.append(pattern)
            self._recognisers[syntax] = tuple(patterns)

    @staticmethod
    def _load(environment: jinja2.Environment, name: str) -> jinja2.Template:
        try:
            return environment.get_template(name)
        except jinja2.TemplateError as err:
            raise WordingError(f"rewrite template {name}: {_one_line(err)}") from err

    @staticmethod
    def _render(template: jinja2.Template, values: Values) -> str:
        try:
            rendered = template.render(
                archive_url=values.archive_url,
                original_url=values.original_url,
                date=values.date,
                iso_date=values.iso_date,
                timestamp=values.timestamp,
                language=values.language,
                archive_name=values.archive_name,
            )
        except jinja2.TemplateError as err:
            raise WordingError(f"rewrite template {template.name}: {_one_line(err)}") from err
        return _LINE_BREAKS.sub(" ", rendered.strip("\r\n"))

    def render(self, syntax: Format, values: Values) -> str:
        return self._render(self._templates[syntax], values)

    def added_text_end(self, syntax: Format, text: str, position: int) -> int | None:
        """Where text added earlier (in this wording or the built-in one) ends, if it starts
        exactly at `position`."""
        for pattern in self._recognisers[syntax]:
            match = pattern.match(text, position)
            if match is not None:
                return match.end()
        return None


def _environment(template_dir: Path | None) -> jinja2.Environment:
    builtin = jinja2.FileSystemLoader(BUILTIN_TEMPLATES)
    loader: jinja2.BaseLoader = builtin
    if template_dir is not None:
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(template_dir), builtin])
    return jinja2.Environment(
        loader=loader,
        autoescape=lambda name: name == TEMPLATE_NAMES[Format.HTML],
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def _recogniser(rendered: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    for piece in _PLACEHOLDER_SPLIT.split(rendered):
        name = _PLACEHOLDER_NAMES.get(piece)
        if name is None:
            parts.append(re.escape(piece))
        elif name in seen:
            parts.append(f"(?P={name})")
        else:
            seen.add(name)
            parts.append(f"(?P<{name}>{_SHAPES[name]})")
    return re.compile("".join(parts))


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__
