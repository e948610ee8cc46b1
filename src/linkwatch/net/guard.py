"""The private-address guard (SSRF): only globally routable addresses are contacted.

The check happens after DNS, in the resolver the connector uses, so that no
name can be vetted once and connected to at another address (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult

from linkwatch.errors import NetError
from linkwatch.model import ErrorKind


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


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public_address(host: str) -> bool:
    """True for a globally routable unicast address.

    `is_global` already excludes loopback, private, link-local (cloud metadata at
    169.254.169.254), shared (100.64/10), reserved and unspecified ranges; multicast
    is checked apart because Python counts some multicast ranges as global.
    """
    address = ipaddress.ip_address(host.split("%", 1)[0])
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(is_public_address(str(inner)) for inner in _embedded_ipv4(address))
    return True


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
    """

    def __init__(self, inner: AbstractResolver, trusted_hosts: frozenset[str]) -> None:
        self._inner = inner
        self._trusted = trusted_hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if host.lower().rstrip(".") in self._trusted:
            return answers
        public = [answer for answer in answers if is_public_address(answer["host"])]
        if not public and answers:
            raise refusal(answers[0]["host"], host)
        return public

    async def close(self) -> None:
        await self._inner.close()
