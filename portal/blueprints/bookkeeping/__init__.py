"""Bookkeeping in a client account: what arrives (uploads, e-invoices, bank statements, expense
claims), preparing items with Exact's master data, and the rules that propose values.

Pages live under ``/a/<client_id>/books/``; the module "Bookkeeping" must be on. Each view asks
``require(action)`` for what it does; tenancy has already checked the account.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import abort, g
from flask_babel import format_currency, format_date

from portal.blueprints.scoped import account_blueprint
from portal.modules import require_module

bp = account_blueprint("bookkeeping", __name__, "/books")


@bp.app_template_filter("money")
def money(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount in the reader's language: € 1.234,56 in Dutch, €1,234.56 in English."""
    return "" if value is None else format_currency(value, currency or "EUR")


@bp.app_template_filter("day")
def day(value: date | None) -> str:
    """A calendar date in the reader's language (never moved by a time zone)."""
    return "" if value is None else format_date(value, "medium")


@bp.before_request
def _module_on():
    if g.account.is_portal:
        abort(404)
    require_module(g.account, "bookkeeping")


# the views register their routes on ``bp``
from portal.blueprints.bookkeeping import (  # noqa: E402, F401
    bank,
    claims,
    exports,
    items,
    rules,
    uploads,
)
