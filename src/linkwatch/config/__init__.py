"""config.toml -> one typed, frozen `Settings` object, passed to whatever needs it.

Precedence, highest first:

1. the command line: `--config` chooses the file, and a command may override single
   fields of the loaded object with `dataclasses.replace`;
2. the environment: `LINKWATCH_CONFIG` chooses the file when `--config` is absent,
   `LINKWATCH_SMTP_PASSWORD` is the only source of the SMTP password, and the standard
   proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are honoured by the HTTP client;
3. the config file;
4. the defaults declared in `keys.KEYS`.

This package implements layers 3 and 4 and never reads the environment itself, so a
given file yields the same Settings wherever it is loaded. `settings` holds the
dataclasses, `values` the value parsers, `keys` the key table, `loading` turns a
file into `Settings`, `starter` writes the file `linkwatch init` gives.
"""

from linkwatch.config.keys import KEYS, KeySpec
from linkwatch.config.loading import default_settings, load_settings
from linkwatch.config.settings import (
    SMTP_PASSWORD_ENV,
    ArchiveBackend,
    ArchiveSettings,
    CheckSettings,
    DigestSettings,
    LogFormat,
    PolicySettings,
    RewriteMode,
    RewriteSettings,
    RunSettings,
    Settings,
    SmtpTls,
    SourcesSettings,
    StateSettings,
)
from linkwatch.config.starter import STARTER_CONFIG, write_starter_config
from linkwatch.config.values import parse_duration, parse_size

__all__ = [
    "KEYS",
    "SMTP_PASSWORD_ENV",
    "STARTER_CONFIG",
    "ArchiveBackend",
    "ArchiveSettings",
    "CheckSettings",
    "DigestSettings",
    "KeySpec",
    "LogFormat",
    "PolicySettings",
    "RewriteMode",
    "RewriteSettings",
    "RunSettings",
    "Settings",
    "SmtpTls",
    "SourcesSettings",
    "StateSettings",
    "default_settings",
    "load_settings",
    "parse_duration",
    "parse_size",
    "write_starter_config",
]
