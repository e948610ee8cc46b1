"""The starter file `linkwatch init` writes: every key, commented out, with its default."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from linkwatch.config.keys import KEYS
from linkwatch.config.settings import SMTP_PASSWORD_ENV
from linkwatch.errors import ConfigError

_STARTER_HEADER = f"""\
# linkwatch configuration (TOML).
#
# Every key is listed with its default value, commented out: uncomment a line to
# change it. Relative paths and globs are relative to this file's directory.
# Durations: "30s", "10m", "6h", "3d", "2w", "1h30m".  Sizes: "5MB", "256KiB", or bytes.
# The SMTP password is never read from this file: set {SMTP_PASSWORD_ENV}.
# Precedence: command line > environment > this file > defaults.
"""

_STARTER_EXAMPLES = {
    "sources.dates": 'for example: dates = { "releases/2012/*.html" = 2012-05-01 }',
    "check.user_agent": "(the default follows the installed version)",
}


def _starter_lines() -> Iterator[str]:
    yield _STARTER_HEADER
    section = ""
    for spec in KEYS:
        if spec.section != section:
            section = spec.section
            yield f"\n[{section}]\n"
        else:
            yield "\n"
        yield f"# {spec.doc}\n"
        if spec.name in _STARTER_EXAMPLES:
            yield f"#   {_STARTER_EXAMPLES[spec.name]}\n"
        yield f"# {spec.leaf} = {spec.default}\n"


_STARTER_RULES = """
# Rules per site, any number of [[rules]] tables (the README's "Rules per site"):
#   [[rules]]
#   host = "partner.example.org"    # or url = "https://intranet.example/*"
#   subdomains = true
#   accept = [403, 429]
#   headers = { Cookie = "${LINKWATCH_PARTNER_COOKIE}" }
#   exclude, treat_as, per_host, host_delay, timeout, archive: see the README
"""

STARTER_CONFIG: str = "".join(_starter_lines()) + _STARTER_RULES


def write_starter_config(path: Path, *, force: bool = False) -> None:
    """Write STARTER_CONFIG; an existing file is kept unless `force`."""
    try:
        with path.open("w" if force else "x", encoding="utf-8") as file:
            file.write(STARTER_CONFIG)
    except FileExistsError:
        raise ConfigError(
            f"{path}: already exists; not overwritten (use `linkwatch init --force`)"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot write: {err.strerror or err}") from None
