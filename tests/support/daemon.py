"""A daemon as a real process, and the sites it checks: `linkwatch run` on a temporary
state directory, with schedules of seconds, checking pages served from a thread of the
test process on 127.0.0.1. The daemon listens on port 0 and says where in its
"listening on" log line."""

from __future__ import annotations

import asyncio
import hashlib
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from aiohttp import web

from support.polling import DEADLINE, wait_until

EXE = Path(sys.executable).parent / "linkwatch"


# --------------------------------------------------------------------------- the web


class LoopbackWeb:
    """Sites on 127.0.0.1 served from a thread: fast pages, 404s and slow pages.

    /page/N answers at once, /gone/N is 404, /slow/N answers after `slow`
    seconds, /wait/MS/N after MS milliseconds. `requests` counts every request
    and `in_flight` those unanswered.
    """

    def __init__(self, slow: float = 30.0) -> None:
        self.slow = slow
        self.requests = 0
        self.in_flight = 0
        self.base = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.in_flight += 1
        try:
            kind, _, rest = request.path.strip("/").partition("/")
            if kind == "slow":
                await asyncio.sleep(self.slow)
            elif kind == "wait":
                await asyncio.sleep(int(rest.partition("/")[0]) / 1000)
            if kind in ("page", "slow", "wait"):
                return web.Response(text=_article(request.path), content_type="text/html")
            return web.Response(status=404, text="not found")
        finally:
            self.in_flight -= 1

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def start(self) -> LoopbackWeb:
        self._thread.start()
        self.base = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# --------------------------------------------------------------------------- projects


def write_project(
    root: Path,
    urls: list[str],
    *,
    releases: int = 1,
    run: dict[str, str] | None = None,
    extra: str = "",
) -> Path:
    """`releases` Markdown releases citing `urls` as footnotes; returns the config path."""
    (root / "releases").mkdir(parents=True, exist_ok=True)
    notes = "\n\n".join(f"[^{n}]: <{url}>" for n, url in enumerate(urls, start=1))
    refs = " ".join(f"[^{n}]" for n in range(1, len(urls) + 1))
    for number in range(releases):
        text = f"Warsaw, 7 April 2016\n\n# Release {number}\n\nText {refs}\n\n{notes}\n"
        (root / "releases" / f"r{number:03}.md").write_text(text, encoding="utf-8")
    settings = {
        "listen": '"127.0.0.1:0"',
        "scan_every": '"1h"',
        "check_every": '"1s"',
        "archive_every": '"1s"',
        "grace": '"2s"',
    } | {key: f'"{value}"' for key, value in (run or {}).items()}
    config = root / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n[state]\ndir = "state"\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "60s"\nper_host = 64\n\n'
        '[archive]\nenabled = false\n\n[rewrite]\nmode = "off"\n\n'
        "[run]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()) + extra,
        encoding="utf-8",
    )
    return config


def history_rows(state_dir: Path) -> list[tuple[int, int, str, int]]:
    """(id, url_id, first_at, count) of every history row, read without writing."""
    database = state_dir / "linkwatch.db"
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as conn:
        try:
            rows = conn.execute("SELECT id, url_id, first_at, count FROM history ORDER BY id")
            return [tuple(row) for row in rows]
        except sqlite3.OperationalError:  # not migrated yet
            return []


# --------------------------------------------------------------------------- the process


class DaemonProcess:
    """`linkwatch --config CONFIG run [ARGS]` with its stderr collected line by line."""

    def __init__(self, config: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(EXE), "--config", str(config), "run", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.process.pid

    def line(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """The first stderr line matching `pattern`, waiting for it if need be."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            if self.process.poll() is not None:
                self._reader.join(5)
            for line in list(self.lines):
                if match := regex.search(line):
                    return match
            if self.process.poll() is not None:
                raise AssertionError(f"exited {self.process.returncode}: {self.lines}")
            return None

        match: re.Match[str] = wait_until(found, timeout, what=pattern)
        return match

    @property
    def url(self) -> str:
        return self.line(r"listening on (http://\S+)")[1]

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        """Status and body of GET `path` on the daemon's endpoint (errors included)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as answer:
                return int(answer.status), answer.read().decode()
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = DEADLINE) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._reader.join(5)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.process.stdout.close()
        self.process.stderr.close()


_WORDS = [
    "court",
    "ruling",
    "journalist",
    "release",
    "statement",
    "minister",
    "election",
    "report",
    "rights",
    "council",
    "appeal",
    "verdict",
    "prison",
    "freedom",
    "media",
    "press",
    "protest",
    "union",
    "commission",
    "parliament",
    "law",
    "reform",
    "border",
    "trade",
    "water",
    "energy",
    "health",
    "school",
    "budget",
    "tax",
    "city",
    "region",
]


def _article(path: str) -> str:
    """A page of its own for every path: words drawn from the path's hash, so that two
    paths never look like one page (a site answering any id with one page is a soft-404)."""
    digest = hashlib.sha256(path.encode()).digest()
    words = [_WORDS[byte % len(_WORDS)] for byte in digest]
    title = " ".join(words[:5]).capitalize()
    text = " ".join(words)
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{text}.</p><p>{' '.join(reversed(words))}.</p></article></body></html>"
    )
