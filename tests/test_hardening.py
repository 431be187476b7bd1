"""Hardening: no open redirects, and bad input is a 404 or a form error, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import modules
from portal.models import ExactRecord, User
from portal.urls import safe_next
from tests.exact.portal_helpers import activated_dossier
from tests.factories import PASSWORD, link_client, make_portal, make_user_with_account

HUGE_IDS = [2**31, 2**63 - 1, 2**63, 2**64, int("9" * 30), "9" * 5000]
HUGE_PAGES = ["0", "-3", "abc", str(2**31), str(2**63), str(2**64), "9" * 5000]
HUGE_SEARCH = "x" * 100_000


# --- open redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["/", "/a/1/", "/a/1/sync/data/gl_accounts?q=x&page=2", "/login#top", "/caf%C3%A9"]
)
def test_safe_next_keeps_paths_on_this_site(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\t/evil.example/",
        "/\r\n/evil.example/",
        "/\n/evil.example/",
        "\t//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\x00/evil.example/",
        "/\x7f/evil.example/",
        "/\u200b/evil.example/",
        "javascript:alert(1)",
        "http:/evil.example/",
        "evil.example/",
        " /evil.example/",
    ],
)
def test_safe_next_refuses_everything_that_may_leave_the_site(target):
    assert safe_next(target) is None


def _login_with_next(client, next_value: str):
    make_user_with_account(email="piet@example.com")
    data = {"email": "piet@example.com", "password": PASSWORD}
    return client.post("/login", query_string={"next": next_value}, data=data)


@pytest.mark.parametrize(
    "next_value", ["/\t/evil.example/", "/\r\n/evil.example/", "//evil.example/", "/\\evil.example"]
)
def test_login_next_cannot_leave_the_site(client, db, next_value):
    response = _login_with_next(client, next_value)
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]
    assert not response.headers["Location"].startswith("//")


def test_login_next_on_this_site_is_followed(client, db):
    response = _login_with_next(client, "/accounts?x=1")
    assert response.headers["Location"] == "/accounts?x=1"


def test_login_next_with_a_newline_is_not_a_500(client, db):
    response = _login_with_next(client, "/\r\nSet-Cookie: evil=1")
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


@pytest.mark.parametrize(
    "next_value",
    ["https://evil.example/", "//evil.example/", "/\t/evil.example/", "/\r\nX: y", "/\\x"],
)
def test_language_switch_never_redirects_off_site(client, db, next_value):
    response = client.post("/language", data={"language": "nl", "next": next_value})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and not location.startswith("//") and "\\" not in location


def test_language_switch_returns_to_the_page(client, db):
    response = client.post("/language", data={"language": "nl", "next": "/login?x=1"})
    assert response.headers["Location"] == "/login?x=1"


# --- huge ids, page numbers and search texts --------------------------------------------------


@pytest.fixture
def office(db, login):
    """A portal with one client and an audit trail; its owner is logged in."""
    owner, _own = make_user_with_account(email="olga@kantoor.example")
    portal = make_portal(owner)
    _client_user, client_account = make_user_with_account(email="kees@bakkerij.example")
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    return {"portal": portal.id, "client": client_account.id}


@pytest.mark.parametrize("huge", HUGE_IDS, ids=lambda huge: f"{len(str(huge))}-digits")
def test_huge_ids_in_urls_are_a_404(client, office, huge):
    portal = office["portal"]
    for method, url, expected in [
        ("GET", f"/a/{huge}/", 404),
        ("GET", f"/a/{huge}/audit/", 404),
        ("GET", f"/a/{huge}/sync/data/gl_accounts", 404),
        ("GET", f"/a/{portal}/exact/clients/{huge}", 404),
        ("POST", f"/a/{portal}/access/members/{huge}/revoke", 404),
        ("GET", f"/dev/outbox/{huge}", 404),
        ("POST", f"/a/{portal}/portal/clients/{huge}/add", 302),  # "no such client" flashed
    ]:
        response = client.open(
            url,
            method=method,
            data={"csrf_token": client.csrf_token()} if method == "POST" else None,
        )
        assert response.status_code in (expected, 404), (method, url, response.status_code)


def test_huge_ids_for_an_anonymous_visitor_are_a_404_or_the_login_page(client, db):
    for huge in HUGE_IDS:
        response = client.get(f"/a/{huge}/")
        assert response.status_code in (302, 404)
        assert response.status_code == 404 or "/login" in response.headers["Location"]


@pytest.mark.parametrize("page", HUGE_PAGES)
def test_page_numbers_of_any_size_show_a_page(client, office, page):
    portal = office["portal"]
    for url in (f"/a/{portal}/audit/", f"/a/{portal}/portal/clients"):
        response = client.get(url, query_string={"page": page})
        assert response.status_code == 200, (url, page)


def test_a_huge_search_text_shows_a_page(client, office):
    response = client.get(f"/a/{office['portal']}/portal/clients", query_string={"q": HUGE_SEARCH})
    assert response.status_code == 200


def test_the_sync_pages_take_huge_page_numbers_and_search_texts(
    client, db, login, exact_sandbox, exact_app
):
    dossier = activated_dossier(db, client, login, exact_sandbox, 3001101)
    account_id = dossier["account_id"]
    db.session.add(
        ExactRecord(
            account_id=account_id,
            entity="gl_accounts",
            exact_id="guid-1",
            code="1000",
            description="Kas",
            data={},
        )
    )
    db.session.commit()
    for page in HUGE_PAGES:
        for url in (f"/a/{account_id}/sync/", f"/a/{account_id}/sync/data/gl_accounts"):
            response = client.get(url, query_string={"page": page})
            assert response.status_code == 200, (url, page)
    response = client.get(
        f"/a/{account_id}/sync/data/gl_accounts", query_string={"q": HUGE_SEARCH, "page": 2**63}
    )
    assert response.status_code == 200


# --- single-line text fields ------------------------------------------------------------------

LINE_BREAKS = ["Anna\r\nBcc: x@evil.example", "Anna\nde Vries", "Anna\rde Vries", "Anna\x00"]


@pytest.mark.parametrize("name", LINE_BREAKS, ids=repr)
def test_a_name_with_a_line_break_is_a_form_error_in_the_settings(client, db, login, name):
    user, _account = make_user_with_account(name="Anna")
    login(user)
    response = client.post("/settings", data={"profile-name": name, "profile-language": ""})
    assert response.status_code == 200
    assert b"one line" in response.data
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "Anna"


def test_the_portal_forms_refuse_line_breaks_in_names(client, db, login):
    owner, _own = make_user_with_account()
    login(owner)
    data = {
        "name": "Kantoor\r\nBcc: x@evil.example",
        "portal_email": "portaal@kantoor.example",
        "billing_company": "Kantoor\nBV",
        "billing_vat_number": "NL123456782B01",
        "billing_address": "Kerkstraat 1\n1000 AA Amsterdam",  # more lines are fine here
        "billing_email": "facturen@kantoor.example",
    }
    response = client.post("/portals/new", data=data)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("Use one line") == 2
    portal = make_portal(owner)
    response = client.post(
        f"/a/{portal.id}/portal/clients/new", data={"name": "Bakkerij\r\nX: y", "vat_number": ""}
    )
    assert response.status_code == 200 and b"Use one line" in response.data
    assert db.session.scalar(select(User).where(User.name.contains("\n"))) is None


def test_the_invitation_register_form_refuses_line_breaks_in_names(client, db):
    from portal.clients.access import invitation_token
    from portal.models import Invitation, Role

    _owner, account = make_user_with_account()
    invitation = Invitation(account_id=account.id, email="new@example.com", role=Role.MEMBER)
    db.session.add(invitation)
    db.session.commit()
    url = f"/invitations/{invitation_token(invitation)}/register"
    data = {"name": "New\r\nBcc: x@evil.example"}
    response = client.post(url, data={**data, "password": "x" * 12, "confirm": "x" * 12})
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("Use one line") == 1
    assert db.session.scalar(select(User).where(User.email == "new@example.com")) is None
