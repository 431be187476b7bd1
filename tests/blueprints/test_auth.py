"""Sign-up, login, logout, throttling, password reset, sessions ending, CSRF."""

from __future__ import annotations

import re

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.blueprints.auth.views import RESET_SALT, make_reset_token
from portal.models import Account, AuditEvent, Membership, OutboxMessage, Role, User
from tests.factories import PASSWORD, make_user, make_user_with_account

SIGNUP = {
    "name": "Anna de Vries",
    "email": "Anna@Example.COM",
    "company": "De Vries Advies",
    "password": "long enough pw",
    "confirm": "long enough pw",
}


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_signup_creates_user_and_owned_client_account(client, db):
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert user.email == "anna@example.com"
    membership = db.session.scalar(select(Membership))
    assert membership.user_id == user.id and membership.role == Role.OWNER
    account = db.session.get(Account, membership.account_id)
    assert account.name == "De Vries Advies" and account.kind.value == "client"
    assert db.session.scalar(select(AuditEvent.action)) == "account.created"
    # logged in: the home page leads into the new account
    home = client.get("/", follow_redirects=True)
    assert b"De Vries Advies" in home.data


def test_duplicate_signup_is_refused_case_insensitively(client, db):
    make_user(email="anna@example.com")
    db.session.commit()
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 200
    assert b"already a user with this e-mail" in response.data
    assert count(db, User) == 1 and count(db, Account) == 0


def test_signup_with_bad_input_rerenders_with_messages_and_keeps_values(client, db):
    data = {**SIGNUP, "email": "not-an-email", "confirm": "something else"}
    response = client.post("/signup", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Invalid email address" in html
    assert "The passwords differ." in html
    assert 'value="De Vries Advies"' in html
    assert count(db, User) == 0


def test_post_without_csrf_token_is_a_400_and_changes_nothing(client, db):
    response = client.post("/signup", data=SIGNUP, csrf=False)
    assert response.status_code == 400
    assert b"expired or was not sent from this site" in response.data
    assert count(db, User) == 0


def test_login_and_logout(client, db):
    user, account = make_user_with_account(email="piet@example.com")
    response = client.post("/login", data={"email": "PIET@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(f"/a/{account.id}/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get(f"/a/{account.id}/").status_code == 302  # to the login page


def test_wrong_password_gives_a_clear_message(client, db):
    make_user_with_account(email="piet@example.com")
    response = client.post("/login", data={"email": "piet@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert b"do not match" in response.data


def test_login_next_parameter_only_goes_to_this_site(client, db):
    make_user_with_account(email="piet@example.com")
    data = {"email": "piet@example.com", "password": PASSWORD}
    response = client.post("/login?next=https://evil.example/", data=data)
    assert "evil" not in response.headers["Location"]


def test_login_is_throttled_per_email(app, client, db):
    make_user_with_account(email="piet@example.com")
    wrong = {"email": "piet@example.com", "password": "wrong"}
    statuses = [client.post("/login", data=wrong).status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    # even the right password is refused while the limit holds
    right = client.post("/login", data={"email": "piet@example.com", "password": PASSWORD})
    assert right.status_code == 429
    assert b"Too many attempts" in right.data


def test_login_is_throttled_per_ip_across_emails(app, client, db):
    app.config["LOGIN_LIMIT_PER_IP"] = "3 per 5 minutes"
    statuses = [
        client.post("/login", data={"email": f"x{i}@example.com", "password": "wrong"}).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_successful_logins_do_not_count_towards_the_throttle(client, db):
    make_user_with_account(email="piet@example.com")
    for _ in range(7):
        response = client.post("/login", data={"email": "piet@example.com", "password": PASSWORD})
        assert response.status_code == 302
        client.post("/logout")


def _reset_link(db) -> str:
    message = db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    return re.search(r"http://portal\.test(/reset/\S+)", message.body_text).group(1)


def test_password_reset_flow(client, db):
    user, _account = make_user_with_account(email="piet@example.com")
    response = client.post("/reset", data={"email": "piet@example.com"})
    assert response.status_code == 302
    link = _reset_link(db)
    response = client.post(link, data={"password": "a brand new pw", "confirm": "a brand new pw"})
    assert response.status_code == 302
    client.post("/logout")
    ok = client.post("/login", data={"email": "piet@example.com", "password": "a brand new pw"})
    assert ok.status_code == 302
    # the link worked once
    again = client.get(link)
    assert again.status_code == 302 and "/reset" in again.headers["Location"]


def test_reset_for_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post("/reset", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert b"If this address has a user" in response.data
    assert count(db, OutboxMessage) == 0


def test_expired_reset_token_is_refused(app, client, db):
    user, _ = make_user_with_account()
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    token = make_reset_token(user)
    response = client.get(f"/reset/{token}", follow_redirects=True)
    assert b"expired or is not valid" in response.data


def test_tampered_reset_token_is_refused_and_changes_nothing(app, client, db):
    user, _ = make_user_with_account()
    old_hash = user.password_hash
    forged = URLSafeTimedSerializer("not the secret", salt=RESET_SALT).dumps(
        {"user": user.id, "session": user.session_token}
    )
    token = make_reset_token(user)
    for bad in (forged, token[:-3] + "abc", "garbage"):
        response = client.post(f"/reset/{bad}", data={"password": "x" * 12, "confirm": "x" * 12})
        assert response.status_code == 302 and "/reset" in response.headers["Location"]
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_changing_password_ends_other_sessions(app, db):
    user, account = make_user_with_account(email="piet@example.com")
    from tests.helpers import PortalClient

    app.test_client_class = PortalClient
    laptop, phone = app.test_client(), app.test_client()
    for c in (laptop, phone):
        assert c.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    response = laptop.post(
        "/settings",
        data={
            "password-current": PASSWORD,
            "password-password": "another good pw",
            "password-confirm": "another good pw",
        },
    )
    assert response.status_code == 302
    assert laptop.get(f"/a/{account.id}/").status_code == 200
    assert phone.get(f"/a/{account.id}/").status_code == 302  # logged out


def test_change_password_with_wrong_current_password_changes_nothing(login, client, db):
    user, _ = make_user_with_account()
    login(user)
    old_hash = user.password_hash
    response = client.post(
        "/settings",
        data={
            "password-current": "wrong",
            "password-password": "another good pw",
            "password-confirm": "another good pw",
        },
    )
    assert response.status_code == 200
    assert b"not your current password" in response.data
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_passwords_are_hashed(db):
    user = make_user(password="plain text secret")
    assert "plain text secret" not in user.password_hash
    assert user.check_password("plain text secret") and not user.check_password("other")
