"""Exact's master data as the bookkeeping uses it: the synced rows of the client's current
division (never another division's, never retired ones), by code.

Exact is the source of truth: the portal invents no code. A code that no longer resolves, or
resolves to a blocked or deleted row, is reported (``Resolved.problem``), never silently kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select

from portal import clock
from portal.exact.client.parsing import exact_day, normalize_code, to_decimal
from portal.exact.sync import current_rows
from portal.exact.wiring import link_of
from portal.extensions import db
from portal.models import Account, ExactDivisionLink, ExactRecord

PURCHASE_JOURNAL = 22
GENERAL_JOURNAL = 90


@dataclass(frozen=True)
class Option:
    """One choosable master-data row: its code, Exact ID, name and Exact's row."""

    code: str
    exact_id: str
    name: str
    data: dict = field(default_factory=dict, compare=False, hash=False)
    blocked: bool = False
    deleted: bool = False

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip()


def _option(record: ExactRecord, blocked: bool) -> Option:
    return Option(
        code=normalize_code(record.code) or "",
        exact_id=record.exact_id,
        name=record.description or "",
        data=record.data or {},
        blocked=blocked,
        deleted=record.deleted_at is not None,
    )


def _is_blocked(entity: str, data: dict) -> bool:
    if entity in ("gl_accounts", "vat_codes"):
        return bool(data.get("IsBlocked"))
    if entity == "accounts":
        return bool(data.get("Blocked"))
    if entity == "cost_centers":  # valid through its EndDate, if it has one
        ended = exact_day(data.get("EndDate"))
        return ended is not None and ended < clock.now().date()
    return False


class MasterData:
    """The master data of one client's dossier, read once per request where it is used."""

    def __init__(self, link: ExactDivisionLink | None) -> None:
        self.link = link
        self._cache: dict[str, list[Option]] = {}

    @classmethod
    def of(cls, account: Account) -> MasterData:
        return cls(link_of(account))

    @property
    def linked(self) -> bool:
        return self.link is not None

    def _records(self, entity: str, *, live_only: bool = True):
        if self.link is None:
            return []
        query = select(ExactRecord).where(*current_rows(self.link), ExactRecord.entity == entity)
        if live_only:
            query = query.where(ExactRecord.deleted_at.is_(None))
        return db.session.scalars(query.order_by(ExactRecord.code))

    def all(self, entity: str) -> list[Option]:
        """Every live row of ``entity`` (blocked ones included, marked)."""
        if entity not in self._cache:
            self._cache[entity] = [
                _option(record, _is_blocked(entity, record.data or {}))
                for record in self._records(entity)
            ]
        return self._cache[entity]

    def choosable(self, entity: str) -> list[Option]:
        return [option for option in self.all(entity) if not option.blocked]

    def find(self, entity: str, code: str | None) -> Option | None:
        """The row with this code, also when it is blocked or deleted (to say so)."""
        code = normalize_code(code)
        if not code or self.link is None:
            return None
        if entity in self._cache:
            found = next((o for o in self._cache[entity] if o.code == code), None)
            if found is not None:
                return found
        rows = db.session.scalars(
            select(ExactRecord).where(
                *current_rows(self.link),
                ExactRecord.entity == entity,
                or_(ExactRecord.code == code, func.trim(ExactRecord.code) == code),
            )
        ).all()
        if not rows:
            return None
        rows.sort(key=lambda r: r.deleted_at is not None)  # a live row before a deleted one
        return _option(rows[0], _is_blocked(entity, rows[0].data or {}))

    # --- the lists the preparing form offers ----------------------------------------------
    def gl_accounts(self) -> list[Option]:
        return self.choosable("gl_accounts")

    def vat_codes(self, purchase: bool = True) -> list[Option]:
        wanted = {"P", "B", None} if purchase else {"S", "B", None}
        return [
            o for o in self.choosable("vat_codes") if o.data.get("VATTransactionType") in wanted
        ]

    def journals(self, journal_type: int) -> list[Option]:
        return [o for o in self.all("journals") if int(o.data.get("Type") or 0) == journal_type]

    def cost_centers(self) -> list[Option]:
        return self.choosable("cost_centers")

    def cost_units(self) -> list[Option]:
        return self.choosable("cost_units")

    def suppliers(self, search: str = "", limit: int = 20) -> list[Option]:
        """Suppliers whose code, name or VAT number holds ``search`` (not blocked)."""
        if self.link is None:
            return []
        query = select(ExactRecord).where(
            *current_rows(self.link),
            ExactRecord.entity == "accounts",
            ExactRecord.deleted_at.is_(None),
        )
        if search:
            text = search.strip()
            query = query.where(
                or_(
                    ExactRecord.description.icontains(text, autoescape=True),
                    ExactRecord.code.icontains(text, autoescape=True),
                )
            )
        found = []
        for record in db.session.scalars(query.order_by(ExactRecord.description)):
            data = record.data or {}
            if data.get("IsSupplier") and not data.get("Blocked"):
                found.append(_option(record, False))
                if len(found) >= limit:
                    break
        return found

    def purchase_vat_code(self, fraction: Decimal | None) -> str | None:
        """The purchase VAT code with this rate (0.21), when exactly one has it: a document says
        its rate, not Exact's code, and the portal never guesses between two codes."""
        if fraction is None:
            return None
        matching = [
            o.code for o in self.vat_codes(True) if to_decimal(o.data.get("Percentage")) == fraction
        ]
        return matching[0] if len(matching) == 1 else None

    def vat_percentage(self, code: str | None) -> Decimal | None:
        option = self.find("vat_codes", code)
        return to_decimal(option.data.get("Percentage")) if option else None

    def periods(self) -> list[tuple[int, int, date, date]]:
        """(year, period, first day, last day) of the synced financial periods."""
        found = []
        for option in self.all("financial_periods"):
            start, end = (
                exact_day(option.data.get("StartDate")),
                exact_day(option.data.get("EndDate")),
            )
            if start and end:
                found.append(
                    (int(option.data["FinYear"]), int(option.data["FinPeriod"]), start, end)
                )
        return sorted(found)

    def period_of(self, day: date) -> tuple[int, int] | None:
        return next(((y, p) for y, p, start, end in self.periods() if start <= day <= end), None)

    def payment_days(self, supplier_code: str | None) -> int | None:
        """Days to pay under the supplier's purchase payment condition in Exact."""
        supplier = self.find("accounts", supplier_code)
        condition = supplier.data.get("PaymentConditionPurchase") if supplier else None
        found = self.find("payment_conditions", condition) if condition else None
        days = found.data.get("PaymentDays") if found else None
        return int(days) if days is not None else None

    def supplier_for(self, vat: str | None, name: str | None) -> Option | None:
        """The synced supplier of a document: by VAT number first, then by name (compared
        without case, spaces and punctuation); None when neither matches one supplier."""
        wanted_vat = compact(vat)
        wanted_name = compact(name)
        if self.link is None or not (wanted_vat or wanted_name):
            return None
        by_name = []
        for option in self.all("accounts"):
            data = option.data
            if not data.get("IsSupplier") or option.blocked:
                continue
            if wanted_vat and compact(data.get("VATNumber")) == wanted_vat:
                return option
            if wanted_name and compact(option.name) == wanted_name:
                by_name.append(option)
        return by_name[0] if len(by_name) == 1 else None


def compact(text: str | None) -> str:
    """A name, VAT number or IBAN as compared: lower case, letters and digits only."""
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())
