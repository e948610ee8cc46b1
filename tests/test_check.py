"""check.py: every behaviour of the hostile web, as the CheckResult the verdict will read."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest
from yarl import URL

from linkwatch.check.checker import check_url
from linkwatch.check.page import _refresh_target, _title_and_refresh
from linkwatch.check.redirects import invalid_url_reason
from linkwatch.check.soft404 import SoftNotFoundProbe, is_home_page
from linkwatch.model import CheckResult, ErrorKind, Hop
from linkwatch.net.retry import parse_retry_after
from linkwatch.net.session import endpoint_of
from support.hostile_web import HostileWeb, TlsSites, bounded, open_net, traced_peak

# A run over 1 GB of anything would show as hundreds of MB; the cap is 256 KiB.
MEMORY_BOUND = 16 * 1024 * 1024


async def check(url: str, **options: Any) -> CheckResult:
    async with open_net(**options) as net:
        return await bounded(check_url(net, url))


# ---------------------------------------------------------------------------
# Pure helpers


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "example.com/page",
        "ftp://example.com/file.txt",
        "javascript:alert(1)",
        "mailto:press@example.com",
        "http://exa mple.com/",
        "http://example.com/a b",
        "http://example.com/\x00",
        "http://example.com/\ta",
        "http://example.com/\x7f",
        "http://example.com/page\n",
        "http://example.com/\u200bpage",
        "http://",
        "http:///path",
        "http://[::1",
        "http://example.com:99999/",
        "http://example.com\\evil.test/",
    ],
)
async def test_unusable_url_is_invalid_url_without_a_request(
    hostile_web: HostileWeb, url: str
) -> None:
    result = await check(url)
    assert result.error is ErrorKind.INVALID_URL
    assert result.error_detail
    assert hostile_web.seen == []


@pytest.mark.parametrize(
    "url", ["http://example.com/", "https://bücher.example/straße?q=1#top", "HTTP://EXAMPLE.COM"]
)
def test_usable_url_has_no_invalid_reason(url: str) -> None:
    assert invalid_url_reason(url) is None


@pytest.mark.parametrize(
    ("url", "home"),
    [
        ("https://example.com", True),
        ("https://example.com/", True),
        ("https://example.com/index.html", True),
        ("https://example.com/en/", True),
        ("https://example.com/fr-fr/index.php", True),
        ("https://example.com/news/2016/story", False),
        ("https://example.com/to-home", False),
        ("https://example.com/?p=123", False),
    ],
)
def test_home_page_is_recognised(url: str, home: bool) -> None:
    assert is_home_page(url) is home


NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_parsed(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("markup", "title", "refresh"),
    [
        ("<html><head><title>A  page\n</title></head>", "A page", None),
        ("<TITLE lang=en>Caf&eacute; &amp; bar</TITLE>", "Café & bar", None),
        ("<title>Never closed, so the rest", "Never closed, so the rest", None),
        ("<!-- <title>Old</title> --><title>New</title>", "New", None),
        ('<meta http-equiv="refresh" content="0; url=/">', None, "0; url=/"),
        ("<meta content='5;URL=/home' HTTP-EQUIV=Refresh>", None, "5;URL=/home"),
        ("<meta http-equiv=refresh content=0;url=/a&amp;b>", None, "0;url=/a&b"),
        ('<!-- <meta http-equiv="refresh" content="0; url=/"> -->', None, None),
        ("<script>w('<meta http-equiv=refresh content=0;url=/>')</script>", None, None),
        ('<style>/* <title>x</title> */</style><meta name="refresh" content="1">', None, None),
        ('<meta charset="utf-8"><meta http-equiv="refresh" content="9">', None, "9"),
        ("<![ bogus declaration <title>Odd</title>", "Odd", None),
        ("""<meta http-equiv="refresh" content="0; url='/'">""", None, "0; url='/'"),
        ("""<meta content='0; url="/a"' http-equiv=refresh>""", None, '0; url="/a"'),
        ('<meta name="x>y" http-equiv="refresh" content="3">', None, "3"),
        ("<title-bar>Menu</title-bar><title>Real</title>", "Real", None),
        ("<script-loader>x</script-loader><title>Kept</title>", "Kept", None),
        ('<metadata http-equiv="refresh" content="0; url=/">', None, None),
        (
            "<meta name=author content=O'Brien><meta http-equiv=refresh content='0; url=/'>"
            '<meta http-equiv="X-UA-Compatible" content="IE=edge"><p>It\'s</p>',
            None,
            "0; url=/",
        ),
        ('<title data-x="a>b">Real</title>', "Real", None),
        ("<script src='a>b'>w('<title>No</title>')</script><title>Yes</title>", "Yes", None),
        ('<meta http-equiv="refresh" content="0; url=/"', None, None),  # never closed
    ],
)
def test_title_and_meta_refresh_are_read_as_a_browser_would(
    markup: str, title: str | None, refresh: str | None
) -> None:
    assert _title_and_refresh(markup) == (title, refresh)


@pytest.mark.parametrize(
    "markup",
    ["<meta " * 43_690, '<meta a="x" ' * 21_845, "<title " * 37_449, "<script " * 32_768],
)
def test_tags_never_closed_are_read_in_one_pass(markup: str) -> None:
    """A hostile page of max_body bytes cannot stall the run: every check shares one thread.

    Each of these took from 3 s to 3.5 minutes when every tag was scanned to the end.
    """
    started = time.monotonic()
    assert _title_and_refresh(markup) == (None, None)
    assert time.monotonic() - started < 1.0  # a few milliseconds; a bound, not a target


@pytest.mark.parametrize(
    ("content", "target"),
    [
        ("0; url=/", "https://a.example/"),
        ("0; url='/'", "https://a.example/"),
        ('5;URL="other.html"', "https://a.example/dir/other.html"),
        ("0;https://b.example/x", "https://b.example/x"),
        ("9", None),
        (None, None),
    ],
)
def test_meta_refresh_target_is_resolved_against_the_page(
    content: str | None, target: str | None
) -> None:
    assert _refresh_target(content, "https://a.example/dir/page") == target


# ---------------------------------------------------------------------------
# Answers


async def test_plain_page_is_read(hostile_web: HostileWeb) -> None:
    url = hostile_web.url("plain.test", "/page")
    result = await check(url)
    assert (result.status, result.final_url, result.hops, result.error) == (200, url, (), None)
    assert result.title == "A plain page"
    assert result.fingerprint is None  # computed only when asked for, or compared
    assert result.soft404_reason is None
    assert 0 < result.bytes_read < 1000
    async with open_net() as net:
        fingerprinted = await bounded(check_url(net, url, fingerprint=True))
    assert fingerprinted.fingerprint is not None and len(fingerprinted.fingerprint) == 16


async def test_bogus_markup_still_gives_the_title(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/bogus-markup"))
    assert (result.status, result.title) == (200, "Odd markup")


async def test_check_time_comes_from_the_clock_given(hostile_web: HostileWeb) -> None:
    async with open_net() as net:
        result = await bounded(
            check_url(net, hostile_web.url("plain.test", "/page"), now=lambda: NOW)
        )
    assert result.checked_at == NOW


async def test_check_sends_the_configured_user_agent(hostile_web: HostileWeb) -> None:
    await check(hostile_web.url("plain.test", "/page"), user_agent="linkwatch/9 (+https://x.test)")
    assert {s.user_agent for s in hostile_web.seen} == {"linkwatch/9 (+https://x.test)"}


async def test_large_pdf_is_not_downloaded(hostile_web: HostileWeb) -> None:
    """HEAD, then a GET confirming it that reads the first kilobyte only."""
    result = await check(hostile_web.url("plain.test", "/report.pdf"))
    assert (result.status, result.bytes_read, result.title) == (200, 1024, None)
    assert [s.method for s in hostile_web.requests_to("plain.test")] == ["HEAD", "GET"]


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/gone", 410), ("/broken", 500)])
async def test_error_status_is_reported(hostile_web: HostileWeb, path: str, status: int) -> None:
    result = await check(hostile_web.url("plain.test", path))
    assert (result.status, result.error, result.soft404_reason) == (status, None, None)


@pytest.mark.parametrize(
    ("path", "times"), [("/page", 1), ("/gone", 1), ("/moved", 1), ("/broken", 2)]
)
async def test_a_page_costs_one_get_per_hop(hostile_web: HostileWeb, path: str, times: int) -> None:
    result = await check(hostile_web.url("plain.test", path))
    asked = [s.method for s in hostile_web.requests_to("plain.test", path)]
    assert asked == ["GET"] * times  # a server error is asked once more
    probe = 1 if result.status == 200 else 0  # a page is compared with a nonsense path's
    every = [s.method for s in hostile_web.requests_to("plain.test")]
    assert every == ["GET"] * (times + len(result.hops) + probe)


async def test_document_error_on_head_is_asked_again_with_get(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/files/broken.pdf"))
    assert [s.method for s in hostile_web.requests_to("plain.test")] == ["HEAD", "GET"]
    assert result.status == 500


# ---------------------------------------------------------------------------
# Redirects


async def test_permanent_redirect_is_followed_and_recorded(hostile_web: HostileWeb) -> None:
    url = hostile_web.url("plain.test", "/moved")
    result = await check(url)
    page = hostile_web.url("plain.test", "/page")
    assert (result.status, result.final_url) == (200, page)
    assert result.hops == (Hop(url=url, status=301, location=page),)
    assert result.permanently_moved


async def test_every_hop_of_a_chain_is_recorded(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/chain/1"))
    urls = [hostile_web.url("plain.test", p) for p in ("/chain/1", "/chain/2", "/chain/3", "/page")]
    assert result.hops == (
        Hop(urls[0], 302, urls[1]),  # a relative Location, resolved
        Hop(urls[1], 307, urls[2]),
        Hop(urls[2], 308, urls[3]),
    )
    assert (result.status, result.final_url, result.title) == (200, urls[3], "A plain page")


async def test_redirect_loop_is_reported(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/loop/a"))
    assert result.error is ErrorKind.REDIRECT_LOOP
    assert [hop.status for hop in result.hops] == [302, 302]


async def test_endless_redirects_stop_at_max_redirects(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/hops"), max_redirects=5)
    assert result.error is ErrorKind.TOO_MANY_REDIRECTS
    assert len(result.hops) == 6


async def test_redirect_back_after_setting_a_cookie_is_no_loop(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/consent"))
    assert (result.status, result.error, result.title) == (200, None, "Consented")
    assert len(result.hops) == 2


async def test_redirect_to_another_scheme_is_invalid(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/to-ftp"))
    assert result.error is ErrorKind.INVALID_URL
    assert result.error_detail is not None and "ftp://plain.test/file" in result.error_detail


# ---------------------------------------------------------------------------
# Soft 404


@pytest.mark.parametrize("path", ["/to-home", "/to-home-302"])
async def test_redirect_to_home_is_soft404(hostile_web: HostileWeb, path: str) -> None:
    result = await check(hostile_web.url("plain.test", path))
    assert result.status == 200
    assert result.soft404_reason is not None and "home page" in result.soft404_reason


async def test_home_page_moving_to_slash_is_not_soft404(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/index.html"))
    assert (result.status, result.soft404_reason) == (200, None)


async def test_meta_refresh_to_home_is_soft404(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/refresh-home"))
    assert result.status == 200
    assert result.soft404_reason is not None and "meta refresh" in result.soft404_reason


async def test_page_like_a_random_paths_page_is_soft404(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("soft.test", "/news/2016/story"))
    assert (result.status, result.title) == (200, "Page not found")
    assert result.soft404_reason is not None and "non-existent path" in result.soft404_reason


async def test_redirect_where_random_paths_go_is_soft404(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("lost.test", "/news/2016/story"))
    assert result.final_url == hostile_web.url("lost.test", "/oops")
    assert result.soft404_reason is not None and "redirects where" in result.soft404_reason


async def test_site_answering_404_to_random_paths_is_not_soft404(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/page"))
    probes = [s for s in hostile_web.requests_to("plain.test") if len(s.path) == 21]
    assert len(probes) == 1  # the probe was asked, and answered 404
    assert result.soft404_reason is None


async def test_real_page_on_a_soft404_site_is_not_soft404(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("soft.test", "/real-story"))
    assert (result.status, result.title, result.soft404_reason) == (200, "A real story", None)


async def test_soft404_probe_is_asked_once_per_host(hostile_web: HostileWeb) -> None:
    probes = SoftNotFoundProbe()
    async with open_net() as net:
        urls = [hostile_web.url("soft.test", f"/story/{i}") for i in range(3)]
        results = await bounded(
            asyncio.gather(*(check_url(net, url, probe_cache=probes) for url in urls))
        )
    probe_paths = [s.path for s in hostile_web.requests_to("soft.test") if len(s.path) == 21]
    assert len(probe_paths) == 1
    assert all(result.soft404_reason for result in results)


# ---------------------------------------------------------------------------
# Bot walls, rate limits, HEAD trouble


async def test_challenge_page_is_a_bot_wall(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("bot.test", "/article"))
    assert (result.status, result.bot_wall, result.error) == (403, True, None)


async def test_browser_passes_the_bot_wall(hostile_web: HostileWeb) -> None:
    result = await check(
        hostile_web.url("bot.test", "/article"), user_agent="Mozilla/5.0 (linkwatch test)"
    )
    assert (result.status, result.bot_wall) == (200, False)


async def test_plain_403_is_just_a_status(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("bot.test", "/forbidden"))
    assert (result.status, result.bot_wall) == (403, False)


async def test_status_999_is_reported(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("bot.test", "/in/someone"))
    assert (result.status, result.error) == (999, None)


async def test_retry_after_is_waited_for(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/rate-limited"))
    first, second = hostile_web.requests_to("plain.test", "/rate-limited")[:2]
    assert (result.status, result.retry_after) == (200, None)
    assert second.at - first.at >= 0.9  # the server saw the wait it asked for


async def test_retry_after_beyond_the_cap_stops_the_check(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/rate-limited"), retry_after_cap=0.5)
    assert (result.status, result.retry_after) == (429, 1.0)
    assert len(hostile_web.requests_to("plain.test", "/rate-limited")) == 1


async def test_flaky_server_is_asked_again(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/flaky"))
    assert (result.status, result.title) == (200, "Flaky")


async def test_get_after_a_refused_head_may_still_ask_again(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/files/flaky-no-head.pdf"))
    asked = [s.method for s in hostile_web.requests_to("plain.test", "/files/flaky-no-head.pdf")]
    assert asked == ["HEAD", "GET", "GET"]  # the 405 was no server error: the 503 is asked again
    assert (result.status, result.title) == (200, "Flaky")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/reset-once", ["GET", "GET"]),
        ("/files/reset-once.pdf", ["HEAD", "HEAD", "GET"]),  # then GET: HEAD found a page
    ],
)
async def test_connection_reset_is_retried_once(
    hostile_web: HostileWeb, path: str, expected: list[str]
) -> None:
    result = await check(hostile_web.url("plain.test", path))
    assert [s.method for s in hostile_web.requests_to("plain.test", path)] == expected
    assert (result.status, result.error, result.title) == (200, None, "Reset")


@pytest.mark.parametrize("path", ["/head-hangs", "/files/head-hangs.pdf"])
async def test_head_timeout_falls_back_to_get(hostile_web: HostileWeb, path: str) -> None:
    result = await check(hostile_web.url("plain.test", path), timeout=1.0)
    assert (result.status, result.title) == (200, "Hangs on HEAD")


@pytest.mark.parametrize(
    "path", ["/head-405", "/head-404", "/files/head-405.pdf", "/files/head-404.pdf"]
)
async def test_head_refused_falls_back_to_get(hostile_web: HostileWeb, path: str) -> None:
    result = await check(hostile_web.url("plain.test", path))
    assert (result.status, result.title) == (200, "Answers GET only")
    assert hostile_web.requests_to("plain.test", path)[-1].method == "GET"


# ---------------------------------------------------------------------------
# Servers that never finish


async def test_silent_server_times_out(silent_port: int) -> None:
    started = time.monotonic()
    result = await check(f"http://silent.test:{silent_port}/", timeout=1.0)
    assert (result.status, result.error) == (None, ErrorKind.TIMEOUT)
    assert time.monotonic() - started < 5  # one GET of one second: a timeout is not retried


async def test_slow_drip_is_cut_by_the_total_timeout(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("plain.test", "/drip"), timeout=2.0, read_timeout=5.0)
    assert result.status == 200
    assert result.bytes_read <= 3


async def test_endless_body_is_read_up_to_the_cap(hostile_web: HostileWeb) -> None:
    result, peak = await traced_peak(check(hostile_web.url("plain.test", "/endless")))
    assert result.status == 200
    assert 0 < result.bytes_read <= 256 * 1024
    assert peak < MEMORY_BOUND


async def test_gzip_bomb_never_inflates_past_the_cap(hostile_web: HostileWeb) -> None:
    result, peak = await traced_peak(check(hostile_web.url("plain.test", "/bomb")))
    assert result.status == 200
    assert 0 < result.bytes_read <= 256 * 1024
    assert result.title == "Zeros"
    assert peak < MEMORY_BOUND


# ---------------------------------------------------------------------------
# Connection failures


async def test_nothing_listening_is_refused(closed_port: int) -> None:
    result = await check(f"http://plain.test:{closed_port}/")
    assert (result.status, result.error) == (None, ErrorKind.REFUSED)


async def test_unknown_name_is_dns_failure() -> None:
    result = await check("http://nowhere.invalid/page")
    assert result.error is ErrorKind.DNS
    assert result.error_detail is not None and "nowhere.invalid" in result.error_detail


async def test_trusted_certificate_is_accepted(tls_sites: TlsSites) -> None:
    url = f"https://secure.test:{tls_sites.good_port}/"
    result = await check(url, ssl_context=tls_sites.client_context)
    assert (result.status, result.error) == (200, None)


async def test_self_signed_certificate_is_tls_failure(tls_sites: TlsSites) -> None:
    url = f"https://secure.test:{tls_sites.self_signed_port}/"
    result = await check(url, ssl_context=tls_sites.client_context)
    assert result.error is ErrorKind.TLS
    assert result.error_detail is not None and "self-signed certificate" in result.error_detail


async def test_wrong_host_certificate_is_tls_failure(tls_sites: TlsSites) -> None:
    url = f"https://wronghost.test:{tls_sites.wrong_host_port}/"
    result = await check(url, ssl_context=tls_sites.client_context)
    assert result.error is ErrorKind.TLS
    assert result.error_detail is not None and "Hostname mismatch" in result.error_detail


# ---------------------------------------------------------------------------
# Private addresses (the SSRF guard)


async def test_name_resolving_to_loopback_is_refused(hostile_web: HostileWeb) -> None:
    result = await check(hostile_web.url("intranet.example.com", "/page"), allow_private=False)
    assert result.error is ErrorKind.PRIVATE_ADDRESS
    assert result.error_detail == (
        "refused private address 127.0.0.1 for host intranet.example.com"
        " (check.allow_private is false)"
    )
    assert hostile_web.seen == []


async def test_redirect_to_cloud_metadata_is_refused(hostile_web: HostileWeb) -> None:
    result = await check(
        hostile_web.url("plain.test", "/to-metadata"),
        allow_private=False,
        trusted=frozenset({endpoint_of(hostile_web.url("plain.test", "/"))}),
    )
    assert result.error is ErrorKind.PRIVATE_ADDRESS
    assert result.error_detail is not None and "169.254.169.254" in result.error_detail
    assert [hop.status for hop in result.hops] == [302]


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
async def test_ip_literal_of_loopback_is_refused(hostile_web: HostileWeb, host: str) -> None:
    result = await check(f"http://{host}:{hostile_web.port}/page", allow_private=False)
    assert result.error is ErrorKind.PRIVATE_ADDRESS
    assert hostile_web.seen == []


# ---------------------------------------------------------------------------
# The probe's answers, kept between runs


async def test_probe_answers_asked_are_new_and_known_ones_are_not_asked(
    hostile_web: HostileWeb, closed_port: int
) -> None:
    probes = SoftNotFoundProbe(now=lambda: NOW)
    async with open_net() as net:
        answer = await bounded(probes.answer(net, hostile_web.url("plain.test", "/page")))
        silent = await bounded(probes.answer(net, f"http://plain.test:{closed_port}/page"))
    assert (answer.status, answer.title, answer.asked_at) == (404, None, NOW)  # body unread
    assert silent.status is None
    assert probes.new_answers() == [answer]  # no answer: asked again next run
    asked = len(hostile_web.seen)
    again = SoftNotFoundProbe([answer])
    async with open_net() as net:
        assert await bounded(again.answer(net, hostile_web.url("plain.test", "/other"))) is answer
    assert len(hostile_web.seen) == asked and again.new_answers() == []


async def test_only_lasting_probe_answers_are_kept(hostile_web: HostileWeb) -> None:
    probes = SoftNotFoundProbe(now=lambda: NOW)
    async with open_net() as net:
        for host in ("plain.test", "soft.test", "lost.test", "bot.test"):
            await bounded(probes.answer(net, hostile_web.url(host, "/page")))
    kept = {URL(answer.origin).host: answer.status for answer in probes.new_answers()}
    # a bot wall's 403 may be a 404 tomorrow: it is not kept for check.probe_every
    assert kept == {"plain.test": 404, "soft.test": 200, "lost.test": 200}


async def test_closing_the_probe_cancels_a_probe_still_asking() -> None:
    connected = asyncio.Event()

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    probes = SoftNotFoundProbe(now=lambda: NOW)
    async with server, open_net() as net:
        asking = asyncio.create_task(probes.answer(net, f"http://silent.test:{port}/page"))
        await bounded(connected.wait())
        await bounded(probes.close())
        with pytest.raises(asyncio.CancelledError):
            await bounded(asking)
    assert probes.new_answers() == []
