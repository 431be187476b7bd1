"""What the dossier sync pulls from Exact, and from where.

Entities with an Exact sync feed are read incrementally (``Timestamp gt n``) with deletions
from ``sync/Deleted``; the small lists without a feed are read whole and diffed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


class Kind(enum.StrEnum):
    """How a column's values read: the pages format them with Babel in the user's language."""

    TEXT = "text"
    CODE = "code"  # stripped of Exact's padding
    NUMBER = "number"
    MONEY = "money"  # in the division's currency (EUR), as Decimal
    PERCENT = "percent"  # Exact's fraction: 0.21 is 21 %
    DATE = "date"  # a calendar date (Exact's /Date()/ at midnight)
    DATETIME = "datetime"  # an instant, shown in the user's time zone
    BOOL = "bool"
    CHOICE = "choice"  # one of Exact's codes, in words (``choices``)
    REFERENCE = "reference"  # a code of another entity, with its name (``reference``)


@dataclass(frozen=True)
class Column:
    """One column of the read-only page (and of its downloads)."""

    field: str
    label: object
    kind: Kind = Kind.TEXT
    choices: Mapping | None = None  # CHOICE: Exact's code -> words
    fallback: str | None = None  # the row's own text when a code is not in ``choices`` /
    # the name of a REFERENCE when the referenced entity has no row for it
    reference: str | None = None  # REFERENCE: the entity key whose ``code`` the value is
    filter: str | None = None  # the page's GET parameter that filters on this column


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
    columns: tuple[Column, ...] = ()  # shown on the read-only page; () means code, description


def _period_code(row: dict) -> str:
    return f"{row.get('FinYear')}-{int(row.get('FinPeriod') or 0):02d}"


CODE = Column("Code", _l("Code"), Kind.CODE)
DESCRIPTION = Column("Description", _l("Description"))
BLOCKED = Column("IsBlocked", _l("Blocked"), Kind.BOOL)
BALANCE_TYPES = {"B": _l("Balance sheet"), "W": _l("Profit and loss")}
BALANCE_SIDES = {"D": _l("Debit"), "C": _l("Credit")}
JOURNAL_TYPES = {
    10: _l("Cash"),
    12: _l("Bank"),
    20: _l("Sales"),
    21: _l("Sales returns"),
    22: _l("Purchase"),
    23: _l("Purchase returns"),
    90: _l("General journal"),
}
VAT_TYPES = {"B": _l("Including VAT"), "E": _l("Excluding VAT"), "N": _l("No VAT")}
VAT_TRANSACTION_TYPES = {"B": _l("Sales and purchase"), "P": _l("Purchase"), "S": _l("Sales")}

ENTITIES: tuple[SyncEntity, ...] = (
    SyncEntity(
        "gl_classifications",
        _l("GL classifications"),
        "sync/Financial/GLClassifications",
        "ID,Code,Description,Parent,Timestamp",
        True,
        18,
        columns=(CODE, DESCRIPTION),
    ),
    SyncEntity(
        "gl_accounts",
        _l("GL accounts"),
        "sync/Financial/GLAccounts",
        "ID,Code,Description,BalanceType,BalanceSide,Type,TypeDescription,VATCode,IsBlocked,"
        "Timestamp",
        True,
        7,
        columns=(
            CODE,
            DESCRIPTION,
            Column("BalanceType", _l("Balance type"), Kind.CHOICE, BALANCE_TYPES),
            Column("BalanceSide", _l("Debit/credit"), Kind.CHOICE, BALANCE_SIDES),
            Column("VATCode", _l("VAT code"), Kind.CODE),
            BLOCKED,
        ),
    ),
    SyncEntity(
        "journals",
        _l("Journals"),
        "financial/Journals",
        "ID,Code,Description,Type,GLAccountCode",
        False,
        columns=(
            CODE,
            DESCRIPTION,
            Column("Type", _l("Journal type"), Kind.CHOICE, JOURNAL_TYPES),
            Column("GLAccountCode", _l("GL account"), Kind.REFERENCE, reference="gl_accounts"),
        ),
    ),
    SyncEntity(
        "vat_codes",
        _l("VAT codes"),
        "vat/VATCodes",
        "ID,Code,Description,Percentage,Type,VATTransactionType,IsBlocked",
        False,
        columns=(
            CODE,
            DESCRIPTION,
            Column("Percentage", _l("Percentage"), Kind.PERCENT),
            Column("Type", _l("Calculation"), Kind.CHOICE, VAT_TYPES),
            Column("VATTransactionType", _l("Used for"), Kind.CHOICE, VAT_TRANSACTION_TYPES),
            BLOCKED,
        ),
    ),
    SyncEntity(
        "accounts",
        _l("Suppliers and customers"),
        "sync/CRM/Accounts",
        "ID,Code,Name,IsSupplier,IsSales,VATNumber,ChamberOfCommerce,Country,City,Status,"
        "Blocked,PurchaseVATCode,PaymentConditionPurchase,Timestamp",
        True,
        2,
        code=lambda row: (row.get("Code") or "").strip() or None,
        description=lambda row: row.get("Name"),
        columns=(
            CODE,
            Column("Name", _l("Name")),
            Column("IsSupplier", _l("Supplier"), Kind.BOOL),
            Column("IsSales", _l("Customer"), Kind.BOOL),
            Column("VATNumber", _l("VAT number")),
            Column("ChamberOfCommerce", _l("Chamber of Commerce number")),
            Column("City", _l("City")),
            Column("Blocked", _l("Blocked"), Kind.BOOL),
        ),
    ),
    SyncEntity(
        "cost_centers",
        _l("Cost centers"),
        "hrm/Costcenters",
        "ID,Code,Description,EndDate",
        False,
        columns=(CODE, DESCRIPTION, Column("EndDate", _l("End date"), Kind.DATE)),
    ),
    SyncEntity(
        "cost_units",
        _l("Cost units"),
        "hrm/Costunits",
        "ID,Code,Description",
        False,
        columns=(CODE, DESCRIPTION),
    ),
    SyncEntity(
        "financial_periods",
        _l("Financial periods"),
        "financial/FinancialPeriods",
        "ID,FinYear,FinPeriod,StartDate,EndDate",
        False,
        code=_period_code,
        description=lambda row: None,
        columns=(
            Column("FinYear", _l("Financial year"), Kind.CODE),
            Column("FinPeriod", _l("Period"), Kind.NUMBER),
            Column("StartDate", _l("Start date"), Kind.DATE),
            Column("EndDate", _l("End date"), Kind.DATE),
        ),
    ),
    SyncEntity(
        "payment_conditions",
        _l("Payment conditions"),
        "cashflow/PaymentConditions",
        "ID,Code,Description,PaymentDays,DiscountPercentage,DiscountPaymentDays",
        False,
        columns=(
            CODE,
            DESCRIPTION,
            Column("PaymentDays", _l("Days to pay"), Kind.NUMBER),
            Column("DiscountPercentage", _l("Payment discount"), Kind.PERCENT),
            Column("DiscountPaymentDays", _l("Days for the discount"), Kind.NUMBER),
        ),
    ),
    SyncEntity(
        "transaction_lines",
        _l("Transaction lines"),
        "sync/Financial/TransactionLines",
        "ID,EntryID,EntryNumber,LineNumber,JournalCode,JournalDescription,Date,FinancialYear,"
        "FinancialPeriod,GLAccountCode,GLAccountDescription,AccountCode,AccountName,AmountDC,"
        "AmountFC,VATCode,Description,YourRef,Timestamp",
        True,
        1,
        code=lambda row: str(row.get("EntryNumber") or ""),
        columns=(
            Column("Date", _l("Date"), Kind.DATE),
            Column("EntryNumber", _l("Entry number"), Kind.CODE),
            Column(
                "JournalCode",
                _l("Journal"),
                Kind.REFERENCE,
                fallback="JournalDescription",
                reference="journals",
                filter="journal",
            ),
            Column(
                "GLAccountCode",
                _l("GL account"),
                Kind.REFERENCE,
                fallback="GLAccountDescription",
                reference="gl_accounts",
                filter="gl",
            ),
            Column(
                "AccountCode",
                _l("Relation"),
                Kind.REFERENCE,
                fallback="AccountName",
                reference="accounts",
                filter="relation",
            ),
            DESCRIPTION,
            Column("AmountDC", _l("Amount"), Kind.MONEY),
        ),
    ),
)
ENTITY_BY_KEY = {entity.key: entity for entity in ENTITIES}
DELETED_PATH = "sync/Deleted"
DELETED_FIELDS = "ID,EntityKey,EntityType,Timestamp"
DELETED_CURSOR = "_deleted"
