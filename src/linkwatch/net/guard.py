"""The private-address guard (SSRF): only globally reachable addresses are contacted.

An address is public when the standard library calls it global, it is not
multicast, no block of the IANA special-purpose address registries that
holds it is marked not globally reachable (the most specific block decides),
and, for IPv6, it lies in global unicast space (2000::/3), or in the NAT64
prefix 64:ff9b::/96 with a public IPv4 address inside. The last rule refuses
what older rules let through: IPv4-compatible addresses (`::7f00:1`, all of
::/96), deprecated site-local fec0::/10, and every other reserved range.
Addresses smuggled inside IPv6 ones (mapped, 6to4, NAT64, Teredo) must be
public too.

The check happens after DNS, in the resolver the connector uses, so that no
name can be vetted once and connected to at another address (DNS rebinding).
Endpoints the operator vouches for (a configured archive, the proxies of the
environment) are trusted on their own port only, never on every port of
their host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult

from linkwatch.errors import NetError
from linkwatch.model import ErrorKind

# An endpoint trusted past the guard: (host in lower case, port).
Endpoint = tuple[str, int]

# IANA IPv4 and IPv6 Special-Purpose Address Registries (iana.org/assignments/
# iana-ipv4-special-registry, iana-ipv6-special-registry; RFC 6890), as of 2025:
# (block, globally reachable). The most specific block holding an address decides.
SPECIAL_PURPOSE: tuple[tuple[str, bool], ...] = (
    ("0.0.0.0/8", False),  # "this network"
    ("0.0.0.0/32", False),  # "this host on this network"
    ("10.0.0.0/8", False),  # private use
    ("100.64.0.0/10", False),  # shared address space (carrier-grade NAT)
    ("127.0.0.0/8", False),  # loopback
    ("169.254.0.0/16", False),  # link local (cloud metadata at 169.254.169.254)
    ("172.16.0.0/12", False),  # private use
    ("192.0.0.0/24", False),  # IETF protocol assignments
    ("192.0.0.0/29", False),  # IPv4 service continuity prefix
    ("192.0.0.8/32", False),  # IPv4 dummy address
    ("192.0.0.9/32", True),  # port control protocol anycast
    ("192.0.0.10/32", True),  # traversal using relays around NAT anycast
    ("192.0.0.170/32", False),  # NAT64/DNS64 discovery
    ("192.0.0.171/32", False),  # NAT64/DNS64 discovery
    ("192.0.2.0/24", False),  # documentation (TEST-NET-1)
    ("192.31.196.0/24", True),  # AS112-v4
    ("192.52.193.0/24", True),  # AMT
    ("192.88.99.0/24", False),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", False),  # private use
    ("192.175.48.0/24", True),  # direct delegation AS112 service
    ("198.18.0.0/15", False),  # benchmarking
    ("198.51.100.0/24", False),  # documentation (TEST-NET-2)
    ("203.0.113.0/24", False),  # documentation (TEST-NET-3)
    ("240.0.0.0/4", False),  # reserved
    ("255.255.255.255/32", False),  # limited broadcast
    ("::1/128", False),  # loopback
    ("::/128", False),  # unspecified
    ("::ffff:0:0/96", False),  # IPv4-mapped
    ("64:ff9b::/96", True),  # IPv4-IPv6 translation (its IPv4 address is checked too)
    ("64:ff9b:1::/48", False),  # IPv4-IPv6 translation, local use
    ("100::/64", False),  # discard-only
    ("100:0:0:1::/64", False),  # dummy IPv6 prefix
    ("2001::/23", False),  # IETF protocol assignments
    ("2001::/32", False),  # Teredo (its IPv4 addresses are checked too)
    ("2001:1::1/128", True),  # port control protocol anycast
    ("2001:1::2/128", True),  # traversal using relays around NAT anycast
    ("2001:1::3/128", True),  # DNS-SD service registration protocol anycast
    ("2001:2::/48", False),  # benchmarking
    ("2001:3::/32", True),  # AMT
    ("2001:4:112::/48", True),  # AS112-v6
    ("2001:10::/28", False),  # deprecated ORCHID
    ("2001:20::/28", True),  # ORCHIDv2
    ("2001:30::/28", True),  # drone remote ID protocol entity tags
    ("2001:db8::/32", False),  # documentation
    ("2002::/16", False),  # 6to4 (its IPv4 address is checked too)
    ("2620:4f:8000::/48", True),  # direct delegation AS112 service
    ("3fff::/20", False),  # documentation
    ("5f00::/16", False),  # segment routing (SRv6) SIDs
    ("fc00::/7", False),  # unique local
    ("fe80::/10", False),  # link-local unicast
)
_BLOCKS = sorted(
    ((ipaddress.ip_network(block), reachable) for block, reachable in SPECIAL_PURPOSE),
    key=lambda entry: entry[0].prefixlen,
    reverse=True,  # most specific first
)
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> Iterable[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address smuggles (mapped, 6to4, NAT64, Teredo)."""
    if address.ipv4_mapped is not None:
        yield address.ipv4_mapped
    if address.sixtofour is not None:
        yield address.sixtofour
    if address in _NAT64:
        yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.teredo is not None:
        yield from address.teredo


def _registry_allows(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for network, reachable in _BLOCKS:
        if address.version == network.version and address in network:
            return reachable
    return True


def is_public_address(host: str) -> bool:
    """True for a globally reachable unicast address (see the module doc)."""
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        if address not in _GLOBAL_UNICAST_V6 and address not in _NAT64:
            return False
        if not all(is_public_address(str(inner)) for inner in _embedded_ipv4(address)):
            return False
        if address in _NAT64:
            return True  # the IPv4 address inside was public
    if address.is_multicast or not _registry_allows(address):
        return False
    return address.is_global


def refusal(address: str, host: str) -> NetError:
    return NetError(
        ErrorKind.PRIVATE_ADDRESS,
        f"refused private address {address} for host {host} (check.allow_private is false)",
    )


def ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]").split("%", 1)[0]))
    except ValueError:
        return None


class PrivateAddressGuard(AbstractResolver):
    """Resolver that drops non-public addresses, so the check happens AFTER DNS.

    Filtering what the connector actually connects to (rather than resolving
    once to vet, then again to connect) leaves no window for DNS rebinding. When
    a name has public and private addresses, only the public ones are kept.
    A trusted endpoint is trusted on its own port only.
    """

    def __init__(self, inner: AbstractResolver, trusted: frozenset[Endpoint]) -> None:
        self._inner = inner
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if (host.lower().rstrip("."), port) in self._trusted:
            return answers
        public = [answer for answer in answers if is_public_address(answer["host"])]
        if not public and answers:
            raise refusal(answers[0]["host"], host)
        return public

    async def close(self) -> None:
        await self._inner.close()
