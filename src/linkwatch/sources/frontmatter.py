"""YAML front matter (Markdown and HTML alike: static site generators allow it in both)."""

from __future__ import annotations

import re

import yaml


class _FrontMatterLoader(yaml.SafeLoader):
    """A SafeLoader that leaves timestamps as strings.

    PyYAML raises on an impossible date such as 2016-02-30, which would lose
    the whole front matter (title included); as a string it is judged alone.
    """


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)


def starts_front_matter(text: str) -> bool:
    return text.startswith(("---\n", "---\r\n"))


def split_front_matter(text: str) -> tuple[dict[object, object], str]:
    """Front matter mapping (empty if none or unparseable) and the text after it."""
    if not starts_front_matter(text):
        return {}, text
    body_start = text.index("\n") + 1
    closing = _FRONT_MATTER_END.search(text, body_start)
    if closing is None:
        return {}, text
    return _load_front_matter(text[body_start : closing.start()]), text[closing.end() :]


def _load_front_matter(body: str) -> dict[object, object]:
    try:
        loaded = yaml.load(body, Loader=_FrontMatterLoader)  # a SafeLoader: no arbitrary objects
    except (yaml.YAMLError, ValueError, RecursionError):
        return {}  # unreadable, or nested deeper than any front matter is (`x: [[[[...`)
    return loaded if isinstance(loaded, dict) else {}
