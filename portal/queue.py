"""RQ wiring, low in the layers: the Redis connection, named queues, and enqueue-after-commit.

Jobs take ids, never ORM objects, and are enqueued only once the database transaction
that made their rows has committed; otherwise a fast worker could look for a row that
does not exist yet, or act on one that was rolled back. Services name a job by its import
path (``"portal.jobs.mail.deliver_mail"``), so nothing below the jobs imports job code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

QUEUE_TIMEOUTS = {"mail": 60, "default": 300, "export": 3600, "sync-now": 3600, "sync": 3600}
_PENDING = "portal_enqueue_after_commit"


def redis_connection() -> Redis:
    """The app's Redis connection, made once per app."""
    conn = current_app.extensions.get("portal_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["portal_redis"] = conn
    return conn


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection(), default_timeout=QUEUE_TIMEOUTS[name])


def enqueue_after_commit(queue_name: str, job: str, *args: Any, **options: Any) -> None:
    """Enqueue the job (an import path) with ``args`` on ``queue_name`` when the current
    transaction commits; nothing when it rolls back."""
    after_commit(lambda: get_queue(queue_name).enqueue(job, *args, **options))


def after_commit(action: Callable[[], Any]) -> None:
    """Call ``action()`` (queueing work) when the current transaction commits; never when it
    rolls back."""
    db.session().info.setdefault(_PENDING, []).append(action)


def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        action()


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Listen for commits and rollbacks (once per process: the listeners are global)."""
    if not event.contains(Session, "after_commit", _run_pending):
        event.listen(Session, "after_commit", _run_pending)
        event.listen(Session, "after_rollback", _drop_pending)
