"""Exact Online country instances and their base URLs."""
from typing import NamedTuple
from urllib.parse import urlsplit


class Country(NamedTuple):
    """One Exact Online instance: how the app names it and where it lives."""

    name: str
    base_url: str


# Each country is a separate Exact instance: apps, tokens and divisions don't carry over.
COUNTRIES: dict[str, Country] = {
    "nl": Country("Nederland", "https://start.exactonline.nl"),
    "be": Country("België", "https://start.exactonline.be"),
    "de": Country("Deutschland", "https://start.exactonline.de"),
    "uk": Country("United Kingdom", "https://start.exactonline.co.uk"),
    "us": Country("United States", "https://start.exactonline.com"),
    "es": Country("España", "https://start.exactonline.es"),
    "fr": Country("France", "https://start.exactonline.fr"),
}


def parse_base_urls(text: str | None) -> dict[str, str]:
    """Parse EXACT_BASE_URLS ("nl=http://127.0.0.1:5001/nl,be=…") into per-country overrides."""
    overrides: dict[str, str] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        country, sep, url = (part.strip() for part in item.partition("="))
        country = country.lower()
        if not sep or not url:
            raise ValueError(f"EXACT_BASE_URLS: expected 'country=url', got {item!r}")
        if country not in COUNTRIES:
            known = ", ".join(COUNTRIES)
            raise ValueError(f"EXACT_BASE_URLS: unknown country {country!r} (known: {known})")
        if country in overrides:
            raise ValueError(f"EXACT_BASE_URLS: country {country!r} is given twice")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"EXACT_BASE_URLS: {url!r} for {country!r} is not an http(s) base URL")
        overrides[country] = url.rstrip("/")
    return overrides


def base_url(country: str, overrides: dict[str, str] | None = None) -> str:
    """The base URL for a country, honouring configured overrides."""
    if country not in COUNTRIES:
        raise ValueError(f"unknown Exact Online country {country!r}")
    return (overrides or {}).get(country, COUNTRIES[country].base_url)
