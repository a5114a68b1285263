"""The country table and EXACT_BASE_URLS parsing."""
import pytest

from exact.hosts import COUNTRIES, base_url, parse_base_urls


def test_countries_are_listed_in_order_with_dutch_names_and_official_hosts():
    assert [(code, c.name, c.base_url) for code, c in COUNTRIES.items()] == [
        ("nl", "Nederland", "https://start.exactonline.nl"),
        ("be", "België", "https://start.exactonline.be"),
        ("de", "Deutschland", "https://start.exactonline.de"),
        ("uk", "United Kingdom", "https://start.exactonline.co.uk"),
        ("us", "United States", "https://start.exactonline.com"),
        ("es", "España", "https://start.exactonline.es"),
        ("fr", "France", "https://start.exactonline.fr"),
    ]


def test_parse_base_urls_reads_overrides_per_country():
    text = " nl=http://127.0.0.1:5001/nl , BE=http://127.0.0.1:5001/be/ ,"
    assert parse_base_urls(text) == {"nl": "http://127.0.0.1:5001/nl", "be": "http://127.0.0.1:5001/be"}


@pytest.mark.parametrize("text", [None, "", "  "])
def test_parse_base_urls_without_text_overrides_nothing(text):
    assert parse_base_urls(text) == {}


@pytest.mark.parametrize("text, complaint", [
    ("nl", "expected 'country=url'"),
    ("nl=", "expected 'country=url'"),
    ("xx=http://127.0.0.1:5001/xx", "unknown country 'xx'"),
    ("nl=ftp://example.com", "not an http(s) base URL"),
    ("nl=127.0.0.1:5001", "not an http(s) base URL"),
    ("nl=http://127.0.0.1:5001/nl?x=1", "not an http(s) base URL"),
    ("nl=http://a/nl,nl=http://b/nl", "given twice"),
])
def test_parse_base_urls_rejects_bad_text_clearly(text, complaint):
    with pytest.raises(ValueError, match="EXACT_BASE_URLS") as raised:
        parse_base_urls(text)
    assert complaint in str(raised.value)


def test_base_url_prefers_override_and_falls_back_to_official_host():
    overrides = {"nl": "http://127.0.0.1:5001/nl"}
    assert base_url("nl", overrides) == "http://127.0.0.1:5001/nl"
    assert base_url("be", overrides) == "https://start.exactonline.be"
    assert base_url("uk") == "https://start.exactonline.co.uk"


def test_base_url_rejects_unknown_country():
    with pytest.raises(ValueError, match="unknown Exact Online country 'xx'"):
        base_url("xx")
