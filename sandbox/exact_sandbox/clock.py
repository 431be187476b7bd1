"""A controllable clock: real time, shifted and sped up (or frozen) on demand.

Every time-based rule of the sandbox (token lifetimes, code lifetime, rate-limit windows,
timestamps of new records) reads this clock, so tests and benchmarks can live through hours
of "Exact time" in a second without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class SandboxClock:
    """Virtual epoch seconds = anchor + (real elapsed seconds) * speed.

    speed 1 follows real time, speed 60 makes a minute pass every real second, speed 0
    freezes the clock (handy for exact assertions in tests).
    """

    def __init__(
        self,
        now: float | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._anchor_virtual = time.time() if now is None else float(now)
        self._anchor_real = monotonic()
        self._speed = _check_speed(speed)

    def now(self) -> float:
        """Current virtual time in epoch seconds."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> float:
        elapsed = self._monotonic() - self._anchor_real
        return self._anchor_virtual + elapsed * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    def set(self, now: float) -> None:
        """Jump to an absolute epoch time."""
        with self._lock:
            self._anchor_virtual = float(now)
            self._anchor_real = self._monotonic()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._anchor_virtual = self._now_locked() + float(seconds)
            self._anchor_real = self._monotonic()

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self._anchor_virtual = self._now_locked()
            self._anchor_real = self._monotonic()
            self._speed = _check_speed(speed)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def as_dict(self) -> dict:
        now = self.now()
        iso = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
        return {"now": now, "iso": iso, "speed": self._speed}


def _check_speed(speed: float) -> float:
    speed = float(speed)
    if speed < 0:
        raise ValueError("clock speed must be 0 or more")
    return speed


def parse_time(value: float | int | str) -> float:
    """Epoch seconds from a number or an ISO 8601 string (no zone means UTC)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
