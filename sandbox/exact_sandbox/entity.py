"""The ``Entity`` record: one Exact resource the sandbox serves.

A module of its own so that ``entities`` (the sandbox's resources) and ``more_entities``
(the ones added for the extraction tools and bank entries) both import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import fields as documented_fields


@dataclass(frozen=True)
class Entity:
    """One Exact resource. ``key`` names the GUID field its URL key uses.

    ``fields`` are the names ``$select``/``$filter`` accept (Exact's documented properties,
    plus the ``sandbox_extra`` names of ``fields.json`` the portal still asks for); rows
    render a field they do not hold as null.
    """

    name: str
    odata_type: str
    fields: tuple[str, ...]
    standard: str | None = None
    sync: str | None = None
    bulk: str | None = None
    deleted_type: int | None = None
    read_right: str = "view_financial_master_data"
    write_right: str | None = None
    key: str = "ID"
    has_timestamp: bool = True

    def accepted(self, strict: bool = False) -> tuple[str, ...]:
        """The names a query may use; ``strict`` leaves out what Exact does not document."""
        if not strict:
            return self.fields
        extra = set(self.extras())
        return tuple(name for name in self.fields if name not in extra)

    def extras(self) -> tuple[str, ...]:
        if self.name not in documented_fields.names():
            return ()
        return documented_fields.extras(self.name)

    def select_required(self, kind: str) -> bool:
        """Whether Exact refuses a list on this endpoint kind without $select or $top=1."""
        if self.name not in documented_fields.names():
            return kind in ("sync", "bulk")
        return kind in documented_fields.select_required(self.name)


def entity_fields(name: str) -> tuple[str, ...]:
    """An entity's ``fields`` from the data file: documented names, then the sandbox extras."""
    return documented_fields.documented(name) + documented_fields.extras(name)
