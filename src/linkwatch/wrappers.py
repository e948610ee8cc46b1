"""Redirect wrappers: links that editors, mail filters and social sites wrap around a URL.

A release pasted from a Google Doc, an e-mail or a social post may cite
`https://www.google.com/url?q=https://ngo.example/report&sa=D&...` rather than
the report itself. The wrapper answers whatever the target does (Google's is a
200 interstitial even when the target is gone; Safe Links checks the target
first), so checking or archiving the wrapper says nothing about the citation.
linkwatch checks, archives and judges the target, and keeps the link as
written in the release (the rewrite adds the archived copy of the target).

Only wrappers whose target is carried in the URL itself are unwrapped; those
that keep it on their server (Mimecast, shorteners) are opaque and stay as
they are. Each rule names the host and the query parameter, as the services
write them:

| service | form |
|---|---|
| Google (Docs, Search, Gmail) | `https://www.google.<tld>/url?q=TARGET` (or `url=`) |
| Outlook Safe Links | `https://<region>.safelinks.protection.outlook.com/?url=T` |
| Facebook link shim | `https://l.facebook.com/l.php?u=TARGET` (`lm.`, `www.`, `m.` too) |
| Instagram | `https://l.instagram.com/?u=TARGET` |
| YouTube | `https://www.youtube.com/redirect?q=TARGET` |
| LinkedIn | `https://www.linkedin.com/redir/redirect?url=TARGET` |
| Tumblr | `https://t.umblr.com/redirect?z=TARGET` |
| Reddit | `https://out.reddit.com/...?url=TARGET` |
| Slack | `https://slack-redir.net/link?url=TARGET` |
| VK | `https://vk.com/away.php?to=TARGET` |
| Steam | `https://steamcommunity.com/linkfilter/?url=TARGET` |
| Proofpoint v2 | `https://urldefense.proofpoint.com/v2/url?u=T` (`-` is `%`, `_` is `/`) |

Wrappers inside wrappers (Safe Links around a Google link) are unwrapped in
turn, at most `MAX_DEPTH` times.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["MAX_DEPTH", "is_wrapped", "unwrap"]

MAX_DEPTH = 5

# A quick test before any parsing: a report looks at every citation.
_MAYBE = re.compile(
    r"google\.|safelinks\.protection\.outlook\.com|facebook\.com|instagram\.com|youtube\.com|"
    r"linkedin\.com|t\.umblr\.com|out\.reddit\.com|slack-redir\.net|vk\.com|"
    r"steamcommunity\.com|urldefense\.proofpoint\.com",
    re.I,
)


@dataclass(frozen=True, slots=True)
class _Rule:
    hosts: re.Pattern[str]  # the whole host name
    path: re.Pattern[str]  # the whole path
    params: tuple[str, ...]  # query parameters that may carry the target, in order
    decode: Callable[[str], str] = str


def _proofpoint_v2(value: str) -> str:
    return unquote(value.replace("_", "/").replace("-", "%"))


def _rule(hosts: str, path: str, *params: str, decode: Callable[[str], str] = str) -> _Rule:
    return _Rule(re.compile(hosts), re.compile(path), params, decode)


_RULES: tuple[_Rule, ...] = (
    # google.com, www.google.co.uk, google.de: not google.example.org
    _rule(r"(?:www\.)?google(?:\.com?)?\.[a-z]{2,3}", r"/url", "q", "url"),
    _rule(r"[a-z0-9-]+\.safelinks\.protection\.outlook\.com", r"/.*", "url"),
    _rule(r"(?:l|lm|m|www)\.facebook\.com", r"/l\.php|/flx/warn/?", "u"),
    _rule(r"l\.instagram\.com", r"/.*", "u"),
    _rule(r"(?:www\.|m\.)?youtube\.com", r"/redirect", "q"),
    _rule(r"(?:www\.)?linkedin\.com", r"/redir/.*", "url"),
    _rule(r"t\.umblr\.com", r"/redirect", "z"),
    _rule(r"out\.reddit\.com", r"/.*", "url"),
    _rule(r"slack-redir\.net", r"/link", "url"),
    _rule(r"(?:m\.)?vk\.com", r"/away\.php", "to"),
    _rule(r"steamcommunity\.com", r"/linkfilter/?", "url", "u"),
    _rule(r"urldefense\.proofpoint\.com", r"/v2/url", "u", decode=_proofpoint_v2),
)


def _target(url: str) -> str | None:
    """The URL one wrapper carries, or None when `url` is no wrapper linkwatch knows."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    for rule in _RULES:
        if not (rule.hosts.fullmatch(host) and rule.path.fullmatch(parts.path or "/")):
            continue
        query = parse_qs(parts.query, keep_blank_values=False)
        for name in rule.params:
            for value in query.get(name, ()):
                target = rule.decode(value).strip()
                if target.lower().startswith(("http://", "https://")):
                    return target
    return None


def unwrap(url: str) -> str:
    """The URL a wrapper leads to (wrappers inside wrappers too); `url` itself otherwise."""
    if not _MAYBE.search(url):
        return url
    current = url
    for _ in range(MAX_DEPTH):
        target = _target(current)
        if target is None:
            break
        current = target
    return current


def is_wrapped(url: str) -> bool:
    """True when `url` is a redirect wrapper around another URL."""
    return _MAYBE.search(url) is not None and _target(url) is not None
