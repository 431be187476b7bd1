"""More of Exact's resources: CRM contacts and addresses, sales invoices (the standard list and
the sync feed, which has one row per invoice *line* with the header's fields merged), open items
(cashflow Payments and Receivables), GL account classification mappings and bank entries.

Their field lists, with the Exact page and picqer/exact-php-client model file each was read
from, are in ``fields.json`` like every other entity's; the sync/Deleted EntityType codes
(3 Addresses, 5 Contacts, 13 SalesInvoices) were read from Exact's SyncDeleted page and
picqer's SyncDeleted.php.
"""

from __future__ import annotations

from .entity import Entity, entity_fields

CONTACT_FIELDS = entity_fields("Contacts")
ADDRESS_FIELDS = entity_fields("Addresses")
SALES_INVOICE_FIELDS = entity_fields("SalesInvoices")
SALES_INVOICE_LINE_FIELDS = entity_fields("SalesInvoiceLines")
SYNC_SALES_INVOICE_FIELDS = entity_fields("SyncSalesInvoices")
PAYMENT_FIELDS = entity_fields("Payments")
RECEIVABLE_FIELDS = entity_fields("Receivables")
MAPPING_FIELDS = entity_fields("GLAccountClassificationMappings")
BANK_ENTRY_FIELDS = entity_fields("BankEntries")
BANK_ENTRY_LINE_FIELDS = entity_fields("BankEntryLines")

# The right a user needs to book bank entries. Helper A's RIGHTS (entities.py) should include
# MORE_RIGHTS so a refusal can name it; the read rights below are existing ones.
MORE_RIGHTS = {"enter_bank_entries": ("Enter bank entries", "Bankboekingen invoeren")}
BANK_WRITE_RIGHT = "enter_bank_entries"

# Navigation properties of these entities: __deferred unless $expand names them.
MORE = (
    Entity(
        "Contacts",
        "Exact.Web.Api.Models.CRM.Contact",
        CONTACT_FIELDS,
        standard="crm/Contacts",
        sync="sync/CRM/Contacts",
        bulk="bulk/CRM/Contacts",
        deleted_type=5,
        read_right="view_accounts",
    ),
    Entity(
        "Addresses",
        "Exact.Web.Api.Models.CRM.Address",
        ADDRESS_FIELDS,
        standard="crm/Addresses",
        sync="sync/CRM/Addresses",
        bulk="bulk/CRM/Addresses",
        deleted_type=3,
        read_right="view_accounts",
    ),
    Entity(
        "SalesInvoices",
        "Exact.Web.Api.Models.SalesInvoice.SalesInvoice",
        SALES_INVOICE_FIELDS,
        standard="salesinvoice/SalesInvoices",
        deleted_type=13,
        read_right="view_financial_entries",
        key="InvoiceID",
        has_timestamp=False,
    ),
    Entity(
        "SalesInvoiceLines",
        "Exact.Web.Api.Models.SalesInvoice.SalesInvoiceLine",
        SALES_INVOICE_LINE_FIELDS,
        standard="salesinvoice/SalesInvoiceLines",
        bulk="bulk/SalesInvoice/SalesInvoiceLines",
        read_right="view_financial_entries",
        has_timestamp=False,
    ),
    Entity(
        "SyncSalesInvoices",
        "Exact.Web.Api.Models.Sync.SalesInvoice.SalesInvoice",
        SYNC_SALES_INVOICE_FIELDS,
        sync="sync/SalesInvoice/SalesInvoices",
        deleted_type=13,
        read_right="view_financial_entries",
    ),
    Entity(
        "Payments",
        "Exact.Web.Api.Models.Cashflow.Payment",
        PAYMENT_FIELDS,
        standard="cashflow/Payments",
        bulk="bulk/Cashflow/Payments",
        read_right="view_financial_entries",
        has_timestamp=False,
    ),
    Entity(
        "Receivables",
        "Exact.Web.Api.Models.Cashflow.Receivable",
        RECEIVABLE_FIELDS,
        standard="cashflow/Receivables",
        bulk="bulk/Cashflow/Receivables",
        read_right="view_financial_entries",
        has_timestamp=False,
    ),
    Entity(
        "GLAccountClassificationMappings",
        "Exact.Web.Api.Models.Financial.GLAccountClassificationMapping",
        MAPPING_FIELDS,
        standard="financial/GLAccountClassificationMappings",
        has_timestamp=False,
    ),
    Entity(
        "BankEntries",
        "Exact.Web.Api.Models.FinancialTransaction.BankEntry",
        BANK_ENTRY_FIELDS,
        standard="financialtransaction/BankEntries",
        read_right="view_financial_entries",
        write_right=BANK_WRITE_RIGHT,
        key="EntryID",
        has_timestamp=False,
    ),
    Entity(
        "BankEntryLines",
        "Exact.Web.Api.Models.FinancialTransaction.BankEntryLine",
        BANK_ENTRY_LINE_FIELDS,
        standard="financialtransaction/BankEntryLines",
        read_right="view_financial_entries",
        has_timestamp=False,
    ),
)
