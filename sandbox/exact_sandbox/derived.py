"""Plausible values, at render time, for documented fields a generated row does not hold.

The generated rows (data.py) carry the fields the sandbox always had; Exact documents many
more. Those render as null, except the cheap ones here: who created and last changed a
record (the division's first configured user, as a GUID and a name) and a few fields that
are another name for a value the row has (a purchase entry's ReportingYear is its
FinancialYear).
"""

from __future__ import annotations

from collections.abc import Callable

Derive = Callable[[dict, "Context"], object]


class Context:
    """What derivations need from the sandbox: its users, looked up once per division."""

    def __init__(self, users: dict[str, dict], division: int | None = None) -> None:
        self.users = users
        self.division = division
        self._by_division: dict[int | None, dict | None] = {}

    def owner(self, row: dict) -> dict | None:
        """The user shown as creator and modifier: the first one reaching the row's division."""
        division = row.get("Division") or self.division
        if division not in self._by_division:
            found = None
            for user in self.users.values():
                if division is None or int(division) in user.get("divisions", ()):
                    found = user
                    break
            self._by_division[division] = found
        return self._by_division[division]


def _user_id(row: dict, context: Context) -> object:
    user = context.owner(row)
    return user["id"] if user else None


def _user_name(row: dict, context: Context) -> object:
    user = context.owner(row)
    return user["full_name"] if user else None


def _copy(source: str) -> Derive:
    return lambda row, context: row.get(source)


COMMON: dict[str, Derive] = {
    "Creator": _user_id,
    "Modifier": _user_id,
    "CreatorFullName": _user_name,
    "ModifierFullName": _user_name,
}

PER_ENTITY: dict[str, dict[str, Derive]] = {
    "PurchaseEntries": {
        "ReportingYear": _copy("FinancialYear"),
        "ReportingPeriod": _copy("FinancialPeriod"),
    },
}


def for_fields(entity: str, fields: list[str] | tuple[str, ...]) -> list[tuple[str, Derive]]:
    """The derivations that apply to ``fields`` of ``entity`` (computed once per page)."""
    table = {**COMMON, **PER_ENTITY.get(entity, {})}
    return [(name, table[name]) for name in fields if name in table]


def fill(item: dict, row: dict, derivations: list[tuple[str, Derive]], context: Context) -> None:
    """Set each derived field of ``item`` that the row left null."""
    for name, derive in derivations:
        if item.get(name) is None:
            item[name] = derive(row, context)
