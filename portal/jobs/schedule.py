"""The one declared list of periodic jobs, and the single scheduler that enqueues them.

Exactly one scheduler runs: it holds a Redis lock that it renews; a second scheduler waits
as a standby until the first one is gone.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from redis import Redis
from rq.cron import CronScheduler

log = logging.getLogger(__name__)
LOCK_NAME = "portal:scheduler"
LOCK_TTL = 90  # seconds; renewed every LOCK_TTL / 3


@dataclass(frozen=True)
class Periodic:
    func: str  # import path, so this module imports no job code
    queue: str
    interval: int  # seconds


PERIODIC_JOBS = (
    Periodic("portal.jobs.exact.keep_connections_alive", "default", 6 * 3600),
    Periodic("portal.jobs.sync.enqueue_due_syncs", "default", 60),
)


def _resolve(path: str):
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def build_scheduler(connection: Redis) -> CronScheduler:
    scheduler = CronScheduler(connection=connection, name="portal-scheduler")
    for job in PERIODIC_JOBS:
        scheduler.register(
            _resolve(job.func), job.queue, interval=job.interval, failure_ttl=24 * 3600
        )
    return scheduler


def run_single_scheduler(connection: Redis) -> None:
    """Wait for the scheduler lock, keep it renewed, and run the cron scheduler."""
    lock = connection.lock(LOCK_NAME, timeout=LOCK_TTL, thread_local=False)
    log.info("scheduler: waiting for the scheduler lock")
    lock.acquire(blocking=True)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(lock, stop), daemon=True)
    renewer.start()
    try:
        build_scheduler(connection).start()
    finally:
        stop.set()
        lock.release()


def _renew(lock, stop: threading.Event) -> None:
    while not stop.wait(LOCK_TTL / 3):
        lock.reacquire()
