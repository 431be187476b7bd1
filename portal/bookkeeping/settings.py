"""A client's bookkeeping settings: the mileage rate, the books closed through a date, the
default journals and the employee GL account of expense claims.

An account without a settings row gets the defaults (``of``); the row is made on the first
change (``update``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.extensions import db
from portal.models import Account, BookkeepingSettings

DEFAULT_MILEAGE_RATE = Decimal("0.23")  # €/km: the Dutch tax-free allowance of 2024 and 2025


def of(account_id: int) -> BookkeepingSettings:
    """The account's settings, or unsaved defaults when it has none yet."""
    found = db.session.scalar(
        select(BookkeepingSettings).where(BookkeepingSettings.account_id == account_id)
    )
    if found is not None:
        return found
    return BookkeepingSettings(account_id=account_id, mileage_rate=DEFAULT_MILEAGE_RATE)


@dataclass
class SettingsInput:
    mileage_rate: Decimal
    closed_through: date | None
    purchase_journal_code: str | None
    general_journal_code: str | None
    employee_gl_account_code: str | None


def update(account: Account, values: SettingsInput) -> BookkeepingSettings:
    """Store the settings (the caller commits)."""
    settings = of(account.id)
    settings.mileage_rate = values.mileage_rate
    settings.closed_through = values.closed_through
    settings.purchase_journal_code = values.purchase_journal_code or None
    settings.general_journal_code = values.general_journal_code or None
    settings.employee_gl_account_code = values.employee_gl_account_code or None
    if settings.id is None:
        db.session.add(settings)
    db.session.flush()
    return settings
