"""Mail goes through a real RQ worker on a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys

from rq import SimpleWorker
from sqlalchemy import select

from portal.mail import send_mail
from portal.models import OutboxMessage
from portal.queue import get_queue, redis_connection


def _send_one(db) -> OutboxMessage:
    message = send_mail(
        "someone@example.com",
        "Hello",
        "reset_password",
        user=type("U", (), {"name": "Someone"})(),
        link="http://x/reset/abc",
    )
    return message


def test_mail_is_enqueued_only_after_commit(app, db):
    queue = get_queue("mail")
    _send_one(db)
    assert queue.count == 0  # not yet committed
    db.session.rollback()
    assert queue.count == 0 and db.session.scalar(select(OutboxMessage)) is None
    message = _send_one(db)
    db.session.commit()
    assert queue.job_ids == [f"mail-{message.id}"]


def test_a_real_worker_delivers_the_job_to_the_outbox(app, db):
    message = _send_one(db)
    db.session.commit()
    worker = SimpleWorker([get_queue("mail")], connection=redis_connection())
    assert worker.work(burst=True) is True
    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.status == "stored" and stored.delivered_at is not None
    assert "http://x/reset/abc" in stored.body_text


def test_the_portal_worker_command_runs_jobs_in_a_forking_worker(app, db, redis_url):
    message = _send_one(db)
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test",
        "TOKEN_ENCRYPTION_KEY": app.config["TOKEN_ENCRYPTION_KEY"],
    }
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "worker", "mail", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "stored"


def test_outbox_page_is_hidden_unless_enabled(app, client, db, login):
    from tests.factories import make_user_with_account

    message = _send_one(db)
    db.session.commit()
    login(make_user_with_account()[0])
    assert client.get("/dev/outbox").status_code == 404
    app.config["OUTBOX_PAGE"] = True
    page = client.get("/dev/outbox")
    assert page.status_code == 200 and b"someone@example.com" in page.data
    assert b"http://x/reset/abc" in client.get(f"/dev/outbox/{message.id}").data
