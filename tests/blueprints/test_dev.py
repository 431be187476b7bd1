"""The demo's mail outbox: only for a signed-in user, never in production."""

from __future__ import annotations

import pytest

from portal.mail import send_mail
from tests.factories import make_user_with_account
from tests.helpers import make_test_app


def _message(db):
    user = type("U", (), {"name": "Someone"})()
    message = send_mail(
        "someone@example.com", "Reset", "reset_password", user=user, link="http://x/r"
    )
    db.session.commit()
    return message


def test_the_outbox_needs_a_signed_in_user(app, client, db, login):
    app.config["OUTBOX_PAGE"] = True
    message = _message(db)
    for url in ("/dev/outbox", f"/dev/outbox/{message.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    user, _account = make_user_with_account()
    login(user)
    assert b"someone@example.com" in client.get("/dev/outbox").data
    assert b"http://x/r" in client.get(f"/dev/outbox/{message.id}").data


def test_the_outbox_cannot_be_turned_on_in_production(migrated_database, redis_url):
    with pytest.raises(ValueError, match="OUTBOX_PAGE"):
        make_test_app(migrated_database, redis_url, PRODUCTION=True, OUTBOX_PAGE=True)


def test_the_outbox_stays_off_in_production_even_if_switched_on_later(
    migrated_database, redis_url, redis_conn
):
    app = make_test_app(migrated_database, redis_url, PRODUCTION=True, FORCE_HTTPS=False)
    with app.app_context():
        app.config["OUTBOX_PAGE"] = True
        assert app.test_client().get("/dev/outbox").status_code == 404
