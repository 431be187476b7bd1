"""Behind TRUSTED_PROXIES reverse proxies the app sees the client's address and scheme, so the
login throttle counts per client, not per proxy; without them a forged header changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, make_user_with_account
from tests.helpers import PortalClient, make_test_app

PROXY = "10.0.0.2"  # what the app sees as REMOTE_ADDR: the proxy in front of it
WRONG = {"email": "piet@example.com", "password": "wrong"}
RIGHT = {"email": "piet@example.com", "password": PASSWORD}


@pytest.fixture
def proxied(app):
    """``proxied(hops, **config)``: a test client of an app behind ``hops`` trusted proxies."""

    def make(hops: int, **config):
        proxied_app = make_test_app(
            app.config["SQLALCHEMY_DATABASE_URI"],
            app.config["REDIS_URL"],
            TRUSTED_PROXIES=hops,
            **config,
        )
        proxied_app.test_client_class = PortalClient
        return proxied_app.test_client()

    return make


def _through_proxy(forwarded_for: str, proto: str = "http") -> dict:
    return {
        "environ_base": {"REMOTE_ADDR": PROXY},
        "headers": {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto},
    }


def test_behind_a_trusted_proxy_the_throttle_counts_per_client(proxied):
    client = proxied(1)
    make_user_with_account(email="piet@example.com")
    attacker = [
        client.post("/login", data=WRONG, **_through_proxy("198.51.100.7")).status_code
        for _ in range(6)
    ]
    assert attacker == [200] * 5 + [429]
    # the owner, behind the same proxy, is another client and logs in at once
    owner = client.post("/login", data=RIGHT, **_through_proxy("203.0.113.9"))
    assert owner.status_code == 302


def test_a_forged_address_in_front_of_the_proxys_own_is_ignored(proxied):
    client = proxied(1)
    make_user_with_account(email="piet@example.com")
    for n in range(5):  # the proxy appends the address it saw to what the client sent
        client.post("/login", data=WRONG, **_through_proxy(f"192.0.2.{n}, 198.51.100.7"))
    refused = client.post("/login", data=RIGHT, **_through_proxy("192.0.2.99, 198.51.100.7"))
    assert refused.status_code == 429


def test_without_trusted_proxies_a_forged_header_does_not_dodge_the_throttle(proxied):
    client = proxied(0)
    make_user_with_account(email="piet@example.com")
    statuses = [
        client.post("/login", data=WRONG, **_through_proxy(f"192.0.2.{n}")).status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]


def test_the_per_ip_limit_sees_the_client_behind_the_proxy(proxied):
    client = proxied(1, LOGIN_LIMIT_PER_IP="3 per 5 minutes")
    statuses = [
        client.post(
            "/login", data={"email": f"x{n}@example.com", "password": "wrong"}, **_through_proxy(ip)
        ).status_code
        for n, ip in enumerate(["198.51.100.7"] * 4 + ["203.0.113.9"])
    ]
    assert statuses == [200, 200, 200, 429, 200]


def test_in_production_the_proxys_https_is_believed(proxied):
    client = proxied(1, PRODUCTION=True)
    response = client.get("/login", **_through_proxy("198.51.100.7", proto="https"))
    assert response.status_code == 200  # not redirected to https: it was https
    assert "Secure" in response.headers["Set-Cookie"]
    plain = client.get("/login", **_through_proxy("198.51.100.7", proto="http"))
    assert plain.status_code == 302 and plain.headers["Location"].startswith("https://")
