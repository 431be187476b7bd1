"""Mail for what an office or a client must act on: a client left the portal, a dossier keeps
failing, and a client's link was changed by its office (issue: trust, "Also")."""

from __future__ import annotations

from sqlalchemy import select

from portal.clients.access import revoke_portal_access
from portal.exact import sync
from portal.models import OutboxMessage, Role, RunStatus, SyncRun, SyncState, Trigger
from tests.factories import (
    link_client,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user_with_account,
)


def _mails(db, to: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == to)))


def test_the_office_hears_when_a_client_revokes_its_access(db):
    office_owner, _ = make_user_with_account()
    portal = make_portal(office_owner, email="kantoor@noord.example")
    client_owner, client = make_user_with_account()
    client.name = "Bakkerij"
    link_client(portal, client)
    revoke_portal_access(client, client_owner)
    db.session.commit()
    mails = _mails(db, "kantoor@noord.example")
    assert len(mails) == 1 and "Bakkerij" in mails[0].subject and "revoked" in mails[0].subject


def test_a_dossier_that_fails_three_runs_in_a_row_is_mailed_once(db):
    office_owner, _ = make_user_with_account(email="olga@noord.example")
    portal = make_portal(office_owner)
    connection = make_exact_connection(portal)
    _u, client = make_user_with_account()
    link_client(portal, client)
    make_division_link(client, connection)
    state = SyncState(account_id=client.id, cursors={})
    db.session.add(state)
    db.session.commit()
    for attempt in range(4):
        run = SyncRun(account_id=client.id, division_code=3001101, trigger=Trigger.SCHEDULE)
        db.session.add(run)
        db.session.flush()
        sync._finish(run, state, RunStatus.FAILED, f"Exact answered 500 ({attempt})")
        db.session.commit()
        expected = 0 if attempt < 2 else 1
        assert len(_mails(db, "olga@noord.example")) == expected, attempt
    mail = _mails(db, "olga@noord.example")[0]
    assert "3 times in a row" in mail.subject and "Exact answered 500 (2)" in mail.body_text


def test_the_clients_owner_hears_when_the_office_changes_its_link(db):
    from portal.exact import links

    office_owner, _ = make_user_with_account()
    portal = make_portal(office_owner)
    divisions = [
        {"code": c, "name": n, "customer": "", "vat": "", "kvk": "", "country": "NL", "status": 1}
        for c, n in ((3001101, "Bakkerij Jansen"), (3001102, "Garage Smit"))
    ]
    connection = make_exact_connection(portal, divisions=divisions)
    client_owner, client = make_user_with_account(email="kees@bakkerij.example")
    link_client(portal, client, role=Role.ADMIN)
    make_division_link(client, connection, 3001101, division_name="Bakkerij Jansen")
    db.session.commit()
    links.activate(client, connection, 3001102, office_owner, overwrite=True)
    db.session.commit()
    mails = _mails(db, "kees@bakkerij.example")
    assert len(mails) == 1
    assert "3001101 Bakkerij Jansen" in mails[0].body_text
    assert "3001102 Garage Smit" in mails[0].body_text
