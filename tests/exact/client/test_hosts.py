import pytest

from portal.exact.client import hosts


@pytest.mark.parametrize(
    ("country", "url"),
    [
        ("nl", "https://start.exactonline.nl"),
        ("be", "https://start.exactonline.be"),
        ("de", "https://start.exactonline.de"),
        ("fr", "https://start.exactonline.fr"),
        ("es", "https://start.exactonline.es"),
        ("co.uk", "https://start.exactonline.co.uk"),
        ("uk", "https://start.exactonline.co.uk"),
        ("com", "https://start.exactonline.com"),
        (" NL ", "https://start.exactonline.nl"),
    ],
)
def test_base_url_for_country(country, url):
    assert hosts.base_url_for(country) == url


def test_unknown_country_is_refused():
    with pytest.raises(ValueError, match="xx"):
        hosts.base_url_for("xx")


def test_urls_from_any_base_url_including_a_sandbox():
    assert hosts.authorize_url("https://start.exactonline.be") == (
        "https://start.exactonline.be/api/oauth2/auth"
    )
    assert hosts.token_url("http://127.0.0.1:5001/") == "http://127.0.0.1:5001/api/oauth2/token"
    assert hosts.api_root("http://127.0.0.1:5001/sandbox") == "http://127.0.0.1:5001/sandbox/api/v1"
