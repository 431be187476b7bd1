"""Demo data: an office portal with clients in both states, created once, usable to log in."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.demo_data import DEMO_PASSWORD, DEMO_USERS, PORTAL_EMAIL
from portal.models import Account, PortalLink, PortalLinkStatus, User


def test_create_demo_data_is_idempotent_and_prints_the_logins(runner, client, db):
    for _ in range(2):
        result = runner.invoke(args=["create-demo-data"])
        assert result.exit_code == 0, result.output
    assert "office@demo.example" in result.output and DEMO_PASSWORD in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
    statuses = list(db.session.scalars(select(PortalLink.status)))
    assert statuses.count(PortalLinkStatus.ACTIVE) == 3
    assert statuses.count(PortalLinkStatus.PENDING) == 2
    portal = db.session.scalar(select(Account).where(Account.portal_email == PORTAL_EMAIL))
    login = client.post("/login", data={"email": "office@demo.example", "password": DEMO_PASSWORD})
    assert login.status_code == 302
    page = client.get(f"/a/{portal.id}/portal/clients").get_data(as_text=True)
    assert (
        "Bakkerij De Klant" in page and "Garage Peeters" in page and "Waiting to be added" in page
    )
