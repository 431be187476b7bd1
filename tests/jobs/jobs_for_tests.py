"""Job functions for the worker tests, importable by a worker process started from the repo."""

from __future__ import annotations

import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)


def logged_job(marker_dir: str | None = None, seconds: float = 0.0) -> str:
    """Log a line, write ``started`` into ``marker_dir``, take ``seconds``, log, write ``done``."""
    log.info("test job started")
    if marker_dir:
        (Path(marker_dir) / "started").write_text("")
    time.sleep(seconds)
    log.info("test job done")
    if marker_dir:
        (Path(marker_dir) / "done").write_text("")
    return "done"
