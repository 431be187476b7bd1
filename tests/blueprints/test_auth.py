"""Sign-up, login, logout, throttling, password reset, sessions ending, CSRF."""

from __future__ import annotations

import re

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from portal.blueprints.auth.views import RESET_SALT, make_reset_token
from portal.models import Account, AuditEvent, Membership, OutboxMessage, Role, User
from tests.factories import PASSWORD, make_user, make_user_with_account

SIGNUP = {"name": "Anna de Vries", "email": "Anna@Example.COM", "company": "De Vries Advies"}
PASSWORDS = {"password": "long enough pw", "confirm": "long enough pw"}
SAME_ANSWER = b"Check your mail"


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _last_mail(db) -> OutboxMessage:
    return db.session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))


def _mailed_path(db, prefix: str) -> str:
    match = re.search(rf"http://portal\.test({prefix}\S+)", _last_mail(db).body_text)
    assert match, _last_mail(db).body_text
    return match.group(1)


def test_signup_mails_a_link_that_creates_the_user_and_owned_client_account(client, db):
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 200 and SAME_ANSWER in response.data
    assert count(db, User) == 0  # nothing exists before the address is proven
    assert _last_mail(db).recipient == "anna@example.com"
    link = _mailed_path(db, "/signup/")
    form = client.get(link).get_data(as_text=True)
    assert 'value="Anna de Vries"' in form and 'value="De Vries Advies"' in form
    response = client.post(link, data={**PASSWORDS, "name": "Anna de Vries", "company": "DVA"})
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert user.email == "anna@example.com" and user.check_password("long enough pw")
    membership = db.session.scalar(select(Membership))
    assert membership.user_id == user.id and membership.role == Role.OWNER
    account = db.session.get(Account, membership.account_id)
    assert account.name == "DVA" and account.kind.value == "client"
    assert db.session.scalar(select(AuditEvent.action)) == "account.created"
    # logged in: the home page leads into the new account
    home = client.get("/", follow_redirects=True)
    assert b"DVA" in home.data
    # the link works once
    client.post("/logout")
    again = client.post(link, data={**PASSWORDS, "name": "X", "company": "Y"})
    assert again.status_code == 302 and "/login" in again.headers["Location"]
    assert count(db, User) == 1 and count(db, Account) == 1


def test_signup_answers_the_same_for_a_known_address_and_mails_its_owner(client, db):
    make_user(email="anna@example.com", name="Anna")
    db.session.commit()
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 200 and SAME_ANSWER in response.data
    assert b"already" not in response.data
    mail = _last_mail(db)
    assert mail.recipient == "anna@example.com"
    assert "already have a user" in mail.body_text and "/reset" in mail.body_text
    assert "/signup/" not in mail.body_text
    assert count(db, User) == 1 and count(db, Account) == 0


def test_a_tampered_or_expired_signup_link_is_refused(app, client, db):
    from portal.blueprints.auth.views import make_signup_token

    for bad in ("garbage", make_signup_token("anna@example.com", "Anna", "A")[:-2] + "xx"):
        response = client.post(f"/signup/{bad}", data={**PASSWORDS, "name": "A", "company": "B"})
        assert response.status_code == 302 and response.headers["Location"].endswith("/signup")
    app.config["SIGNUP_LINK_MAX_AGE"] = -1
    token = make_signup_token("anna@example.com", "Anna", "A")
    response = client.get(f"/signup/{token}", follow_redirects=True)
    assert b"expired or is not valid" in response.data
    assert count(db, User) == 0


def test_signup_with_bad_input_rerenders_with_messages_and_keeps_values(client, db):
    response = client.post("/signup", data={**SIGNUP, "email": "not-an-email"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Invalid email address" in html
    assert 'value="De Vries Advies"' in html
    assert count(db, OutboxMessage) == 0
    client.post("/signup", data=SIGNUP)
    link = _mailed_path(db, "/signup/")
    response = client.post(
        link, data={"name": "A", "company": "B", "password": "x" * 12, "confirm": "y" * 12}
    )
    assert response.status_code == 200 and b"The passwords differ." in response.data
    assert count(db, User) == 0


def test_a_name_with_a_line_break_is_refused_at_signup(client, db):
    response = client.post("/signup", data={**SIGNUP, "name": "Anna\r\nBcc: x@evil.example"})
    assert response.status_code == 200 and b"Use one line" in response.data
    assert count(db, OutboxMessage) == 0
    client.post("/signup", data=SIGNUP)
    link = _mailed_path(db, "/signup/")
    response = client.post(link, data={**PASSWORDS, "name": "Anna", "company": "A\nB"})
    assert response.status_code == 200 and b"Use one line" in response.data
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


def _from(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def test_wrong_passwords_from_one_ip_do_not_lock_the_owner_out(app, client, db):
    make_user_with_account(email="piet@example.com")
    wrong = {"email": "piet@example.com", "password": "wrong"}
    right = {"email": "piet@example.com", "password": PASSWORD}
    attacker = [
        client.post("/login", data=wrong, **_from("10.6.6.6")).status_code for _ in range(6)
    ]
    assert attacker == [200] * 5 + [429]
    refused = client.post("/login", data=right, **_from("10.6.6.6"))
    assert refused.status_code == 429 and b"Too many failed attempts" in refused.data
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    # the owner, elsewhere, logs in at once
    assert client.post("/login", data=right, **_from("10.1.1.1")).status_code == 302


def test_many_ips_guessing_one_address_make_it_wait_a_short_growing_time(
    app, client, db, monkeypatch
):
    from portal.blueprints.auth import throttle

    clock = [1_000_000.0]
    monkeypatch.setattr(throttle, "now", lambda: clock[0])
    make_user_with_account(email="piet@example.com")
    wrong = {"email": "piet@example.com", "password": "wrong"}
    right = {"email": "piet@example.com", "password": PASSWORD}
    for n in range(throttle.EMAIL_FREE_FAILURES):
        assert client.post("/login", data=wrong, **_from(f"10.9.0.{n}")).status_code == 200
    # now every attempt at this address waits a moment after the last failure, from anywhere
    waiting = client.post("/login", data=right, **_from("10.1.1.1"))
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "1"
    clock[0] += 1
    assert client.post("/login", data=wrong, **_from("10.9.1.1")).status_code == 200
    assert client.post("/login", data=wrong, **_from("10.9.1.2")).headers["Retry-After"] == "2"
    for n in range(40):  # the wait grows with every failure, up to a bound
        clock[0] += throttle.MAX_WAIT
        assert client.post("/login", data=wrong, **_from(f"10.9.2.{n}")).status_code == 200
    waiting = client.post("/login", data=right, **_from("10.1.1.1"))
    assert waiting.status_code == 429
    assert int(waiting.headers["Retry-After"]) == throttle.MAX_WAIT
    clock[0] += throttle.MAX_WAIT
    assert client.post("/login", data=right, **_from("10.1.1.1")).status_code == 302


def test_a_browser_that_logged_in_before_skips_the_wait(app, client, db):
    from portal.blueprints.auth import throttle

    make_user_with_account(email="piet@example.com")
    right = {"email": "piet@example.com", "password": PASSWORD}
    assert client.post("/login", data=right, **_from("10.1.1.1")).status_code == 302
    client.post("/logout")
    app.test_client_class = type(client)
    attacker = app.test_client()
    wrong = {"email": "piet@example.com", "password": "wrong"}
    for n in range(throttle.EMAIL_FREE_FAILURES + 3):
        attacker.post("/login", data=wrong, **_from(f"10.9.0.{n}"))
    assert attacker.post("/login", data=right, **_from("10.9.9.9")).status_code == 429
    # the owner's own browser, from a new address, logs in at once
    assert client.post("/login", data=right, **_from("10.2.2.2")).status_code == 302


def test_a_password_reset_clears_the_counters_of_the_address(app, client, db, monkeypatch):
    from portal.blueprints.auth import throttle

    monkeypatch.setattr(throttle, "now", lambda: 1_000_000.0)  # the clock stands still
    make_user_with_account(email="piet@example.com")
    wrong = {"email": "piet@example.com", "password": "wrong"}
    for n in range(throttle.EMAIL_FREE_FAILURES + 5):
        client.post("/login", data=wrong, **_from(f"10.9.0.{n % 3}"))
    client.post("/reset", data={"email": "piet@example.com"})
    new = {"password": "a brand new pw", "confirm": "a brand new pw"}
    assert client.post(_reset_link(db), data=new, **_from("10.9.0.1")).status_code == 302
    client.post("/logout")
    right = {"email": "piet@example.com", "password": "a brand new pw"}
    assert client.post("/login", data=right, **_from("10.9.0.1")).status_code == 302


def test_an_unknown_address_costs_a_password_hash_check(client, db, monkeypatch):
    from portal.models import user as user_module

    calls = []
    real = user_module.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        calls.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(user_module, "check_password_hash", spy)
    make_user_with_account(email="piet@example.com")
    client.post("/login", data={"email": "piet@example.com", "password": "wrong"})
    client.post("/login", data={"email": "nobody@example.com", "password": "wrong"})
    assert len(calls) == 2 and calls[0] == calls[1]  # the same method for both


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
    return _mailed_path(db, "/reset/")


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
    forged = URLSafeTimedSerializer("not the secret", salt=RESET_SALT).dumps({"user": user.id})
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


# --- server-side sessions -------------------------------------------------------------------


def _clients(app, n: int):
    from tests.helpers import PortalClient

    app.test_client_class = PortalClient
    return [app.test_client() for _ in range(n)]


def test_a_session_cookie_copied_before_logout_does_not_work_after_it(app, db):
    user, account = make_user_with_account(email="piet@example.com")
    browser, thief = _clients(app, 2)
    browser.post("/login", data={"email": user.email, "password": PASSWORD})
    stolen = browser.get_cookie("session", domain="portal.test")
    thief.set_cookie(stolen.key, stolen.value, domain=stolen.domain, path=stolen.path)
    assert thief.get(f"/a/{account.id}/").status_code == 200  # the copy works while logged in
    browser.post("/logout")
    assert thief.get(f"/a/{account.id}/").status_code == 302  # to the login page


def test_logging_out_ends_only_that_session(app, db):
    user, account = make_user_with_account(email="piet@example.com")
    laptop, phone = _clients(app, 2)
    for c in (laptop, phone):
        assert c.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    laptop.post("/logout")
    assert laptop.get(f"/a/{account.id}/").status_code == 302
    assert phone.get(f"/a/{account.id}/").status_code == 200


def test_a_password_reset_ends_every_session_and_logs_in_anew(app, db):
    user, account = make_user_with_account(email="piet@example.com")
    laptop, phone = _clients(app, 2)
    phone.post("/login", data={"email": user.email, "password": PASSWORD})
    laptop.post("/reset", data={"email": user.email})
    new = {"password": "a brand new pw", "confirm": "a brand new pw"}
    assert laptop.post(_reset_link(db), data=new).status_code == 302
    assert laptop.get(f"/a/{account.id}/").status_code == 200
    assert phone.get(f"/a/{account.id}/").status_code == 302


def test_a_session_idle_too_long_has_ended(app, client, db, login):
    from datetime import timedelta

    from sqlalchemy import update

    from portal import clock, user_sessions
    from portal.models import UserSession

    user, account = make_user_with_account()
    login(user)
    assert client.get(f"/a/{account.id}/").status_code == 200
    idle = clock.now() - user_sessions.IDLE_LIMIT - timedelta(minutes=1)
    db.session.execute(update(UserSession).values(last_seen_at=idle))
    db.session.commit()
    assert client.get(f"/a/{account.id}/").status_code == 302


def test_an_active_session_is_kept_alive(app, client, db, login):
    from datetime import timedelta

    from sqlalchemy import update

    from portal import clock, user_sessions
    from portal.models import UserSession

    user, account = make_user_with_account()
    login(user)
    almost = clock.now() - user_sessions.IDLE_LIMIT + timedelta(minutes=1)
    db.session.execute(update(UserSession).values(last_seen_at=almost))
    db.session.commit()
    assert client.get(f"/a/{account.id}/").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(UserSession.last_seen_at)) > clock.now() - timedelta(minutes=1)
