"""Snapshot dates in the release's own language (a small table of month names, not babel)."""

from __future__ import annotations

import datetime as dt
import re

from linkwatch.model import Format
from linkwatch.sources.decoding import ReleaseFile

_DATE_STYLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": ("{day} {month} {year}", ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                    "Sep", "Oct", "Nov", "Dec")),
    "de": ("{day}. {month} {year}", ("Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli",
                                     "Aug.", "Sept.", "Okt.", "Nov.", "Dez.")),
    "fr": ("{day} {month} {year}", ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.",
                                    "août", "sept.", "oct.", "nov.", "déc.")),
    "es": ("{day} {month} {year}", ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago",
                                    "sept", "oct", "nov", "dic")),
    "it": ("{day} {month} {year}", ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago",
                                    "set", "ott", "nov", "dic")),
    "nl": ("{day} {month} {year}", ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug",
                                    "sep", "okt", "nov", "dec")),
    "pl": ("{day} {month} {year}", ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie",
                                    "wrz", "paź", "lis", "gru")),
    "uk": ("{day} {month} {year}", ("січ.", "лют.", "бер.", "квіт.", "трав.", "черв.", "лип.",
                                    "серп.", "вер.", "жовт.", "лист.", "груд.")),
    "ru": ("{day} {month} {year}", ("янв.", "февр.", "мар.", "апр.", "мая", "июн.", "июл.",
                                    "авг.", "сент.", "окт.", "нояб.", "дек.")),
}  # fmt: skip

_LANGUAGE_WINDOW = 8192  # the language is declared near the top, if at all

_HTML_LANG = re.compile(r"<html\b[^>]*?\slang\s*=\s*[\"']?\s*([A-Za-z]{2,3})\b", re.IGNORECASE)

_FRONT_MATTER = re.compile(r"---\r?\n(.*?)^(?:---|\.\.\.)[ \t]*\r?$", re.DOTALL | re.MULTILINE)

_FRONT_MATTER_LANG = re.compile(
    r"^(?:lang|language|locale)[ \t]*:[ \t]*[\"']?([A-Za-z]{2,3})\b", re.MULTILINE | re.IGNORECASE
)


def archive_date(day: dt.date, language: str | None) -> str:
    """`7 Apr 2016` in the release's language; English for languages without a table.

    A small table rather than babel: a dozen month abbreviations per language is all
    the wording needs, and it keeps linkwatch free of locale data.
    """
    pattern, months = _DATE_STYLES.get((language or "en").lower(), _DATE_STYLES["en"])
    return pattern.format(day=day.day, month=months[day.month - 1], year=day.year)


def release_language(release: ReleaseFile) -> str | None:
    """The two- or three-letter language a release declares: front matter, then `<html lang>`."""
    head = release.text[:_LANGUAGE_WINDOW]
    front = _FRONT_MATTER.match(head)
    if front is not None and release.format is not Format.TEXT:
        declared = _FRONT_MATTER_LANG.search(front.group(1))
        if declared is not None:
            return declared.group(1).lower()
    if release.format is Format.HTML or "<html" in head.lower():
        declared = _HTML_LANG.search(head)
        if declared is not None:
            return declared.group(1).lower()
    return None
