"""Compact row storage: rows generated on demand from an index, changes kept as overrides.

A big division (200,000 transaction lines) would take hundreds of megabytes as dicts, so a
table keeps only what it must: one Int64 timestamp per row, an append-only timestamp order,
and the rows that were changed or added. Unchanged rows are regenerated from their index by
a deterministic factory whenever they are read. Row GUIDs encode the index (scrambled), so
looking a row up by its ID needs no dictionary either.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator

from .entities import Entity
from .rng import mix

_INDEX_BITS = 48
_INDEX_MASK = (1 << _INDEX_BITS) - 1
_SPREAD = 0x9E3779B97F4B  # odd, so multiplying by it is a bijection modulo 2**48
_UNSPREAD = pow(_SPREAD, -1, 1 << _INDEX_BITS)

Factory = Callable[[int], dict]


def guid_prefix(salt: int) -> str:
    """The first 24 characters of every GUID of one table: 'xxxxxxxx-xxxx-4xxx-8xxx-'."""
    value = mix(salt, 1) << 64 | mix(salt, 2)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-8{text[17:20]}-"


class KeySpace:
    """GUIDs that encode an index: a fixed per-table prefix and a scrambled 48-bit index."""

    def __init__(self, salt: int) -> None:
        self._prefix = guid_prefix(salt)
        self._mask = mix(salt, 3) & _INDEX_MASK

    def key(self, index: int) -> str:
        return f"{self._prefix}{(index * _SPREAD + self._mask) & _INDEX_MASK:012x}"

    def raw_index(self, key: str | None) -> int | None:
        """The index a GUID of this key space encodes, or None for a foreign GUID."""
        if not key:
            return None
        text = str(key).strip().strip("{}").lower()
        if len(text) != 36 or not text.startswith(self._prefix):
            return None
        try:
            value = int(text[24:], 16)
        except ValueError:
            return None
        return ((value - self._mask) * _UNSPREAD) & _INDEX_MASK


class Table:
    """Rows of one entity in one division, ordered by index and by Timestamp."""

    def __init__(
        self,
        entity: Entity,
        salt: int,
        base_count: int,
        factory: Factory | None,
        first_ts: int,
    ) -> None:
        self.entity = entity
        self.factory = factory
        self.count = base_count
        self.base_count = base_count
        self.rows: dict[int, dict] = {}
        self.deleted: set[int] = set()
        self.keys = KeySpace(salt)
        self.key = self.keys.key
        self.raw_index = self.keys.raw_index
        self.ts = array("q", range(first_ts, first_ts + base_count))
        self.order_ts = array("q", self.ts)
        self.order_idx = array("q", range(base_count))

    # keys (``key`` and ``raw_index`` come from the table's KeySpace)
    def index(self, key: str | None) -> int | None:
        """The live row index behind a GUID, or None."""
        index = self.raw_index(key)
        if index is None or index >= self.count or index in self.deleted:
            return None
        return index

    # reading
    def get(self, index: int) -> dict:
        """The row at a live index. Do not mutate the answer."""
        row = self.rows.get(index)
        if row is not None:
            return row
        row = self.factory(index)  # type: ignore[misc]
        row["Timestamp"] = self.ts[index]
        return row

    def find(self, key: str | None) -> dict | None:
        index = self.index(key)
        return None if index is None else self.get(index)

    def live_count(self) -> int:
        return self.count - len(self.deleted)

    def iter_from(self, start: int = 0) -> Iterator[tuple[int, dict]]:
        """Live rows in index order from ``start`` on."""
        for index in range(start, self.count):
            if index not in self.deleted:
                yield index, self.get(index)

    def iter_since(self, timestamp: int) -> Iterator[dict]:
        """Live rows with a Timestamp above ``timestamp``, in Timestamp order."""
        order_ts, order_idx, ts, deleted = self.order_ts, self.order_idx, self.ts, self.deleted
        pos = bisect_right(order_ts, timestamp)
        while pos < len(order_ts):
            stamp, index = order_ts[pos], order_idx[pos]
            pos += 1
            if ts[index] == stamp and index not in deleted:
                yield self.get(index)

    def max_timestamp(self) -> int:
        return self.order_ts[-1] if self.order_ts else 0

    # writing
    def add(self, fields: dict, timestamp: int) -> dict:
        index = self.count
        self.count += 1
        row = dict(fields)
        row[self.entity.key] = self.key(index)
        row["Timestamp"] = timestamp
        self.rows[index] = row
        self.ts.append(timestamp)
        self._order(timestamp, index)
        return row

    def update(self, index: int, fields: dict, timestamp: int) -> dict:
        row = dict(self.get(index))
        row.update(fields)
        row["Timestamp"] = timestamp
        self.rows[index] = row
        self.ts[index] = timestamp
        self._order(timestamp, index)
        return row

    def delete(self, index: int) -> None:
        self.deleted.add(index)
        self.rows.pop(index, None)

    def restamp(self, next_ts: Callable[[], int]) -> None:
        """Give every live row a new Timestamp, keeping their order (a division move)."""
        live = [
            idx
            for stamp, idx in zip(self.order_ts, self.order_idx, strict=True)
            if self.ts[idx] == stamp and idx not in self.deleted
        ]
        self.order_ts = array("q")
        self.order_idx = array("q")
        for index in live:
            stamp = next_ts()
            self.ts[index] = stamp
            row = self.rows.get(index)
            if row is not None:
                row["Timestamp"] = stamp
            self._order(stamp, index)

    def _order(self, timestamp: int, index: int) -> None:
        self.order_ts.append(timestamp)
        self.order_idx.append(index)
