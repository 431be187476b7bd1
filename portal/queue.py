"""RQ wiring: the Redis connection, named queues, and enqueue-after-commit.

Jobs take ids, never ORM objects, and are enqueued only once the database transaction
that made their rows has committed; otherwise a fast worker could look for a row that
does not exist yet, or act on one that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

QUEUE_TIMEOUTS = {"mail": 60, "default": 300, "sync": 3600}
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


def enqueue_after_commit(queue_name: str, func: Callable, *args: Any, **options: Any) -> None:
    """Enqueue ``func(*args)`` on ``queue_name`` when the current transaction commits."""
    session = db.session()
    session.info.setdefault(_PENDING, []).append((queue_name, func, args, options))


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for queue_name, func, args, options in session.info.pop(_PENDING, []):
        get_queue(queue_name).enqueue(func, *args, **options)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
