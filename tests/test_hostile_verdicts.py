"""Every behaviour of HOSTILE_WEB.md, checked for real and judged by the policy.

Each row checks a URL on servers started on 127.0.0.1, then applies the
verdict as if the same answer came back once a day for four days: the state
after the first check and after the policy had time (3 failures over 3 days)
are both asserted. Calling a live page dead is the error these rows guard.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from linkwatch.check.checker import check_url
from linkwatch.check.soft404 import SoftNotFoundProbe
from linkwatch.model import CheckResult, State
from support.hostile_web import HostileWeb, TlsSites, bounded, judged_over_four_days, open_net


async def checked(url: str, **options: object) -> CheckResult:
    async with open_net(**options) as net:  # type: ignore[arg-type]
        return await bounded(check_url(net, url, probe_cache=SoftNotFoundProbe()))


ROWS: list[tuple[str, str, str, State, State]] = [
    # behaviour, host, path, state after one check, state after the policy
    ("plain page", "plain.test", "/page", State.ALIVE, State.ALIVE),
    ("document", "plain.test", "/report.pdf", State.ALIVE, State.ALIVE),
    ("gone 410", "plain.test", "/gone", State.TRANSIENT, State.DEAD),
    ("not found 404", "plain.test", "/no-such-page", State.TRANSIENT, State.DEAD),
    ("server error", "plain.test", "/broken", State.TRANSIENT, State.TRANSIENT),
    ("moved", "plain.test", "/moved", State.MOVED, State.MOVED),
    ("redirect chain", "plain.test", "/chain/1", State.MOVED, State.MOVED),  # last hop 308
    ("redirect loop", "plain.test", "/loop/a", State.TRANSIENT, State.DEAD),
    ("redirect to home", "plain.test", "/to-home", State.TRANSIENT, State.SOFT404),
    ("soft-404 page", "soft.test", "/vanished-story", State.TRANSIENT, State.SOFT404),
    ("meta refresh to home", "plain.test", "/refresh-home", State.TRANSIENT, State.SOFT404),
    ("bot wall", "bot.test", "/some/article", State.BLOCKED, State.BLOCKED),
    ("status 999", "bot.test", "/in/someone", State.BLOCKED, State.BLOCKED),
    ("rate limit then 200", "plain.test", "/rate-limited", State.ALIVE, State.ALIVE),
    ("flaky", "plain.test", "/flaky", State.ALIVE, State.ALIVE),
    ("HEAD 405", "plain.test", "/head-405", State.ALIVE, State.ALIVE),
    ("HEAD 404", "plain.test", "/head-404", State.ALIVE, State.ALIVE),
    ("HEAD 405, document", "plain.test", "/files/head-405.pdf", State.ALIVE, State.ALIVE),
    ("HEAD 404, document", "plain.test", "/files/head-404.pdf", State.ALIVE, State.ALIVE),
    ("endless body", "plain.test", "/endless", State.ALIVE, State.ALIVE),
    ("compression bomb", "plain.test", "/bomb", State.ALIVE, State.ALIVE),
    ("slow drip", "plain.test", "/drip", State.ALIVE, State.ALIVE),
]


@pytest.mark.parametrize(
    ("host", "path", "first", "final"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
async def test_hostile_row_is_judged_right(
    hostile_web: HostileWeb, host: str, path: str, first: State, final: State
) -> None:
    result = await checked(hostile_web.url(host, path))
    assert judged_over_four_days(result) == (first, final)
    assert max(hostile_web.peak_in_flight.values()) <= 2


async def test_silent_server_is_inconclusive_never_dead(silent_port: int) -> None:
    result = await checked(f"http://silent.test:{silent_port}/", timeout=0.5)
    assert judged_over_four_days(result) == (State.TRANSIENT, State.TRANSIENT)


async def test_refused_connection_becomes_dead(closed_port: int) -> None:
    result = await checked(f"http://plain.test:{closed_port}/")
    assert judged_over_four_days(result) == (State.TRANSIENT, State.DEAD)


async def test_unknown_host_becomes_dead() -> None:
    result = await checked("http://no-such-host.invalid/page")
    assert judged_over_four_days(result) == (State.TRANSIENT, State.DEAD)


@pytest.mark.parametrize(
    "port_of",
    [lambda s: s.self_signed_port, lambda s: s.wrong_host_port],
    ids=["self-signed", "wrong host"],
)
async def test_bad_certificate_becomes_dead(
    tls_sites: TlsSites, port_of: Callable[[TlsSites], int]
) -> None:
    result = await checked(
        f"https://secure.test:{port_of(tls_sites)}/", ssl_context=tls_sites.client_context
    )
    assert result.error_detail and "certificate" in result.error_detail.lower()
    assert judged_over_four_days(result) == (State.TRANSIENT, State.DEAD)


async def test_private_address_is_refused_and_never_judged(hostile_web: HostileWeb) -> None:
    result = await checked(hostile_web.url("intranet.example.com", "/page"), allow_private=False)
    assert judged_over_four_days(result) == (State.UNCHECKED, State.UNCHECKED)
    assert hostile_web.seen == []
