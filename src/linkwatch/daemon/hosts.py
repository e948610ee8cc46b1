"""Which Host headers the report is served under: a defence against DNS rebinding.

A page on a hostile site, opened in a browser on the operator's machine, can
point a name of its own at 127.0.0.1 and then read the daemon's report as
if it were its own origin; the only trace is the Host header, which names the
hostile site. So the report (`/`) is served only when the Host header is an
IP address, `localhost`, or a name the operator lists in `run.allowed_hosts`
(a reverse proxy's public name). `/healthz` and `/metrics` answer under any
name: an orchestrator or Prometheus reaches them under a service name, and
they hold counts, not citations.
"""

from __future__ import annotations

import ipaddress


def host_name(header: str) -> str:
    """The name or address of a Host header, without its port, brackets or final dot."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1 : text.find("]")] if "]" in text else text[1:]
    name, colon, port = text.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        text = name
    return text.rstrip(".")


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return True


def host_allowed(header: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether the report may be served for a request with this Host header."""
    if header is None or "*" in allowed:
        return True  # no Host at all is no browser: DNS rebinding needs one
    name = host_name(header)
    if _is_address(name) or name == "localhost" or name.endswith(".localhost"):
        return True
    for entry in allowed:
        domain = entry.removeprefix("*").rstrip(".")
        if domain.startswith("."):
            if name == domain[1:] or name.endswith(domain):
                return True
        elif name == domain:
            return True
    return False
