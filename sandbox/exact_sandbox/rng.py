"""A tiny deterministic random source, cheap to seed per row.

``random.Random(seed)`` costs several microseconds to seed; the sandbox seeds one generator per
generated row or entry, so it uses this instead: a splitmix64 hash of the seed parts, then a
64-bit linear congruential sequence (plenty for fake bookkeeping data). Same inputs, same
numbers, on every platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_LCG_MUL = 6364136223846793005
_LCG_ADD = 1442695040888963407

T = TypeVar("T")


def mix(*parts: int) -> int:
    """Hash a few integers into one 64-bit integer."""
    state = _GOLDEN
    for part in parts:
        state = _scramble((state ^ (part & _MASK)) + _GOLDEN)
    return state


def text_key(text: str) -> int:
    """A stable integer for a short text (``hash()`` of a str changes per process)."""
    value = 0
    for char in text.encode():
        value = (value * 131 + char) & _MASK
    return value


def _scramble(value: int) -> int:
    value &= _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


class Rng:
    """Sequence of 64-bit numbers from a seed made of integers."""

    __slots__ = ("_state",)

    def __init__(self, *parts: int) -> None:
        state = 0
        for part in parts:
            state = (state * _LCG_MUL + part) & _MASK
        self._state = _scramble(state)

    def next(self) -> int:
        """A 53-bit number (the well-mixed high bits of the sequence)."""
        self._state = state = (self._state * _LCG_MUL + _LCG_ADD) & _MASK
        return state >> 11

    def below(self, limit: int) -> int:
        """An integer in [0, limit)."""
        self._state = state = (self._state * _LCG_MUL + _LCG_ADD) & _MASK
        return (state >> 11) % limit

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + self.next() % (high - low + 1)

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def digits(self, count: int) -> str:
        return f"{self.next() % 10**count:0{count}d}"
