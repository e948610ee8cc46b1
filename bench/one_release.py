"""Benchmark what one release may cost a scan: a 5 MB release on one line, per format.

Each file is the most a release may be by default (`sources.max_size` = 5 MB),
written as one line of prose with the most links a release may have
(`sources.max_citations` = 2,000), and scanned alone by the real
`linkwatch scan` (a process, as a user runs it); its wall time and peak
resident memory are the figures. A last file links 80,000 URLs: it must be
refused before it is parsed, in a fraction of the time.

    .venv/bin/python bench/one_release.py

Prints a Markdown table (ready for the README).
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = Path(sys.executable).parent / "linkwatch"
SIZE = 4_900_000  # the text, within sources.max_size (5 MB) with the markup around it
LINKS = 2000
_WORDS = (
    "the of and a to in is that for it as was with be by on not this are or from at which "
    "but have an they were there court ministry release statement prisoner rights report"
)
WORDS = _WORDS.split()


def prose(links: int, size: int, rng: random.Random) -> list[str]:
    every = max(1, (size // 6) // links)
    parts: list[str] = []
    written = 0
    while written < size:
        index = len(parts)
        word = (
            f"https://site{index % 500}.example.org/news/{index}/report"
            if index % every == 0 and index // every < links
            else rng.choice(WORDS)
        )
        parts.append(word)
        written += len(word) + 1
    return parts


def release(fmt: str, links: int, rng: random.Random) -> str:
    parts = prose(links, SIZE, rng)
    if fmt == "html":
        body = " ".join(f'<a href="{p}">source</a>' if "://" in p else p for p in parts)
        return f"<html><head><title>Release</title></head><body><p>{body}</p></body></html>"
    return "Warsaw, 7 April 2016. " + " ".join(parts)


def scan(root: Path, name: str) -> tuple[float, float, str]:
    config = root / f"{name}.toml"
    config.write_text(
        f'[sources]\npaths = ["releases/{name}"]\n\n[state]\ndir = "state-{name}"\n',
        encoding="utf-8",
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [str(EXE), "--config", str(config), "scan"], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    said = done.stderr.strip().splitlines()[-1:] or done.stdout.strip().splitlines()[-1:]
    return wall, peak, said[0] if said else ""


def main() -> int:
    rng = random.Random(5)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lw-one-release-") as temp:
        root = Path(temp)
        (root / "releases").mkdir()
        cases = [("md", LINKS), ("html", LINKS), ("txt", LINKS), ("md", 80_000)]
        for fmt, links in cases:
            name = f"r{links}.{fmt}"
            (root / "releases" / name).write_text(release(fmt, links, rng), encoding="utf-8")
            wall, peak, said = scan(root, name)
            rows.append(
                (f"{fmt}, one line, {links:,} links", f"{wall:.1f} s", f"{peak:.0f} MB", said)
            )
    print("| release (5 MB) | scan | peak RSS | what scan said |")
    print("|---|---:|---:|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
