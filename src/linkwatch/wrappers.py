"""Redirect wrappers: links that editors, mail filters and social sites wrap around a URL.

A release pasted from a Google Doc, an e-mail or a social post may cite
`https://www.google.com/url?q=https://ngo.example/report&sa=D&...` rather than
the report itself. The wrapper answers whatever the target does (Google's is a
200 interstitial even when the target is gone; Safe Links checks the target
first), so checking or archiving the wrapper says nothing about the citation.
linkwatch checks, archives and judges the target, and keeps the link as
written in the release (the rewrite adds the archived copy of the target).

Only wrappers whose target is carried in the URL itself are unwrapped; those
that keep it on their server (t.co, Mimecast, Cisco Secure Email, Mailchimp
and HubSpot click tracking, lnkd.in, clck.ru, shorteners) are opaque: they
stay as they are and the checker follows their redirects like any other.
Each rule names the host and where the target is, as the services write them:

- Google (Docs, Search, Gmail): `https://www.google.<tld>/url?q=T` (or `url=`;
  `docs.`, `mail.`, `sites.` hosts too); AMP `https://www.google.com/amp/s/HOST/PATH`
  and `https://X.cdn.ampproject.org/c/s/HOST/PATH` (`/v/`; no `s/` is http);
  Ads `https://www.googleadservices.com/pagead/aclk?adurl=T`
- Outlook Safe Links `https://<region>.safelinks.protection.outlook.com/?url=T`,
  Teams' `statics.teams.cdn.office.net/.../atp-safelinks.html?url=T`,
  `outlook.office.com/mail/safelink.html?url=T`
- Facebook `https://l.facebook.com/l.php?u=T` (`lm.`, `www.`, `m.`; `/flx/warn/`),
  Messenger `l.messenger.com/l.php?u=`, Instagram `l.instagram.com/?u=`,
  YouTube `/redirect?q=`, LinkedIn `/redir/redirect?url=` and `/safety/go?url=`,
  Tumblr `t.umblr.com/redirect?z=`, Reddit `out.reddit.com/...?url=`, Slack
  `slack-redir.net/link?url=`, VK `(away.)vk.com/away.php?to=`, Steam
  `linkfilter/?url=`, X `x.com/i/redirect?url=`, WhatsApp `l.wl.co/l?u=`,
  Medium `medium.com/r/?url=`
- Proofpoint URL Defense v1 `https://urldefense.proofpoint.com/v1/url?u=T`, v2
  `/v2/url?u=` (`-` is `%`, `_` is `/`), v3 `https://urldefense.com/v3/__URL__;B64!!...`
  (`urldefense.us` too; see `_proofpoint_v3`)
- Bing `https://www.bing.com/ck/a?...&u=a1<URL-safe base64 of T>`, DuckDuckGo
  `duckduckgo.com/l/?uddg=T`, Yahoo `r.search.yahoo.com/.../RU=T/RK=...`, Yandex
  `yandex.<tld>/clck/jsredir?url=T`
- Mail filters: Barracuda `linkprotect.cudasvc.com/url?a=T`, Trend Micro
  `<x>-ctp.trendmicro.com/wis/clicktime/v1/query?url=T`, Symantec
  `clicktime.symantec.com/<id>?u=T`, Sophos `<region>.protection.sophos.com/?u=<base64>`,
  FireEye `protect2.fireeye.com/v1/url?u=T`, ESVA `urlsand.esvalabs.com/?u=T`,
  Azure `emails.azure.microsoft.com/redirect/?destination=T`
- Mailings: Substack `substack.com/redirect/2/<base64 JSON, "e">.<sig>`, Mandrill
  `mandrillapp.com/track/click/...?p=<base64 JSON>`, Amazon SES
  `<id>.r.<region>.awstrack.me/L0/T/...`, Cision `c212.net/c/link/?u=T`

A target must be a well-formed http(s) URL with a host; anything else (a
`javascript:` target, base64 that does not decode, a Proofpoint v3 link with
more `*` than replaced characters) leaves the link as written. Wrappers
inside wrappers (Safe Links around Proofpoint around a Google link) are
unwrapped in turn, at most `MAX_DEPTH` times.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

__all__ = ["MAX_DEPTH", "is_wrapped", "unwrap"]

MAX_DEPTH = 5

# A quick test before any parsing: a report looks at every citation. Each rule's
# host holds one of these.
_HOST_WORDS = (
    "google.",
    "googleadservices.com",
    "ampproject.org",
    "outlook.com",
    "office.net",
    "office.com",
    "facebook.com",
    "messenger.com",
    "instagram.com",
    "youtube.com",
    "linkedin.com",
    "t.umblr.com",
    "reddit.com",
    "slack-redir.net",
    "vk.com",
    "steamcommunity.com",
    "urldefense",
    "bing.com",
    "duckduckgo.com",
    "yahoo.com",
    "yandex.",
    "cudasvc.com",
    "trendmicro.com",
    "symantec.com",
    "sophos.com",
    "fireeye.com",
    "esvalabs.com",
    "azure.microsoft.com",
    "l.wl.co",
    "medium.com",
    "substack.com",
    "mandrillapp.com",
    "awstrack.me",
    "c212.net",
    "x.com",
    "twitter.com",
)
_MAYBE = re.compile("|".join(re.escape(word) for word in _HOST_WORDS), re.I)

# Characters no URL carries as they are: a "target" holding one is no URL.
_UNSAFE = re.compile(r"[\x00-\x20\x7f<>\"\\^`{|}]")

Extract = Callable[[str, SplitResult], "str | None"]


@dataclass(frozen=True, slots=True)
class _Rule:
    hosts: re.Pattern[str]  # the whole host name
    path: re.Pattern[str]  # the whole path
    extract: Extract  # (the URL as written, its parts) -> the target, or None


def _b64(value: str, *, urlsafe: bool) -> str | None:
    """Base64 (padding restored) as UTF-8 text, or None when it is not that."""
    value = value.strip()
    padded = value + "=" * (-len(value) % 4)
    try:
        raw = (
            base64.urlsafe_b64decode(padded)
            if urlsafe
            else base64.b64decode(padded.replace(" ", "+"), validate=True)
        )
        return raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _params(*names: str, decode: Callable[[str], str | None] | None = None) -> Extract:
    """The first of the query parameters `names` that holds a target (after `decode`)."""

    def extract(url: str, parts: SplitResult) -> str | None:
        query = parse_qs(parts.query, keep_blank_values=False)
        for name in names:
            for value in query.get(name, ()):
                target = value if decode is None else decode(value)
                if target is not None and _is_target(target):
                    return target.strip()
        return None

    return extract


def _proofpoint_v2(value: str) -> str:
    # URLDefenseDecode.py: "-" stands for "%" and "_" for "/", then percent- and
    # HTML-decoding (parse_qs already turned "+" into a space, which v2 never writes).
    return html.unescape(unquote(value.replace("_", "/").replace("-", "%")))


# Proofpoint v3: https://urldefense.com/v3/__<URL with some characters replaced>__;<base64>!!...
_V3 = re.compile(r"https?://urldefense\.(?:com|us)/v3/__(?P<url>.+?)__;(?P<chars>[A-Za-z0-9_-]*)!")
_V3_TOKEN = re.compile(r"\*(\*.)?")
# "**X" stands for a run of 2 + (X's place in this alphabet) replaced characters.
_V3_RUNS = {
    c: n
    for n, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 2)
}


def _proofpoint_v3(url: str, parts: SplitResult) -> str | None:
    """The URL of a URL Defense v3 link, as Proofpoint's own URLDefenseDecode.py reads it.

    The original URL sits between `__` and `__;` with the characters Proofpoint
    will not write replaced: one `*` for one character, `**X` for a run of them.
    The replaced characters follow `;`, in order, as URL-safe base64 of their
    UTF-8 text; a token is filled with the next character(s) of that text. A
    token with no character left to fill it makes the link malformed.
    """
    match = _V3.match(url)
    if match is None:
        return None
    chars = _b64(match["chars"], urlsafe=True)
    if chars is None:
        return None
    taken = 0

    def fill(token: re.Match[str]) -> str:
        nonlocal taken
        run = token.group(1)
        count = 1 if run is None else _V3_RUNS.get(run[1], 0)
        if count == 0 or taken + count > len(chars):
            raise ValueError("more tokens than replaced characters")
        taken += count
        return chars[taken - count : taken]

    try:
        return _V3_TOKEN.sub(fill, unquote(match["url"]))
    except ValueError:
        return None


def _amp_viewer(skip: int) -> Extract:
    """`<prefix>s/<host>/<path>` is https://<host>/<path>; `<prefix><host>/...` is http.

    The host is taken from the path, never from an AMP cache's subdomain (long
    and IDN hosts get a hashed one there). The query parameters the viewer or
    the cache add (`amp_js_v`, `amp_gsa`, `usqp`...) are theirs, not the target's.
    """

    def extract(url: str, parts: SplitResult) -> str | None:
        rest = parts.path[skip:]
        scheme = "http"
        if rest.startswith("s/"):
            scheme, rest = "https", rest[2:]
        query = "&".join(
            pair
            for pair in parts.query.split("&")
            if pair and not pair.startswith(("amp_", "usqp=", "outputType="))
        )
        return f"{scheme}://{rest}" + (f"?{query}" if query else "")

    return extract


# The parameters Google itself adds after `q=` in a /url link (Docs, Gmail, Search).
_GOOGLE_OWN = re.compile(r"&(?:sa|source|ust|usg|ved|esrc|rct|cd|cad|uact|ei|bvm|opi)=")


def _google(url: str, parts: SplitResult) -> str | None:
    """A Google /url link's target, its own query kept when Docs wrote it unencoded.

    Docs and Gmail often leave the target's `?` and `&` as they are
    (`/url?q=https://ngo.example/p?id=1&lang=en&sa=D&ust=...`), which merges
    its query into Google's: everything from `q=` to the first parameter that
    Google adds is the target. Search links carry it in `url=` instead.
    """
    query = "&" + parts.query
    start = query.find("&q=")
    if start >= 0:
        value = query[start + 3 :]
        end = _GOOGLE_OWN.search(value)
        target = unquote((value if end is None else value[: end.start()]).replace("+", " "))
        if _is_target(target):
            return target
    return _params("url", "q")(url, parts)


def _bing(value: str) -> str | None:
    # u=a1<URL-safe base64 of the target, unpadded> (remove-link-redirects' bing.com.ts).
    return _b64(value[2:], urlsafe=True) if value.startswith("a1") else None


_YAHOO_RU = re.compile(r"/RU=([^/]+)/")


def _yahoo(url: str, parts: SplitResult) -> str | None:
    # /_ylt=.../RV=2/RE=.../RO=10/RU=<percent-encoded target>/RK=2/RS=...
    match = _YAHOO_RU.search(parts.path)
    return None if match is None else unquote(match.group(1))


def _awstrack(url: str, parts: SplitResult) -> str | None:
    # /L0/<percent-encoded target>/<n>/<message id>/<signature>
    rest = parts.path[len("/L0/") :]
    return unquote(rest.split("/", 1)[0])


def _substack(url: str, parts: SplitResult) -> str | None:
    # /redirect/2/<URL-safe base64 of {"e": target, ...}>.<signature>
    payload = _b64(parts.path[len("/redirect/2/") :].split(".", 1)[0], urlsafe=True)
    return _json_field(payload, "e")


def _mandrill(value: str) -> str | None:
    # p = base64 of {"p": "<JSON holding \"url\">", ...} (uu-webext mandrill.js)
    outer = _json_field(_b64(value, urlsafe=False) or _b64(value, urlsafe=True), "p")
    return _json_field(outer, "url")


def _json_field(text: str | None, key: str) -> str | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _rule(hosts: str, path: str, extract: Extract) -> _Rule:
    return _Rule(re.compile(hosts), re.compile(path), extract)


_GOOGLE = r"(?:(?:www|docs|mail|sites)\.)?google(?:\.com?)?\.[a-z]{2,3}"

_RULES: tuple[_Rule, ...] = (
    # google.com, www.google.co.uk, docs.google.com: not google.example.org
    _rule(_GOOGLE, r"/url", _google),
    _rule(_GOOGLE, r"/amp/.+", _amp_viewer(len("/amp/"))),
    _rule(
        r"[a-z0-9-]+\.cdn\.ampproject\.org",
        r"/[cv]/.+",
        _amp_viewer(len("/c/")),
    ),
    _rule(r"(?:www\.)?googleadservices\.com", r"/pagead/aclk", _params("adurl")),
    _rule(r"[a-z0-9-]+\.safelinks\.protection\.outlook\.com", r"/.*", _params("url")),
    _rule(r"statics?\.teams\.cdn\.office\.net", r"/.*/atp-safelinks\.html", _params("url")),
    _rule(r"outlook\.office\.com", r"/mail/safelink\.html", _params("url")),
    _rule(r"(?:l|lm|m|www)\.facebook\.com", r"/l\.php|/flx/warn/?", _params("u")),
    _rule(r"l\.messenger\.com", r"/l\.php", _params("u")),
    _rule(r"l\.instagram\.com", r"/.*", _params("u")),
    _rule(r"(?:www\.|m\.)?youtube\.com", r"/redirect", _params("q")),
    _rule(r"(?:www\.)?linkedin\.com", r"/redir/.*|/safety/go/?", _params("url")),
    _rule(r"t\.umblr\.com", r"/redirect", _params("z")),
    _rule(r"out\.reddit\.com", r"/.*", _params("url")),
    _rule(r"slack-redir\.net", r"/link", _params("url")),
    _rule(r"(?:m\.|away\.)?vk\.com", r"/away\.php", _params("to")),
    _rule(r"steamcommunity\.com", r"/linkfilter/?", _params("url", "u")),
    _rule(r"(?:x|twitter)\.com", r"/i/redirect", _params("url")),
    _rule(r"l\.wl\.co", r"/l", _params("u")),
    _rule(r"(?:www\.)?medium\.com", r"/r/?", _params("url")),
    _rule(r"urldefense\.proofpoint\.com", r"/v1/url", _params("u", decode=html.unescape)),
    _rule(r"urldefense\.proofpoint\.com", r"/v2/url", _params("u", decode=_proofpoint_v2)),
    _rule(r"urldefense\.(?:com|us)", r"/v3/__.*", _proofpoint_v3),
    _rule(r"(?:[a-z0-9-]+\.)?linkprotect\.cudasvc\.com", r"/(?:url)?", _params("a")),
    _rule(r"[a-z0-9-]+[.-]ctp\.trendmicro\.com", r"/wis/clicktime/v1/query", _params("url")),
    _rule(r"clicktime\.symantec\.com", r"/.*", _params("u")),
    _rule(
        r"[a-z0-9-]+\.protection\.sophos\.com",
        r"/",
        _params("u", decode=lambda v: _b64(v, urlsafe=False)),
    ),
    _rule(r"protect2\.fireeye\.com", r"/v1/url", _params("u")),
    _rule(r"urlsand\.esvalabs\.com", r"/", _params("u")),
    _rule(r"emails\.azure\.microsoft\.com", r"/redirect/?", _params("destination")),
    _rule(r"(?:www\.)?bing\.com", r"/ck/a", _params("u", decode=_bing)),
    _rule(r"(?:html\.)?duckduckgo\.com", r"/l/?", _params("uddg")),
    _rule(r"(?:[a-z0-9-]+\.)?r\.search\.yahoo\.com", r"/.*/RU=[^/]+/.*", _yahoo),
    _rule(r"(?:www\.)?yandex\.[a-z]{2,3}", r"/clck/jsredir", _params("url")),
    _rule(r"(?:[a-z0-9-]+\.)?substack\.com", r"/redirect/2/.+", _substack),
    _rule(r"mandrillapp\.com", r"/track/click/.*", _params("p", decode=_mandrill)),
    _rule(r"[a-z0-9-]+\.r\.[a-z0-9-]+\.awstrack\.me", r"/L0/.+", _awstrack),
    _rule(r"c212\.net", r"/c/link/?", _params("u")),
)


def _is_target(target: str) -> bool:
    """True when `target` is a well-formed http(s) URL with a host."""
    target = target.strip()
    if not target.lower().startswith(("http://", "https://")) or _UNSAFE.search(target):
        return False
    try:
        parts = urlsplit(target)
        _ = parts.port  # a port that is no number raises
    except ValueError:
        return False
    host = parts.hostname or ""
    return bool(host) and not host.startswith(".") and ".." not in host


def _target(url: str) -> str | None:
    """The URL one wrapper carries, or None when `url` is no wrapper linkwatch knows."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    for rule in _RULES:
        if not (rule.hosts.fullmatch(host) and rule.path.fullmatch(parts.path or "/")):
            continue
        target = rule.extract(url, parts)
        if target is not None and _is_target(target):
            return target.strip()
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
