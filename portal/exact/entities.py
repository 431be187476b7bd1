"""What the dossier sync pulls from Exact, and from where.

Entities with an Exact sync feed are read incrementally (``Timestamp gt n``) with deletions
from ``sync/Deleted``; the small lists without a feed are read whole and diffed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class SyncEntity:
    key: str
    label: object
    path: str
    fields: str
    incremental: bool
    deleted_type: int | None = None
    code: Callable[[dict], str | None] = lambda row: row.get("Code")
    description: Callable[[dict], str | None] = lambda row: row.get("Description")
    columns: tuple[str, ...] = ("Code", "Description")  # shown on the read-only page


def _period_code(row: dict) -> str:
    return f"{row.get('FinYear')}-{int(row.get('FinPeriod') or 0):02d}"


ENTITIES: tuple[SyncEntity, ...] = (
    SyncEntity(
        "gl_classifications",
        _l("GL classifications"),
        "sync/Financial/GLClassifications",
        "ID,Code,Description,Parent,Timestamp",
        True,
        18,
    ),
    SyncEntity(
        "gl_accounts",
        _l("GL accounts"),
        "sync/Financial/GLAccounts",
        "ID,Code,Description,BalanceType,BalanceSide,Type,TypeDescription,ClassificationCode,"
        "ClassificationDescription,VATCode,IsBlocked,Timestamp",
        True,
        7,
        columns=("Code", "Description", "BalanceType", "ClassificationDescription", "VATCode"),
    ),
    SyncEntity(
        "journals",
        _l("Journals"),
        "financial/Journals",
        "ID,Code,Description,Type,TypeDescription,GLAccountCode",
        False,
        columns=("Code", "Description", "Type", "TypeDescription"),
    ),
    SyncEntity(
        "vat_codes",
        _l("VAT codes"),
        "vat/VATCodes",
        "ID,Code,Description,Percentage,Type,VATTransactionType,IsBlocked",
        False,
        columns=("Code", "Description", "Percentage", "Type"),
    ),
    SyncEntity(
        "accounts",
        _l("Suppliers and customers"),
        "sync/CRM/Accounts",
        "ID,Code,Name,IsSupplier,IsSales,VATNumber,ChamberOfCommerce,Country,City,Status,"
        "Blocked,Timestamp",
        True,
        2,
        code=lambda row: (row.get("Code") or "").strip() or None,
        description=lambda row: row.get("Name"),
        columns=("Code", "Name", "IsSupplier", "VATNumber", "City"),
    ),
    SyncEntity(
        "cost_centers",
        _l("Cost centers"),
        "hrm/Costcenters",
        "ID,Code,Description,Active",
        False,
    ),
    SyncEntity("cost_units", _l("Cost units"), "hrm/Costunits", "ID,Code,Description", False),
    SyncEntity(
        "financial_periods",
        _l("Financial periods"),
        "financial/FinancialPeriods",
        "ID,FinYear,FinPeriod,StartDate,EndDate",
        False,
        code=_period_code,
        description=lambda row: None,
        columns=("FinYear", "FinPeriod", "StartDate", "EndDate"),
    ),
    SyncEntity(
        "payment_conditions",
        _l("Payment conditions"),
        "cashflow/PaymentConditions",
        "ID,Code,Description,PaymentDays,PaymentDiscountPercentage,DiscountPaymentDays",
        False,
        columns=("Code", "Description", "PaymentDays"),
    ),
    SyncEntity(
        "transaction_lines",
        _l("Transaction lines"),
        "sync/Financial/TransactionLines",
        "ID,EntryID,EntryNumber,LineNumber,JournalCode,Date,FinancialYear,FinancialPeriod,"
        "GLAccountCode,AccountCode,AmountDC,AmountFC,VATCode,Description,YourRef,Timestamp",
        True,
        1,
        code=lambda row: str(row.get("EntryNumber") or ""),
        columns=(
            "EntryNumber",
            "LineNumber",
            "JournalCode",
            "GLAccountCode",
            "AmountDC",
            "Description",
        ),
    ),
)
ENTITY_BY_KEY = {entity.key: entity for entity in ENTITIES}
DELETED_PATH = "sync/Deleted"
DELETED_FIELDS = "ID,EntityKey,EntityType,Timestamp"
DELETED_CURSOR = "_deleted"
