"""The Exact resources the sandbox serves: field names, paths, rights and sync/Deleted codes."""

from __future__ import annotations

from dataclasses import dataclass

# Rights an Exact user needs (the names the sandbox uses in configs and control calls).
RIGHTS = {
    "view_financial_master_data": (
        "View financial master data",
        "Financiële stamgegevens bekijken",
    ),
    "view_accounts": ("View accounts", "Relaties bekijken"),
    "manage_accounts": ("Manage accounts", "Relaties beheren"),
    "view_financial_entries": ("View financial entries", "Financiële boekingen bekijken"),
    "enter_purchase_entries": ("Enter purchase entries", "Inkoopboekingen invoeren"),
    "enter_general_journal_entries": (
        "Enter general journal entries",
        "Memoriaalboekingen invoeren",
    ),
    "view_documents": ("View documents", "Documenten bekijken"),
    "manage_documents": ("Create, update and delete documents", "Documenten beheren"),
}


@dataclass(frozen=True)
class Entity:
    """One Exact resource. ``key`` names the GUID field its URL key uses."""

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


def _fields(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COMMON = "Division Created Modified"

ENTITIES = (
    Entity(
        "GLAccounts",
        "Exact.Web.Api.Models.Financial.GLAccount",
        _fields(
            "ID Code Description SearchCode BalanceSide BalanceType Type TypeDescription "
            "Classification ClassificationCode ClassificationDescription VATCode VATDescription "
            "IsBlocked UseCostcenter UseCostunit Timestamp " + COMMON
        ),
        standard="financial/GLAccounts",
        sync="sync/Financial/GLAccounts",
        bulk="bulk/Financial/GLAccounts",
        deleted_type=7,
    ),
    Entity(
        "GLClassifications",
        "Exact.Web.Api.Models.Financial.GLClassification",
        _fields(
            "ID Code Description Name Parent Abstract Balance Nillable PeriodType "
            "TaxonomyNamespaceDescription Timestamp " + COMMON
        ),
        standard="financial/GLClassifications",
        sync="sync/Financial/GLClassifications",
        bulk="bulk/Financial/GLClassifications",
        deleted_type=18,
    ),
    Entity(
        "Journals",
        "Exact.Web.Api.Models.Financial.Journal",
        _fields(
            "ID Code Description Type TypeDescription GLAccount GLAccountCode "
            "GLAccountDescription Currency AllowVariableCurrency " + COMMON
        ),
        standard="financial/Journals",
        has_timestamp=False,
    ),
    Entity(
        "VATCodes",
        "Exact.Web.Api.Models.VAT.VATCode",
        _fields(
            "ID Code Description Percentage Type VATTransactionType GLToClaim GLToClaimCode "
            "GLToPay GLToPayCode IsBlocked Charged VATPercentages " + COMMON
        ),
        standard="vat/VATCodes",
        has_timestamp=False,
    ),
    Entity(
        "Accounts",
        "Exact.Web.Api.Models.CRM.Account",
        _fields(
            "ID Code Name SearchCode Status IsSupplier IsSales IsPurchase VATNumber "
            "ChamberOfCommerce Country City Postcode AddressLine1 Email Phone Website "
            "PurchaseCurrency SalesCurrency PurchaseVATCode SalesVATCode "
            "PaymentConditionPurchase PaymentConditionSales Blocked Timestamp " + COMMON
        ),
        standard="crm/Accounts",
        sync="sync/CRM/Accounts",
        bulk="bulk/CRM/Accounts",
        deleted_type=2,
        read_right="view_accounts",
        write_right="manage_accounts",
    ),
    Entity(
        "Costcenters",
        "Exact.Web.Api.Models.HRM.Costcenter",
        _fields("ID Code Description Active " + COMMON),
        standard="hrm/Costcenters",
        has_timestamp=False,
    ),
    Entity(
        "Costunits",
        "Exact.Web.Api.Models.HRM.Costunit",
        _fields("ID Code Description " + COMMON),
        standard="hrm/Costunits",
        has_timestamp=False,
    ),
    Entity(
        "FinancialPeriods",
        "Exact.Web.Api.Models.Financial.FinancialPeriod",
        _fields("ID FinYear FinPeriod StartDate EndDate " + COMMON),
        standard="financial/FinancialPeriods",
        has_timestamp=False,
    ),
    Entity(
        "PaymentConditions",
        "Exact.Web.Api.Models.Cashflow.PaymentCondition",
        _fields(
            "ID Code Description PaymentDays PaymentDiscountPercentage DiscountPaymentDays "
            + COMMON
        ),
        standard="cashflow/PaymentConditions",
        has_timestamp=False,
    ),
    Entity(
        "TransactionLines",
        "Exact.Web.Api.Models.Financial.TransactionLine",
        _fields(
            "ID EntryID EntryNumber LineNumber JournalCode JournalDescription Type "
            "Date DueDate FinancialYear FinancialPeriod GLAccount GLAccountCode "
            "GLAccountDescription Account AccountCode AccountName AmountDC AmountFC "
            "AmountVATBaseFC AmountVATFC Currency ExchangeRate VATCode VATCodeDescription "
            "VATPercentage CostCenter CostCenterDescription CostUnit CostUnitDescription "
            "Description Document DocumentNumber InvoiceNumber YourRef PaymentReference Status "
            "Notes Timestamp " + COMMON
        ),
        standard="financialtransaction/TransactionLines",
        sync="sync/Financial/TransactionLines",
        bulk="bulk/Financial/TransactionLines",
        deleted_type=1,
        read_right="view_financial_entries",
    ),
    Entity(
        "PaymentTerms",
        "Exact.Web.Api.Models.Cashflow.PaymentTerm",
        _fields(
            "ID EntryID EntryNumber EntryDate InvoiceNumber InvoiceDate DueDate Account "
            "AccountName GLAccount AmountDC AmountFC Currency Description PaymentCondition "
            "Source Status TransactionType Timestamp " + COMMON
        ),
        sync="sync/Cashflow/PaymentTerms",
        deleted_type=10,
        read_right="view_financial_entries",
    ),
    Entity(
        "Documents",
        "Exact.Web.Api.Models.Documents.Document",
        _fields(
            "ID Subject Body Type TypeDescription Account AccountName DocumentDate "
            "FinancialTransactionEntryID HasEmptyBody Timestamp " + COMMON
        ),
        standard="documents/Documents",
        sync="sync/Documents/Documents",
        bulk="bulk/Documents/Documents",
        deleted_type=6,
        read_right="view_documents",
        write_right="manage_documents",
    ),
    Entity(
        "DocumentAttachments",
        "Exact.Web.Api.Models.Documents.DocumentAttachment",
        _fields("ID Document FileName FileSize Url Attachment Timestamp " + COMMON),
        standard="documents/DocumentAttachments",
        sync="sync/Documents/DocumentAttachments",
        bulk="bulk/Documents/DocumentAttachments",
        deleted_type=4,
        read_right="view_documents",
        write_right="manage_documents",
    ),
    Entity(
        "PurchaseEntries",
        "Exact.Web.Api.Models.PurchaseEntry.PurchaseEntry",
        _fields(
            "EntryID EntryNumber Journal JournalDescription Supplier SupplierName EntryDate "
            "DueDate YourRef Description Currency PaymentCondition Document AmountDC AmountFC "
            "VATAmountDC VATAmountFC FinancialYear FinancialPeriod Status PurchaseEntryLines "
            + COMMON
        ),
        standard="purchaseentry/PurchaseEntries",
        read_right="view_financial_entries",
        write_right="enter_purchase_entries",
        key="EntryID",
        has_timestamp=False,
    ),
    Entity(
        "GeneralJournalEntries",
        "Exact.Web.Api.Models.GeneralJournalEntry.GeneralJournalEntry",
        _fields(
            "EntryID EntryNumber JournalCode JournalDescription Description Currency "
            "FinancialYear FinancialPeriod Status GeneralJournalEntryLines " + COMMON
        ),
        standard="generaljournalentry/GeneralJournalEntries",
        read_right="view_financial_entries",
        write_right="enter_general_journal_entries",
        key="EntryID",
        has_timestamp=False,
    ),
)

DELETED = Entity(
    "Deleted",
    "Exact.Web.Api.Models.Sync.Deleted",
    _fields("ID EntityKey EntityType DeletedBy DeletedDate Division Timestamp"),
    sync="sync/Deleted",
    read_right="",
)
ENTITIES = (*ENTITIES, DELETED)
ENTITY_BY_NAME = {entity.name: entity for entity in ENTITIES}


# Lines nested in an entry: fields shown when the entry is read with $expand.
PURCHASE_LINE_FIELDS = _fields(
    "ID EntryID LineNumber GLAccount Description AmountFC AmountDC VATCode VATAmountFC "
    "VATAmountDC VATPercentage CostCenter CostUnit"
)
JOURNAL_LINE_FIELDS = _fields(
    "ID EntryID LineNumber GLAccount Account Description Date AmountFC AmountDC VATCode "
    "VATAmountFC VATAmountDC CostCenter CostUnit"
)
VAT_PERCENTAGE_FIELDS = _fields("ID VATCodeID LineNumber Percentage StartDate EndDate Type")

# Fields that are navigation properties: served as __deferred unless $expand names them.
NAVIGATION = {"VATPercentages", "PurchaseEntryLines", "GeneralJournalEntryLines"}


def routes() -> dict[str, tuple[Entity, str]]:
    """Lower-cased path after the division -> (entity, kind) with kind standard/sync/bulk."""
    table: dict[str, tuple[Entity, str]] = {}
    for entity in ENTITIES:
        for kind in ("standard", "sync", "bulk"):
            path = getattr(entity, kind)
            if path:
                table[path.lower()] = (entity, kind)
    return table
