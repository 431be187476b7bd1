"""The RQ worker that ``portal worker`` runs: RQ's forking worker, stopped gracefully.

RQ already treats a SIGTERM (or Ctrl-C) to the worker as a warm shutdown: it takes no new job,
lets the work-horse finish the current one, and exits 0; a second signal is a cold shutdown
that kills the work-horse. But RQ's work-horse itself dies on SIGTERM, and whoever stops a
service by signalling all its processes (systemd's default ``KillMode=control-group``,
``docker stop`` of a process group, ``kill -TERM -<pgid>``) would kill the job the worker meant
to finish. So here the work-horse ignores SIGTERM; the worker alone decides when it dies (a
cold shutdown, a job timeout and RQ's "stop job" command all use SIGKILL). A sync killed
anyway (the stop timeout ran out) resumes from its last committed page on its next run.
"""

from __future__ import annotations

import signal

from rq import Worker


class PortalWorker(Worker):
    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
