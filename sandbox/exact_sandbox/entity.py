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

    ``fields`` are the names ``$select``/``$filter`` and a written body accept: Exact's
    documented properties (``fields.json``); rows render a field they do not hold as null.
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

    def select_required(self, kind: str) -> bool:
        """Whether Exact refuses a list on this endpoint kind without $select or $top=1."""
        if self.name not in documented_fields.names():
            return kind in ("sync", "bulk")
        return kind in documented_fields.select_required(self.name)


def entity_fields(name: str) -> tuple[str, ...]:
    """An entity's ``fields`` from the data file: Exact's documented names, in its order."""
    return documented_fields.documented(name)


def line_type(parent_type: str, navigation: str) -> str:
    """The OData type of the rows of ``navigation`` (e.g. GeneralJournalEntryLines) nested in
    an entity of type ``parent_type``: same namespace, singular name."""
    return parent_type.rsplit(".", 1)[0] + "." + navigation.removesuffix("s")
