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


def is_bot_wall(response: HttpResponse) -> bool:
    if response.status not in BOT_WALL_STATUSES:
        return False
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    text = response.body[:65536].decode("utf-8", errors="replace").lower()
    if any(marker in text for marker in _CHALLENGE_MARKERS):
        return True
    server = response.headers.get("Server", "").lower()
    return "access denied" in text and server.startswith(_CDN_SERVERS)
