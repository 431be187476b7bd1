"""The dossier sync pages: state, live progress, run history, read-only master data, Sync now,
and on the portal the client list's sync columns and "Sync all clients"."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq.job import JobStatus
from sqlalchemy import select

from portal import modules
from portal.exact import sync
from portal.exact.client.ratelimit import RateLimits
from portal.exact.scheduling import resume_job_id, sync_job_id
from portal.extensions import db as _db
from portal.models import (
    ConnectionStatus,
    ExactConnection,
    ExactDivisionLink,
    ExactRecord,
    LinkStatus,
    Role,
    SyncRun,
    SyncState,
)
from portal.queue import get_queue
from tests.exact.portal_helpers import activated_dossier
from tests.exact.sync_helpers import run_sync_queue
from tests.factories import (
    add_member,
    link_client,
    make_account,
    make_division_link,
    make_exact_connection,
    make_portal,
    make_user,
    make_user_with_account,
)
from tests.helpers import sql_statements

DIVISION = 3001101


def _now() -> datetime:
    return datetime.now(UTC)


def _main(response) -> str:
    """The page's main content, without the navigation."""
    return response.get_data(as_text=True).split("<main>", 1)[1]


def _flash(response) -> str:
    """The flashed messages of a page, as text."""
    return " ".join(
        html.unescape(m)
        for m in re.findall(r'<div class="flash [^"]*"[^>]*>(.*?)</div>', _main(response), re.S)
    )


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


def _queued() -> set[str]:
    return set(get_queue("sync-now").job_ids) | set(get_queue("sync").job_ids)


# --- fixtures: dossiers linked without Exact (fast), and one synced through the sandbox -------


def _connection(account, status=ConnectionStatus.CONNECTED) -> ExactConnection:
    connection = make_exact_connection(account, divisions=[])
    connection.status = status
    return connection


def _link(client, connection, division=DIVISION, status=LinkStatus.ACTIVE) -> ExactDivisionLink:
    link = make_division_link(
        client, connection, division, division_name=f"Administratie {division}", status=status
    )
    _db.session.commit()
    return link


@pytest.fixture
def office(db, login):
    """A portal (Exact on, connected) with one linked client; the portal's owner logged in."""
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    client_user, client_account = make_user_with_account()
    link_client(portal, client_account)
    modules.set_enabled(portal, "exact_online", True)
    connection = _connection(portal)
    _link(client_account, connection)
    login(owner)
    return {
        "portal": portal,
        "client": client_account,
        "owner": owner,
        "client_user": client_user,
        "connection": connection,
    }


@pytest.fixture
def dossier(exact_app, db, login, client, exact_sandbox):
    """A portal client whose division is activated (queues its initial sync) through Exact."""
    return activated_dossier(db, client, login, exact_sandbox, DIVISION)


def _records(account, entity: str, n: int, deleted: int = 0) -> None:
    """``n`` live rows (codes S000..) and ``deleted`` rows marked deleted in Exact."""
    now = _now()
    rows = [
        {
            "account_id": account.id,
            "division_code": DIVISION,
            "entity": entity,
            "exact_id": f"id-{i}",
            "code": f"S{i:03d}",
            "description": f"Leverancier {i:03d}" + (" Bakkerij" if i == 7 else ""),
            "data": {"Code": f"S{i:03d}", "Name": f"Leverancier {i:03d}", "IsSupplier": True},
            "deleted_at": now if i >= n else None,
            "synced_at": now,
        }
        for i in range(n + deleted)
    ]
    _db.session.execute(ExactRecord.__table__.insert(), rows)
    _db.session.commit()


def _budget(division: int, minute: int, day: int, minute_reset_s=30, day_reset_at=None) -> None:
    """Exact's rate-limit headers as a response would leave them in Redis (the app's scope)."""
    from portal.exact.wiring import client_credentials
    from portal.queue import redis_connection

    now_ms = int(time.time() * 1000)
    day_reset_ms = int(day_reset_at.timestamp() * 1000) if day_reset_at else now_ms + 3600_000
    RateLimits(redis_connection(), scope=client_credentials()[0] or "exact").record(
        division,
        {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(day),
            "X-RateLimit-Reset": str(day_reset_ms),
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": str(minute),
            "X-RateLimit-Minutely-Reset": str(now_ms + minute_reset_s * 1000),
        },
    )


# --- the sync page against the sandbox ------------------------------------------------------


def test_sync_page_shows_the_run_history_with_counts_per_entity_and_api_calls(dossier, client, db):
    account_id = dossier["account_id"]
    queued = _main(client.get(f"/a/{account_id}/sync/"))
    assert "The sync is queued" in queued  # activation queued the first import
    assert "No run yet." in queued
    run_sync_queue()
    run = db.session.scalar(select(SyncRun).where(SyncRun.account_id == account_id))
    assert run.status == "succeeded" and run.api_calls > 0
    response = client.get(f"/a/{account_id}/sync/")
    assert response.status_code == 200
    page = _main(response)
    assert f"{DIVISION} Bakkerij Jansen" in page
    assert page.count('data-testid="run"') == 1
    cells = _text(page.split('data-testid="run">', 1)[1].split("</section>", 1)[0])
    assert "first import" in cells and "succeeded" in cells
    assert f" {run.api_calls} " in cells
    # per entity: label and in / changed / deleted
    assert re.search(r"Transaction lines 80 0 0", cells)
    assert re.search(r"GL accounts \d+ 0 0", cells)
    totals = sum(c["in"] for k, c in run.stats.items() if not k.startswith("_"))
    assert f"{totals} / 0 / 0" in cells
    # no run is going: the progress box is hidden; "Sync now" replaces "Start import"
    assert 'data-active="0"' in page and "Sync now" in page and "Start import" not in page
    # the state and the division's API budget as Exact reported it
    assert "Last sync" in page and "this minute" in page and "today" in page
    # the master data links count the live rows
    assert f'href="/a/{account_id}/sync/data/transaction_lines"' in page


def test_master_data_of_a_synced_dossier_pages_through_its_rows(dossier, client, db):
    run_sync_queue()
    account_id = dossier["account_id"]
    first = _main(client.get(f"/a/{account_id}/sync/data/transaction_lines"))
    assert "80 rows" in first and "Page 1 of 2" in first
    assert first.count("<tr>") - 1 == 50  # the header row, then 50 rows
    second = _main(client.get(f"/a/{account_id}/sync/data/transaction_lines?page=2"))
    assert second.count("<tr>") - 1 == 30
    assert "From Exact Online — read-only here; change it in Exact Online." in first
    assert db.session.scalar(select(SyncState)).last_run_at is not None
    assert "Last synced " in first and "UTC" not in first  # in the user's time zone


def test_the_portal_client_list_shows_the_last_sync_and_the_budget_after_a_run(dossier, client, db):
    run_sync_queue()
    page = _main(client.get(f"/a/{dossier['portal_id']}/portal/clients"))
    (cell,) = re.findall(r'data-testid="last-sync">(.*?)</td>', page, re.S)
    assert "succeeded" in cell and f"/a/{dossier['account_id']}/sync/" in cell
    (budget,) = re.findall(r'data-testid="budget">(.*?)</td>', page, re.S)
    assert "this minute" in budget and "today" in budget  # from the sandbox's headers


@pytest.mark.parametrize(
    "exact_sandbox_config", [{"limits": {"minutely": 10000, "daily": 6}}], ids=["daily-6"]
)
def test_a_run_that_spends_the_daily_budget_shows_when_it_continues(dossier, client, db):
    run_sync_queue()
    state = db.session.scalar(select(SyncState))
    assert state.last_status == "waiting" and state.waiting_until.hour == 0
    when = state.waiting_until.strftime("%Y-%m-%d %H:%M UTC")
    page = _text(_main(client.get(f"/a/{dossier['account_id']}/sync/")))
    assert f"waiting until {when} (Exact's daily limit; continues after the UTC reset)" in page
    assert "daily limit reached" in page and "daily limit" in state.last_error
    assert _text(state.last_error).strip() in page  # the reason, in plain words
    listing = _text(_main(client.get(f"/a/{dossier['portal_id']}/portal/clients")))
    assert f"waiting until {when} (Exact's daily limit" in listing
    assert f"daily limit reached next run after the UTC reset, {when}" in listing


# --- Sync now -----------------------------------------------------------------------------


def test_sync_now_queues_a_job_and_a_second_press_says_it_is_already_queued(office, client):
    account_id = office["client"].id
    page = _main(client.get(f"/a/{account_id}/sync/"))
    assert "Start import" in page  # never synced yet
    first = client.post(f"/a/{account_id}/sync/now", follow_redirects=True)
    assert "The sync is queued and starts in a moment." in _main(first)
    assert sync_job_id(account_id) in _queued()
    second = client.post(f"/a/{account_id}/sync/now", follow_redirects=True)
    assert "already queued or running" in _main(second)
    assert list(_queued()).count(sync_job_id(account_id)) == 1
    # the page now shows the queued run, and the script that polls for it
    assert 'data-active="1"' in _main(second) and "js/sync.js" in _main(second)


def test_members_see_the_sync_page_but_cannot_press_sync_now(office, client, login, db):
    account_id = office["client"].id
    member = make_user()
    add_member(office["client"], member, Role.MEMBER)
    staff = make_user()  # a member of the portal: member in its clients too
    add_member(office["portal"], staff, Role.MEMBER)
    db.session.commit()
    for user in (member, staff):
        client.post("/logout")
        login(user)
        page = client.get(f"/a/{account_id}/sync/")
        assert page.status_code == 200 and "Sync now" not in _main(page)
        assert "Start import" not in _main(page)
        assert client.post(f"/a/{account_id}/sync/now").status_code == 403
    assert sync_job_id(account_id) not in _queued()


def test_the_clients_own_owner_can_sync_its_dossier(office, client, login):
    client.post("/logout")
    login(office["client_user"])
    account_id = office["client"].id
    nav = client.get(f"/a/{account_id}/").get_data(as_text=True).split("<main>")[0]
    assert f'href="/a/{account_id}/sync/"' in nav
    client.post(f"/a/{account_id}/sync/now")
    assert sync_job_id(account_id) in _queued()


def test_sync_now_on_a_dossier_that_may_not_sync_says_why(office, client, db):
    modules.set_enabled(office["portal"], "exact_online", False)
    db.session.commit()
    account_id = office["client"].id
    page = _main(client.get(f"/a/{account_id}/sync/"))
    assert "The sync cannot run:" in page and "module" in page and "Sync now" not in page
    response = client.post(f"/a/{account_id}/sync/now", follow_redirects=True)
    assert "The sync cannot start:" in _main(response) and "module" in _main(response)
    assert sync_job_id(account_id) not in _queued()


def test_a_spent_daily_budget_moves_the_next_run_after_the_utc_reset_and_says_so(
    office, client, db
):
    account_id = office["client"].id
    reset = (_now() + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    db.session.add(
        SyncState(
            account_id=account_id,
            cursors={},
            last_status="waiting",
            last_error="Exact Online's daily limit for this administration is reached.",
            last_run_at=_now(),
            waiting_until=reset,
            next_run_at=reset,
        )
    )
    db.session.commit()
    _budget(DIVISION, minute=55, day=0, day_reset_at=reset)
    when = reset.strftime("%Y-%m-%d %H:%M UTC")
    page = _text(_main(client.get(f"/a/{account_id}/sync/")))
    assert f"waiting until {when} (Exact's daily limit; continues after the UTC reset)" in page
    assert "daily limit reached" in page and f"next run after the UTC reset, {when}" in page
    response = client.post(f"/a/{account_id}/sync/now", follow_redirects=True)
    assert "continues after the UTC reset" in _main(response)
    assert sync_job_id(account_id) not in _queued()
    listing = _text(_main(client.get(f"/a/{office['portal'].id}/portal/clients")))
    assert "Exact's daily limit; continues after the UTC reset" in listing
    assert "daily limit reached" in listing


# --- live progress ------------------------------------------------------------------------


def test_progress_json_while_a_run_is_going_and_after(office, client, db):
    account_id = office["client"].id
    db.session.add(SyncState(account_id=account_id, cursors={}, last_status="succeeded"))
    db.session.commit()
    sync.set_progress(account_id, "gl_accounts", 120)
    going = client.get(f"/a/{account_id}/sync/progress.json").get_json()
    assert going["running"] is True
    assert going["entity"] == "GL accounts" and going["rows"] == 120
    assert going["step"] == 2 and going["steps"] == 10
    assert going["status"] == "succeeded"
    assert going["message"] == "Syncing GL accounts (2 of 10): 120 rows so far"
    page = _main(client.get(f"/a/{account_id}/sync/"))
    assert 'data-active="1"' in page and "120 rows so far" in page
    assert re.search(r'<progress max="10" value="1"', page)  # one entity finished
    sync.clear_progress(account_id)
    done = client.get(f"/a/{account_id}/sync/progress.json").get_json()
    assert done["running"] is False and done["queued"] is False
    assert done["entity"] is None and done["rows"] == 0 and done["status"] == "succeeded"
    assert 'data-active="0"' in _main(client.get(f"/a/{account_id}/sync/"))


def test_a_resume_after_a_spent_minute_shows_as_queued_then_running(office, client):
    account_id = office["client"].id
    job = get_queue("sync-now").enqueue(
        "portal.jobs.sync.sync_dossier", account_id, "resume", job_id=resume_job_id(account_id)
    )
    queued = client.get(f"/a/{account_id}/sync/progress.json").get_json()
    assert queued["queued"] is True and queued["running"] is False
    job.set_status(JobStatus.STARTED)
    running = client.get(f"/a/{account_id}/sync/progress.json").get_json()
    assert running["running"] is True and running["message"] == "The sync has started."


def test_progress_json_says_queued_before_the_worker_starts(office, client):
    account_id = office["client"].id
    client.post(f"/a/{account_id}/sync/now")
    queued = client.get(f"/a/{account_id}/sync/progress.json").get_json()
    assert queued["running"] is False and queued["queued"] is True
    assert queued["status"] is None


# --- read-only master data ------------------------------------------------------------------


def test_master_data_search_paging_and_deleted_rows(office, client, db):
    account_id = office["client"].id
    _records(office["client"], "accounts", 120, deleted=3)
    _records(make_account(), "accounts", 5)  # another client's rows never show
    url = f"/a/{account_id}/sync/data/accounts"
    first = _main(client.get(url))
    assert "120 rows" in first and "Page 1 of 3" in first
    assert "S000" in first and "S050" not in first
    assert all(col in first for col in ("<th>Code</th>", "<th>Name</th>", "<th>Supplier</th>"))
    assert re.search(r"<td>\s*yes\s*</td>", first)  # booleans in words
    third = _main(client.get(url + "?page=3"))
    assert "S119" in third and "S099" not in third and third.count("<tr>") - 1 == 20
    assert "S120" not in _main(client.get(url + "?page=3"))  # deleted: hidden by default
    # search: code or description, case-insensitive
    by_code = _main(client.get(url + "?q=s01"))
    assert "10 rows" in by_code and "S010" in by_code and "S019" in by_code
    by_description = _main(client.get(url + "?q=BAKKERIJ"))
    assert "1 row" in by_description and "S007" in by_description
    assert "No row matches “%”." in _main(client.get(url + "?q=%"))  # a literal, not a wildcard
    # the toggle shows deleted rows, marked
    with_deleted = _main(client.get(url + "?deleted=1&page=3"))
    assert "123 rows" in with_deleted
    assert with_deleted.count('data-testid="deleted-row"') == 3
    assert "deleted in Exact on" in with_deleted
    # the pager keeps the search and the toggle
    assert "deleted=1" in _main(client.get(url + "?deleted=1"))
    assert "q=leverancier" in _main(client.get(url + "?q=leverancier"))


def test_master_data_pages_are_read_only_and_say_where_the_data_comes_from(app, office, client, db):
    account_id = office["client"].id
    db.session.add(
        SyncState(account_id=account_id, cursors={}, last_status="succeeded", last_run_at=_now())
    )
    db.session.commit()
    _records(office["client"], "accounts", 3)
    url = f"/a/{account_id}/sync/data/accounts"
    page = _main(client.get(url))
    assert "From Exact Online — read-only here; change it in Exact Online." in page
    assert "Last synced " in page and "succeeded" in page
    assert 'method="post"' not in page.lower()  # only the search form (GET)
    assert client.post(url).status_code == 405
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == "sync.data"]
    assert [sorted(r.methods - {"HEAD", "OPTIONS"}) for r in rules] == [["GET"]]


def test_unknown_entities_and_dossiers_without_a_link_are_404(office, client, db):
    account_id = office["client"].id
    assert client.get(f"/a/{account_id}/sync/data/nope").status_code == 404
    assert client.get(f"/a/{account_id}/sync/data/accounts").status_code == 200
    _u, unlinked = make_user_with_account()
    link_client(office["portal"], unlinked)
    for path in ("/sync/", "/sync/progress.json", "/sync/data/accounts"):
        assert client.get(f"/a/{unlinked.id}{path}").status_code == 404
    assert client.post(f"/a/{unlinked.id}/sync/now").status_code == 404
    nav = client.get(f"/a/{unlinked.id}/").get_data(as_text=True).split("<main>")[0]
    assert "/sync/" not in nav
    # the portal itself has no dossier pages, only "Sync all clients"
    assert client.get(f"/a/{office['portal'].id}/sync/").status_code == 404
    assert client.post(f"/a/{account_id}/sync/all").status_code == 404


# --- the portal's client list ---------------------------------------------------------------


def test_client_list_shows_last_sync_state_error_and_budget(office, client, db):
    ok_client = office["client"]
    failing = make_account(name="Zzz Failing BV")
    link_client(office["portal"], failing)
    _link(failing, office["connection"], division=3001102)
    link_client(office["portal"], make_account(name="Aaa Unlinked"))
    long_error = "Exact Online could not be reached. " + "Details " * 30
    db.session.add_all(
        [
            SyncState(
                account_id=ok_client.id,
                cursors={},
                last_status="succeeded",
                last_run_at=_now() - timedelta(minutes=5),
            ),
            SyncState(
                account_id=failing.id,
                cursors={},
                last_status="failed",
                last_error=long_error,
                last_run_at=_now(),
            ),
        ]
    )
    db.session.commit()
    _budget(DIVISION, minute=42, day=4321)
    page = _main(client.get(f"/a/{office['portal'].id}/portal/clients"))
    cells = re.findall(r'data-testid="last-sync">(.*?)</td>', page, re.S)
    budgets = re.findall(r'data-testid="budget">(.*?)</td>', page, re.S)
    unlinked, ok, failed = cells  # by name
    assert _text(unlinked).strip() == "—"
    assert "succeeded" in ok and f"/a/{ok_client.id}/sync/" in ok
    assert "failed" in failed and "Exact Online could not be reached." in failed
    assert f">{long_error}<" not in failed and f'title="{long_error}"' in failed  # shortened
    assert "Details...</small>" in failed
    assert "42 this minute" in _text(budgets[1]) and "4321 today" in _text(budgets[1])
    assert _text(budgets[2]).strip() == "—"  # no call made to that division yet
    assert "Sync all clients" in page


def test_a_budget_seen_in_an_earlier_minute_counts_as_a_fresh_minute(office, client):
    _budget(DIVISION, minute=3, day=4000, minute_reset_s=-5)
    page = _text(_main(client.get(f"/a/{office['portal'].id}/portal/clients")))
    assert "60 this minute" in page and "4000 today" in page


def test_client_list_queries_stay_constant_with_synced_clients(app, office, client, db):
    def queries() -> int:
        with sql_statements(_db.engine) as statements:
            assert client.get(f"/a/{office['portal'].id}/portal/clients").status_code == 200
        return len(statements)

    def add_synced_clients(n: int, start: int) -> None:
        for i in range(start, start + n):
            account = make_account(name=f"Klant {i:03d}")
            link_client(office["portal"], account)
            _link(account, office["connection"], division=4000000 + i)
            db.session.add(
                SyncState(
                    account_id=account.id,
                    cursors={},
                    last_status="failed",
                    last_error="x",
                    last_run_at=_now(),
                )
            )
            _budget(4000000 + i, minute=50, day=4000)
        db.session.commit()

    add_synced_clients(3, 0)
    small = queries()
    add_synced_clients(60, 3)
    large = queries()
    print(f"client list queries with synced clients: 4 clients={small}, 64 clients={large}")
    assert large == small


# --- Sync all clients -----------------------------------------------------------------------


def test_sync_all_queues_the_eligible_clients_only(office, client, login, db):
    portal = office["portal"]
    eligible = office["client"]

    def client_of_portal(name, role=Role.ADMIN):
        account = make_account(name=name)
        link_client(portal, account, role=role)
        return account

    own = client_of_portal("Own connection, module on")  # the client's own connection
    modules.set_enabled(own, "exact_online", True)
    _link(own, _connection(own), division=3001103)
    own_off = client_of_portal("Own connection, module off")
    _link(own_off, _connection(own_off), division=3001104)
    blocked = client_of_portal("Blocked link")
    _link(blocked, office["connection"], division=3001105, status=LinkStatus.BLOCKED)
    client_of_portal("No link")
    member_only = client_of_portal("Portal is member only", role=Role.MEMBER)
    _link(member_only, office["connection"], division=3001106)
    other_owner, _own = make_user_with_account()
    other_portal = make_portal(other_owner)
    modules.set_enabled(other_portal, "exact_online", True)
    elsewhere = client_of_portal("Linked through another portal's connection")
    _link(elsewhere, _connection(other_portal), division=3001107)
    broken = client_of_portal("Own connection, needs reauthorization")
    modules.set_enabled(broken, "exact_online", True)
    _link(broken, _connection(broken, ConnectionStatus.NEEDS_REAUTHORIZATION), division=3001108)
    waiting = client_of_portal("Waiting for the daily limit")
    _link(waiting, office["connection"], division=3001109)
    db.session.add(
        SyncState(
            account_id=waiting.id,
            cursors={},
            last_run_at=_now(),
            waiting_until=_now() + timedelta(hours=5),
        )
    )
    pending = make_account(name="Pending client")
    link_client(portal, pending, status="pending")
    _link(pending, office["connection"], division=3001110)
    db.session.commit()

    response = client.post(f"/a/{portal.id}/sync/all", follow_redirects=True)
    flashed = _flash(response)
    assert flashed.startswith("Sync queued for 2 clients. 1 waits for Exact's limit to reset.")
    # the clients left out are named, each with its reason
    for name in ("Own connection, module off", "Blocked link", "Portal is member only"):
        assert f"Not synced: {name}." in flashed
    assert "gave your office the role Member" in flashed
    assert "Not synced: No link" not in flashed and "Not synced: Pending" not in flashed
    assert _queued() == {sync_job_id(eligible.id), sync_job_id(own.id)}
    # the one query agrees with the sync's own rule, client by client
    for account in (own_off, blocked, elsewhere, broken):
        with pytest.raises(sync.SyncStopped):
            sync.eligible_link(account.id)
    for account in (eligible, own, member_only, waiting):
        sync.eligible_link(account.id)
    again = client.post(f"/a/{portal.id}/sync/all", follow_redirects=True)
    assert _flash(again).startswith(
        "2 were already queued or running. 1 waits for Exact's limit to reset."
    )
    assert len(_queued()) == 2

    staff = make_user()
    add_member(portal, staff, Role.MEMBER)
    db.session.commit()
    client.post("/logout")
    login(staff)
    assert client.post(f"/a/{portal.id}/sync/all").status_code == 403
    assert "Sync all clients" not in _main(client.get(f"/a/{portal.id}/portal/clients"))


def test_sync_all_without_linked_clients_says_what_to_do(db, client, login):
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    response = client.post(f"/a/{portal.id}/sync/all", follow_redirects=True)
    assert "No client can be synced now" in _main(response)
    assert _queued() == set()
