"""net.py: error translation, the private-address test, and Net.request against the hostile web."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import itertools
import socket
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import ResolveResult
from aiohttp.http_exceptions import HttpProcessingError

from linkwatch.archive.backends.client import ArchiveClient, archive_options
from linkwatch.errors import NetError
from linkwatch.model import ErrorKind
from linkwatch.net.guard import SPECIAL_PURPOSE, PrivateAddressGuard, is_public_address
from linkwatch.net.session import endpoint_of
from linkwatch.net.translate import translate_error
from support.hostile_web import USER_AGENT, HostileWeb, NameResolver, bounded, open_net


def _certificate_error() -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate"
    return error


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), ErrorKind.DNS),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), ErrorKind.REFUSED),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), ErrorKind.RESET),
        (OSError(errno.EHOSTUNREACH, "No route to host"), ErrorKind.UNREACHABLE),
        (TimeoutError(), ErrorKind.TIMEOUT),
        (aiohttp.ServerTimeoutError("Timeout on reading data from socket"), ErrorKind.TIMEOUT),
        (aiohttp.ServerDisconnectedError(), ErrorKind.RESET),
        (aiohttp.ClientPayloadError("Response payload is not completed"), ErrorKind.RESET),
        (_certificate_error(), ErrorKind.TLS),
        (HttpProcessingError(code=400, message="Invalid status line"), ErrorKind.PROTOCOL),
        (aiohttp.InvalidURL("http://[::1"), ErrorKind.INVALID_URL),
    ],
)
def test_translate_error_picks_the_specific_kind(exc: BaseException, kind: ErrorKind) -> None:
    assert translate_error(exc).kind is kind


def test_translate_error_names_the_certificate_problem() -> None:
    assert translate_error(_certificate_error()).detail == (
        "certificate verify failed: self-signed certificate"
    )


def test_translate_error_passes_a_net_error_through() -> None:
    error = NetError(ErrorKind.PRIVATE_ADDRESS, "refused")
    assert translate_error(error) is error


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd00:ec2::254",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:c0a8:0101::1",
    ],
)
def test_non_public_addresses_are_recognised(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_are_recognised(address: str) -> None:
    assert is_public_address(address)


def _block_addresses(block: str) -> list[str]:
    """The first, a middle and the last address of a block."""
    network = ipaddress.ip_network(block)
    return sorted({str(network[0]), str(network[network.num_addresses // 2]), str(network[-1])})


# Every block of both IANA special-purpose registries that is not globally reachable,
# with the IPv6 ranges the old rules let through (IPv4-compatible ::/96, site-local).
NOT_GLOBAL = [block for block, reachable in SPECIAL_PURPOSE if not reachable] + [
    "::/96",
    "fec0::/10",
    "224.0.0.0/4",
    "ff00::/8",
]
BLOCK_ADDRESSES = [(block, address) for block in NOT_GLOBAL for address in _block_addresses(block)]


@pytest.mark.parametrize(("block", "address"), BLOCK_ADDRESSES)
def test_every_block_not_globally_reachable_is_refused(block: str, address: str) -> None:
    assert not is_public_address(address), block


@pytest.mark.parametrize(
    "block", [block for block, reachable in SPECIAL_PURPOSE if reachable and "64:ff9b" not in block]
)
def test_a_globally_reachable_block_is_allowed_where_the_standard_library_agrees(
    block: str,
) -> None:
    """The registry marks anycast services (AS112, AMT, ...) reachable; the standard
    library's `is_global` has the last word, so the guard only ever errs on refusing."""
    for address in _block_addresses(block):
        assert is_public_address(address) is ipaddress.ip_address(address).is_global


def test_nat64_is_as_public_as_the_ipv4_address_inside() -> None:
    assert is_public_address("64:ff9b::5db8:d822")  # 93.184.216.34
    assert not is_public_address("64:ff9b::7f00:1")  # 127.0.0.1
    assert not is_public_address("64:ff9b::a9fe:a9fe")  # 169.254.169.254


@pytest.mark.parametrize(
    "address", [address for _, address in BLOCK_ADDRESSES[:: max(1, len(BLOCK_ADDRESSES) // 60)]]
)
async def test_a_name_resolving_into_a_refused_block_is_refused(address: str) -> None:
    """After DNS, in the connector's resolver: what a name resolves to is vetted."""
    guard = PrivateAddressGuard(NameResolver({"inside.public.test": address}), frozenset())
    with pytest.raises(NetError) as refused:
        await guard.resolve("inside.public.test", 80)
    assert refused.value.kind is ErrorKind.PRIVATE_ADDRESS


async def test_a_name_with_a_public_and_a_private_address_keeps_only_the_public_one() -> None:
    class Both(NameResolver):
        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            return [
                *(await NameResolver({host: "10.0.0.7"}).resolve(host, port, family)),
                *(await NameResolver({host: NameResolver.PUBLIC}).resolve(host, port, family)),
            ]

    guard = PrivateAddressGuard(Both(), frozenset())
    answers = await guard.resolve("both.public.test", 80)
    assert [answer["host"] for answer in answers] == [NameResolver.PUBLIC]


async def test_request_sends_the_configured_user_agent(hostile_web: HostileWeb) -> None:
    async with open_net() as net:
        await bounded(net.request("GET", hostile_web.url("plain.test", "/page")))
    assert [s.user_agent for s in hostile_web.seen] == [USER_AGENT]


async def test_head_reads_no_body(hostile_web: HostileWeb) -> None:
    async with open_net() as net:
        response = await bounded(net.request("HEAD", hostile_web.url("plain.test", "/page")))
    assert (response.status, response.body, response.truncated) == (200, b"", False)


async def test_complete_body_is_read_whole(hostile_web: HostileWeb) -> None:
    async with open_net() as net:
        response = await bounded(
            net.request("GET", hostile_web.url("plain.test", "/page"), read_limit=10_000)
        )
    assert b"<title>A plain   page</title>" in response.body
    assert not response.truncated


async def test_endless_body_is_cut_at_max_body(hostile_web: HostileWeb) -> None:
    async with open_net(max_body=64 * 1024) as net:
        response = await bounded(
            net.request("GET", hostile_web.url("plain.test", "/endless"), read_limit=10**9)
        )
    assert len(response.body) == 64 * 1024
    assert response.truncated


async def test_read_limit_can_depend_on_the_headers(hostile_web: HostileWeb) -> None:
    def nothing_but_html(status: int, headers: object) -> int:
        return 0 if "pdf" in str(headers) else 10_000

    async with open_net() as net:
        response = await bounded(
            net.request(
                "GET", hostile_web.url("plain.test", "/report.pdf"), read_limit=nothing_but_html
            )
        )
    assert (response.status, response.body, response.truncated) == (200, b"", True)


async def test_no_more_than_per_host_in_flight_and_starts_spaced(hostile_web: HostileWeb) -> None:
    urls = [hostile_web.url("plain.test", "/slow") for _ in range(10)]
    async with open_net(per_host=2, host_delay=0.05) as net:
        await bounded(asyncio.gather(*(net.request("GET", url) for url in urls)))
    starts = sorted(s.at for s in hostile_web.requests_to("plain.test"))
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) == 10
    assert hostile_web.peak_in_flight["plain.test"] <= 2
    # Slack for the server's view: under load it notes an arrival late by a few milliseconds.
    # Without the delay, starts would come in pairs, 0 apart.
    assert min(gaps) >= 0.025


async def test_hosts_do_not_share_their_per_host_limit(hostile_web: HostileWeb) -> None:
    urls = [hostile_web.url(host, "/slow") for host in ("a.test", "b.test", "c.test")]
    async with open_net(per_host=1) as net:
        await bounded(asyncio.gather(*(net.request("GET", url) for url in urls)))
    assert hostile_web.peak_total_in_flight == 3


async def test_no_more_than_concurrency_in_flight_overall(hostile_web: HostileWeb) -> None:
    urls = [hostile_web.url(f"host{i}.test", "/slow") for i in range(6)]
    async with open_net(concurrency=2) as net:
        await bounded(asyncio.gather(*(net.request("GET", url) for url in urls)))
    assert len(hostile_web.seen) == 6
    assert hostile_web.peak_total_in_flight <= 2


async def test_private_address_is_refused_after_resolution(hostile_web: HostileWeb) -> None:
    async with open_net(allow_private=False) as net:
        with pytest.raises(NetError) as raised:
            await bounded(net.request("GET", hostile_web.url("intranet.example.com", "/page")))
    assert raised.value.kind is ErrorKind.PRIVATE_ADDRESS
    assert hostile_web.seen == []


async def test_trusted_endpoint_passes_the_private_address_guard(hostile_web: HostileWeb) -> None:
    trusted = frozenset({endpoint_of(hostile_web.url("plain.test", "/"))})
    async with open_net(allow_private=False, trusted=trusted) as net:
        response = await bounded(net.request("GET", hostile_web.url("plain.test", "/page")))
    assert response.status == 200


async def test_a_trusted_host_is_trusted_on_its_own_port_only(hostile_web: HostileWeb) -> None:
    host, port = endpoint_of(hostile_web.url("plain.test", "/"))
    async with open_net(allow_private=False, trusted=frozenset({(host, port + 1)})) as net:
        with pytest.raises(NetError) as refused:
            await bounded(net.request("GET", hostile_web.url("plain.test", "/page")))
    assert refused.value.kind is ErrorKind.PRIVATE_ADDRESS


def without_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own proxy settings out of the way of the test's."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


async def test_proxy_from_the_environment_is_used_and_trusted(
    hostile_web: HostileWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://proxy.example.com:{hostile_web.port}")
    # The proxy resolves to 127.0.0.1, yet must be reached; the target is vetted first.
    async with open_net(allow_private=False) as net:
        response = await bounded(net.request("GET", "http://far-away.public.test:1/page"))
    assert response.status == 200
    assert [s.host for s in hostile_web.seen] == ["far-away.public.test"]


@pytest.mark.parametrize(
    "address",
    sorted(
        {"127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "::7f00:1", "fec0::1"}
        | {ipaddress.ip_network(block)[0].compressed for block in NOT_GLOBAL}
    ),
)
async def test_through_a_proxy_a_name_resolving_to_a_private_address_is_refused(
    hostile_web: HostileWeb, monkeypatch: pytest.MonkeyPatch, address: str
) -> None:
    """A proxy resolves names itself, so the guard resolves and vets them before handing
    the request over: nothing reaches the proxy for them."""
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://proxy.example.com:{hostile_web.port}")
    resolver = NameResolver({"internal.public.test": address})
    async with open_net(allow_private=False, resolver=resolver) as net:
        with pytest.raises(NetError) as refused:
            await bounded(net.request("GET", "http://internal.public.test/secret"))
    assert refused.value.kind is ErrorKind.PRIVATE_ADDRESS
    assert hostile_web.seen == []


async def test_the_proxy_host_is_trusted_on_the_proxy_port_only(
    hostile_web: HostileWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy's host (often 127.0.0.1) is trusted for the proxy, not for every port:
    a cited URL on another port of that host is vetted like any other."""
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://proxy.example.com:{hostile_web.port}")
    async with open_net(allow_private=False) as net:
        with pytest.raises(NetError) as refused:
            await bounded(net.request("GET", f"http://proxy.example.com:{hostile_web.port + 1}/"))
    assert refused.value.kind is ErrorKind.PRIVATE_ADDRESS
    assert hostile_web.seen == []


@pytest.mark.parametrize("no_proxy", ["plain.test", ".test", "*"])
async def test_no_proxy_sends_matching_hosts_direct(
    hostile_web: HostileWeb, closed_port: int, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")  # would refuse
    monkeypatch.setenv("NO_PROXY", no_proxy)
    async with open_net() as net:
        response = await bounded(net.request("GET", hostile_web.url("plain.test", "/page")))
    assert response.status == 200


async def test_a_dead_proxy_is_reported_not_bypassed(
    hostile_web: HostileWeb, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")
    async with open_net() as net:
        with pytest.raises(NetError) as caught:
            await bounded(net.request("GET", hostile_web.url("plain.test", "/page")))
    assert caught.value.kind is ErrorKind.REFUSED
    assert hostile_web.seen == []


# --- one rule for every client: the checker's and the archive's -------------------------


class Recorder:
    """A server that answers 200 to anything and keeps each request's headers."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    def app(self) -> web.Application:
        async def anything(request: web.Request) -> web.Response:
            self.headers.append(dict(request.headers))
            return web.Response(text="{}", content_type="application/json")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", anything)
        return app


@pytest.fixture
async def recorder(aiohttp_server: Any) -> tuple[Recorder, str]:
    recording = Recorder()
    server = await aiohttp_server(recording.app())
    return recording, str(server.make_url("")).rstrip("/")


async def via_checker(base: str, url: str) -> None:
    async with open_net(allow_private=False, trusted=frozenset({endpoint_of(base)})) as net:
        await bounded(net.request("GET", url))


async def via_archive_client(base: str, url: str) -> None:
    async with ArchiveClient(archive_options(USER_AGENT), base) as client:
        await bounded(client.request("GET", url))


CLIENTS = [pytest.param(via_checker, id="checker"), pytest.param(via_archive_client, id="archive")]


@pytest.mark.parametrize("send", CLIENTS)
async def test_netrc_credentials_are_never_sent(
    recorder: tuple[Recorder, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    send: Callable[[str, str], Awaitable[None]],
) -> None:
    """aiohttp's trust_env would send ~/.netrc logins to the hosts named there: a cited site,
    or the archive. Neither client reads the file."""
    recording, base = recorder
    without_proxy_variables(monkeypatch)
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret-4711\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    await send(base, f"{base}/page")
    assert recording.headers and all("Authorization" not in h for h in recording.headers)


@pytest.mark.parametrize("send", CLIENTS)
async def test_both_clients_go_through_the_proxy_of_the_environment(
    recorder: tuple[Recorder, str],
    monkeypatch: pytest.MonkeyPatch,
    send: Callable[[str, str], Awaitable[None]],
) -> None:
    recording, base = recorder
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", base)
    target = "http://far-away.public.test/page"
    await send(target, target)  # the target is the trusted one: the proxy resolves it
    assert [h["Host"] for h in recording.headers] == ["far-away.public.test"]


@pytest.mark.parametrize("send", CLIENTS)
async def test_both_clients_go_direct_to_hosts_in_no_proxy(
    recorder: tuple[Recorder, str],
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    send: Callable[[str, str], Awaitable[None]],
) -> None:
    recording, base = recorder
    without_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")  # would refuse
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    await send(base, f"{base}/page")
    assert len(recording.headers) == 1
