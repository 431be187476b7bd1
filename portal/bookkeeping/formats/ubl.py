"""UBL 2.1 invoices and credit notes as Peppol BIS Billing 3.0 sends them.

An ``Invoice`` with type code 381 (or another credit-note code) and a ``CreditNote`` both give
``InvoiceKind.CREDIT_NOTE`` with every amount negative: lines, VAT breakdown and totals. Document
level allowances and charges are in the totals as the supplier sent them.
"""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from portal.bookkeeping.formats import (
    Attachment,
    FormatError,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Party,
    clean_iban,
)
from portal.bookkeeping.formats.xmlsafe import (
    Amounts,
    iso_date,
    missing,
    number,
    parse_xml,
    text,
)
from portal.messages import N_

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}

#: UNTDID 1001 document types that are credit notes (381 the common one).
CREDIT_NOTE_CODES = {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}


def parse_ubl(data: bytes) -> Invoice:
    """The invoice or credit note in ``data``; ``FormatError`` when it is not UBL or lacks a
    required part (number, issue date, currency, totals)."""
    root = parse_xml(data)
    qname = etree.QName(root)
    if (qname.namespace, qname.localname) not in {
        (INVOICE_NS, "Invoice"),
        (CREDIT_NOTE_NS, "CreditNote"),
    }:
        raise FormatError(N_("This XML file is not a UBL invoice or credit note."))
    is_credit_note_root = qname.localname == "CreditNote"
    type_code = text(
        root, "cbc:CreditNoteTypeCode" if is_credit_note_root else "cbc:InvoiceTypeCode", NS
    )
    credit = is_credit_note_root or (type_code in CREDIT_NOTE_CODES)

    number_ = text(root, "cbc:ID", NS)
    if not number_:
        raise missing(N_("invoice number"))
    issue_date = iso_date(text(root, "cbc:IssueDate", NS), N_("issue date"), required=True)
    due = text(root, "cbc:DueDate", NS) or text(root, "cac:PaymentMeans/cbc:PaymentDueDate", NS)
    currency = text(root, "cbc:DocumentCurrencyCode", NS)
    if not currency:
        raise missing(N_("currency"))

    money = Amounts(NS, credit)

    lines = []
    line_tag = "cac:CreditNoteLine" if is_credit_note_root else "cac:InvoiceLine"
    quantity_tag = "cbc:CreditedQuantity" if is_credit_note_root else "cbc:InvoicedQuantity"
    for index, node in enumerate(root.iterfind(line_tag, NS), start=1):
        line_id = text(node, "cbc:ID", NS) or str(index)
        item = node.find("cac:Item", NS)
        lines.append(
            InvoiceLine(
                description=text(item, "cbc:Name", NS) or text(item, "cbc:Description", NS) or "",
                quantity=number(
                    text(node, quantity_tag, NS), N_("quantity of line %(line)s", line=line_id)
                ),
                net_amount=money(
                    node,
                    "cbc:LineExtensionAmount",
                    N_("net amount of line %(line)s", line=line_id),
                    required=True,
                ),
                vat_category=text(item, "cac:ClassifiedTaxCategory/cbc:ID", NS),
                vat_percent=number(
                    text(item, "cac:ClassifiedTaxCategory/cbc:Percent", NS),
                    N_("VAT percentage of line %(line)s", line=line_id),
                ),
            )
        )

    tax_total = _tax_total(root, currency)
    if tax_total is None:
        raise missing(N_("total VAT amount"))
    vat = [
        money.vat_subtotal(
            node, "cac:TaxCategory/cbc:ID", "cac:TaxCategory/cbc:Percent", "cbc:TaxableAmount",
            "cbc:TaxAmount",
        )
        for node in tax_total.iterfind("cac:TaxSubtotal", NS)
    ]  # fmt: skip

    totals = root.find("cac:LegalMonetaryTotal", NS)
    if totals is None:
        raise missing(N_("totals"))
    return Invoice(
        kind=InvoiceKind.CREDIT_NOTE if credit else InvoiceKind.INVOICE,
        number=number_,
        issue_date=issue_date,
        due_date=iso_date(due, N_("due date")),
        currency=currency,
        supplier=_supplier(root),
        payment_reference=text(root, "cac:PaymentMeans/cbc:PaymentID", NS),
        lines=lines,
        vat=vat,
        total_excl=money(
            totals, "cbc:TaxExclusiveAmount", N_("total excluding VAT"), required=True
        ),
        total_vat=money(tax_total, "cbc:TaxAmount", N_("total VAT amount"), required=True),
        total_incl=money(
            totals, "cbc:TaxInclusiveAmount", N_("total including VAT"), required=True
        ),
        payable=money(totals, "cbc:PayableAmount", N_("amount payable"), required=True),
        attachment=_attachment(root, number_),
        source="ubl",
        type_code=type_code,
    )


def _tax_total(root: etree._Element, currency: str) -> etree._Element | None:
    """The ``TaxTotal`` in the document currency (a second one may give the VAT in the tax
    currency, without a breakdown)."""
    totals = root.findall("cac:TaxTotal", NS)
    for node in totals:
        tax = node.find("cbc:TaxAmount", NS)
        if tax is not None and tax.get("currencyID") in (None, currency):
            return node
    return totals[0] if totals else None


def _supplier(root: etree._Element) -> Party:
    party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    if party is None:
        return Party(name=None, vat=None, coc=None, iban=None, endpoint=None)
    vat = None
    for scheme in party.iterfind("cac:PartyTaxScheme", NS):
        company_id = text(scheme, "cbc:CompanyID", NS)
        if company_id and (vat is None or text(scheme, "cac:TaxScheme/cbc:ID", NS) == "VAT"):
            vat = company_id
    endpoint = party.find("cbc:EndpointID", NS)
    endpoint_id = text(endpoint)
    if endpoint_id and endpoint.get("schemeID"):
        endpoint_id = f"{endpoint.get('schemeID').strip()}:{endpoint_id}"
    iban = None
    for means in root.iterfind("cac:PaymentMeans", NS):
        iban = clean_iban(text(means, "cac:PayeeFinancialAccount/cbc:ID", NS))
        if iban:
            break
    return Party(
        name=text(party, "cac:PartyName/cbc:Name", NS)
        or text(party, "cac:PartyLegalEntity/cbc:RegistrationName", NS),
        vat=vat,
        coc=text(party, "cac:PartyLegalEntity/cbc:CompanyID", NS),
        iban=iban,
        endpoint=endpoint_id,
    )


def _attachment(root: etree._Element, number_: str) -> Attachment | None:
    """The first PDF embedded in the document (the supplier's rendering of the invoice)."""
    for reference in root.iterfind("cac:AdditionalDocumentReference", NS):
        blob = reference.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
        if blob is None or (blob.get("mimeCode") or "").strip().lower() != "application/pdf":
            continue
        encoded = "".join((blob.text or "").split())
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise FormatError(
                N_("The PDF embedded in the invoice is not valid base64 and cannot be read.")
            ) from error
        if not content:
            raise FormatError(N_("The PDF embedded in the invoice is empty."))
        filename = (
            blob.get("filename") or ""
        ).strip() or f"{text(reference, 'cbc:ID', NS) or number_}"
        filename = filename.replace("/", "_").replace("\\", "_")
        if not filename.lower().endswith(".pdf"):
            filename += ".pdf"
        return Attachment(filename=filename, mime="application/pdf", data=content)
    return None
