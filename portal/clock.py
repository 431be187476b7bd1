"""The portal's one clock: wall time, epoch seconds for rate limits, and waiting.

Everything that asks the time or waits for Exact goes through here, so tests and benchmarks
put the whole portal on another clock with ``use(...)`` instead of patching module internals.
Low in the layers: no Flask, no database.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


class SystemClock:
    """Real time."""

    def time(self) -> float:
        return _time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def sleep(self, seconds: float) -> None:
        _time.sleep(max(seconds, 0.0))


class ShiftedClock(SystemClock):
    """Real time moved ahead by ``offset`` seconds (``advance`` moves it further)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def time(self) -> float:
        return _time.time() + self.offset


class VirtualClock(SystemClock):
    """Time that stands still until something waits: a wait moves it on at once, and the
    time waited is added up in ``slept``."""

    def __init__(self, start: float | None = None) -> None:
        self.current = _time.time() if start is None else start
        self.slept = 0.0

    def advance(self, seconds: float) -> None:
        self.current += seconds

    def time(self) -> float:
        return self.current

    def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        self.current += seconds
        self.slept += seconds


_current: list[SystemClock] = [SystemClock()]


def current() -> SystemClock:
    return _current[0]


def set_clock(clock: SystemClock) -> SystemClock:
    """Put the portal (this process) on ``clock``; returns the one it was on."""
    previous, _current[0] = _current[0], clock
    return previous


@contextmanager
def use(clock: SystemClock) -> Iterator[SystemClock]:
    """``with clock.use(VirtualClock()) as c: ...``: the portal on ``c`` for the block."""
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _current[0].now()


def time() -> float:
    """Epoch seconds (rate limits, retries)."""
    return _current[0].time()


def sleep(seconds: float) -> None:
    """Wait (for Exact's rate limits or a retry's backoff)."""
    _current[0].sleep(seconds)
