"""Bot walls: challenge pages (Cloudflare, Akamai, Imperva, ...) rather than the content."""

from __future__ import annotations

from linkwatch.net.response import HttpResponse

# Statuses a bot wall answers with; their bodies are read to recognise the wall.
BOT_WALL_STATUSES = frozenset({403, 429, 503, 999})


# Bot walls: challenge pages of Cloudflare, Akamai, Imperva, PerimeterX, DataDome...
_CHALLENGE_MARKERS = (
    "just a moment...",
    "attention required",
    "cf-chl",
    "captcha",
    "checking your browser",
    "ddos protection by",
    "_incapsula_resource",
    "enable javascript and cookies to continue",
)

_CDN_SERVERS = ("cloudflare", "akamai", "akamaighost")

# Headers a wall sets on its challenge whatever the status (AWS WAF answers 202 or 405,
# Imperva and Vercel may answer 200): the vendor's own word that this is no page.
_CHALLENGE_HEADERS = {
    "cf-mitigated": ("challenge",),  # Cloudflare: its only value
    "x-amzn-waf-action": ("challenge", "captcha"),  # AWS WAF
    "x-vercel-mitigated": ("challenge",),  # Vercel Firewall
}

# Challenge pages answering a 2xx, known by markup no real page carries: Imperva's
# iframe to its resource with the incident ID, DataDome's and PerimeterX's captcha.
_CHALLENGE_PAGES = (
    "request unsuccessful. incapsula incident id",
    "geo.captcha-delivery.com/captcha",
    "ct.captcha-delivery.com/c.js",
    '<div id="px-captcha"',
    "window._cf_chl_opt",  # not /cdn-cgi/challenge-platform/: live pages embed its beacon
)
# Such a page is short: a real page embedding a vendor's script is far longer.
_CHALLENGE_PAGE_SIZE = 16384


def is_bot_wall(response: HttpResponse) -> bool:
    for name, values in _CHALLENGE_HEADERS.items():
        if response.headers.get(name, "").strip().lower() in values:
            return True
    if response.status not in BOT_WALL_STATUSES:
        if not 200 <= response.status < 300 or len(response.body) > _CHALLENGE_PAGE_SIZE:
            return False
        text = response.body.decode("utf-8", errors="replace").lower()
        return any(marker in text for marker in _CHALLENGE_PAGES)
    text = response.body[:65536].decode("utf-8", errors="replace").lower()
    if any(marker in text for marker in _CHALLENGE_MARKERS):
        return True
    server = response.headers.get("Server", "").lower()
    if server.startswith("sucuri") and response.headers.get("x-sucuri-block"):
        return True
    return "access denied" in text and server.startswith(_CDN_SERVERS)
