"""Exact Online country hosts and the URLs built on them.

Every country host has the same path layout, and a sandbox server is just another base URL.
An account only works on its own country's host, so the country is stored with the connection.
"""

from __future__ import annotations

HOSTS: dict[str, str] = {
    tld: f"https://start.exactonline.{tld}"
    for tld in ("nl", "be", "de", "fr", "es", "co.uk", "com")
}

# Country codes people type, mapped to the host's top-level domain.
_ALIASES = {"uk": "co.uk", "gb": "co.uk", "us": "com"}


def base_url_for(country: str) -> str:
    """The base URL for a country ("nl", "be", ..., "co.uk", "com"; also "uk"/"gb"/"us")."""
    key = country.strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    try:
        return HOSTS[key]
    except KeyError:
        raise ValueError(f"Unknown Exact Online country: {country!r}") from None


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def authorize_url(base_url: str) -> str:
    return f"{_base(base_url)}/api/oauth2/auth"


def token_url(base_url: str) -> str:
    return f"{_base(base_url)}/api/oauth2/token"


def api_root(base_url: str) -> str:
    return f"{_base(base_url)}/api/v1"
