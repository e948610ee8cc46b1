"""Benchmark `linkwatch scan` on a synthetic corpus of press releases.

What it measures, on 10,000 generated releases (>= 20 MB; about half Markdown,
a third HTML, a fifth plain text):

* the first scan into an empty state directory (read, hash, decode, extract,
  normalise and store every citation), in wall-clock seconds;
* an unchanged rescan (same bytes, so nothing is parsed: a read and a hash per
  file), run twice, in wall-clock seconds;
* the peak resident memory of each scan process;
* how many releases, citations and URLs ended up in the SQLite store.

Each scan runs as its own `linkwatch --config CFG scan` process, exactly as a
user would run it (interpreter start-up and imports included); the process
reports its own `getrusage(RUSAGE_SELF)` when it exits, so the peak memory is
that of the one run. The corpus was just written, so the files come from the
page cache: the figures are for a warm disk.

The corpus is deterministic for a given `--seed`: a dateline ("Warsaw,
7 April 2016"), a headline and prose with Polish and Ukrainian names, and
5-20 footnotes per release in each format's house style (Unicode superscripts
and `[^n]` footnotes plus inline links in Markdown, `<sup>` markers and an
`<ol>` of endnotes in HTML, `[N]` markers and a reference list in text, some
of it CRLF). URLs come from about 3,000 hosts with a long tail of popularity,
so that, as in real archives, many releases cite the same pages.

Run from the project root:

    .venv/bin/python bench/scan.py                      # 10,000 releases, temp dir
    .venv/bin/python bench/scan.py --releases 1000 --dir /tmp/lw-bench  # keep the corpus
    .venv/bin/python bench/scan.py --dir /tmp/lw-bench --generate-only  # corpus only

It prints a Markdown table (ready for the README) with the targets: first scan
<= 20 s and unchanged rescan <= 3 s on 2 cores. It exits 0 when the targets are
met, 1 when one is missed, 2 when a scan fails.
"""

from __future__ import annotations

import argparse
import html
import itertools
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

FIRST_SCAN_TARGET_S = 20.0
RESCAN_TARGET_S = 3.0
MIN_CORPUS_BYTES = 20 * 1_000_000
MARKER = ".linkwatch-bench"  # marks a --dir this script owns and may clear

# --- vocabulary -----------------------------------------------------------------

CITIES = (
    "Warsaw", "Kyiv", "Brussels", "Kraków", "Strasbourg", "Geneva", "London", "Berlin",
    "Vienna", "Vilnius", "Riga", "Tbilisi", "Chișinău", "Astana", "Almaty", "Lviv",
    "Kharkiv", "Odesa", "Gdańsk", "Wrocław", "Łódź", "Poznań", "Prague", "Budapest",
    "Bucharest", "Paris", "The Hague", "Luxembourg", "Stockholm", "Helsinki", "Tallinn",
    "Dnipro", "Bishkek", "Baku", "Yerevan", "Minsk", "Moscow", "Rome", "Madrid", "Oslo",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
PEOPLE = (
    "Łukasz Żółkiewski", "Małgorzata Wiśniewska", "Paweł Kowalczyk", "Agnieszka Dąbrowska",
    "Grzegorz Szczęsny", "Zofia Ślusarczyk", "Jerzy Michałowski", "Bartłomiej Nowiński",
    "Олександра Матвійчук", "Микола Кулеба", "Тетяна Печончик", "Євгенія Закревська",
    "Oleksandra Matviichuk", "Mykola Kuleba", "Tetiana Pechonchyk", "Yevheniia Zakrevska",
    "Anna Koj", "Lyudmyla Kozlovska", "Igor Savchenko", "Yevgeniy Zhovtis",
    "Vladimir Kozlov", "Aron Atabek", "Mukhtar Ablyazov", "Ermek Narymbayev",
    "Gyuzyal Baidalinova", "Serikzhan Mambetalin", "Bolatbek Blyalov", "Seitkazy Matayev",
    "Ярослав Голишкін", "Андрій Ковальчук", "Юлія Козлова", "Ірина Геращенко",
    "Jean-Claude Juncker", "Donald Tusk", "Federica Mogherini", "Josep Borrell",
    "Dunja Mijatović", "Nils Muižnieks", "Michelle Bachelet", "Volker Türk",
)  # fmt: skip
ORGS = (
    "the European Commission", "the European Parliament", "the Council of Europe",
    "the OSCE", "the UN Human Rights Committee", "the European Court of Human Rights",
    "INTERPOL", "the Open Dialogue Foundation", "Amnesty International",
    "Human Rights Watch", "the Helsinki Foundation for Human Rights", "Freedom House",
    "Reporters Without Borders", "the Venice Commission", "the Prosecutor General's Office",
    "the Supreme Court", "the National Bank", "the Ministry of Justice", "PACE",
    "the ODIHR", "Fundacja Otwarty Dialog", "Центр громадянських свобод",
)  # fmt: skip
COUNTRIES = (
    "Kazakhstan", "Ukraine", "Poland", "Moldova", "Russia", "Belarus", "Azerbaijan",
    "Georgia", "Armenia", "Kyrgyzstan", "Uzbekistan", "Tajikistan", "Turkey", "Hungary",
)  # fmt: skip
NOUNS = (
    "authorities", "court", "prosecutor", "investigation", "journalists", "activists",
    "opposition", "resolution", "report", "recommendations", "extradition", "detention",
    "sentence", "charges", "elections", "legislation", "reform", "judiciary", "police",
    "freedom of speech", "freedom of assembly", "human rights", "rule of law", "sanctions",
    "asylum", "refugees", "political prisoners", "monitoring mission", "testimony",
    "appeal", "hearing", "verdict", "campaign", "petition", "statement", "declaration",
    "agreement", "negotiations", "delegation", "observers", "media outlets", "bloggers",
    "defenders", "lawyers", "hunger strike", "torture", "impunity", "corruption",
    "money laundering", "assets", "documents", "correspondence", "evidence", "witnesses",
    "civil society", "partnership", "cooperation", "budget", "amendments", "penal code",
    "red notice", "parole", "custody", "house arrest", "trial", "case", "proceedings",
)  # fmt: skip
VERBS = (
    "stated", "emphasised", "noted", "rejected", "adopted", "urged", "called on",
    "condemned", "welcomed", "ignored", "confirmed", "refused", "upheld", "overturned",
    "documented", "reported", "published", "demanded", "questioned", "warned",
    "criticised", "supported", "examined", "postponed", "extended", "dismissed",
    "recognised", "acknowledged", "announced", "denied", "addressed", "highlighted",
)  # fmt: skip
ADJECTIVES = (
    "political", "arbitrary", "unlawful", "independent", "systematic", "repressive",
    "international", "national", "criminal", "administrative", "unprecedented", "new",
    "recent", "official", "public", "urgent", "serious", "fundamental", "economic",
    "democratic", "authoritarian", "transparent", "fair", "pre-trial", "controversial",
)  # fmt: skip
FILLERS = (
    "however", "moreover", "at the same time", "according to data from local monitors",
    "in spite of earlier promises", "as a consequence", "in particular", "in addition",
    "despite repeated calls", "for several years now", "in this context",
    "only one week after the meeting", "as regards these questions", "nevertheless",
)  # fmt: skip
NOTE_PROSE = (
    "The OSCE stated that the legal framework restricts fundamental civil rights",
    "Also, on the eve of the meeting, the Foundation urged the delegation to raise the issue",
    "Full text of the resolution",
    "See the report of the monitoring mission",
    "Official statement of the ministry",
    "Video recording of the press conference",
    "Judgment of the court of first instance",
    "Interview with the lawyer of the defendant",
    "Quoted after the national news agency",
    "Letter of MEPs to the High Representative",
    "Decision of the Commission on the red notice",
    "Zob. stanowisko Rzecznika Praw Obywatelskich",
    "Заява Центру громадянських свобод",
    "Transcript of the hearing, page 14",
    "Background briefing on the case",
)  # fmt: skip
NOTE_WITHOUT_URL = (
    "Due to the identified procedural violations, the defendant was released but not acquitted.",
    "The statement was later removed from the ministry's website.",
    "Information obtained by the Foundation from the family of the prisoner.",
    "The date of the hearing has not yet been set.",
)  # fmt: skip
HEADLINE_TEMPLATES = (
    "{person}'s statement on 'promising reform' in {country} calls into question the "
    "competence of {org}",
    "{country}: {adj} {noun} must end, {org} says",
    "Open letter to {org} on the {noun} in {country}",
    "{person} sentenced in {country} after {adj} {noun}",
    "{org} {verb} the {noun} of {person}",
    "Urgent appeal: release {person}",
    "{country} is seeking the extradition of {person}",
    "Report: {adj} {noun} in {country}, {year}",
)  # fmt: skip

# Well-known outlets and institutions head the popularity ranking; synthetic hosts
# make up the long tail.
KNOWN_HOSTS = (
    "ec.europa.eu", "www.europarl.europa.eu", "www.osce.org", "www.amnesty.org",
    "www.hrw.org", "euobserver.com", "en.odfoundation.eu", "www.rferl.org",
    "www.reuters.com", "www.bbc.com", "www.theguardian.com", "www.coe.int",
    "hudoc.echr.coe.int", "www.ohchr.org", "www.youtube.com", "www.facebook.com",
    "twitter.com", "www.kyivpost.com", "www.pravda.com.ua", "wyborcza.pl", "www.rp.pl",
    "iphronline.org", "freedomhouse.org", "rsf.org", "www.interpol.int",
    "pl.wikipedia.org", "uk.wikipedia.org", "en.wikipedia.org", "www.venice.coe.int",
    "www.consilium.europa.eu", "eur-lex.europa.eu", "www.eeas.europa.eu",
    "www.hfhr.pl", "ccl.org.ua", "zmina.info", "www.radiosvoboda.org",
    "www.lemonde.fr", "www.spiegel.de", "www.nytimes.com", "www.politico.eu",
)  # fmt: skip
SYLLABLES = (
    "ka", "za", "lib", "nov", "pra", "vo", "dem", "ost", "mir", "sv", "ob", "oda", "gaz",
    "eta", "info", "news", "pol", "ska", "ukr", "ain", "ian", "watch", "press", "cent",
    "rum", "fund", "acja", "civ", "tas", "rad", "io", "tv", "kom", "uni", "lex", "jus",
    "ti", "bel", "gor", "dar", "vil", "ber", "ast", "ana", "kaz", "geo", "mol", "dova",
)  # fmt: skip
TLDS = (
    "com", "org", "eu", "pl", "ua", "kz", "net", "info", "de", "fr", "md", "ge", "by",
    "ru", "co.uk", "com.ua", "org.pl", "int", "am", "kg", "lt", "lv", "ee",
)  # fmt: skip
SECTIONS = (
    "news", "en", "pl", "uk", "ru", "article", "press", "reports", "documents",
    "a", "statements", "publications", "media", "politics", "world", "europe",
)  # fmt: skip
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(number: int) -> str:
    return str(number).translate(SUPERSCRIPT)


# --- URLs ----------------------------------------------------------------------


class UrlPool:
    """Deterministic URLs from ~3,000 hosts; popular hosts and pages are cited again."""

    def __init__(self, rng: random.Random, hosts: int = 3000, reuse: float = 0.6) -> None:
        self.rng = rng
        self.reuse = reuse
        names: list[str] = list(KNOWN_HOSTS)
        taken = set(names)
        while len(names) < hosts:
            stem = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            prefix = rng.choice(("www.", "www.", "", "en.", "news.", "old."))
            name = f"{prefix}{stem}.{rng.choice(TLDS)}"
            if name not in taken:
                taken.add(name)
                names.append(name)
        self.hosts = names
        # Zipf-like popularity: a few hosts are cited everywhere, most rarely.
        self.cum_weights = list(
            itertools.accumulate(1.0 / (rank + 1) ** 0.85 for rank in range(hosts))
        )
        self.styles = [rng.randrange(10) for _ in names]
        for index, name in enumerate(names):  # the sites whose URL shape everyone knows
            if name.endswith("wikipedia.org"):
                self.styles[index] = 6
            elif name.endswith("youtube.com"):
                self.styles[index] = 7
        self.https = [rng.random() < 0.75 for _ in names]
        self.seen: list[list[str]] = [[] for _ in names]
        self.written: set[str] = set()

    def pick(self) -> str:
        rng = self.rng
        index = rng.choices(range(len(self.hosts)), cum_weights=self.cum_weights)[0]
        seen = self.seen[index]
        if seen and rng.random() < self.reuse:
            # Earlier pages of a host are the ones everyone cites.
            url = seen[min(int(rng.expovariate(1 / 6)), len(seen) - 1)]
            if rng.random() < 0.04:  # copied with a fragment or tracking parameter
                tracking = ("&" if "?" in url else "?") + "utm_source=twitter"
                url += rng.choice(("#section-2", "#top", tracking))
        else:
            url = self._new(index)
            seen.append(url)
        self.written.add(url)
        return url

    def _slug(self, low: int, high: int) -> str:
        return "-".join(
            self.rng.choice(NOUNS).replace(" ", "-") for _ in range(self.rng.randint(low, high))
        )

    def _new(self, index: int) -> str:
        rng = self.rng
        host = self.hosts[index]
        scheme = "https" if self.https[index] else "http"
        year = rng.randint(2005, 2025)
        num = rng.randint(100, 999_999)
        style = self.styles[index]
        if style == 0:
            path = f"/a/{num},{self._slug(3, 12)}"
        elif style == 1:
            path = f"/{year}/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{self._slug(2, 6)}/"
        elif style == 2:
            path = f"/{rng.choice(SECTIONS)}/{self._slug(2, 5)}-{num}.html"
        elif style == 3:
            path = (
                f"/sides/getDoc.do?type={rng.choice(('MOTION', 'TA', 'REPORT'))}"
                f"&reference=P{rng.randint(6, 9)}-RC-{year}-{num % 10000:04d}&language=EN"
            )
        elif style == 4:
            path = f"/en/documents/eur{rng.randint(10, 99)}/{num % 10000}/{year}/en/"
        elif style == 5:
            path = f"/news/{num}?lang={rng.choice(('en', 'pl', 'uk'))}&id={num % 977}"
        elif style == 6:
            name = rng.choice(PEOPLE).replace(" ", "_")
            path = f"/wiki/{name}"  # non-ASCII paths, as people paste them
        elif style == 7:
            path = (
                f"/watch?v={''.join(rng.choice('abcdefghijkXYZ0123456789_-') for _ in range(11))}"
            )
        elif style == 8:
            path = f"/files/{year}/{self._slug(1, 3)}_{num}.pdf"
        else:
            path = f"/{rng.choice(SECTIONS)}/{rng.choice(SECTIONS)}/{num}"
        return f"{scheme}://{host}{path}"


# --- prose ---------------------------------------------------------------------


@dataclass(slots=True)
class Release:
    """One generated release: text, and what it cites (for the summary)."""

    relpath: str
    text: str
    footnote_urls: int
    inline_urls: int
    newline: str = "\n"
    bom: bool = False


@dataclass(slots=True)
class CorpusStats:
    files: int = 0
    bytes: int = 0
    formats: Counter[str] = field(default_factory=Counter)
    footnote_urls: int = 0
    inline_urls: int = 0
    distinct_urls: int = 0
    crlf: int = 0
    bom: int = 0


class Writer:
    """Prose and footnotes for one corpus, drawn from one random.Random."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.urls = UrlPool(random.Random(seed + 1))

    def dateline(self, year: int, month: int, day: int) -> str:
        rng = self.rng
        city, name, roll = rng.choice(CITIES), MONTHS[month - 1], rng.random()
        if roll < 0.6:
            return f"{city}, {day} {name} {year}"
        if roll < 0.8:
            return f"{city}, {day} {name}, {year}"
        if roll < 0.9:
            return f"{city}, {name} {day}, {year}"
        if roll < 0.95:
            return f"{city} – {day} {name} {year}"
        return f"{city}, {day:02d}.{month:02d}.{year}"

    def headline(self, year: int) -> str:
        rng = self.rng
        text = rng.choice(HEADLINE_TEMPLATES).format(
            person=rng.choice(PEOPLE),
            country=rng.choice(COUNTRIES),
            org=rng.choice(ORGS),
            adj=rng.choice(ADJECTIVES),
            noun=rng.choice(NOUNS),
            verb=rng.choice(VERBS),
            year=year,
        )
        text = text[0].upper() + text[1:]
        return text.upper() if rng.random() < 0.3 else text

    def sentence(self) -> str:
        rng = self.rng
        parts: list[str] = []
        if rng.random() < 0.3:
            parts.append(rng.choice(FILLERS).capitalize() + ",")
        subject = rng.choice((rng.choice(PEOPLE), rng.choice(ORGS), f"the {rng.choice(NOUNS)}"))
        parts.append(subject)
        parts.append(rng.choice(VERBS))
        parts.append(f"the {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.25:
                parts.append(f"in {rng.choice(COUNTRIES)}")
            elif roll < 0.45:
                parts.append(f"of {rng.choice(PEOPLE)}")
            elif roll < 0.6:
                day, month = rng.randint(1, 28), rng.choice(MONTHS)
                parts.append(f"on {day} {month}, {rng.randint(2005, 2025)}")
            elif roll < 0.75:
                parts.append(f"and {rng.choice(VERBS)} the {rng.choice(NOUNS)}")
            elif roll < 0.85:
                parts.append(f"'{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}'")
            else:
                parts.append(f"with {rng.choice(ORGS)}")
        text = " ".join(parts)
        return text[0].upper() + text[1:]

    def paragraphs(self, budget: int) -> list[list[str]]:
        """Paragraphs as lists of sentences (without final punctuation), ~`budget` bytes."""
        out: list[list[str]] = []
        size = 0
        while size < budget:
            para = [self.sentence() for _ in range(self.rng.randint(2, 5))]
            size += sum(len(s.encode()) + 2 for s in para)
            out.append(para)
        return out

    def spread(self, paragraphs: list[list[str]], markers: int) -> list[list[int]]:
        """Which sentences carry a footnote marker: per paragraph, the marker numbers."""
        slots = [(p, s) for p, para in enumerate(paragraphs) for s in range(len(para))]
        chosen = sorted(self.rng.sample(slots, min(markers, len(slots))))
        numbers: list[list[int]] = [[-1] * len(para) for para in paragraphs]
        for number, (p, s) in enumerate(chosen, start=1):
            numbers[p][s] = number
        return numbers

    def note(self) -> tuple[str | None, str | None]:
        """A footnote: (prose or None, URL or None); a few footnotes cite no URL."""
        rng = self.rng
        if rng.random() < 0.05:
            return rng.choice(NOTE_WITHOUT_URL), None
        prose = rng.choice(NOTE_PROSE) if rng.random() < 0.45 else None
        return prose, self.urls.pick()

    def sizes(self) -> tuple[int, int]:
        """Prose budget in bytes and number of footnotes for one release."""
        return self.rng.randint(500, 1050), round(self.rng.triangular(5, 20, 6))


def _date(rng: random.Random) -> tuple[int, int, int]:
    year, month = rng.randint(2005, 2025), rng.randint(1, 12)
    return year, month, rng.randint(1, DAYS_IN_MONTH[month - 1])


def _slug(title: str) -> str:
    words = [
        w for w in "".join(c if c.isascii() and c.isalnum() else " " for c in title.lower()).split()
    ]
    return "-".join(words[:6]) or "release"


def markdown_release(w: Writer, dateline: str, headline: str) -> tuple[str, int, int]:
    rng = w.rng
    budget, count = w.sizes()
    paragraphs = w.paragraphs(budget)
    numbers = w.spread(paragraphs, count)
    caret = rng.random() < 0.25  # `[^n]` footnotes instead of superscripts
    notes_after_paragraph = not caret and rng.random() < 0.3  # notes follow their paragraph
    footnotes = inline = 0
    lines: list[str] = []
    if rng.random() < 0.2:
        lines += ["", "", ""]  # leading blank lines, as exported by some editors
    heading = rng.choice((f"**{headline}**", f"# {headline}", headline))
    lines += [dateline, "", heading, ""]
    pending: list[str] = []
    end_notes: list[str] = []
    for para, marks in zip(paragraphs, numbers, strict=True):
        out: list[str] = []
        for sentence, number in zip(para, marks, strict=True):
            if rng.random() < 0.06:
                link = w.urls.pick()
                words = sentence.split(" ")
                cut = rng.randint(1, max(1, len(words) - 2))
                anchor = " ".join(words[cut : cut + 3])
                sentence = (
                    " ".join(words[:cut]) + f" [{anchor}]({link}) " + " ".join(words[cut + 3 :])
                )
                sentence = sentence.rstrip()
                inline += 1
            if rng.random() < 0.08:
                sentence = f"**{sentence}**" if rng.random() < 0.5 else f"*{sentence}*"
            if number < 0:
                out.append(sentence + ".")
                continue
            marker = f"[^{number}]" if caret else superscript(number)
            out.append(f"{sentence}.{marker}")
            prose, url = w.note()
            if caret:
                if url is None:
                    body = prose or ""
                elif prose is None:
                    body = url
                else:
                    body = f"{prose}: <{url}>" if rng.random() < 0.5 else f"{prose}, [link]({url})."
                definition = f"[^{number}]: {body}"
            else:
                if url is None:
                    body = prose or ""
                elif prose is None:
                    body = f"<{url}>" if rng.random() < 0.9 else url
                else:
                    body = f"{prose} - <{url}>"
                definition = f"{superscript(number)} {body}"
            if url is not None:
                footnotes += 1
            (pending if notes_after_paragraph else end_notes).append(definition)
        lines += [" ".join(out), ""]
        for definition in pending:
            lines += [definition, ""]
        pending.clear()
    if rng.random() < 0.4:
        person = rng.choice(PEOPLE)
        lines += ["For more information, please contact:", "", f"{person} – press@example.org", ""]
    for definition in end_notes:
        lines += [definition, ""]
    return "\n".join(lines), footnotes, inline


def html_release(w: Writer, dateline: str, headline: str) -> tuple[str, int, int]:
    rng = w.rng
    budget, count = w.sizes()
    paragraphs = w.paragraphs(budget)
    numbers = w.spread(paragraphs, count)
    esc_amp = rng.random() < 0.75  # most CMSes escape & in attributes, some do not
    backlinks = rng.random() < 0.4  # notes that link back to their marker
    footnotes = inline = 0

    def href(url: str) -> str:
        return html.escape(url, quote=True) if esc_amp else url.replace('"', "%22")

    title = html.escape(headline, quote=False)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        "</head>",
        "<body>",
        "<article>",
        f'<p class="dateline">{html.escape(dateline, quote=False)}</p>',
        f"<h1>{title}</h1>",
    ]
    notes: list[str] = []
    for para, marks in zip(paragraphs, numbers, strict=True):
        parts: list[str] = []
        for sentence, number in zip(para, marks, strict=True):
            text = html.escape(sentence, quote=False)
            if rng.random() < 0.05:
                link = w.urls.pick()
                text += (
                    f' (<a href="{href(link)}">{html.escape(rng.choice(NOUNS), quote=False)}</a>)'
                )
                inline += 1
            if number < 0:
                parts.append(text + ".")
                continue
            ref = f' id="ref{number}"' if backlinks else ""
            parts.append(f'{text}.<sup><a href="#fn{number}"{ref}>{number}</a></sup>')
            prose, url = w.note()
            body = html.escape(prose, quote=False) + " " if prose else ""
            if url is not None:
                shown = html.escape(url, quote=False)
                body += f'<a href="{href(url)}">{shown}</a>'
                footnotes += 1
            back = f' <a href="#ref{number}">↩</a>' if backlinks else ""
            notes.append(f'<li id="fn{number}">{body.rstrip()}{back}</li>')
        out.append(f"<p>{' '.join(parts)}</p>")
    out += [
        "<hr>",
        '<ol class="footnotes">',
        *notes,
        "</ol>",
        "</article>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out), footnotes, inline


def text_release(w: Writer, dateline: str, headline: str) -> tuple[str, int, int]:
    rng = w.rng
    budget, count = w.sizes()
    paragraphs = w.paragraphs(budget)
    numbers = w.spread(paragraphs, count)
    footnotes = 0
    lines = [dateline, "", headline, ""]
    refs: list[str] = []
    for para, marks in zip(paragraphs, numbers, strict=True):
        parts: list[str] = []
        for sentence, number in zip(para, marks, strict=True):
            if number < 0:
                parts.append(sentence + ".")
                continue
            parts.append(
                f"{sentence} [{number}]." if rng.random() < 0.3 else f"{sentence}.[{number}]"
            )
            prose, url = w.note()
            if url is None:
                refs.append(f"[{number}] {prose}")
                continue
            footnotes += 1
            refs.append(f"[{number}] {prose}: {url}" if prose else f"[{number}] {url}")
        lines += [" ".join(parts), ""]
    lines += [rng.choice(("References", "Sources:", "Notes", "Footnotes:")), ""]
    lines += refs
    lines.append("")
    return "\n".join(lines), footnotes, 0


FORMATS: tuple[tuple[str, float, Callable[[Writer, str, str], tuple[str, int, int]]], ...] = (
    ("md", 0.5, markdown_release),
    ("html", 0.3, html_release),
    ("txt", 0.2, text_release),
)


def generate(root: Path, count: int, seed: int) -> CorpusStats:
    """Write `count` releases under root/releases; deterministic for a given seed."""
    w = Writer(seed)
    rng = w.rng
    stats = CorpusStats()
    exts = [ext for ext, _, _ in FORMATS]
    cum = list(itertools.accumulate(share for _, share, _ in FORMATS))
    makers = {ext: make for ext, _, make in FORMATS}
    made_dirs: set[Path] = set()
    for i in range(count):
        ext = rng.choices(exts, cum_weights=cum)[0]
        year, month, day = _date(rng)
        dateline = w.dateline(year, month, day)
        headline = w.headline(year)
        text, footnotes, inline = makers[ext](w, dateline, headline)
        crlf = ext == "txt" and rng.random() < 0.3
        bom = ext == "txt" and rng.random() < 0.05
        if crlf:
            text = text.replace("\n", "\r\n")
        data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
        folder = root / "releases" / str(year) / f"{month:02d}"
        if folder not in made_dirs:
            folder.mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        name = f"{year}-{month:02d}-{day:02d}-{_slug(headline)}-{i:05d}.{ext}"
        (folder / name).write_bytes(data)
        stats.files += 1
        stats.bytes += len(data)
        stats.formats[ext] += 1
        stats.footnote_urls += footnotes
        stats.inline_urls += inline
        stats.crlf += crlf
        stats.bom += bom
    stats.distinct_urls = len(w.urls.written)
    return stats


# --- running scans ---------------------------------------------------------------

# Runs the CLI in-process and reports this process's own peak RSS and CPU time,
# so that each figure belongs to one scan (RUSAGE_CHILDREN would be a running max).
WRAPPER = """\
import resource, sys
out = sys.argv[1]
sys.argv = ["linkwatch", *sys.argv[2:]]
code = 1
try:
    from linkwatch.cli import main
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
finally:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with open(out, "w") as fh:
        fh.write(f"{ru.ru_maxrss} {ru.ru_utime} {ru.ru_stime}\\n")
sys.exit(code)
"""


@dataclass(frozen=True, slots=True)
class Run:
    label: str
    wall: float
    cpu: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_scan(label: str, config: Path, python: str) -> Run:
    with tempfile.NamedTemporaryFile("r", suffix=".rusage", delete=False) as fh:
        usage_path = Path(fh.name)
    try:
        cmd = [python, "-c", WRAPPER, str(usage_path), "--config", str(config), "scan"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        fields = usage_path.read_text().split()
    finally:
        usage_path.unlink(missing_ok=True)
    maxrss, utime, stime = (float(x) for x in fields) if len(fields) == 3 else (0.0, 0.0, 0.0)
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss_mb = maxrss / 1_000_000 if sys.platform == "darwin" else maxrss * 1024 / 1_000_000
    return Run(label, wall, utime + stime, rss_mb, proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True, slots=True)
class StoreCounts:
    releases: int
    citations: int
    urls: int
    formats: dict[str, int]
    date_sources: dict[str, int]
    errors: int


def store_counts(db_path: Path) -> StoreCounts:
    """What the scans left in the store (opened read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    def by(column: str) -> dict[str, int]:
        sql = f"SELECT {column}, count(*) FROM releases GROUP BY {column}"
        return {str(key): int(n) for key, n in conn.execute(sql)}

    try:
        return StoreCounts(
            releases=one("SELECT count(*) FROM releases"),
            citations=one("SELECT count(*) FROM citations"),
            urls=one("SELECT count(*) FROM urls"),
            formats=by("format"),
            date_sources=by("date_source"),
            errors=one("SELECT count(*) FROM releases WHERE error IS NOT NULL"),
        )
    finally:
        conn.close()


# --- report ----------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def table(stats: CorpusStats, counts: StoreCounts, first: Run, rescans: Sequence[Run]) -> str:
    rescan = max(r.wall for r in rescans)
    rows = [
        ("releases (files)", f"{stats.files:,}", "", ""),
        ("corpus size", f"{stats.bytes / 1_000_000:.1f} MB", "", ""),
        ("citations stored", f"{counts.citations:,}", "", ""),
        ("URLs stored", f"{counts.urls:,}", "", ""),
        (
            "first scan",
            f"{first.wall:.2f} s",
            f"<= {FIRST_SCAN_TARGET_S:g} s",
            verdict(first.wall <= FIRST_SCAN_TARGET_S),
        ),
        (
            "unchanged rescan (slower of 2)",
            f"{rescan:.2f} s",
            f"<= {RESCAN_TARGET_S:g} s",
            verdict(rescan <= RESCAN_TARGET_S),
        ),
        ("peak RSS, first scan", f"{first.peak_rss_mb:.0f} MB", "", ""),
        ("peak RSS, rescan", f"{max(r.peak_rss_mb for r in rescans):.0f} MB", "", ""),
    ]
    head = ("figure", "value", "target", "result")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(4)]
    fmt = "| " + " | ".join(f"{{:{w}}}" for w in widths) + " |"
    lines = [fmt.format(*head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------


def prepare_dir(path: Path) -> None:
    """Use `path` for the corpus: create it, or clear what an earlier run left there."""
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            sys.exit(f"error: {path} is not empty and was not made by this benchmark")
        for child in ("releases", "state"):
            shutil.rmtree(path / child, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("corpus of bench/scan.py; cleared on each run\n")


def write_config(root: Path) -> Path:
    config = root / "linkwatch.toml"
    config.write_text('[sources]\npaths = ["releases/**/*"]\n\n[state]\ndir = "state"\n')
    return config


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench(root: Path, args: argparse.Namespace) -> int:
    start = time.perf_counter()
    stats = generate(root, args.releases, args.seed)
    config = write_config(root)
    formats = ", ".join(f"{n:,} .{ext}" for ext, n in sorted(stats.formats.items()))
    log(
        f"generated {stats.files:,} releases ({formats}; {stats.crlf:,} CRLF, {stats.bom:,} BOM), "
        f"{stats.bytes:,} bytes ({stats.bytes / 1_000_000:.1f} MB, "
        f"{stats.bytes / max(stats.files, 1):,.0f} B/file) in {time.perf_counter() - start:.1f} s"
    )
    log(
        f"written: {stats.footnote_urls:,} footnote URLs + {stats.inline_urls:,} inline links, "
        f"{stats.distinct_urls:,} distinct URLs as written"
    )
    if args.releases >= 10_000 and stats.bytes < MIN_CORPUS_BYTES:
        log(f"warning: corpus is under {MIN_CORPUS_BYTES / 1_000_000:.0f} MB")
    log(f"corpus: {root}\nconfig: {config}")
    if args.generate_only:
        return 0

    python = sys.executable
    check = subprocess.run([python, "-c", "import linkwatch.cli"], capture_output=True, text=True)
    if check.returncode != 0:
        log(f"error: cannot import linkwatch.cli with {python}:\n{check.stderr.strip()}")
        return 2
    runs: list[Run] = []
    for label in ("first scan", "rescan 1", "rescan 2"):
        run = run_scan(label, config, python)
        runs.append(run)
        log(
            f"{label}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, {run.peak_rss_mb:.0f} MB peak "
            f"RSS, exit {run.returncode}: {run.stdout.strip()}"
        )
        if run.returncode not in (0, 1):
            log(f"error: scan failed (exit {run.returncode}):\n{run.stderr.strip()[-3000:]}")
            return 2
        if run.returncode == 1:
            errors = [ln for ln in run.stderr.splitlines() if "error" in ln.lower()]
            log(f"warning: {len(errors)} releases could not be read, e.g. {errors[:3]}")

    counts = store_counts(root / "state" / "linkwatch.db")
    stored = ", ".join(f"{n:,} {fmt}" for fmt, n in sorted(counts.formats.items()))
    dated = ", ".join(f"{n:,} {src}" for src, n in sorted(counts.date_sources.items()))
    log(
        f"store: {counts.releases:,} releases ({stored}), {counts.citations:,} citations, "
        f"{counts.urls:,} URLs, {counts.errors:,} releases with read errors; dated by: {dated}"
    )
    first, rescans = runs[0], runs[1:]
    print()
    print(
        f"linkwatch scan, {stats.files:,} synthetic releases (seed {args.seed}), "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}:"
    )
    print()
    print(table(stats, counts, first, rescans))
    ok = first.wall <= FIRST_SCAN_TARGET_S and max(r.wall for r in rescans) <= RESCAN_TARGET_S
    return 0 if ok else 1


# --- web sources ----------------------------------------------------------------------


def web_config(root: Path, source: str, host_delay: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config.toml"
    config.write_text(
        f'[sources]\npaths = []\n{source}\n\n[state]\ndir = "state"\n\n'
        f'[check]\nallow_private = true\nhost_delay = "{host_delay}"\n',
        encoding="utf-8",
    )
    return config


def extraction_cost(site: object, count: int) -> tuple[float, float]:
    """Seconds per page of citation extraction without and with the main-content cut."""
    from linkwatch.content import main_content_citations
    from linkwatch.extract import extract_citations
    from linkwatch.sources.decoding import decode_release

    pages = [site.page(release).encode() for release in site.releases[:count]]  # type: ignore[attr-defined]
    releases = [decode_release(Path("page.html"), data) for data in pages]
    main_content_citations(releases[0], [], url=None)  # imports and warm-up out of the timing
    start = time.perf_counter()
    found = [extract_citations(r.text, r.format, encoding=r.encoding, bom=r.bom) for r in releases]
    plain = (time.perf_counter() - start) / len(releases)
    start = time.perf_counter()
    for release, citations in zip(releases, found, strict=True):
        main_content_citations(release, citations)
    cut = (time.perf_counter() - start) / len(releases)
    return plain, cut


def web_bench(root: Path, args: argparse.Namespace) -> int:
    """1,000 release pages on a loopback WordPress-shaped site, read through its sitemap."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from support.press_site import PressSite

    site = PressSite(releases=args.pages).start()
    python = sys.executable
    try:
        rows: list[tuple[str, Run, int, Counter[int]]] = []

        def one(label: str, config: Path) -> Run:
            site.requests.clear()
            run = run_scan(label, config, python)
            statuses = Counter(status for _, _, status in site.requests)
            rows.append((label, run, len(site.requests), statuses))
            log(
                f"{label}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, {run.peak_rss_mb:.0f} MB "
                f"peak RSS, {len(site.requests)} requests {dict(statuses)}, exit "
                f"{run.returncode}: {run.stdout.strip()}"
            )
            if run.returncode != 0:
                log(run.stderr.strip()[-2000:])
            return run

        sitemap = web_config(
            root / "sitemap", f'sitemaps = ["{site.base}/sitemap.xml"]', args.host_delay
        )
        one("first scan (sitemap)", sitemap)
        one("unchanged rescan (sitemap)", sitemap)
        listed = root / "urls" / "pages.txt"
        listed.parent.mkdir(parents=True, exist_ok=True)
        listed.write_text("".join(site.url(r) + "\n" for r in site.releases), encoding="utf-8")
        urls = web_config(root / "urls", 'urls = "pages.txt"', args.host_delay)
        one("first scan (URL list)", urls)
        one("unchanged rescan (URL list: a 304 each)", urls)
        plain, cut = extraction_cost(site, min(200, args.pages))
    finally:
        site.stop()
    print()
    print(
        f"linkwatch scan of {args.pages:,} release pages on a loopback site, check.host_delay "
        f"{args.host_delay}, check.per_host 2, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs:"
    )
    print()
    print("| run | wall | CPU | peak RSS | requests to the site |")
    print("|---|---|---|---|---|")
    for label, run, requests, statuses in rows:
        answers = ", ".join(f"{n:,} × {status}" for status, n in sorted(statuses.items()))
        print(
            f"| {label} | {run.wall:.1f} s | {run.cpu:.1f} s | {run.peak_rss_mb:.0f} MB "
            f"| {requests:,} ({answers}) |"
        )
    print()
    print(
        f"citation extraction per page: {plain * 1000:.1f} ms alone, "
        f"{cut * 1000:.1f} ms with the main-content cut (+{(cut - plain) * 1000:.1f} ms)"
    )
    return 0 if all(run.returncode == 0 for _, run, _, _ in rows) else 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--releases", type=int, default=10_000, help="releases to generate")
    parser.add_argument("--seed", type=int, default=2016, help="random seed of the corpus")
    parser.add_argument(
        "--dir", type=Path, help="keep the corpus and store here (default: a temp dir)"
    )
    parser.add_argument(
        "--generate-only", action="store_true", help="write the corpus and config, do not scan"
    )
    parser.add_argument(
        "--web", action="store_true", help="scan release pages on a loopback site instead"
    )
    parser.add_argument("--pages", type=int, default=1000, help="release pages (--web)")
    parser.add_argument(
        "--host-delay",
        default="50ms",
        help="check.host_delay for --web (the default 1s would make 1,000 pages 17 minutes)",
    )
    args = parser.parse_args(argv)
    if args.web:
        with tempfile.TemporaryDirectory(prefix="linkwatch-bench-web-") as tmp:
            return web_bench(Path(tmp), args)
    if args.releases < 1:
        parser.error("--releases must be at least 1")
    if args.dir is not None:
        root = args.dir.resolve()
        prepare_dir(root)
        return bench(root, args)
    if args.generate_only:
        parser.error("--generate-only needs --dir")
    with tempfile.TemporaryDirectory(prefix="linkwatch-bench-") as tmp:
        return bench(Path(tmp), args)


if __name__ == "__main__":
    sys.exit(main())
