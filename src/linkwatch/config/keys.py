"""The key table: every configuration key, declared once.

Each `KeySpec` holds a key's type (for people), its default (as TOML text, run
through the same parser as a value from the file), a one-line doc and its
parser. Defaults, validation, the starter file and the README's key table all
derive from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from linkwatch import __version__
from linkwatch.archive.archives import as_archive_list
from linkwatch.config.rulevalues import (
    as_headers,
    as_rule_host,
    as_rule_url,
    as_statuses,
    as_treat_as,
)
from linkwatch.config.settings import (
    SMTP_PASSWORD_ENV,
    ArchiveBackend,
    LogFormat,
    OnRecovery,
    RewriteMode,
    SaveTarget,
    SmtpTls,
)
from linkwatch.config.values import (
    Convert,
    as_boolean,
    as_choice,
    as_choices,
    as_cron,
    as_dates,
    as_duration,
    as_events,
    as_globs,
    as_host_names,
    as_http_url,
    as_integer,
    as_listen,
    as_mailbox,
    as_mailboxes,
    as_notify_urls,
    as_one_line,
    as_optional_path,
    as_path,
    as_positive_number,
    as_public_url,
    as_size,
    as_timezone,
)
from linkwatch.config.webvalues import (
    as_content_selectors,
    as_url_list,
    as_url_patterns,
    as_web_sources,
)
from linkwatch.notify.kinds import NotifyEvent


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One configuration key: the single source for validation, defaults and docs."""

    name: str  # dotted, e.g. "check.per_host"
    type: str  # for people, e.g. "integer >= 1"
    default: str  # as TOML text
    doc: str  # one line
    convert: Convert = field(repr=False, compare=False)

    @property
    def section(self) -> str:
        return self.name.partition(".")[0]

    @property
    def leaf(self) -> str:
        return self.name.partition(".")[2]


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_USER_AGENT = f"linkwatch/{__version__} (+https://github.com/linkwatch/linkwatch)"

_DEFAULT_GLOBS = (
    "releases/**/*.md",
    "releases/**/*.html",
    "releases/**/*.htm",
    "releases/**/*.txt",
    "releases/**/*.docx",
    "releases/**/*.pdf",
)

KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "sources.paths",
        "array of globs",
        "[" + ", ".join(toml_string(glob) for glob in _DEFAULT_GLOBS) + "]",
        "Release files to read, as globs relative to the config file ('**' spans directories).",
        as_globs,
    ),
    KeySpec(
        "sources.dates",
        "table: path or glob = date",
        "{}",
        "Publication dates that override what a release says about itself.",
        as_dates,
    ),
    KeySpec(
        "sources.max_size",
        "size",
        '"5MB"',
        "Release files larger than this are refused with an error.",
        as_size,
    ),
    KeySpec(
        "sources.max_citations",
        "integer >= 1",
        "2000",
        "Releases linking more URLs than this are refused with an error (a link dump, not a "
        "release); bounds the time and memory one file may cost.",
        as_integer(1),
    ),
    KeySpec(
        "sources.sitemaps",
        "array of URLs or tables",
        "[]",
        "Sitemaps (sitemap.xml, sitemap indexes, gzipped or not) whose pages are releases;"
        " an entry may be {url, include, exclude, content_selector}.",
        as_web_sources,
    ),
    KeySpec(
        "sources.feeds",
        "array of URLs or tables",
        "[]",
        "RSS or Atom feeds whose entries' pages are releases (entries as sources.sitemaps).",
        as_web_sources,
    ),
    KeySpec(
        "sources.urls",
        "array of URLs or tables, or a path",
        "[]",
        "Pages that are releases, or the path of a file listing one URL a line.",
        as_url_list,
    ),
    KeySpec(
        "sources.wordpress",
        "array of URLs or tables",
        "[]",
        "WordPress sites whose posts are releases, read through /wp-json/wp/v2/posts.",
        as_web_sources,
    ),
    KeySpec(
        "sources.include",
        "array of URL globs",
        "[]",
        "Web pages are releases only if their URL matches one of these ('*/press/*');"
        " empty: every page.",
        as_url_patterns,
    ),
    KeySpec(
        "sources.exclude",
        "array of URL globs",
        "[]",
        "Web pages whose URL matches one of these are not releases.",
        as_url_patterns,
    ),
    KeySpec(
        "sources.content_selector",
        "CSS selector, or table",
        '""',
        "Where a web page's article is, overriding the automatic finding: one selector, or a"
        " table of host or source URL = selector.",
        as_content_selectors,
    ),
    KeySpec(
        "state.dir",
        "path",
        '"state"',
        "Directory of the database (linkwatch.db), relative to the config file.",
        as_path,
    ),
    KeySpec(
        "check.concurrency",
        "integer >= 1",
        "64",
        "Most checks in flight at once, over all hosts.",
        as_integer(1),
    ),
    KeySpec(
        "check.per_host",
        "integer >= 1",
        "2",
        "Most requests in flight to one host at once.",
        as_integer(1),
    ),
    KeySpec(
        "check.timeout",
        "duration > 0",
        '"20s"',
        "Total time allowed for one check, redirects included.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "check.user_agent",
        "string",
        toml_string(_USER_AGENT),
        "User-Agent header: names the tool and a contact URL, as polite robots do.",
        as_one_line(allow_empty=False),
    ),
    KeySpec(
        "check.allow_private",
        "boolean",
        "false",
        "Check URLs resolving to loopback, private or link-local addresses (off: SSRF guard).",
        as_boolean,
    ),
    KeySpec(
        "check.host_delay",
        "duration",
        '"1s"',
        "Minimum pause between two requests to the same host.",
        as_duration(allow_zero=True),
    ),
    KeySpec(
        "check.every",
        "duration > 0",
        '"1d"',
        "How often a healthy URL is checked again.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "check.max_body",
        "size",
        '"256KiB"',
        "Most bytes of a page body read (and decompressed) per check.",
        as_size,
    ),
    KeySpec(
        "check.probe_every",
        "duration > 0",
        '"7d"',
        "How long a site's answers to paths that cannot exist (the soft-404 probes: a random "
        "path, and one shaped like each kind of URL cited) are kept before it is asked again.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "policy.dead_after_failures",
        "integer >= 2",
        "3",
        "Failed checks in a row before a URL is dead (one failure never is).",
        as_integer(2),
    ),
    KeySpec(
        "policy.dead_after_days",
        "integer >= 0",
        "3",
        "Days those failures must span before a URL is dead.",
        as_integer(0),
    ),
    KeySpec(
        "policy.recovered_after",
        "duration > 0",
        '"7d"',
        "How long a dead URL must have been alive again before it counts as recovered "
        '(rewrite.on_recovery = "revert").',
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "policy.recovered_after_checks",
        "integer >= 1",
        "3",
        "Successful checks in a row, over policy.recovered_after, before a URL counts as "
        "recovered.",
        as_integer(1),
    ),
    KeySpec(
        "archive.enabled",
        "boolean",
        "true",
        "Save cited pages to the archive while they are alive.",
        as_boolean,
    ),
    KeySpec(
        "archive.wayback_url",
        "http(s) URL",
        '"https://web.archive.org"',
        "Wayback-compatible archive (the Internet Archive, or a self-hosted pywb).",
        as_http_url,
    ),
    KeySpec(
        "archive.saves_per_minute",
        "number > 0",
        "3",
        "Most save requests per minute to the Wayback Machine (or pywb); the Internet "
        "Archive allows about 3 anonymously.",
        as_positive_number,
    ),
    KeySpec(
        "archive.fresh_within",
        "duration",
        '"30d"',
        "An existing snapshot this recent makes a new save unnecessary.",
        as_duration(allow_zero=True),
    ),
    KeySpec(
        "archive.backend",
        "wayback | pywb",
        '"wayback"',
        "Archive to look up and save in: the Wayback Machine API, or a self-hosted pywb.",
        as_choice(ArchiveBackend),
    ),
    KeySpec(
        "archive.pywb_url",
        "http(s) URL",
        '"http://localhost:8080"',
        'Base URL of the pywb server (archive.backend = "pywb").',
        as_http_url,
    ),
    KeySpec(
        "archive.pywb_collection",
        "string",
        '"linkwatch"',
        "pywb collection that holds the captures.",
        as_one_line(allow_empty=False),
    ),
    KeySpec(
        "archive.lookup",
        'array of archives or "default"',
        '"default"',
        "Web archives asked for captures besides the backend, in the shape of MemGator's "
        "archives.json (id, name, timemap, timegate; optional cdx, concurrency, timeout, "
        'ignore); "default" is the built-in list, [] none.',
        as_archive_list,
    ),
    KeySpec(
        "archive.lookup_file",
        'path or ""',
        '""',
        "A JSON file in the shape of archive.lookup that replaces it (read at each run).",
        as_optional_path,
    ),
    KeySpec(
        "archive.lookup_rest",
        "duration",
        '"1h"',
        "How long an archive that refused, failed (5xx) or did not answer is left alone.",
        as_duration(allow_zero=True),
    ),
    KeySpec(
        "archive.save_to",
        "array of wayback | pywb | perma",
        '["wayback"]',
        "Archives cited pages are saved to, each with its own queue and pace; a page is "
        "preserved when one holds a verified capture.",
        as_choices(SaveTarget),
    ),
    KeySpec(
        "archive.if_not_archived_within",
        "duration",
        '"30d"',
        "Save Page Now 2 (with keys) keeps a capture this recent instead of making another.",
        as_duration(allow_zero=True),
    ),
    KeySpec(
        "archive.perma_api_url",
        "http(s) URL",
        '"https://api.perma.cc"',
        "Perma.cc's API; the key comes only from env LINKWATCH_PERMA_API_KEY.",
        as_http_url,
    ),
    KeySpec(
        "archive.perma_url",
        "http(s) URL",
        '"https://perma.cc"',
        "Where Perma Links are read (https://perma.cc/<guid>).",
        as_http_url,
    ),
    KeySpec(
        "archive.perma_folder",
        "integer >= 0",
        "0",
        "Perma.cc folder the links are made in; 0 for the key owner's own folder.",
        as_integer(0),
    ),
    KeySpec(
        "archive.perma_saves_per_minute",
        "number > 0",
        "2",
        "Most Perma.cc captures asked for per minute.",
        as_positive_number,
    ),
    KeySpec(
        "rewrite.mode",
        "dead | drifted | all | off",
        '"dead"',
        "Which citations rewrite points at archived copies: rotten ones, rotten and drifted "
        "ones (the page now says something else), all, or none.",
        as_choice(RewriteMode),
    ),
    KeySpec(
        "rewrite.template_dir",
        'path or ""',
        '""',
        "Folder of jinja2 templates overriding the wording of added archive links.",
        as_optional_path,
    ),
    KeySpec(
        "rewrite.on_recovery",
        "keep | revert",
        '"keep"',
        "What happens to an archive link added to a dead citation once its URL has "
        "recovered (policy.recovered_after): kept, or removed byte for byte.",
        as_choice(OnRecovery),
    ),
    KeySpec(
        "digest.to",
        "e-mail address or array of them",
        "[]",
        "Recipients of the digest e-mail.",
        as_mailboxes,
    ),
    KeySpec(
        "digest.from",
        "e-mail address",
        '"linkwatch@localhost"',
        "Sender of the digest e-mail.",
        as_mailbox,
    ),
    KeySpec(
        "digest.smtp_host",
        "string",
        '"localhost"',
        "SMTP server the digest is sent through.",
        as_one_line(allow_empty=False),
    ),
    KeySpec(
        "digest.smtp_port",
        "integer 1..65535",
        "25",
        "SMTP server port.",
        as_integer(1, 65535),
    ),
    KeySpec(
        "digest.tls",
        "starttls | tls | none",
        '"starttls"',
        "How the SMTP connection is encrypted.",
        as_choice(SmtpTls),
    ),
    KeySpec(
        "digest.username",
        "string",
        '""',
        f"SMTP login, empty for none; the password comes only from env {SMTP_PASSWORD_ENV}.",
        as_one_line(allow_empty=True),
    ),
    KeySpec(
        "digest.schedule",
        "cron expression",
        '"0 8 * * mon"',
        "When the daemon sends the digest (minute hour day month weekday).",
        as_cron,
    ),
    KeySpec(
        "digest.timezone",
        "IANA time zone",
        '"UTC"',
        "Time zone of digest.schedule and of dates in the digest.",
        as_timezone,
    ),
    KeySpec(
        "digest.skip_empty",
        "boolean",
        "false",
        "Send no digest when nothing changed since the last one.",
        as_boolean,
    ),
    KeySpec(
        "notify.urls",
        "array of Apprise URLs",
        "[]",
        "Where to tell people what is new (Slack, Matrix, Teams, ntfy, json:// webhooks...);"
        " ${LINKWATCH_...} is filled in from the environment, never logged or stored.",
        as_notify_urls,
    ),
    KeySpec(
        "notify.on",
        "array of events",
        "[" + ", ".join(toml_string(event.value) for event in NotifyEvent) + "]",
        "What is notified, once per event ever: citations newly dead, soft404, usurped or"
        " drifted; saves refused for good; rewrites applied; rewrites reverted.",
        as_events,
    ),
    KeySpec(
        "run.listen",
        "host:port",
        '"127.0.0.1:8421"',
        "Address of the daemon's health and metrics endpoint.",
        as_listen,
    ),
    KeySpec(
        "run.allowed_hosts",
        "array of host names",
        "[]",
        "Host names the report at / is served under, besides localhost and IP addresses"
        ' (a reverse proxy\'s name; ".example.org" for a domain; "*" for any).',
        as_host_names,
    ),
    KeySpec(
        "run.public_url",
        'http(s) URL or ""',
        '""',
        "The daemon's report as people reach it (a reverse proxy's URL): linked from every"
        " notification, and its host name is allowed like run.allowed_hosts.",
        as_public_url,
    ),
    KeySpec(
        "run.scan_every",
        "duration > 0",
        '"1h"',
        "How often the daemon looks for new or changed releases.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "run.check_every",
        "duration > 0",
        '"10m"',
        "How often the daemon checks the URLs that are due.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "run.archive_every",
        "duration > 0",
        '"5m"',
        "How often the daemon works through the archive queue.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "run.grace",
        "duration",
        '"10s"',
        "On shutdown, how long running work may take to finish.",
        as_duration(allow_zero=True),
    ),
    KeySpec(
        "run.log_format",
        "text | json",
        '"text"',
        "Log lines for people (text) or for log collectors (json).",
        as_choice(LogFormat),
    ),
)

KEY_BY_NAME = {spec.name: spec for spec in KEYS}

# The keys of each `[[rules]]` table (see linkwatch.rules). A rule has no defaults of its
# own: a key left out says nothing, and the `check.*` and `archive.*` values apply. The
# default column tells what a rule that leaves the key out does.
RULE_KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "rules.host",
        "host name",
        '""',
        "The host the rule is for (give host or url, not both).",
        as_rule_host,
    ),
    KeySpec(
        "rules.subdomains",
        "boolean",
        "false",
        "With host: its subdomains too (www.example.org is one of example.org).",
        as_boolean,
    ),
    KeySpec(
        "rules.url",
        "URL glob",
        '""',
        "The URLs the rule is for, as a glob over the whole URL ('*' spans '/').",
        as_rule_url,
    ),
    KeySpec(
        "rules.exclude",
        "boolean",
        "false",
        "Never check, archive or rewrite these URLs; reports show them as excluded.",
        as_boolean,
    ),
    KeySpec(
        "rules.accept",
        "array of HTTP statuses",
        "[]",
        "Statuses that count as alive for these URLs (as lychee's accept), e.g. [403, 429].",
        as_statuses,
    ),
    KeySpec(
        "rules.treat_as",
        "alive | blocked",
        '""',
        "The state shown for these URLs whatever the checks say (a pin for a whole site;"
        " `linkwatch mark` still wins for one URL).",
        as_treat_as,
    ),
    KeySpec(
        "rules.headers",
        "table: header = value",
        "{}",
        "Request headers sent to these URLs only (never on a redirect elsewhere);"
        " ${LINKWATCH_...} is filled in from the environment, never logged or stored.",
        as_headers,
    ),
    KeySpec(
        "rules.per_host",
        "integer >= 1",
        "check.per_host",
        "Most requests in flight to this site's host at once.",
        as_integer(1),
    ),
    KeySpec(
        "rules.host_delay",
        "duration",
        "check.host_delay",
        "Minimum pause between two requests to this site's host.",
        as_duration(allow_zero=True),
    ),
    KeySpec(
        "rules.timeout",
        "duration > 0",
        "check.timeout",
        "Time allowed for one request to these URLs.",
        as_duration(allow_zero=False),
    ),
    KeySpec(
        "rules.archive",
        "boolean",
        "true",
        "false: never ask an archive to save these URLs (a site that asked not to be"
        " archived); snapshots already made are still looked up and used.",
        as_boolean,
    ),
)

RULE_KEY_BY_LEAF = {spec.leaf: spec for spec in RULE_KEYS}

SECTIONS = tuple(dict.fromkeys(spec.section for spec in KEYS))

FORBIDDEN = {
    "digest.password": f"do not put the password in the file; set env {SMTP_PASSWORD_ENV}",
}
