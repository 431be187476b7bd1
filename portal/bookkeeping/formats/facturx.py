"""The CII invoice inside a Factur-X / ZUGFeRD 2 / XRechnung PDF.

The ``factur-x`` library finds the embedded XML (``factur-x.xml``, ``zugferd-invoice.xml``,
``xrechnung.xml``); it is read here with the safe parser. Before the library sees any embedded
XML, each is checked for a DTD or entities, so a bomb inside a PDF is refused like any other.
The PDF itself is the receipt: ``attachment`` is ``None`` and the caller keeps the PDF.
"""

from __future__ import annotations

import fnmatch
import io
import warnings
from decimal import Decimal

from lxml import etree

from portal.bookkeeping.formats import (
    FormatError,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Party,
    clean_iban,
)
from portal.bookkeeping.formats.ubl import CREDIT_NOTE_CODES
from portal.bookkeeping.formats.xmlsafe import (
    Amounts,
    amount,
    check_prolog,
    compact_date,
    iso_date,
    missing,
    negate,
    number,
    parse_xml,
    text,
)
from portal.messages import N_

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS = {
    "rsm": RSM,
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
FILENAMES = ["factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml"]

_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_SELLER = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty"


def parse_facturx(pdf: bytes) -> Invoice | None:
    """The invoice embedded in ``pdf``; ``None`` when it carries no CII invoice XML (a plain
    PDF, an Order-X, or ZUGFeRD 1.0 which is not read). ``FormatError`` for a damaged PDF or an
    embedded invoice that cannot be read."""
    if not _xml_attachments(pdf):
        return None
    from facturx import get_xml_from_pdf

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            filename, xml = get_xml_from_pdf(pdf, check_xsd=False, filenames=list(FILENAMES))
    except FormatError:
        raise
    except Exception as error:  # noqa: BLE001 - pypdf/lxml errors on a damaged file
        raise FormatError(N_("This PDF is damaged and cannot be read.")) from error
    if not filename or not xml:
        return None
    root = parse_xml(xml)
    if etree.QName(root) != etree.QName(RSM, "CrossIndustryInvoice"):
        return None
    return _invoice(root)


def _xml_attachments(pdf: bytes) -> list[bytes]:
    """The embedded files that the library could take for the invoice, each checked safe."""
    from pypdf import PdfReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(pdf), strict=False)
            found = [
                attachment.content
                for attachment in reader.attachment_list
                if any(fnmatch.fnmatch(attachment.name.lower(), name) for name in FILENAMES)
            ]
    except Exception as error:  # noqa: BLE001 - pypdf raises many kinds of errors on junk
        raise FormatError(N_("This PDF is damaged and cannot be read.")) from error
    for content in found:
        if content:
            check_prolog(content)
    return [content for content in found if content]


def _date(node: etree._Element | None, path: str, what, *, required: bool = False):
    element = node.find(path, NS) if node is not None else None
    if element is None:
        if required:
            raise missing(what)
        return None
    value = text(element)
    if element.get("format", "102") == "102":
        return compact_date(value, what, required=required)
    return iso_date(value, what, required=required)


def _invoice(root: etree._Element) -> Invoice:
    document = root.find("rsm:ExchangedDocument", NS)
    number_ = text(document, "ram:ID", NS) if document is not None else None
    if not number_:
        raise missing(N_("invoice number"))
    type_code = text(document, "ram:TypeCode", NS)
    credit = type_code in CREDIT_NOTE_CODES
    issue_date = _date(
        document, "ram:IssueDateTime/udt:DateTimeString", N_("issue date"), required=True
    )
    settlement = root.find(_SETTLEMENT, NS)
    if settlement is None:
        raise missing(N_("totals"))
    currency = text(settlement, "ram:InvoiceCurrencyCode", NS)
    if not currency:
        raise missing(N_("currency"))

    money = Amounts(NS, credit)

    lines = []
    items = root.iterfind(
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", NS
    )
    for index, item in enumerate(items, start=1):
        line_id = text(item, "ram:AssociatedDocumentLineDocument/ram:LineID", NS) or str(index)
        line_settlement = item.find("ram:SpecifiedLineTradeSettlement", NS)
        tax = (
            line_settlement.find("ram:ApplicableTradeTax", NS)
            if line_settlement is not None
            else None
        )
        lines.append(
            InvoiceLine(
                description=text(item, "ram:SpecifiedTradeProduct/ram:Name", NS) or "",
                quantity=number(
                    text(item, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", NS),
                    N_("quantity of line %(line)s", line=line_id),
                ),
                net_amount=money(
                    line_settlement,
                    "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                    N_("net amount of line %(line)s", line=line_id),
                    required=True,
                ),
                vat_category=text(tax, "ram:CategoryCode", NS) if tax is not None else None,
                vat_percent=number(
                    text(tax, "ram:RateApplicablePercent", NS) if tax is not None else None,
                    N_("VAT percentage of line %(line)s", line=line_id),
                ),
            )
        )

    vat = [
        money.vat_subtotal(
            node, "ram:CategoryCode", "ram:RateApplicablePercent", "ram:BasisAmount",
            "ram:CalculatedAmount",
        )
        for node in settlement.iterfind("ram:ApplicableTradeTax", NS)
    ]  # fmt: skip

    totals = settlement.find("ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    if totals is None:
        raise missing(N_("totals"))
    tax_total = None
    for node in totals.iterfind("ram:TaxTotalAmount", NS):
        if node.get("currencyID") in (None, currency):
            tax_total = node
            break
    total_vat = amount(text(tax_total), N_("total VAT amount"))
    if total_vat is None:
        total_vat = Decimal("0.00")  # BASIC WL/MINIMUM may leave it out when there is no VAT
    total_vat = negate(total_vat) if credit else total_vat

    iban = None
    for account in settlement.iterfind(
        "ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount", NS
    ):
        iban = clean_iban(text(account, "ram:IBANID", NS))
        if iban:
            break

    return Invoice(
        kind=InvoiceKind.CREDIT_NOTE if credit else InvoiceKind.INVOICE,
        number=number_,
        issue_date=issue_date,
        due_date=_date(
            settlement,
            "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString",
            N_("due date"),
        ),
        currency=currency,
        supplier=_seller(root, iban),
        payment_reference=text(settlement, "ram:PaymentReference", NS),
        lines=lines,
        vat=vat,
        total_excl=money(
            totals, "ram:TaxBasisTotalAmount", N_("total excluding VAT"), required=True
        ),
        total_vat=total_vat,
        total_incl=money(totals, "ram:GrandTotalAmount", N_("total including VAT"), required=True),
        payable=money(totals, "ram:DuePayableAmount", N_("amount payable"), required=True),
        attachment=None,
        source="factur-x",
        type_code=type_code,
    )


def _seller(root: etree._Element, iban: str | None) -> Party:
    seller = root.find(_SELLER, NS)
    if seller is None:
        return Party(name=None, vat=None, coc=None, iban=iban, endpoint=None)
    vat = None
    for registration in seller.iterfind("ram:SpecifiedTaxRegistration/ram:ID", NS):
        if registration.get("schemeID") == "VA":
            vat = text(registration)
    endpoint = seller.find("ram:URIUniversalCommunication/ram:URIID", NS)
    endpoint_id = text(endpoint)
    if endpoint_id and endpoint.get("schemeID"):
        endpoint_id = f"{endpoint.get('schemeID').strip()}:{endpoint_id}"
    return Party(
        name=text(seller, "ram:Name", NS),
        vat=vat,
        coc=text(seller, "ram:SpecifiedLegalOrganization/ram:ID", NS),
        iban=iban,
        endpoint=endpoint_id,
    )
