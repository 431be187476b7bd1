"""deploy/ as it runs: the web process (gunicorn), two workers and the scheduler as separate OS
processes, started with the units' own commands and environment (deploy/*.service and
portal.env.example, read by tests/deploy/units.py), against one database and one Redis, with
the Exact sandbox in a process of its own. Three dossiers sync through them: one by "Sync now"
over HTTP (through the proxy headers the example trusts), two by the scheduler's fan-out.
Then every process stops on its unit's stop signal, and exits 0."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests
from exact_sandbox.testing import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from rq import Queue, Worker
from sqlalchemy import select

from portal import clock, modules
from portal.models import ExactDivisionLink, SyncRun, SyncState
from tests.deploy.units import ROOT, read_environment_file, service
from tests.exact.portal_helpers import connect
from tests.factories import PASSWORD, link_client, make_portal, make_user_with_account
from tests.helpers import EXACT_REDIRECT_URI, FERNET_KEY, csrf_token_from
from tests.processes import Process, descendants, free_port, wait_until

pytestmark = pytest.mark.deploy

DIVISIONS = (3001101, 3001102, 3001105)
CLIENT = {"X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "https"}  # set by the proxy
EXAMPLE = read_environment_file(ROOT / "deploy" / "portal.env.example")


class _BrowserBehindTheProxy(requests.Session):
    """A browser whose requests reach gunicorn as the proxy forwards them: plain HTTP with the
    client's address and scheme (https) in X-Forwarded-* headers. The app's Secure cookies are
    sent back over that plain HTTP, as the proxy would."""

    def __init__(self) -> None:
        super().__init__()
        self.headers.update(CLIENT)

    def request(self, *args, **kwargs) -> requests.Response:
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def _site(database_url: str, redis_url: str, web_port: int, sandbox_url: str) -> dict:
    """This machine's values for the example's settings (and the sandbox as Exact)."""
    site = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "deploy-test-secret-key",
        "TOKEN_ENCRYPTION_KEY": FERNET_KEY,
        "BASE_URL": f"http://127.0.0.1:{web_port}",
        "EXACT_CLIENT_ID": DEMO_CLIENT_ID,
        "EXACT_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "EXACT_REDIRECT_URI": EXACT_REDIRECT_URI,
        "MAIL_SERVER": "",  # nothing leaves this machine: mail stays in the outbox
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
    }
    unknown = set(site) - set(EXAMPLE)
    assert not unknown, f"portal.env.example no longer names {unknown}"
    return {**site, "EXACT_BASE_URL": sandbox_url}  # the real Exact's host follows the country


def _start(unit: str, site: dict, home: Path, logs: Path, instance: str = "") -> Process:
    spec = service(unit, instance)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **spec.environment,  # EnvironmentFile= and Environment= of the unit
        **site,
    }
    process = Process(spec.name, spec.command, env, spec.cwd, logs)
    process.spec = spec
    return process


def _stop_as_systemd_does(process: Process) -> int:
    """KillMode=mixed: the stop signal to the main process; control-group: to all of them."""
    spec = process.spec
    targets = [process.pid]
    if spec.kill_mode == "control-group":
        targets += descendants(process.pid)
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, spec.kill_signal)
    return process.stop(signal.SIGCONT, timeout=min(spec.stop_timeout, 30))  # then wait


@pytest.fixture
def sandbox_process(tmp_path):
    """The Exact sandbox on a free port, in a process of its own (default data, real time)."""
    port = free_port()
    process = Process(
        "sandbox",
        [str(Path(sys.executable).parent / "portal"), "sandbox", "--port", str(port)],
        {**os.environ},
        ROOT,
        tmp_path,
    )
    sandbox = SimpleNamespace(url=f"http://127.0.0.1:{port}", process=process)
    try:
        wait_until(lambda: _answers(f"{sandbox.url}/_sandbox/counters"), 30, "the sandbox")
        yield sandbox
    finally:
        if process.popen.poll() is None:
            assert process.stop(signal.SIGINT) == 0, process.tail()


def _answers(url: str, **kwargs) -> bool:
    try:
        return requests.get(url, timeout=5, allow_redirects=False, **kwargs).status_code == 200
    except requests.RequestException:  # not listening yet, or still booting
        return False


@pytest.fixture
def three_dossiers(app, db, client, login, sandbox_process, redis_conn):
    """A portal connected to Exact (the sandbox), with three clients whose divisions are
    activated; nothing queued yet. The first is not due for the scheduler."""
    app.config.update(
        EXACT_BASE_URL=sandbox_process.url,
        EXACT_CLIENT_ID=DEMO_CLIENT_ID,
        EXACT_CLIENT_SECRET=DEMO_CLIENT_SECRET,
        EXACT_REDIRECT_URI=EXACT_REDIRECT_URI,
    )
    owner, _own = make_user_with_account()
    portal = make_portal(owner)
    clients = [make_user_with_account()[1] for _ in DIVISIONS]
    for account in clients:
        link_client(portal, account)
    modules.set_enabled(portal, "exact_online", True)
    db.session.commit()
    login(owner)
    connect(client, sandbox_process, portal.id)
    for account, division in zip(clients, DIVISIONS, strict=True):
        activated = client.post(
            f"/a/{portal.id}/exact/clients/{account.id}/activate", data={"division": division}
        )
        assert activated.status_code == 302
    ids = [account.id for account in clients]
    db.session.expire_all()
    links = db.session.scalars(select(ExactDivisionLink.account_id)).all()
    assert sorted(links) == sorted(ids)
    for name in app.config["RQ_QUEUES"]:  # Activate queued first imports: drop them
        Queue(name, connection=redis_conn).empty()
    state = db.session.scalar(select(SyncState).where(SyncState.account_id == ids[0]))
    if state is None:
        state = SyncState(account_id=ids[0])
        db.session.add(state)
    state.next_run_at = clock.now() + timedelta(days=1)
    db.session.commit()
    return SimpleNamespace(owner=owner, portal_id=portal.id, ids=ids)


def _succeeded_runs(db, ids: list[int]) -> dict[int, str]:
    """``{account id: trigger}`` of the succeeded sync runs so far."""
    rows = db.session.execute(
        select(SyncRun.account_id, SyncRun.trigger).where(
            SyncRun.account_id.in_(ids), SyncRun.status == "succeeded"
        )
    ).all()
    db.session.rollback()  # hold no lock or snapshot between polls
    return {account_id: str(trigger) for account_id, trigger in rows}


def _sync_now_over_http(web: str, email: str, account_id: int) -> requests.Response:
    """Log in and press "Sync now", as a browser behind the proxy would."""
    browser = _BrowserBehindTheProxy()

    def post(path: str, page: requests.Response, data: dict, **headers) -> requests.Response:
        data = {**data, "csrf_token": csrf_token_from(page.text)}
        headers = {"Referer": f"https://{urlsplit(web).netloc}{path}", **headers}
        return browser.post(web + path, data=data, headers=headers, allow_redirects=False)

    login_page = browser.get(f"{web}/login")
    logged_in = post("/login", login_page, {"email": email, "password": PASSWORD})
    assert logged_in.status_code == 302, logged_in.text
    sync_page = browser.get(f"{web}/a/{account_id}/sync/", allow_redirects=False)
    assert sync_page.status_code == 200, sync_page.text
    return post(
        f"/a/{account_id}/sync/now", sync_page, {}, **{"X-Request-ID": "deploy-test-sync-now"}
    )


def test_web_two_workers_and_the_scheduler_sync_dossiers_as_the_units_run_them(
    db, redis_conn, migrated_database, redis_url, three_dossiers, sandbox_process, tmp_path
):
    web_port = free_port()
    web = f"http://127.0.0.1:{web_port}"
    site = _site(migrated_database, redis_url, web_port, sandbox_process.url)
    home = tmp_path / "home"
    home.mkdir()
    assert service("portal-web.service").environment.keys() >= {"PRODUCTION", "TRUSTED_PROXIES"}

    migrate = _start("portal-migrate.service", site, home, tmp_path)  # once per deploy, first
    assert migrate.popen.wait(60) == 0, migrate.tail()
    processes = [
        _start("portal-web.service", site, home, tmp_path),
        _start("portal-worker@.service", site, home, tmp_path, instance="1"),
        _start("portal-worker@.service", site, home, tmp_path, instance="2"),
        _start("portal-scheduler.service", site, home, tmp_path),
    ]
    try:
        wait_until(lambda: _answers(f"{web}/login", headers=CLIENT), 30, "the web process")
        answer = _sync_now_over_http(web, three_dossiers.owner.email, three_dossiers.ids[0])
        assert answer.status_code == 302
        assert answer.headers["X-Request-ID"] == "deploy-test-sync-now"
        runs = wait_until(
            lambda: (
                (r := _succeeded_runs(db, three_dossiers.ids)).keys() == set(three_dossiers.ids)
                and r
            ),
            60,
            "three succeeded sync runs",
            interval=0.25,
        )
        first, *others = three_dossiers.ids
        assert runs == {first: "manual", **{other: "schedule" for other in others}}
        assert len(Worker.all(connection=redis_conn)) == 2
        assert redis_conn.exists("portal:scheduler")  # the one scheduler holds its lock
        exit_codes = {p.name: _stop_as_systemd_does(p) for p in reversed(processes)}
    except BaseException as error:
        for process in processes:
            process.kill()
        tails = "\n".join(p.tail() for p in [*processes, sandbox_process.process])
        raise AssertionError(f"{error}\n{tails}") from error
    assert exit_codes == {p.name: 0 for p in processes}, "\n".join(p.tail() for p in processes)
    web_lines = [json.loads(line) for line in processes[0].output().splitlines() if line[:1] == "{"]
    assert any(
        entry["logger"] == "gunicorn.access"
        and entry.get("request_id") == "deploy-test-sync-now"
        and "POST /a/" in entry["message"]
        for entry in web_lines
    ), processes[0].tail()
    assert not (home / ".gunicorn").exists()  # nothing written to the service user's home
