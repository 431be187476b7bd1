"""Run a job inside an app context with its own database session."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from flask import has_app_context

from portal.extensions import db

_engine_pid: dict[str, int] = {}


def _fresh_pool_after_fork() -> None:
    """A forked work-horse must not use the parent's pooled connections."""
    if _engine_pid.get("pid") != os.getpid():
        db.engine.dispose(close=False)
        _engine_pid["pid"] = os.getpid()


def app_job(func: Callable) -> Callable:
    """Give a job function an app context and a clean session, created if needed."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            return _run(func, args, kwargs)
        from portal import create_app

        with create_app().app_context():
            return _run(func, args, kwargs)

    return wrapper


def _run(func: Callable, args: tuple, kwargs: dict) -> Any:
    _fresh_pool_after_fork()
    try:
        return func(*args, **kwargs)
    finally:
        db.session.remove()
