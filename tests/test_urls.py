from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkwatch.urls import InvalidURL, is_http_url, normalise_url


def test_scheme_and_host_are_lower_cased() -> None:
    assert normalise_url("HTTP://Example.COM/Path") == "http://example.com/Path"


def test_idn_host_becomes_punycode_and_path_utf8_escapes() -> None:
    assert (
        normalise_url("http://Пример.рф/путь")
        == "http://xn--e1afmkfd.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C"
    )


def test_idn_host_and_its_punycode_share_one_key() -> None:
    assert normalise_url("https://bücher.example/") == normalise_url(
        "https://xn--bcher-kva.example/"
    )


def test_ascii_label_with_underscore_is_kept() -> None:
    assert normalise_url("http://my_host.example.org/") == "http://my_host.example.org/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://[::1]:80/", "http://[::1]/"),
        ("http://example.org:/a", "http://example.org/a"),
    ],
)
def test_default_port_is_dropped(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://example.org:443/", "https://example.org:80/", "http://example.org:8080/"]
)
def test_other_port_is_kept(url: str) -> None:
    assert normalise_url(url) == url


def test_empty_path_becomes_slash() -> None:
    assert normalise_url("https://example.org") == "https://example.org/"


def test_raw_and_encoded_path_share_one_key() -> None:
    assert normalise_url("http://a.example/€") == normalise_url("http://a.example/%e2%82%ac")


def test_existing_escapes_are_upper_cased_not_doubled() -> None:
    assert normalise_url("http://a.example/%2f%c3%a9") == "http://a.example/%2F%C3%A9"


def test_lone_percent_sign_is_encoded() -> None:
    assert normalise_url("http://a.example/100%") == "http://a.example/100%25"


def test_characters_invalid_in_a_path_are_encoded() -> None:
    assert normalise_url('http://a.example/"x"<y>') == "http://a.example/%22x%22%3Cy%3E"


def test_fragment_is_dropped() -> None:
    assert normalise_url("https://example.org/page#section-2") == "https://example.org/page"


def test_query_is_kept_in_order_and_encoded() -> None:
    assert (
        normalise_url("https://example.org/s?q=café&b=2&a=1")
        == "https://example.org/s?q=caf%C3%A9&b=2&a=1"
    )


def test_userinfo_is_kept() -> None:
    assert normalise_url("http://user:pw@Example.org/") == "http://user:pw@example.org/"


def test_trailing_dot_of_full_host_name_is_kept() -> None:
    assert normalise_url("http://example.org./") == "http://example.org./"


_URL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")), max_size=30
)


@given(path=_URL_TEXT, query=_URL_TEXT)
def test_normalising_twice_changes_nothing(path: str, query: str) -> None:
    url = f"http://Example.org/{path.replace('#', '')}?{query.replace('#', '')}"
    once = normalise_url(url)
    assert normalise_url(once) == once


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.org/file", "scheme 'ftp' is not http or https"),
        ("mailto:ops@example.org", "scheme 'mailto' is not http or https"),
        ("example.org/page", "no http(s) scheme"),
        ("http:///page", "no host"),
        ("http://user@/page", "no host"),
        ("http://example.org/a b", "contains whitespace (U+0020)"),
        ("http://example.org/\u00a0", "contains whitespace (U+00A0)"),
        ("http://example.org/a\x00", "contains a control character (U+0000)"),
        ("http://example.org/a\x7f", "contains a control character (U+007F)"),
        ("http://example.org:99999/", "invalid port '99999'"),
        ("http://example.org:0/", "invalid port '0'"),
        ("http://example.org:8o/", "invalid port '8o'"),
        ("http://[::1/", "malformed URL"),
        ("http://☃.example/", "host '☃.example' is not IDNA-encodable"),
        ("http://a..example/", "host 'a..example' is not IDNA-encodable"),
        ("http://exa<mple.org/", "host 'exa<mple.org' is not IDNA-encodable"),
    ],
)
def test_invalid_url_gives_one_line_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidURL) as info:
        normalise_url(url)
    assert str(info.value).startswith(reason)
    assert "\n" not in str(info.value)


def test_invalid_url_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        normalise_url("gopher://example.org/")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", True),
        ("HTTP://EXAMPLE.ORG", True),
        ("ftp://example.org/", False),
        ("kazaword.wordpress.com", False),
        ("http://exa mple.org/", False),
    ],
)
def test_is_http_url(url: str, expected: bool) -> None:
    assert is_http_url(url) is expected
