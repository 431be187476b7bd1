"""`portal worker` stops gracefully: SIGTERM in the middle of a job lets the job finish, then the
worker exits 0. The SIGTERM goes to every process of the worker, work-horse included, as
systemd's default stop and `docker stop` deliver it; a real worker process, a real Redis."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from rq import Queue
from rq.job import Job, JobStatus

from tests.helpers import FERNET_KEY
from tests.processes import Process, descendants, wait_until

ROOT = Path(__file__).resolve().parent.parent.parent


def test_sigterm_during_a_job_lets_it_finish_and_the_worker_exits_0(
    migrated_database, redis_url, redis_conn, tmp_path
):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TEST_")},
        "DATABASE_URL": migrated_database,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test",
        "TOKEN_ENCRYPTION_KEY": FERNET_KEY,
        "LOG_FORMAT": "json",
    }
    markers = tmp_path / "markers"
    markers.mkdir()
    job = Queue("default", connection=redis_conn).enqueue(
        "tests.jobs.jobs_for_tests.logged_job", str(markers), 2.0, result_ttl=600
    )
    worker = Process(
        "worker", [sys.executable, "-m", "portal.cli", "worker", "default"], env, ROOT, tmp_path
    )
    try:
        wait_until(lambda: (markers / "started").exists(), 30, "the job to start")
        horses = descendants(worker.pid)
        assert horses, "a forking worker runs the job in a work-horse"
        for pid in (worker.pid, *horses):
            os.kill(pid, signal.SIGTERM)
        assert not (markers / "done").exists()  # the job was still running
        exit_code = worker.stop(signal.SIGCONT, timeout=20)  # just wait
    except BaseException:
        worker.kill()
        raise
    output = worker.output()
    assert exit_code == 0, output
    assert (markers / "done").exists(), output
    finished = Job.fetch(job.id, connection=redis_conn)
    assert finished.get_status() == JobStatus.FINISHED and finished.return_value() == "done"
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    job_lines = [e for e in entries if e["message"].startswith("test job")]
    assert [e["message"] for e in job_lines] == ["test job started", "test job done"]
    assert all(e["job_id"] == job.id for e in job_lines)
