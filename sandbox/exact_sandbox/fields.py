"""Exact Online's documented properties per entity, read from ``fields.json``.

The data file says where each list was read (Exact's REST reference page and the
picqer/exact-php-client model file). Besides the names it holds, per entity, the endpoint
kinds that demand ``$select`` and the navigation properties (entry lines and the like).
A name not in an entity's list does not exist for the sandbox, as for Exact.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

FIELDS_PATH = Path(__file__).with_name("fields.json")


@cache
def _data() -> dict:
    data = json.loads(FIELDS_PATH.read_text(encoding="utf-8"))
    return {name: entry for name, entry in data.items() if not name.startswith("_")}


def names() -> tuple[str, ...]:
    """Every entity the data file describes."""
    return tuple(_data())


@cache
def documented(name: str) -> tuple[str, ...]:
    """Exact's documented property names of ``name`` (e.g. "GLAccounts"), in Exact's order."""
    return tuple(_entry(name)["fields"])


@cache
def select_required(name: str) -> frozenset[str]:
    """Endpoint kinds (standard, sync, bulk) that refuse a list without $select or $top=1."""
    return frozenset(_entry(name).get("select_required", ("sync", "bulk")))


def navigation(name: str) -> dict[str, str | None]:
    """Navigation properties of ``name`` -> the entity of the linked rows (None: not described)."""
    return dict(_entry(name).get("navigation", {}))


def all_navigation() -> dict[str, str | None]:
    """Every navigation property of every entity -> the entity of its rows."""
    result: dict[str, str | None] = {}
    for name in _data():
        result.update(navigation(name))
    return result


def source(name: str) -> dict:
    """Where the list was read: {"exact": [page URLs], "picqer": [model file paths]}."""
    return dict(_entry(name)["source"])


def _entry(name: str) -> dict:
    try:
        return _data()[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in {FIELDS_PATH.name}") from None
