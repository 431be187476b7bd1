"""What the benchmarks share: the portal's app on a scratch database, and the printed table."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def make_app(tmp: Path, redis_url: str):
    """The portal on ``BENCH_DATABASE_URL`` (a scratch database) or SQLite in ``tmp``,
    migrated; CSRF and rate limits off, files under ``tmp``."""
    from flask_migrate import upgrade

    from portal import create_app

    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "MAIL_SERVER": None,
            "WTF_CSRF_ENABLED": False,
            "FILE_STORAGE": str(tmp / "files"),
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
    return app


def print_table(title: str, headers: list[str], rows: list[list], left: bool = False) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(headers[i]), *(len(row[i]) for row in cells)) if cells else len(headers[i])
        for i in range(len(headers))
    ]
    line = "  ".join(
        h.ljust(w) if left or i == 0 or i == len(headers) - 1 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    print()
    print(title)
    print("-" * len(line))
    print(line)
    print("-" * len(line))
    for row in cells:
        print(
            "  ".join(
                c.ljust(w) if left or i == 0 or i == len(row) - 1 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print("-" * len(line))
    sys.stdout.flush()
