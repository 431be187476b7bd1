"""The resources helper B added: CRM contacts and addresses, sales invoices, open items
(cashflow Payments and Receivables), GL account classification mappings and bank entries.

Field names are Exact's documented properties, read (names only) from Exact's REST reference
pages and picqer/exact-php-client's model files (commit 8b35057), which link those pages:

- Contacts: HlpRestAPIResourcesDetails.aspx?name=CRMContacts (+ SyncCRMContacts for Timestamp),
  picqer src/Picqer/Financials/Exact/Contact.php, SyncContact.php
- Addresses: name=CRMAddresses, SyncCRMAddresses; picqer Address.php, SyncAddress.php
- SalesInvoices: name=SalesInvoiceSalesInvoices; picqer SalesInvoice.php
- SalesInvoiceLines: name=SalesInvoiceSalesInvoiceLines; picqer SalesInvoiceLine.php
- SyncSalesInvoices: name=SyncSalesInvoiceSalesInvoices; picqer SyncSalesInvoice.php (the sync
  feed has one row per invoice *line*, keyed by the line's ID, with the header's fields merged)
- Payments: name=CashflowPayments; picqer Payment.php
- Receivables: name=CashflowReceivables; picqer Receivable.php
- GLAccountClassificationMappings: name=FinancialGLAccountClassificationMappings;
  picqer GLAccountClassificationMapping.php
- BankEntries: name=FinancialTransactionBankEntries; picqer BankEntry.php
- BankEntryLines: name=FinancialTransactionBankEntryLines; picqer BankEntryLine.php
- sync/Deleted EntityType codes (3 Addresses, 5 Contacts, 13 SalesInvoices): name=SyncDeleted;
  picqer SyncDeleted.php

All pages are under https://start.exactonline.nl/docs/.
"""

from __future__ import annotations

from . import fields as documented_fields
from .entity import Entity, entity_fields


def _names(name: str, inline: str) -> tuple[str, ...]:
    """``fields.json``'s names for ``name`` (helper A's data file), else the list given here,
    read from the same sources. SalesInvoices and SyncSalesInvoices always use the lists
    below: the standard and the sync page differ (the sync feed has one row per line)."""
    if name in documented_fields.names() and name != "SalesInvoices":
        return entity_fields(name)
    return tuple(inline.split())


CONTACT_FIELDS = _names(
    "Contacts",
    "ID Account AccountIsCustomer AccountIsSupplier AccountMainContact AccountName AddressLine2 "
    "AddressStreet AddressStreetNumber AddressStreetNumberSuffix BirthDate BirthPlace "
    "BusinessEmail BusinessFax BusinessMobile BusinessPhone BusinessPhoneExtension City Code "
    "Country Created Creator CreatorFullName CustomField Division Email EndDate FirstName "
    "FullName Gender HID IdentificationDate IdentificationDocument IdentificationUser Initials "
    "IsAnonymised IsMailingExcluded IsMainContact JobTitleDescription Language LastName "
    "LeadPurpose LeadSource MarketingNotes MiddleName Mobile Modified Modifier ModifierFullName "
    "Nationality Notes PartnerName PartnerNamePrefix Person Phone PhoneExtension Picture "
    "PictureName PictureThumbnailUrl PictureUrl Postcode SocialSecurityNumber StartDate State "
    "Title TitleAbbreviation TitleDescription Timestamp",
)
ADDRESS_FIELDS = _names(
    "Addresses",
    "ID Account AccountIsSupplier AccountName AddressLine1 AddressLine2 AddressLine3 City Contact "
    "ContactName Country CountryName Created Creator CreatorFullName CustomField Division Fax "
    "FreeBoolField_01 FreeBoolField_02 FreeBoolField_03 FreeBoolField_04 FreeBoolField_05 "
    "FreeDateField_01 FreeDateField_02 FreeDateField_03 FreeDateField_04 FreeDateField_05 "
    "FreeNumberField_01 FreeNumberField_02 FreeNumberField_03 FreeNumberField_04 "
    "FreeNumberField_05 FreeTextField_01 FreeTextField_02 FreeTextField_03 FreeTextField_04 "
    "FreeTextField_05 Mailbox Main Modified Modifier ModifierFullName NicNumber Notes Phone "
    "PhoneExtension Postcode State StateDescription Type Warehouse WarehouseCode "
    "WarehouseDescription Timestamp",
)
SALES_INVOICE_FIELDS = _names(
    "SalesInvoices",
    "InvoiceID AmountDC AmountDiscount AmountDiscountExclVat AmountFC AmountFCExclVat Created "
    "Creator CreatorFullName Currency DeliverTo DeliverToAddress DeliverToContactPerson "
    "DeliverToContactPersonFullName DeliverToName Description Discount DiscountType Division "
    "Document DocumentNumber DocumentSubject DueDate ExtraDutyAmountFC GAccountAmountFC "
    "IncotermAddress IncotermCode IncotermVersion InvoiceDate InvoiceNumber InvoiceTo "
    "InvoiceToContactPerson InvoiceToContactPersonFullName InvoiceToName IsExtraDuty Journal "
    "JournalDescription Modified Modifier ModifierFullName OrderDate OrderedBy "
    "OrderedByContactPerson OrderedByContactPersonFullName OrderedByName OrderNumber "
    "PaymentCondition PaymentConditionDescription PaymentReference Remarks SalesChannel "
    "SalesChannelCode SalesChannelDescription SalesInvoiceLines SalesInvoiceOrderChargeLines "
    "Salesperson SalespersonFullName SelectionCode SelectionCodeCode SelectionCodeDescription "
    "ShippingMethod ShippingMethodCode ShippingMethodDescription StarterSalesInvoiceStatus "
    "StarterSalesInvoiceStatusDescription Status StatusDescription Type TypeDescription "
    "VATAmountDC VATAmountFC Warehouse WithholdingTaxAmountFC WithholdingTaxBaseAmount "
    "WithholdingTaxPercentage YourRef",
)
SALES_INVOICE_LINE_FIELDS = _names(
    "SalesInvoiceLines",
    "ID AmountDC AmountFC CostCenter CostCenterDescription CostUnit CostUnitDescription "
    "CustomerItemCode CustomField DeliveryDate Description Discount Division Employee "
    "EmployeeFullName EndTime ExtraDutyAmountFC ExtraDutyPercentage GLAccount "
    "GLAccountDescription InvoiceID Item ItemCode ItemDescription LineNumber NetPrice Notes "
    "Pricelist PricelistDescription Project ProjectDescription ProjectWBS ProjectWBSDescription "
    "Quantity SalesOrder SalesOrderLine SalesOrderLineNumber SalesOrderNumber StartTime "
    "Subscription SubscriptionDescription UnitCode UnitDescription UnitPrice VATAmountDC "
    "VATAmountFC VATCode VATCodeDescription VATPercentage",
)
SYNC_SALES_INVOICE_FIELDS = _names(
    "SyncSalesInvoices",
    "Timestamp AmountDC AmountDiscount AmountDiscountExclVat AmountFC AmountFCExclVat CostCenter "
    "CostCenterDescription CostUnit CostUnitDescription Created Creator CreatorFullName Currency "
    "CustomerItemCode CustomField DeliverTo DeliverToAddress DeliverToContactPerson "
    "DeliverToContactPersonFullName DeliverToName DeliveryDate Description Discount DiscountType "
    "Division Document DocumentNumber DocumentSubject DueDate Employee EmployeeFullName EndTime "
    "ExtraDutyAmountFC ExtraDutyPercentage GAccountAmountFC GLAccount GLAccountDescription ID "
    "IncotermAddress IncotermCode IncotermVersion InvoiceDate InvoiceID InvoiceNumber InvoiceTo "
    "InvoiceToContactPerson InvoiceToContactPersonFullName InvoiceToName IsExtraDuty Item "
    "ItemCode ItemDescription Journal JournalDescription LineNumber Modified Modifier "
    "ModifierFullName NetPrice Notes OrderDate OrderedBy OrderedByContactPerson "
    "OrderedByContactPersonFullName OrderedByName OrderNumber PaymentCondition "
    "PaymentConditionDescription PaymentReference Pricelist PricelistDescription Project "
    "ProjectDescription ProjectWBS ProjectWBSDescription Quantity Remarks SalesChannel "
    "SalesChannelCode SalesChannelDescription SalesOrder SalesOrderLine SalesOrderLineNumber "
    "SalesOrderNumber Salesperson SalespersonFullName StarterSalesInvoiceStatus "
    "StarterSalesInvoiceStatusDescription StartTime Status StatusDescription Subscription "
    "SubscriptionDescription Type TypeDescription UnitCode UnitDescription UnitPrice VATAmountDC "
    "VATAmountFC VATCode VATCodeDescription VATPercentage Warehouse WithholdingTaxAmountFC "
    "WithholdingTaxBaseAmount WithholdingTaxPercentage YourRef",
)
PAYMENT_FIELDS = _names(
    "Payments",
    "ID Account AccountBankAccountID AccountBankAccountNumber AccountCode AccountContact "
    "AccountContactName AccountName AmountDC AmountDiscountDC AmountDiscountFC AmountFC "
    "BankAccountID BankAccountNumber CashflowTransactionBatchCode Created Creator "
    "CreatorFullName Currency Description DiscountDueDate Division Document DocumentNumber "
    "DocumentSubject DueDate EndDate EndPeriod EndYear EntryDate EntryID EntryNumber GLAccount "
    "GLAccountCode GLAccountDescription InvoiceDate InvoiceNumber IsBatchBooking Journal "
    "JournalDescription Modified Modifier ModifierFullName PaymentBatchNumber PaymentCondition "
    "PaymentConditionDescription PaymentDays PaymentDaysDiscount PaymentDiscountPercentage "
    "PaymentMethod PaymentReference PaymentSelected PaymentSelector PaymentSelectorFullName "
    "RateFC Source Status TransactionAmountDC TransactionAmountFC TransactionDueDate "
    "TransactionEntryID TransactionID TransactionIsReversal TransactionReportingPeriod "
    "TransactionReportingYear TransactionStatus TransactionType YourRef",
)
RECEIVABLE_FIELDS = _names(
    "Receivables",
    "ID Account AccountBankAccountID AccountBankAccountNumber AccountCode AccountContact "
    "AccountContactName AccountCountry AccountName AmountDC AmountDiscountDC AmountDiscountFC "
    "AmountFC BankAccountID BankAccountNumber CashflowTransactionBatchCode Created Creator "
    "CreatorFullName Currency Description DirectDebitMandate DirectDebitMandateDescription "
    "DirectDebitMandatePaymentType DirectDebitMandateReference DirectDebitMandateType "
    "DiscountDueDate Division Document DocumentNumber DocumentSubject DueDate EndDate EndPeriod "
    "EndToEndID EndYear EntryDate EntryID EntryNumber GLAccount GLAccountCode "
    "GLAccountDescription InvoiceDate InvoiceNumber IsBatchBooking IsFullyPaid Journal "
    "JournalDescription LastPaymentDate Modified Modifier ModifierFullName OrderNumber "
    "PaymentCondition PaymentConditionDescription PaymentDays PaymentDaysDiscount "
    "PaymentDiscountPercentage PaymentInformationID PaymentMethod PaymentReference RateFC "
    "ReceivableBatchNumber ReceivableSelected ReceivableSelector ReceivableSelectorFullName "
    "Source Status TransactionAmountDC TransactionAmountFC TransactionDueDate TransactionEntryID "
    "TransactionID TransactionIsReversal TransactionReportingPeriod TransactionReportingYear "
    "TransactionStatus TransactionType YourRef",
)
MAPPING_FIELDS = _names(
    "GLAccountClassificationMappings",
    "ID Classification ClassificationCode ClassificationDescription Division GLAccount "
    "GLAccountCode GLAccountDescription GLSchemeCode GLSchemeDescription GLSchemeID",
)
BANK_ENTRY_FIELDS = _names(
    "BankEntries",
    "EntryID BankEntryLines BankStatementDocument BankStatementDocumentNumber "
    "BankStatementDocumentSubject ClosingBalanceFC Created Currency CustomField Division "
    "EntryNumber FinancialPeriod FinancialYear JournalCode JournalDescription Modified "
    "OpeningBalanceFC Status StatusDescription",
)
BANK_ENTRY_LINE_FIELDS = _names(
    "BankEntryLines",
    "ID Account AccountCode AccountName AmountDC AmountFC AmountVATFC Asset AssetCode "
    "AssetDescription CostCenter CostCenterDescription CostUnit CostUnitDescription Created "
    "Creator CreatorFullName CustomField Date Description Division Document DocumentNumber "
    "DocumentSubject EntryID EntryNumber ExchangeRate GLAccount GLAccountCode "
    "GLAccountDescription LineNumber Modified Modifier ModifierFullName Notes OffsetID OurRef "
    "Project ProjectCode ProjectDescription Quantity VATCode VATCodeDescription VATPercentage "
    "VATType",
)

# The right a user needs to book bank entries. Helper A's RIGHTS (entities.py) should include
# MORE_RIGHTS so a refusal can name it; the read rights below are existing ones.
MORE_RIGHTS = {"enter_bank_entries": ("Enter bank entries", "Bankboekingen invoeren")}
BANK_WRITE_RIGHT = "enter_bank_entries"

# Navigation properties of these entities: __deferred unless $expand names them.
MORE_NAVIGATION = {"BankEntryLines", "SalesInvoiceLines"}

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
MORE_BY_NAME = {entity.name: entity for entity in MORE}
