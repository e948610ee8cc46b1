"""Value parsers for the web sources: site URLs, URL patterns and content selectors.

A source is a URL, or an inline table giving it patterns and a selector of its
own (`{url = "https://ngo.example/sitemap.xml", include = ["*/press/*"]}`), so
that one site's releases can be picked out of a sitemap holding everything.
"""

from __future__ import annotations

from pathlib import Path

from linkwatch.config.settings import UrlList, WebSource
from linkwatch.config.values import Invalid, is_http_url

_SOURCE_FIELDS = frozenset({"url", "include", "exclude", "content_selector"})

_EXPECTED_SOURCES = "an array of http(s) URLs or {url = ..., include = [...], exclude = [...]}"


def _patterns(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(value)
    return tuple(value)


def _selector(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    from linkwatch.content.main import valid_selector  # the content module owns CSS syntax

    if not valid_selector(value):
        raise ValueError(value)
    return value.strip()


def _source(item: object) -> WebSource:
    if isinstance(item, str):
        if not is_http_url(item):
            raise ValueError(item)
        return WebSource(item)
    if not isinstance(item, dict) or set(item) - _SOURCE_FIELDS or "url" not in item:
        raise ValueError(item)
    url = item["url"]
    if not isinstance(url, str) or not is_http_url(url):
        raise ValueError(item)
    selector = item.get("content_selector")
    return WebSource(
        url=url,
        include=_patterns(item.get("include", [])),
        exclude=_patterns(item.get("exclude", [])),
        content_selector=None if selector is None else _selector(selector),
    )


def as_web_sources(value: object, base_dir: Path) -> tuple[WebSource, ...]:
    if not isinstance(value, list):
        raise Invalid(_EXPECTED_SOURCES, wrong_type=True)
    sources = []
    for index, item in enumerate(value):
        try:
            sources.append(_source(item))
        except ValueError:
            raise Invalid(
                f"{_EXPECTED_SOURCES} (entry {index + 1} is not)", wrong_type=False
            ) from None
    return tuple(sources)


def as_url_list(value: object, base_dir: Path) -> UrlList:
    """An array of pages, or the path of a file holding one URL a line."""
    if isinstance(value, str):
        if not value.strip():
            return UrlList()
        return UrlList(file=(base_dir / Path(value).expanduser()).resolve())
    try:
        return UrlList(urls=as_web_sources(value, base_dir))
    except Invalid as invalid:
        raise Invalid(
            f"{invalid.expected}, or the path of a file of URLs", wrong_type=invalid.wrong_type
        ) from None


def as_url_patterns(value: object, base_dir: Path) -> tuple[str, ...]:
    try:
        return _patterns(value)
    except ValueError:
        raise Invalid(
            "an array of URL glob patterns like '*/press/*'", wrong_type=not isinstance(value, list)
        ) from None


def as_content_selectors(value: object, base_dir: Path) -> tuple[tuple[str, str], ...]:
    """A CSS selector for every page, or a table of host or source URL = selector."""
    expected = "a CSS selector"
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            return (("*", _selector(value)),)
        except ValueError:
            raise Invalid(expected, wrong_type=False) from None
    if not isinstance(value, dict):
        raise Invalid(f"{expected}, or a table of host or source URL = selector", wrong_type=True)
    pairs = []
    for scope, selector in value.items():
        try:
            pairs.append((scope.lower() if "/" not in scope else scope, _selector(selector)))
        except ValueError:
            raise Invalid(
                expected, wrong_type=not isinstance(selector, str), subkey=scope
            ) from None
    return tuple(pairs)
