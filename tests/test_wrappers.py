"""Redirect wrappers: a wrapped citation is checked, archived and judged as its target."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from linkwatch.check.run import check_urls
from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config.loading import load_settings
from linkwatch.scan import scan
from linkwatch.store import Store
from linkwatch.store.writer import AsyncStore
from linkwatch.wrappers import MAX_DEPTH, is_wrapped, unwrap
from support.fake_memento import FakeMemento, lookup_toml, serve_in_thread
from support.fake_wayback import FakeWayback, write_project
from support.fake_wayback import serve_in_thread as wayback_in_thread
from support.hostile_web import HostileWeb, NameResolver
from support.releases import write_release

TARGET = "https://ngo.example/reports/2016/kazakhstan"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)

# Each as the service writes it (parameters from real links, values shortened).
WRAPPED = [
    pytest.param(
        "https://www.google.com/url?q=https://ngo.example/reports/2016/kazakhstan"
        "&sa=D&source=editors&ust=1699999999999999&usg=AOvVaw3",
        id="google-docs",
    ),
    pytest.param(
        "https://www.google.co.uk/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1"
        "&url=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan&usg=AOvVaw1",
        id="google-search",
    ),
    pytest.param(
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fngo.example"
        "%2Freports%2F2016%2Fkazakhstan&data=05%7C01%7C%7Cabc%7C0&sdata=xyz%3D&reserved=0",
        id="outlook-safe-links",
    ),
    pytest.param(
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan"
        "&h=AT0abc",
        id="facebook",
    ),
    pytest.param(
        "https://urldefense.proofpoint.com/v2/url?u=https-3A__ngo.example_reports_2016_kazakhstan"
        "&d=DwMFaQ&c=abc&r=def",
        id="proofpoint-v2",
    ),
    pytest.param(
        "https://www.youtube.com/redirect?event=video_description&redir_token=QUFF"
        "&q=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="youtube",
    ),
    pytest.param(
        "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl"
        "%3Fq%3Dhttps%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan%26sa%3DD&reserved=0",
        id="safe-links-around-google",
    ),
]


@pytest.mark.parametrize("wrapped", WRAPPED)
def test_a_wrapper_leads_to_its_target(wrapped: str) -> None:
    assert is_wrapped(wrapped)
    assert unwrap(wrapped) == TARGET


# More services, each in the shape of links found in published pages and mail
# (the sources are named in the README's Checking section).
MORE_WRAPPED = [
    pytest.param(
        "https://docs.google.com/url?q=https://ngo.example/reports/2016/kazakhstan",
        id="google-docs-host",
    ),
    pytest.param(
        "https://www.google.com/amp/s/ngo.example/reports/2016/kazakhstan", id="google-amp"
    ),
    pytest.param(
        "https://ngo-example.cdn.ampproject.org/v/s/ngo.example/reports/2016/kazakhstan"
        "?amp_js_v=0.1&usqp=mq331AQIUAKwASCAAgM%3D",
        id="amp-cache-viewer",
    ),
    pytest.param(
        "https://www.googleadservices.com/pagead/aclk?sa=L&ai=CFake&sig=AOD64_3Fake&q=&adurl="
        "https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="google-ads",
    ),
    pytest.param(
        "https://statics.teams.cdn.office.net/evergreen-assets/safelinks/1/atp-safelinks.html"
        "?url=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan&locale=en-gb",
        id="teams-safe-links",
    ),
    pytest.param(
        "https://urldefense.proofpoint.com/v1/url?u=https://ngo.example/reports/2016/kazakhstan"
        "&k=FakeK%3D%3D%0A&r=FakeR%3D%0A&m=FakeM%3D%0A&s=0123456789abcdef",
        id="proofpoint-v1",
    ),
    pytest.param(
        "https://urldefense.com/v3/__https://ngo.example/reports/2016/kazakhstan__;!!ABcd3fGh1J"
        "!Zq9XyW0pLmN7rT2uVbC4dE$",
        id="proofpoint-v3",
    ),
    pytest.param(
        "https://urldefense.us/v3/__https://ngo.example/reports/2016/kazakhstan__;!!abc$",
        id="proofpoint-v3-us",
    ),
    pytest.param(
        "https://www.bing.com/ck/a?!&&p=FakePValue0123JmltdHM9MTcxNDY4MDAwMA&ptn=3&ver=2&hsh=3"
        "&fclid=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0&u=a1aHR0cHM6Ly9uZ28uZXhhbXBsZS9yZXBvcnRzLzIwMTYva2F6YWtoc3Rhbg&ntb=1",
        id="bing",
    ),
    pytest.param(
        "https://duckduckgo.com/l/?uddg=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan"
        "&rut=0123456789abcdef",
        id="duckduckgo",
    ),
    pytest.param(
        "https://r.search.yahoo.com/_ylt=AwrFFBHUbpNjd.kKuDfz6Qt.;_ylu=Y29sbwNiZjEEcG9zAzEE/RV=2"
        "/RE=1670635349/RO=10/RU=https%3a%2f%2fngo.example%2freports%2f2016%2fkazakhstan/RK=2"
        "/RS=HrNrLjPq9NAs0X_mJL3nVV95YUw-",
        id="yahoo",
    ),
    pytest.param(
        "https://yandex.ru/clck/jsredir?from=yandex.ru%3Bsearch%3Bweb%3B%3B&text=&url="
        "https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="yandex",
    ),
    pytest.param(
        "https://l.messenger.com/l.php?u=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan"
        "&h=AT0AV7KRqwXlOWjgX3wR6Ror",
        id="messenger",
    ),
    pytest.param(
        "https://away.vk.com/away.php?to=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan"
        "&cc_key=",
        id="vk-away",
    ),
    pytest.param(
        "https://www.linkedin.com/safety/go?url=https%3A%2F%2Fngo.example%2Freports%2F2016"
        "%2Fkazakhstan&trk=flagship-messaging-web",
        id="linkedin-safety",
    ),
    pytest.param(
        "https://x.com/i/redirect?url=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="x-redirect",
    ),
    pytest.param(
        "https://l.wl.co/l?u=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="whatsapp",
    ),
    pytest.param(
        "https://medium.com/r/?url=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="medium",
    ),
    pytest.param(
        "https://linkprotect.cudasvc.com/url?a=https%3A%2F%2Fngo.example%2Freports%2F2016"
        "%2Fkazakhstan&c=E,1,FakeCValue0123456789abcdef,&typo=1",
        id="barracuda",
    ),
    pytest.param(
        "https://imsva91-ctp.trendmicro.com/wis/clicktime/v1/query?url=https%3a%2f%2fngo.example"
        "%2freports%2f2016%2fkazakhstan&umid=0f1e2d3c-4b5a-6978&auth=0123abcd-4567",
        id="trend-micro",
    ),
    pytest.param(
        "https://clicktime.symantec.com/3MnsciFmpCx2GTRRtjmLJoD6H2?u=https%3A%2F%2Fngo.example"
        "%2Freports%2F2016%2Fkazakhstan",
        id="symantec",
    ),
    pytest.param(
        "https://eu-central-1.protection.sophos.com/?d=ngo.example&u=aHR0cHM6Ly9uZ28uZXhhbXBsZS9yZXBvcnRzLzIwMTYva2F6YWtoc3Rhbg%3D%3D"
        "&i=NjJkMTA1NzEwNWJkNDAxMDc5ZDliN2Uy&h=0123456789abcdef&s=AVNPUEhUT0NFTkNSWVBUSVFake",
        id="sophos",
    ),
    pytest.param(
        "https://protect2.fireeye.com/v1/url?k=0a1b2c3d-51f2e3d4-0a1b8a9e&q=1&e=5f6a7b8c"
        "&u=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan",
        id="fireeye",
    ),
    pytest.param(
        "https://urlsand.esvalabs.com/?u=https%3A%2F%2Fngo.example%2Freports%2F2016%2Fkazakhstan"
        "&e=0a1b2c3d&h=4e5f6a7b&f=y&p=y",
        id="esva",
    ),
    pytest.param(
        "https://emails.azure.microsoft.com/redirect/?destination=https%3A%2F%2Fngo.example"
        "%2Freports%2F2016%2Fkazakhstan&p=bT0xJmFtcDtzPTE",
        id="azure-mail",
    ),
    pytest.param(
        "https://substack.com/redirect/2/eyJlIjoiaHR0cHM6Ly9uZ28uZXhhbXBsZS9yZXBvcnRzLzIwMTYva2"
        "F6YWtoc3RhbiIsInAiOjE0MzkxMjM0NSwicyI6NDU4NzA5LCJmIjp0cnVlLCJ1IjoxNDU2MzMxOSwiaWF0Ijox"
        "NzE0NzMxNzM3LCJleHAiOjE3MTczMjM3MzcsImlzcyI6InB1Yi0wIiwic3ViIjoibGluay1yZWRpcmVjdCJ9"
        ".FakeSignatureValue_0123456789abcdef",
        id="substack",
    ),
    pytest.param(
        "https://mandrillapp.com/track/click/30012345/ngo.example?p=eyJwIjogIntcInVybFwiOiBcImh0"
        "dHBzOi8vbmdvLmV4YW1wbGUvcmVwb3J0cy8yMDE2L2themFraHN0YW5cIiwgXCJpZFwiOiBcIjBmMWUyZDNjNG"
        "I1YTY5Nzg4Nzk2YTViNGMzZDJlMWYwXCIsIFwidXJsX2lkc1wiOiBbXCJmZTFjMmIzYTRkNWU2ZjcwODE5MmEz"
        "YjRjNWQ2ZTdmODA5MWEyYjNjXCJdfSIsICJzIjogIkZha2VTaWduYXR1cmVWYWx1ZSIsICJ2IjogMX0%3D",
        id="mandrill",
    ),
    pytest.param(
        "https://3f8a2b1c.r.eu-west-1.awstrack.me/L0/https:%2F%2Fngo.example%2Freports%2F2016"
        "%2Fkazakhstan/1/0102018f3a1c9d5e-2b7a40c1-000000/FakeSigValue0123=372",
        id="amazon-ses",
    ),
    pytest.param(
        "https://c212.net/c/link/?t=0&l=en&o=4123456-1&h=1234567890&u=https%3A%2F%2Fngo.example"
        "%2Freports%2F2016%2Fkazakhstan&a=ngo.example",
        id="cision",
    ),
    pytest.param(
        # A mail filter around a mail filter around a Docs link, as a forwarded mail gets.
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.com%2Fv3"
        "%2F__https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%3A%2F%2Fngo.example%2Freports%2F"
        "2016%2Fkazakhstan%26sa%3DD__%3B!!ABcd3fGh1J!Zq9X%24&data=05%7C01%7C%7Cabc&reserved=0",
        id="safe-links-around-proofpoint-around-google",
    ),
]


@pytest.mark.parametrize("wrapped", MORE_WRAPPED)
def test_more_wrappers_lead_to_their_target(wrapped: str) -> None:
    assert is_wrapped(wrapped)
    assert unwrap(wrapped) == TARGET


@pytest.mark.parametrize(
    ("wrapped", "target"),
    [
        pytest.param(
            # Proofpoint's replaced characters: "*" takes the next one of the base64 ("#")
            "https://urldefense.com/v3/__https://iphronline.org/kazakhstan-report-20160317.html"
            "*section-2__;Iw!!ABcd3fGh1J!Zq9XyW0pLmN7rT2uVbC4dE$",
            "https://iphronline.org/kazakhstan-report-20160317.html#section-2",
            id="v3-one-character",
        ),
        pytest.param(
            # "**A" takes a run of two ("#!"); a percent-escape in the URL part is decoded
            "https://urldefense.com/v3/__https://en.odfoundation.example/a/7410,donald%2Dtusk"
            "**A/comments__;IyE!!ABcd3fGh1J!Zq9XyW0pLmN7rT2uVbC4dE$",
            "https://en.odfoundation.example/a/7410,donald-tusk#!/comments",
            id="v3-run",
        ),
        pytest.param(
            # the real decoder's example: "%" and "#" replaced, an escape left as written
            "https://urldefense.com/v3/__https://files.example.com/v0/b/owa*2Findex.html?alt=media"
            "&token=02497332*vicky@example.com__;JSM!!Fjc1LPEtn8I!xxxxx-xxxxxxxx$",
            "https://files.example.com/v0/b/owa%2Findex.html?alt=media&token=02497332#vicky@example.com",
            id="v3-percent-and-hash",
        ),
        pytest.param(
            # Docs left the target's query unencoded: it runs up to Google's own sa=
            "https://www.google.com/url?q=https://ngo.example/reports?id=2016&lang=en&sa=D"
            "&source=editors&ust=1699999999999999&usg=AOvVaw3",
            "https://ngo.example/reports?id=2016&lang=en",
            id="google-docs-unencoded-query",
        ),
        pytest.param(
            "https://www.google.com/amp/ngo.example/reports/2016/kazakhstan?page=2",
            "http://ngo.example/reports/2016/kazakhstan?page=2",
            id="amp-over-http-keeps-the-query",
        ),
    ],
)
def test_a_wrapper_decodes_to_the_exact_target(wrapped: str, target: str) -> None:
    assert unwrap(wrapped) == target


@pytest.mark.parametrize(
    "url",
    [
        # Opaque: the target is kept on the service's server, so the checker follows them.
        "https://t.co/h3LGsKwtQp",
        "https://protect-eu.mimecast.com/s/Qx7bC1vW2fK9zTmN3hLpA?domain=ngo.example",
        "https://secure-web.cisco.com/1W2R4YLY2hhGpl65mIlXRE6wo_Bgus3uAHj6kgi6Z1DflVl54XMtQ0",
        "https://civicdialogue.us13.list-manage.com/track/click?u=1efcb45b2d3a4abde06876054"
        "&id=84a3287a90&e=9d44aaf6b2",
        "https://substack.com/redirect/621d4364-c22f-4404-93c2-c38cb3dee671?j=eyJ1IjoiOG81NG4ifQ",
        "https://yandex.ru/clck/jsredir?from=yandex.ru%3Bsearch%2F%3Bweb%3B%3B&text=&etext=2202.PIL",
        "https://clck.ru/3Ab9Zq",
        "https://lnkd.in/eAbC12d",
        # Malformed or no http(s) target: kept as written.
        "https://urldefense.com/v3/__https://x.example/a*b*c__;Iw!!abc$",  # too few characters
        "https://urldefense.com/v3/__https://x.example/a*b__;@@@!!abc$",  # no base64
        "https://www.bing.com/ck/a?!&&p=abc&u=a1amF2YXNjcmlwdDphbGVydCgxKQ&ntb=1",  # javascript:
        "https://www.bing.com/ck/a?!&&p=abc&u=a1%%%%&ntb=1",
        "https://duckduckgo.com/l/?uddg=ftp%3A%2F%2Fngo.example%2Ffile",
        "https://l.messenger.com/l.php?u=https%3A%2F%2F%2Freports",  # no host
        "https://vk.com/away.php?to=https%3A%2F%2Fngo.example%3Aport%2F",  # no port number
        "https://www.google.com/url?q=https://ngo.example/a%20b%3Cscript%3E",  # not a URL
        "https://eu-central-1.protection.sophos.com/?d=ngo.example&u=not*base64",
        "https://www.google.com/amp/s/",
        "https://docs.google.com/document/d/1AbC/edit",
        "https://www.bing.com/search?q=kazakhstan",
    ],
)
def test_opaque_and_malformed_wrappers_are_kept_as_written(url: str) -> None:
    assert not is_wrapped(url)
    assert unwrap(url) == url


def test_unwrapping_stops_after_max_depth() -> None:
    url = TARGET
    for _ in range(MAX_DEPTH + 2):
        url = "https://www.google.com/url?q=" + quote(url, safe="")
    assert unwrap(url).startswith("https://www.google.com/url?q=")
    assert unwrap(unwrap(unwrap(url))) == TARGET


@pytest.mark.parametrize(
    "url",
    [
        TARGET,
        "https://www.google.com/search?q=kazakhstan",  # a search, not a wrapper
        "https://google.example.org/url?q=https://x.example/",  # not Google's host
        "https://www.google.com/url?q=javascript:alert(1)",  # no http(s) target
        "https://www.facebook.com/some.page",
    ],
)
def test_other_links_are_left_as_they_are(url: str) -> None:
    assert not is_wrapped(url)
    assert unwrap(url) == url


@pytest.mark.parametrize(
    "google",
    [
        str(WRAPPED[0].values[0]),
        # Safe Links around Proofpoint v3 around Google, as a forwarded mail gets
        str(MORE_WRAPPED[-1].values[0]),
        "https://www.bing.com/ck/a?!&&p=FakeP&ptn=3&ver=2&hsh=3&fclid=0f1e2d3c"
        "&u=a1aHR0cHM6Ly9uZ28uZXhhbXBsZS9yZXBvcnRzLzIwMTYva2F6YWtoc3Rhbg&ntb=1",
    ],
    ids=["google", "safe-links-proofpoint-google", "bing"],
)
def test_a_wrapped_citation_is_looked_up_and_reported_as_its_target(
    tmp_path: Path, google: str
) -> None:
    other = FakeMemento()
    other.add_capture(TARGET, "20160406000000")
    with wayback_in_thread(FakeWayback()) as wayback, serve_in_thread(other) as [base]:
        config = write_project(tmp_path, wayback, [google], lookup=lookup_toml({"m": base}))
        settings = load_settings(config)
        with Store.open(settings.state.dir) as store:
            scan(settings, store)
            assert [t.key for t in store.urls_to_check()] == [TARGET]
        args = ["--config", str(config)]
        obj = {"clock": fixed_clock(NOW)}
        assert CliRunner().invoke(main, [*args, "archive"], obj=obj).exit_code == 0
    assert other.requests["timemap"] == 1
    result = CliRunner().invoke(main, [*args, "report", "--format", "json"], obj=obj)
    [citation] = json.loads(result.output)["releases"][0]["citations"]
    assert citation["url"] == google  # as written
    assert citation["unwrapped_url"] == TARGET
    assert citation["archive_url"] == f"{base}/20160406000000/{TARGET}"
    assert citation["archive"] == "m"
    release = (tmp_path / "releases" / "r.md").read_text(encoding="utf-8")
    assert google in release  # the release text keeps the link as written

    rewrite = CliRunner().invoke(main, [*args, "rewrite", "--mode", "all"], obj=obj)
    assert rewrite.exit_code == 0, rewrite.output
    rewritten = (tmp_path / "releases" / "r.md").read_text(encoding="utf-8")
    assert f"<{google}> (archived [6 Apr 2016]({base}/20160406000000/{TARGET}) by Archive m)" in (
        rewritten
    )
    assert CliRunner().invoke(main, [*args, "scan"], obj=obj).exit_code == 0
    result = CliRunner().invoke(main, [*args, "report", "--format", "json"], obj=obj)
    [again] = json.loads(result.output)["releases"][0]["citations"]  # the copy is no citation
    assert again["url"] == google and again["points_at_archive"] is True


async def test_the_checker_requests_the_target_of_each_wrapper(
    tmp_path: Path, hostile_web: HostileWeb
) -> None:
    page = hostile_web.url("plain.test", "/page")
    moved = hostile_web.url("plain.test", "/moved")
    encoded = base64.urlsafe_b64encode(page.encode()).decode().rstrip("=")
    google = "https://www.google.com/url?q=" + quote(page, safe="")
    v3 = f"https://urldefense.com/v3/__{google}__;!!ABcd3fGh1J!Zq9X$"
    wrapped = [
        f"https://www.bing.com/ck/a?!&&p=FakeP&ptn=3&ver=2&hsh=3&u=a1{encoded}&ntb=1",
        # Safe Links around Proofpoint v3 around Google
        "https://eur01.safelinks.protection.outlook.com/?url=" + quote(v3, safe="") + "&reserved=0",
        "https://r.search.yahoo.com/_ylt=Awr;_ylu=Y29s/RV=2/RE=1/RO=10/RU="
        + quote(moved, safe="")
        + "/RK=2/RS=abc-",
    ]
    malformed = "https://urldefense.com/v3/__https://plain.test/a*b*c__;Iw!!abc$"
    opaque = hostile_web.url("partner.test", "/away")  # a shortener's redirect, followed
    urls = [*wrapped, malformed, opaque]
    write_release(tmp_path, urls)
    (tmp_path / "config.toml").write_text(
        '[sources]\npaths = ["releases/*.md"]\n\n'
        '[check]\nallow_private = true\nhost_delay = "0s"\ntimeout = "2s"\n'
    )
    settings = load_settings(tmp_path / "config.toml")
    with Store.open(settings.state.dir) as store:
        scan(settings, store)
        assert sorted(t.key for t in store.urls_to_check()) == sorted(
            [malformed, page, moved, opaque]
        )
    with AsyncStore.open(settings.state.dir) as db:
        summary = await check_urls(
            settings, db, db.read.urls_to_check(), resolver=NameResolver(), now=lambda: NOW
        )
    assert summary.checked == 4
    # The page, cited through two wrappers, is checked once as itself; the other two
    # requests for it are the ends of the /moved and /away redirects.
    assert len(hostile_web.requests_to("plain.test", "/page")) == 3
    assert len(hostile_web.requests_to("plain.test", "/moved")) == 1
    assert len(hostile_web.requests_to("partner.test", "/away")) == 1
    assert {s.host for s in hostile_web.seen} == {"plain.test", "partner.test"}  # no wrapper
    with Store.open(settings.state.dir) as store:
        [release] = store.releases_with_citations()
    states = {c.url: c.state for c in release.citations}
    assert states == {
        wrapped[0]: "alive",
        wrapped[1]: "alive",
        wrapped[2]: "moved",
        malformed: "transient",  # checked as written: urldefense.com does not resolve here
        opaque: "alive",  # a 302, as a shortener answers, to a page that is there
    }


FORMS = json.loads(
    (Path(__file__).parent / "fixtures" / "web" / "wrappers.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("form", FORMS, ids=[form["name"] for form in FORMS])
def test_each_recorded_wrapper_form_unwraps_to_its_recorded_target(form: dict[str, str]) -> None:
    """The manifest's examples, each in the shape of a real link with its source named."""
    example = form["example"]
    if form["encoding"] == "opaque":
        assert not is_wrapped(example) and unwrap(example) == example
    else:
        assert unwrap(example) == form["target"]
