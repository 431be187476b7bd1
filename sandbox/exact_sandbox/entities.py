"""The Exact resources the sandbox serves: paths, rights and sync/Deleted codes.

Field names come from ``fields.json`` (Exact's documented properties; see ``fields.py``).
The entities helper B added for the extraction tools and bank entries live in
``more_entities.MORE`` and are served the same way.
"""

from __future__ import annotations

from . import more_entities
from .entity import Entity, entity_fields
from .fields import all_navigation

__all__ = ["ENTITIES", "ENTITY_BY_NAME", "Entity", "NAVIGATION", "RIGHTS", "routes"]

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
    **getattr(more_entities, "MORE_RIGHTS", {}),
}

BASE_ENTITIES = (
    Entity(
        "GLAccounts",
        "Exact.Web.Api.Models.Financial.GLAccount",
        entity_fields("GLAccounts"),
        standard="financial/GLAccounts",
        sync="sync/Financial/GLAccounts",
        bulk="bulk/Financial/GLAccounts",
        deleted_type=7,
    ),
    Entity(
        "GLClassifications",
        "Exact.Web.Api.Models.Financial.GLClassification",
        entity_fields("GLClassifications"),
        standard="financial/GLClassifications",
        sync="sync/Financial/GLClassifications",
        bulk="bulk/Financial/GLClassifications",
        deleted_type=18,
    ),
    Entity(
        "Journals",
        "Exact.Web.Api.Models.Financial.Journal",
        entity_fields("Journals"),
        standard="financial/Journals",
        has_timestamp=False,
    ),
    Entity(
        "VATCodes",
        "Exact.Web.Api.Models.VAT.VATCode",
        entity_fields("VATCodes"),
        standard="vat/VATCodes",
        has_timestamp=False,
    ),
    Entity(
        "Accounts",
        "Exact.Web.Api.Models.CRM.Account",
        entity_fields("Accounts"),
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
        entity_fields("Costcenters"),
        standard="hrm/Costcenters",
        has_timestamp=False,
    ),
    Entity(
        "Costunits",
        "Exact.Web.Api.Models.HRM.Costunit",
        entity_fields("Costunits"),
        standard="hrm/Costunits",
        has_timestamp=False,
    ),
    Entity(
        "FinancialPeriods",
        "Exact.Web.Api.Models.Financial.FinancialPeriod",
        entity_fields("FinancialPeriods"),
        standard="financial/FinancialPeriods",
        has_timestamp=False,
    ),
    Entity(
        "PaymentConditions",
        "Exact.Web.Api.Models.Cashflow.PaymentCondition",
        entity_fields("PaymentConditions"),
        standard="cashflow/PaymentConditions",
        has_timestamp=False,
    ),
    Entity(
        "TransactionLines",
        "Exact.Web.Api.Models.Financial.TransactionLine",
        entity_fields("TransactionLines"),
        standard="financialtransaction/TransactionLines",
        sync="sync/Financial/TransactionLines",
        bulk="bulk/Financial/TransactionLines",
        deleted_type=1,
        read_right="view_financial_entries",
    ),
    # Exact's standard endpoint is cashflow/PaymentTerms; the sandbox serves only the feed.
    Entity(
        "PaymentTerms",
        "Exact.Web.Api.Models.Cashflow.PaymentTerm",
        entity_fields("PaymentTerms"),
        sync="sync/Cashflow/PaymentTerms",
        deleted_type=10,
        read_right="view_financial_entries",
    ),
    Entity(
        "Documents",
        "Exact.Web.Api.Models.Documents.Document",
        entity_fields("Documents"),
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
        entity_fields("DocumentAttachments"),
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
        entity_fields("PurchaseEntries"),
        standard="purchaseentry/PurchaseEntries",
        read_right="view_financial_entries",
        write_right="enter_purchase_entries",
        key="EntryID",
        has_timestamp=False,
    ),
    Entity(
        "GeneralJournalEntries",
        "Exact.Web.Api.Models.GeneralJournalEntry.GeneralJournalEntry",
        entity_fields("GeneralJournalEntries"),
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
    entity_fields("Deleted"),
    sync="sync/Deleted",
    read_right="",
)
ENTITIES = (*BASE_ENTITIES, *more_entities.MORE, DELETED)
ENTITY_BY_NAME = {entity.name: entity for entity in ENTITIES}


# Lines nested in an entry as writes.py stores them (reading renders Exact's documented
# properties of the line entity, see ``NAVIGATION``).
def _fields(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PURCHASE_LINE_FIELDS = _fields(
    "ID EntryID LineNumber GLAccount Description AmountFC AmountDC VATCode VATAmountFC "
    "VATAmountDC VATPercentage CostCenter CostUnit"
)
JOURNAL_LINE_FIELDS = _fields(
    "ID EntryID LineNumber GLAccount Account Description Date AmountFC AmountDC VATCode "
    "AmountVATFC AmountVATDC CostCenter CostUnit Document"
)

# Navigation properties (served as __deferred unless $expand names them) -> the entity in
# fields.json whose documented properties an expanded row shows (None: the row's own keys).
NAVIGATION: dict[str, str | None] = all_navigation()


def routes() -> dict[str, tuple[Entity, str]]:
    """Lower-cased path after the division -> (entity, kind) with kind standard/sync/bulk."""
    table: dict[str, tuple[Entity, str]] = {}
    for entity in ENTITIES:
        for kind in ("standard", "sync", "bulk"):
            path = getattr(entity, kind)
            if path:
                table[path.lower()] = (entity, kind)
    return table
