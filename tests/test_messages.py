"""Texts a worker stores (run errors, last error, blocked reason) are shown in the reader's
language: the worker keeps the message (template + parameters), the page translates it."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from rq import SimpleWorker

from portal import messages, modules
from portal.exact import links, sync
from portal.exact.client.errors import ExactDailyLimitReached, ExactForbidden
from portal.extensions import db as _db
from portal.models import Role, RunStatus, SyncRun, SyncState, Trigger
from portal.queue import get_queue, redis_connection
from tests.factories import (
    PASSWORD,
    add_member,
    make_account,
    make_division_link,
    make_exact_connection,
    make_user,
)


@pytest.fixture()
def dossier(db):
    dutch = make_user(language="nl")
    english = make_user(language="en")
    client = make_account(name="Bakkerij De Klant", owner=dutch)
    add_member(client, english, Role.ADMIN)
    modules.set_enabled(client, "exact_online", True)
    connection = make_exact_connection(client)
    link = make_division_link(client, connection, vat_number="NL001")
    db.session.commit()
    return {"client": client, "link": link, "dutch": dutch, "english": english}


def _page(client, login, email: str, url: str) -> str:
    """The page as the user with that e-mail address reads it (a browser of their own)."""
    client = client.application.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return html.unescape(client.get(url).get_data(as_text=True))


def test_a_blocked_reason_stored_by_the_worker_is_shown_in_each_readers_language(
    dossier, db, client, login
):
    link, account_id = dossier["link"], dossier["client"].id
    dutch, english = dossier["dutch"].email, dossier["english"].email
    # A run notices other details in Exact (the worker's language: English) ...
    assert not links.check_identity(
        link, {"name": "Administration 3001101", "vat": "NL002", "kvk": ""}
    )
    db.session.commit()
    assert link.blocked_reason.startswith("Exact Online now reports other details")
    assert link.blocked_reason_message is not None
    # ... and the next scheduled run stops on it, in a real worker.
    get_queue("sync").enqueue("portal.jobs.sync.sync_dossier", account_id, "schedule")
    SimpleWorker([get_queue("sync")], connection=redis_connection()).work(burst=True)
    _db.session.expire_all()
    state = _db.session.query(SyncState).filter_by(account_id=account_id).one()
    assert state.last_status == RunStatus.STOPPED and state.last_error_message is not None

    nl = _page(client, login, dutch, f"/a/{account_id}/sync/")
    assert "Exact Online meldt nu andere gegevens voor administratie 3001101" in nl
    assert "Exact Online now reports" not in nl
    en = _page(client, login, english, f"/a/{account_id}/sync/")
    assert "Exact Online now reports other details for administration 3001101" in en

    nl = _page(client, login, dutch, f"/a/{account_id}/exact/clients/{account_id}")
    assert "Exact Online meldt nu andere gegevens" in nl
    assert "NL001 → NL002" in nl
    en = _page(client, login, english, f"/a/{account_id}/exact/clients/{account_id}")
    assert "Exact Online now reports other details" in en


def test_a_run_error_stored_by_the_worker_is_shown_in_each_readers_language(
    dossier, db, client, login
):
    account = dossier["client"]
    account_id = account.id
    dutch, english = dossier["dutch"].email, dossier["english"].email
    state = sync.state_for(account.id)
    reset = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
    for error in (
        ExactForbidden.build(reason="DivisionBlocked", endpoint="financial/glaccounts"),
        ExactDailyLimitReached(reset_at=reset),
    ):
        run = SyncRun(account_id=account.id, division_code=3001101, trigger=Trigger.SCHEDULE)
        db.session.add(run)
        sync._finish(run, state, RunStatus.FAILED, sync.error_message(error))
    db.session.commit()
    assert state.last_error.startswith("Exact Online's daily limit")  # the worker's English

    nl = _page(client, login, dutch, f"/a/{account_id}/sync/")
    assert "Deze administratie is geblokkeerd in Exact Online." in nl
    assert "De daglimiet van Exact Online voor deze administratie is bereikt" in nl
    assert "daily limit" not in nl and "This administration is blocked" not in nl
    en = _page(client, login, english, f"/a/{account_id}/sync/")
    assert "Exact Online's daily limit of calls for this administration was reached" in en
    assert "This administration is blocked in Exact Online." in en


def test_old_rows_without_a_message_show_their_text_as_stored(dossier, db, client, login):
    account = dossier["client"]
    account_id = account.id
    dutch = dossier["dutch"].email
    state = sync.state_for(account.id)
    state.last_status, state.last_error = RunStatus.FAILED, "Some old English text."
    db.session.commit()
    assert state.last_error_message is None
    page = _page(client, login, dutch, f"/a/{account_id}/sync/")
    assert "Some old English text." in page


def test_a_message_survives_json_and_bad_json_never_breaks():
    message = messages.N_("The Exact Online module of %(name)s is off.", name=messages.N_("name"))
    again = messages.Message.from_json(message.to_json())
    assert again == message and again.params["name"] == "name"
    assert messages.shown("as stored", {"t": "%(a)s", "p": {"b": 1}}) == "as stored"
    assert messages.shown("as stored", {"x": 1}) == "as stored"
    assert messages.shown(None, None) == ""
