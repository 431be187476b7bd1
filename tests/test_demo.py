"""Demo data: created once, printed, and usable to log in."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.demo import DEMO_PASSWORD, DEMO_USERS
from portal.models import User


def test_create_demo_data_is_idempotent_and_prints_the_logins(runner, client, db):
    for _ in range(2):
        result = runner.invoke(args=["create-demo-data"])
        assert result.exit_code == 0, result.output
    assert "office@demo.example" in result.output and DEMO_PASSWORD in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
    login = client.post("/login", data={"email": "office@demo.example", "password": DEMO_PASSWORD})
    assert login.status_code == 302
