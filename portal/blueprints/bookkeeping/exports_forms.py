"""What the export pages read from a posted form (the selected items) and where a failed
export's field is on the item page."""

from __future__ import annotations

from wtforms.fields.core import UnboundField

from portal.blueprints.bookkeeping.items_forms import ItemForm, LineForm

MAX_SELECTED = 1000  # more ids than a page ever shows is not a selection but a flood


def selected_ids(values: list[str]) -> list[int]:
    """The item ids of the checked boxes (``item_id``), digits only, each once, in order."""
    ids: list[int] = []
    for value in values[:MAX_SELECTED]:
        if value.isascii() and value.isdigit() and len(value) < 10 and int(value) not in ids:
            ids.append(int(value))
    return ids


def _fields(form_class) -> set[str]:
    return {name for name, value in vars(form_class).items() if isinstance(value, UnboundField)}


ITEM_FIELDS = _fields(ItemForm) - {"version", "lines"}
LINE_FIELDS = _fields(LineForm) - {"remove", "vat_mode"}


def field_anchor(field: str | None) -> str | None:
    """The id of the item page's input that a failed export concerns (``journal_code`` for the
    journal, the first line's ``lines-0-gl_account_code`` for a line's GL account), or None."""
    if not field:
        return None
    if field in ITEM_FIELDS:
        return field
    if field in LINE_FIELDS:
        return f"lines-0-{field}"
    return None
