"""The export pages: *Export to Exact Online* from the ready tab, the export queue (Exact's
reason in the reader's language, the field to fix, retry, back to preparing, the paused export)
and the export history (entry number, attachment, seen in Exact, the runs); who may do what.

Items get their export states directly: the job (``run_export``) is not run here, only queued.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.bookkeeping import export
from portal.extensions import db
from portal.messages import N_
from portal.models import BookItem, ExportRun, ItemStatus, Role, RunStatus, StoredFile
from portal.queue import get_queue
from tests.factories import add_member, make_bookkeeping_client, make_item, make_user
from tests.helpers import sql_statements

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


def _text(response) -> str:
    page = response.get_data(as_text=True).split("<main>", 1)[1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _item(item_id) -> BookItem:
    db.session.expire_all()
    return db.session.get(BookItem, item_id)


def _queued() -> list[str]:
    return list(get_queue(export.EXPORT_QUEUE).job_ids)


@pytest.fixture
def books(app, login, redis_conn):
    client = make_bookkeeping_client()
    db.session.commit()
    login(client["user"])
    client["base"] = f"/a/{client['account'].id}/books"
    return client


def _login_as(client, login, books, role: Role, **user_fields):
    user = make_user(**user_fields)
    add_member(books["account"], user, role)
    db.session.commit()
    client.post("/logout")
    login(user)
    return user


def _failed(account, **fields) -> BookItem:
    values = {
        "status": ItemStatus.FAILED,
        "supplier_name": "Kantoor Plus B.V.",
        "export_requested_at": NOW,
        "export_error": N_("Journal %(code)s no longer exists in Exact Online", code="70"),
        "export_error_field": "journal_code",
        "export_attempts": 1,
    }
    values.update(fields)
    return make_item(account, **values)


def _exported(account, user, n: int = 1, **fields) -> BookItem:
    values = {
        "status": ItemStatus.EXPORTED,
        "supplier_name": f"Leverancier {n}",
        "export_requested_at": NOW,
        "export_requested_by_id": user.id,
        "exported_at": NOW + timedelta(minutes=1),
        "exported_by_id": user.id,
        "exact_entry_id": f"guid-{n}",
        "exact_entry_number": f"2670{n:04d}",
    }
    values.update(fields)
    return make_item(account, **values)


# --- Ready to export → Export to Exact Online ----------------------------------------------------


def test_the_ready_tab_offers_the_export_to_who_may_export(client, login, books):
    ready = make_item(books["account"], status=ItemStatus.READY, supplier_name="Klaar B.V.")
    db.session.commit()
    page = client.get(f"{books['base']}/?tab=ready").get_data(as_text=True)
    assert 'data-testid="export-button"' in page and "Export to Exact Online" in page
    assert f'value="{ready.id}"' in page
    assert 'data-testid="export-button"' not in client.get(f"{books['base']}/").get_data(True)

    _login_as(client, login, books, Role.MEMBER)
    page = client.get(f"{books['base']}/?tab=ready").get_data(as_text=True)
    assert 'data-testid="export-button"' not in page
    refused = client.post(f"{books['base']}/export", data={"item_id": [str(ready.id)]})
    assert refused.status_code == 403
    assert _item(ready.id).status == ItemStatus.READY
    assert _queued() == []


def test_export_takes_only_this_accounts_ready_items_and_queues_one_job(client, books):
    account = books["account"]
    first = make_item(account, status=ItemStatus.READY)
    second = make_item(account, status=ItemStatus.READY)
    prepared = make_item(account, status=ItemStatus.PREPARED)
    db.session.commit()
    response = client.post(
        f"{books['base']}/export",
        data={"item_id": [str(first.id), str(second.id), str(prepared.id)]},
        follow_redirects=True,
    )
    assert response.request.path == f"{books['base']}/exports/queue"
    assert "2 items are being exported to Exact Online." in _text(response)
    assert "2 items are being exported to Exact Online right now." in _text(response)
    for item_id in (first.id, second.id):
        exporting = _item(item_id)
        assert exporting.status == ItemStatus.EXPORTING
        assert exporting.export_requested_by_id == books["user"].id
    assert _item(prepared.id).status == ItemStatus.PREPARED
    assert _queued() == [export.export_job_id(account.id)]

    third = make_item(account, status=ItemStatus.READY)
    db.session.commit()
    client.post(f"{books['base']}/export", data={"item_id": [str(third.id)]})
    assert _item(third.id).status == ItemStatus.EXPORTING
    assert _queued() == [export.export_job_id(account.id)]  # the dossier's one job


def test_request_export_leaves_another_accounts_item_and_queues_after_commit(app, books):
    account = books["account"]
    theirs = make_item(make_bookkeeping_client()["account"], status=ItemStatus.READY)
    mine = make_item(account, status=ItemStatus.READY)
    db.session.commit()
    taken = export.request_export(account, books["user"], [theirs.id, mine.id])
    assert taken == 1
    assert _queued() == []  # nothing before the commit
    db.session.commit()
    assert _queued() == [export.export_job_id(account.id)]
    assert _item(theirs.id).status == ItemStatus.READY
    assert _item(mine.id).status == ItemStatus.EXPORTING


def test_another_accounts_item_ids_are_a_404(client, books):
    other = make_bookkeeping_client()["account"]
    theirs_ready = make_item(other, status=ItemStatus.READY)
    theirs_failed = _failed(other)
    mine = make_item(books["account"], status=ItemStatus.READY)
    db.session.commit()
    base = books["base"]
    both = {"item_id": [str(mine.id), str(theirs_ready.id)]}
    assert client.post(f"{base}/export", data=both).status_code == 404
    failed = {"item_id": [str(theirs_failed.id)]}
    assert client.post(f"{base}/exports/retry", data=failed).status_code == 404
    assert client.post(f"{base}/exports/back", data=failed).status_code == 404
    assert _item(mine.id).status == ItemStatus.READY
    assert _item(theirs_ready.id).status == ItemStatus.READY
    assert _item(theirs_failed.id).status == ItemStatus.FAILED
    assert _queued() == []


def test_nothing_selected_or_nothing_ready_says_so(client, books):
    prepared = make_item(books["account"], status=ItemStatus.PREPARED)
    db.session.commit()
    none = client.post(f"{books['base']}/export", data={}, follow_redirects=True)
    assert "Select at least one item." in _text(none)
    not_ready = client.post(
        f"{books['base']}/export", data={"item_id": [str(prepared.id)]}, follow_redirects=True
    )
    assert "None of the selected items is ready to export." in _text(not_ready)
    assert _item(prepared.id).status == ItemStatus.PREPARED
    assert _queued() == []


def test_an_item_being_exported_is_read_only(client, books):
    item = make_item(books["account"], status=ItemStatus.EXPORTING, description="Papier")
    db.session.commit()
    page = client.get(f"{books['base']}/items/{item.id}")
    body = page.get_data(as_text=True)
    assert 'data-testid="item-form"' not in body and 'data-testid="being-exported"' in body
    assert "Being exported" in _text(page)
    response = client.post(
        f"{books['base']}/items/{item.id}",
        data={"version": str(item.version), "description": "Anders", "action": "save"},
    )
    assert response.status_code == 302
    assert _item(item.id).description == "Papier"


# --- the export queue ----------------------------------------------------------------------------


def test_the_queue_shows_exacts_reason_in_dutch_and_the_field_to_fix(client, login, books):
    item = _failed(books["account"])
    other_reason = _failed(books["account"], export_error=N_("Reload the page and try again."))
    other_reason.export_error_field = None
    db.session.commit()
    _login_as(client, login, books, Role.BOOKKEEPER, language="nl")
    page = client.get(f"{books['base']}/exports/queue")
    assert page.status_code == 200
    text = _text(page)
    assert "Dagboek 70 bestaat niet meer in Exact Online" in text
    assert "Journal 70 no longer exists" not in text
    body = page.get_data(as_text=True)
    assert f'href="{books["base"]}/items/{item.id}#journal_code"' in body
    assert f'href="{books["base"]}/items/{other_reason.id}"' in body
    item_page = client.get(f"{books['base']}/items/{item.id}").get_data(as_text=True)
    assert 'id="journal_code"' in item_page  # the anchor lands on the journal field
    assert "Dagboek 70 bestaat niet meer in Exact Online" in item_page


def test_retry_one_and_retry_all(client, books):
    account = books["account"]
    one, two, three = (_failed(account) for _n in range(3))
    db.session.commit()
    response = client.post(
        f"{books['base']}/exports/retry", data={"item_id": [str(one.id)]}, follow_redirects=True
    )
    assert "1 item is being exported to Exact Online again." in _text(response)
    assert _item(one.id).status == ItemStatus.EXPORTING
    assert _item(one.id).export_error is None
    assert _item(two.id).status == ItemStatus.FAILED
    assert _queued() == [export.export_job_id(account.id)]

    get_queue(export.EXPORT_QUEUE).empty()
    client.post(f"{books['base']}/exports/retry", data={"all": "1"})
    assert {_item(i).status for i in (one.id, two.id, three.id)} == {ItemStatus.EXPORTING}
    assert _queued() == [export.export_job_id(account.id)]


def test_back_to_preparing_needs_the_right_to_prepare(client, login, books):
    item = _failed(books["account"])
    db.session.commit()
    response = client.post(
        f"{books['base']}/exports/back", data={"item_id": [str(item.id)]}, follow_redirects=True
    )
    assert "1 item is back to preparing." in _text(response)
    assert _item(item.id).status == ItemStatus.PREPARED
    assert _queued() == []

    again = _failed(books["account"])
    db.session.commit()
    _login_as(client, login, books, Role.MEMBER)
    data = {"item_id": [str(again.id)]}
    assert client.post(f"{books['base']}/exports/back", data=data).status_code == 403
    assert client.post(f"{books['base']}/exports/retry", data=data).status_code == 403
    page = client.get(f"{books['base']}/exports/queue")
    assert page.status_code == 200 and "Retry all" not in _text(page)
    assert _item(again.id).status == ItemStatus.FAILED


def test_the_queue_says_when_a_paused_export_continues(client, books):
    account = books["account"]
    make_item(account, status=ItemStatus.EXPORTING)
    db.session.add(
        ExportRun(
            account_id=account.id,
            status=RunStatus.WAITING,
            started_at=NOW,
            waiting_until=datetime(2026, 3, 21, 0, 0, 5, tzinfo=UTC),
        )
    )
    db.session.commit()
    text = _text(client.get(f"{books['base']}/exports/queue"))
    assert "Exact Online's limit is reached: the export continues by itself at" in text
    assert "Mar 21, 2026" in text
    assert "1 item is being exported to Exact Online right now." in text


# --- the export history --------------------------------------------------------------------------


def test_the_history_shows_entry_number_attachment_seen_in_exact_and_runs(client, books):
    account, user = books["account"], books["user"]
    stored = StoredFile(
        account_id=account.id,
        sha256="a" * 64,
        storage_key="test/bon.pdf",
        filename="bon-kantoor.pdf",
        file_type="pdf",
        size=100,
    )
    db.session.add(stored)
    db.session.flush()
    seen = _exported(
        account,
        user,
        1,
        file_id=stored.id,
        exact_attachment_id="att-1",
        seen_in_exact_at=NOW + timedelta(hours=1),
    )
    not_yet = _exported(account, user, 2)
    db.session.add(
        ExportRun(
            account_id=account.id,
            status=RunStatus.SUCCEEDED,
            started_at=NOW,
            finished_at=NOW + timedelta(seconds=75),
            items_exported=2,
            items_failed=1,
            api_calls=7,
        )
    )
    db.session.commit()
    page = client.get(f"{books['base']}/exports/history")
    assert page.status_code == 200
    body, text = page.get_data(as_text=True), _text(page)
    assert seen.exact_entry_number in text and not_yet.exact_entry_number in text
    assert f'href="{books["base"]}/files/{stored.id}"' in body and "bon-kantoor.pdf" in text
    assert "Seen in Exact" in text and "after the next sync" in text
    sync_link = f"/a/{account.id}/sync/data/transaction_lines?q={seen.exact_entry_number}"
    assert sync_link in body
    assert user.name in text
    runs = re.findall(r'data-testid="export-run".*?</tr>', body, re.S)
    assert len(runs) == 1
    run_text = html.unescape(re.sub(r"<[^>]+>", " ", runs[0]))
    assert "1 min 15 s" in run_text and " 7 " in run_text


def test_exported_and_failed_tabs_lead_to_the_export_pages(client, books):
    body = client.get(f"{books['base']}/?tab=failed").get_data(as_text=True)
    assert f'href="{books["base"]}/exports/queue"' in body
    body = client.get(f"{books['base']}/?tab=exported").get_data(as_text=True)
    assert f'href="{books["base"]}/exports/history"' in body


# --- cost ----------------------------------------------------------------------------------------


def _statements(client, url: str) -> int:
    with sql_statements(db.engine) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_queue_and_history_cost_the_same_queries_for_5_and_50_items(client, books):
    other = make_bookkeeping_client()
    add_member(other["account"], books["user"], Role.OWNER)
    for account, count in ((books["account"], 5), (other["account"], 50)):
        for n in range(count):
            requester = make_user()
            _failed(account, export_requested_by_id=requester.id)
            _exported(account, requester, n, file_id=None)
        db.session.add(ExportRun(account_id=account.id, status=RunStatus.SUCCEEDED))
    db.session.commit()
    few, many = (f"/a/{a.id}/books" for a in (books["account"], other["account"]))
    for page in ("exports/queue", "exports/history"):
        assert _statements(client, f"{few}/{page}") == _statements(client, f"{many}/{page}"), page
