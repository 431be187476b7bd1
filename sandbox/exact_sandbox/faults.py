"""Injected faults: the next N calls matching a path pattern fail in a chosen way."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field

KINDS = ("status", "rate_limit", "slow", "drop", "book_then_fail")


@dataclass
class Fault:
    """One armed fault.

    kind: ``status`` answers ``status`` (default 503) at once; ``rate_limit`` answers 429 with an
    empty body; ``slow`` waits ``delay`` real seconds, then serves normally; ``drop`` closes the
    connection without an answer; ``book_then_fail`` lets a POST book, then answers ``status``
    (default 503) or drops the connection when ``drop`` is true.

    probability: below 1, each matching call fires the fault only with this chance (drawn from
    a generator seeded with ``seed``, so a run can be repeated): faults "at random on 5 % of the
    calls" for a benchmark. ``count`` still caps how often it fires.
    """

    id: int
    kind: str
    path: str = ""
    method: str | None = None
    count: int = 1
    status: int = 503
    delay: float = 0.0
    drop: bool = False
    probability: float = 1.0
    seed: int = 0
    fired: int = 0
    pattern: re.Pattern = field(default=re.compile(""), repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.count <= 0:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return bool(self.pattern.search(path))

    def public(self) -> dict:
        data = {key: value for key, value in asdict(self).items() if key not in ("pattern", "rng")}
        return data


class FaultList:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, spec: dict) -> Fault:
        """Arm a fault from a control call's JSON (raises ValueError on bad input)."""
        kind = spec.get("kind", "status")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        method = spec.get("method") or ("POST" if kind == "book_then_fail" else None)
        probability = float(spec.get("probability", 1.0))
        if not 0.0 < probability <= 1.0:
            raise ValueError("probability must be above 0 and at most 1")
        with self._lock:
            fault = Fault(
                id=self._next_id,
                kind=kind,
                path=str(spec.get("path", "")),
                method=method,
                count=int(spec.get("count", 1)),
                status=int(spec.get("status", 429 if kind == "rate_limit" else 503)),
                delay=float(spec.get("delay", 0.0)),
                drop=bool(spec.get("drop", False)),
                probability=probability,
                seed=int(spec.get("seed", 0)),
                pattern=re.compile(str(spec.get("path", "")), re.IGNORECASE),
                rng=random.Random(int(spec.get("seed", 0))),
            )
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this call, used up by one."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                        continue
                    fault.count -= 1
                    fault.fired += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def public(self) -> list[dict]:
        with self._lock:
            return [fault.public() for fault in self._faults]
