"""Sample files the project writes itself (nothing copied from elsewhere), for the tests, the
demo and the benchmarks. Every function returns the bytes; keyword arguments change the shape.

Invoices (amounts as ``str``/``Decimal``/``int``, written as given, so ``"1.005"`` is possible):

- ``ubl_invoice(**overrides)`` - a Peppol BIS 3.0 UBL ``Invoice`` (type 380). Keywords:
  ``number``, ``issue_date``, ``due_date`` (``None`` leaves it out), ``currency``,
  ``type_code``, ``supplier_name``, ``supplier_vat``, ``supplier_coc``, ``supplier_iban``,
  ``endpoint`` (``("0106", "12345678")`` or ``None``), ``payment_id``, ``lines`` (a list of
  dicts ``{"description", "quantity", "net", "category", "percent"}``), ``vat`` (a list of
  dicts ``{"category", "percent", "taxable", "tax"}``, computed from the lines when left
  out), ``total_excl``, ``total_vat``, ``total_incl``, ``payable`` (computed when left out),
  ``totals=False`` (leave out ``LegalMonetaryTotal``), ``pdf`` (bytes to embed, ``None`` for
  none), ``pdf_filename``, ``pdf_base64`` (the embedded text as is, e.g. invalid base64).
- ``ubl_credit_note(**overrides)`` - the same as a UBL ``CreditNote`` (type 381).
- ``facturx_pdf(**overrides)`` - a PDF with a Factur-X (EN 16931) CII XML embedded; the same
  keywords as ``ubl_invoice`` (``type_code="381"`` for a credit note) except the ``pdf*``
  ones; ``cii_xml(**overrides)`` gives the XML alone, ``facturx_pdf(xml=b"...")`` embeds
  the XML given.

Statements (amounts signed: a debit is negative):

- ``mt940_statement(transactions=[...], iban=..., opening=..., closing=None, currency="EUR",
  statement_id=..., statement_date=..., envelope=False)`` - an ING-like MT940 with SEPA
  ``:86:`` (``/TRTP/ /IBAN/ /BIC/ /NAME/ /REMI/ /EREF/``). Each transaction is a dict:
  ``amount`` (required), ``date`` (value date), ``entry_date``, ``name``, ``iban``,
  ``remittance``, ``eref``, ``bank_reference`` (``None`` → ``NONREF``), ``reversal`` (the amount
  stays the signed effect: a negative reversal is written ``RC``, a positive one ``RD``).
  ``closing`` is computed from the opening and the transactions when left out.
- ``camt053_statement(entries=[...], version="001.02", iban=..., opening=..., closing=None,
  currency="EUR", statement_id=...)`` - a camt.053 (``"001.02"``, ``"001.04"``, ``"001.08"``).
  Each entry is a dict: ``amount`` (required), ``booking_date``, ``value_date``,
  ``reference`` (AcctSvcrRef), ``status`` ("BOOK"/"PDNG"), ``reversal``, ``name``, ``iban``,
  ``remittance``, ``end_to_end``, ``batch`` (a list of dicts ``amount``, ``name``, ``iban``,
  ``remittance``, ``end_to_end``: one TxDtls each). Fast enough for 10,000 entries.

Receipts and hostile files: ``jpeg_receipt()``, ``png_receipt()``, ``heic_receipt()``,
``pdf_receipt(text=...)``, ``corrupt_pdf()``, ``png_bomb()`` (a tiny PNG claiming 400
megapixels), ``xml_bomb()`` (billion laughs), ``xxe_xml(target="file:///etc/passwd")``,
``xxe_dtd_xml(url)`` (an external DTD).
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

SUPPLIER_IBAN = "NL91ABNA0417164300"
ACCOUNT_IBAN = "NL20INGB0001234567"
COUNTERPARTY_IBAN = "NL44RABO0123456789"

_CENT = Decimal("0.01")


def _e(value: Any) -> str:
    return escape(str(value))


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _money(value: Any) -> str:
    """As given when a string (to allow odd shapes), else with two decimals."""
    return value if isinstance(value, str) else f"{_d(value):.2f}"


DEFAULT_LINES = [
    {"description": "Volkorenbrood", "quantity": "10", "net": "25.00", "category": "S",
     "percent": "21"},
    {"description": "Koffiebonen 1 kg", "quantity": "2", "net": "30.00", "category": "S",
     "percent": "21"},
    {"description": "Boeken", "quantity": "1", "net": "40.00", "category": "S", "percent": "9"},
]  # fmt: skip


def _invoice_data(overrides: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": "INV-2025-0042",
        "issue_date": date(2025, 3, 14),
        "due_date": date(2025, 4, 13),
        "currency": "EUR",
        "type_code": "380",
        "supplier_name": "Bakkerij De Korenaar B.V.",
        "supplier_vat": "NL859123456B01",
        "supplier_coc": "12345678",
        "supplier_iban": SUPPLIER_IBAN,
        "endpoint": ("0106", "12345678"),
        "payment_id": "RF18 5390 0754 7034",
        "lines": DEFAULT_LINES,
        "totals": True,
        "pdf": b"%PDF-1.4\n% a rendering of the invoice\n%%EOF\n",
        "pdf_filename": "INV-2025-0042.pdf",
        "pdf_base64": None,
    }
    unknown = set(overrides) - set(data) - {"vat", "total_excl", "total_vat", "total_incl",
                                              "payable"}  # fmt: skip
    if unknown:
        raise TypeError(f"unknown sample keywords: {sorted(unknown)}")
    data.update(overrides)
    if "vat" not in data:
        groups: dict[tuple[str, str], Decimal] = {}
        for line in data["lines"]:
            key = (line.get("category", "S"), str(line.get("percent", "21")))
            groups[key] = groups.get(key, Decimal(0)) + _d(line["net"])
        data["vat"] = [
            {"category": category, "percent": percent, "taxable": taxable,
             "tax": (taxable * _d(percent) / 100).quantize(_CENT)}
            for (category, percent), taxable in groups.items()
        ]  # fmt: skip
    excl = sum((_d(line["net"]) for line in data["lines"]), Decimal("0.00"))
    tax = sum((_d(group["tax"]) for group in data["vat"]), Decimal("0.00"))
    data.setdefault("total_excl", excl)
    data.setdefault("total_vat", tax)
    data.setdefault("total_incl", excl + tax)
    data.setdefault("payable", excl + tax)
    return data


def _ubl(root: str, overrides: dict[str, Any]) -> bytes:
    data = _invoice_data(overrides)
    credit = root == "CreditNote"
    cur = quoteattr(data["currency"])
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"'
        ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
        ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">',
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#"
        "urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>",
        "<cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>",
    ]
    if data["number"] is not None:
        out.append(f"<cbc:ID>{_e(data['number'])}</cbc:ID>")
    out.append(f"<cbc:IssueDate>{data['issue_date']}</cbc:IssueDate>")
    if data["due_date"] is not None and not credit:
        out.append(f"<cbc:DueDate>{data['due_date']}</cbc:DueDate>")
    out.append(f"<cbc:{root}TypeCode>{_e(data['type_code'])}</cbc:{root}TypeCode>")
    out.append(f"<cbc:DocumentCurrencyCode>{_e(data['currency'])}</cbc:DocumentCurrencyCode>")
    out.append("<cbc:BuyerReference>PO-7</cbc:BuyerReference>")
    if data["pdf"] is not None or data["pdf_base64"] is not None:
        encoded = data["pdf_base64"]
        if encoded is None:
            raw = base64.b64encode(data["pdf"]).decode()
            encoded = "\n".join(raw[i : i + 76] for i in range(0, len(raw), 76))
        out.append(
            "<cac:AdditionalDocumentReference><cbc:ID>INV-PDF</cbc:ID><cac:Attachment>"
            '<cbc:EmbeddedDocumentBinaryObject mimeCode="application/pdf" '
            f"filename={quoteattr(data['pdf_filename'])}>{encoded}"
            "</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
        )
    out.append("<cac:AccountingSupplierParty><cac:Party>")
    if data["endpoint"]:
        scheme, value = data["endpoint"]
        out.append(f"<cbc:EndpointID schemeID={quoteattr(scheme)}>{_e(value)}</cbc:EndpointID>")
    if data["supplier_name"] is not None:
        out.append(
            f"<cac:PartyName><cbc:Name>{_e(data['supplier_name'])}</cbc:Name></cac:PartyName>"
        )
    out.append(
        "<cac:PostalAddress><cbc:StreetName>Dorpsstraat 1</cbc:StreetName>"
        "<cbc:CityName>Utrecht</cbc:CityName><cbc:PostalZone>3511 AA</cbc:PostalZone>"
        "<cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country>"
        "</cac:PostalAddress>"
    )
    if data["supplier_vat"]:
        out.append(
            f"<cac:PartyTaxScheme><cbc:CompanyID>{_e(data['supplier_vat'])}</cbc:CompanyID>"
            "<cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>"
        )
    out.append(
        "<cac:PartyLegalEntity><cbc:RegistrationName>"
        f"{_e(data['supplier_name'] or 'De Korenaar Holding B.V.')}</cbc:RegistrationName>"
    )
    if data["supplier_coc"]:
        out.append(f'<cbc:CompanyID schemeID="0106">{_e(data["supplier_coc"])}</cbc:CompanyID>')
    out.append("</cac:PartyLegalEntity></cac:Party></cac:AccountingSupplierParty>")
    out.append(
        "<cac:AccountingCustomerParty><cac:Party>"
        '<cbc:EndpointID schemeID="0106">87654321</cbc:EndpointID>'
        "<cac:PostalAddress><cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode>"
        "</cac:Country></cac:PostalAddress>"
        "<cac:PartyLegalEntity><cbc:RegistrationName>Klant B.V.</cbc:RegistrationName>"
        "</cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>"
    )
    if credit and data["due_date"] is not None:
        out.append(
            "<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>"
            f"<cbc:PaymentDueDate>{data['due_date']}</cbc:PaymentDueDate>"
        )
    else:
        out.append("<cac:PaymentMeans><cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>")
    if data["payment_id"]:
        out.append(f"<cbc:PaymentID>{_e(data['payment_id'])}</cbc:PaymentID>")
    if data["supplier_iban"]:
        out.append(
            f"<cac:PayeeFinancialAccount><cbc:ID>{_e(data['supplier_iban'])}</cbc:ID>"
            "</cac:PayeeFinancialAccount>"
        )
    out.append("</cac:PaymentMeans>")
    out.append(
        f"<cac:TaxTotal><cbc:TaxAmount currencyID={cur}>{_money(data['total_vat'])}</cbc:TaxAmount>"
    )
    for group in data["vat"]:
        out.append(
            f"<cac:TaxSubtotal><cbc:TaxableAmount currencyID={cur}>{_money(group['taxable'])}"
            f"</cbc:TaxableAmount><cbc:TaxAmount currencyID={cur}>{_money(group['tax'])}"
            f"</cbc:TaxAmount><cac:TaxCategory><cbc:ID>{_e(group['category'])}</cbc:ID>"
            f"<cbc:Percent>{_e(group['percent'])}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT"
            "</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal>"
        )
    out.append("</cac:TaxTotal>")
    if data["totals"]:
        out.append(
            f"<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID={cur}>"
            f"{_money(data['total_excl'])}</cbc:LineExtensionAmount>"
            f"<cbc:TaxExclusiveAmount currencyID={cur}>{_money(data['total_excl'])}"
            f"</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID={cur}>"
            f"{_money(data['total_incl'])}</cbc:TaxInclusiveAmount>"
            f"<cbc:PayableAmount currencyID={cur}>{_money(data['payable'])}</cbc:PayableAmount>"
            "</cac:LegalMonetaryTotal>"
        )
    line_tag = "CreditNoteLine" if credit else "InvoiceLine"
    quantity_tag = "CreditedQuantity" if credit else "InvoicedQuantity"
    for index, line in enumerate(data["lines"], start=1):
        quantity = line.get("quantity", "1")
        out.append(
            f"<cac:{line_tag}><cbc:ID>{index}</cbc:ID>"
            f'<cbc:{quantity_tag} unitCode="C62">{_e(quantity)}</cbc:{quantity_tag}>'
            f"<cbc:LineExtensionAmount currencyID={cur}>{_money(line['net'])}"
            f"</cbc:LineExtensionAmount><cac:Item><cbc:Name>{_e(line['description'])}</cbc:Name>"
            f"<cac:ClassifiedTaxCategory><cbc:ID>{_e(line.get('category', 'S'))}</cbc:ID>"
            f"<cbc:Percent>{_e(line.get('percent', '21'))}</cbc:Percent><cac:TaxScheme>"
            "<cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:ClassifiedTaxCategory></cac:Item>"
            f"<cac:Price><cbc:PriceAmount currencyID={cur}>"
            f"{(_d(line['net']) / _d(quantity)).quantize(Decimal('0.0001'))}</cbc:PriceAmount>"
            f"</cac:Price></cac:{line_tag}>"
        )
    out.append(f"</{root}>")
    return "\n".join(out).encode("utf-8")


def ubl_invoice(**overrides: Any) -> bytes:
    """A Peppol BIS 3.0 UBL invoice (see the module docstring for the keywords)."""
    return _ubl("Invoice", overrides)


def ubl_credit_note(**overrides: Any) -> bytes:
    """A Peppol BIS 3.0 UBL credit note: amounts positive, as UBL writes them."""
    overrides.setdefault("type_code", "381")
    overrides.setdefault("number", "CN-2025-0007")
    return _ubl("CreditNote", overrides)


# --- Factur-X ----------------------------------------------------------------------------------


def _cii_date(value: date) -> str:
    return f'<udt:DateTimeString format="102">{value:%Y%m%d}</udt:DateTimeString>'


def cii_xml(**overrides: Any) -> bytes:
    """The Factur-X (EN 16931 profile) CII XML of ``facturx_pdf``."""
    overrides.setdefault("pdf", None)
    data = _invoice_data(overrides)
    cur = data["currency"]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
        'CrossIndustryInvoice:100" xmlns:ram="urn:un:unece:uncefact:data:standard:'
        'ReusableAggregateBusinessInformationEntity:100" xmlns:qdt="urn:un:unece:uncefact:'
        'data:standard:QualifiedDataType:100" xmlns:udt="urn:un:unece:uncefact:data:standard:'
        'UnqualifiedDataType:100">',
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>"
        "<ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>"
        "</rsm:ExchangedDocumentContext>",
        "<rsm:ExchangedDocument>",
    ]
    if data["number"] is not None:
        out.append(f"<ram:ID>{_e(data['number'])}</ram:ID>")
    out.append(f"<ram:TypeCode>{_e(data['type_code'])}</ram:TypeCode>")
    out.append(f"<ram:IssueDateTime>{_cii_date(data['issue_date'])}</ram:IssueDateTime>")
    out.append("</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>")
    for index, line in enumerate(data["lines"], start=1):
        quantity = line.get("quantity", "1")
        out.append(
            "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument>"
            f"<ram:LineID>{index}</ram:LineID></ram:AssociatedDocumentLineDocument>"
            f"<ram:SpecifiedTradeProduct><ram:Name>{_e(line['description'])}</ram:Name>"
            "</ram:SpecifiedTradeProduct><ram:SpecifiedLineTradeAgreement>"
            "<ram:NetPriceProductTradePrice><ram:ChargeAmount>"
            f"{(_d(line['net']) / _d(quantity)).quantize(Decimal('0.0001'))}</ram:ChargeAmount>"
            "</ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>"
            f'<ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="C62">{_e(quantity)}'
            "</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>"
            "<ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT"
            f"</ram:TypeCode><ram:CategoryCode>{_e(line.get('category', 'S'))}</ram:CategoryCode>"
            f"<ram:RateApplicablePercent>{_e(line.get('percent', '21'))}"
            "</ram:RateApplicablePercent>"
            "</ram:ApplicableTradeTax><ram:SpecifiedTradeSettlementLineMonetarySummation>"
            f"<ram:LineTotalAmount>{_money(line['net'])}</ram:LineTotalAmount>"
            "</ram:SpecifiedTradeSettlementLineMonetarySummation>"
            "</ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"
        )
    out.append("<ram:ApplicableHeaderTradeAgreement><ram:SellerTradeParty>")
    if data["supplier_name"] is not None:
        out.append(f"<ram:Name>{_e(data['supplier_name'])}</ram:Name>")
    if data["supplier_coc"]:
        out.append(
            '<ram:SpecifiedLegalOrganization><ram:ID schemeID="0106">'
            f"{_e(data['supplier_coc'])}</ram:ID></ram:SpecifiedLegalOrganization>"
        )
    out.append("<ram:PostalTradeAddress><ram:CountryID>NL</ram:CountryID></ram:PostalTradeAddress>")
    if data["endpoint"]:
        scheme, value = data["endpoint"]
        out.append(
            f"<ram:URIUniversalCommunication><ram:URIID schemeID={quoteattr(scheme)}>"
            f"{_e(value)}</ram:URIID></ram:URIUniversalCommunication>"
        )
    if data["supplier_vat"]:
        out.append(
            '<ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">'
            f"{_e(data['supplier_vat'])}</ram:ID></ram:SpecifiedTaxRegistration>"
        )
    out.append(
        "</ram:SellerTradeParty><ram:BuyerTradeParty><ram:Name>Klant B.V.</ram:Name>"
        "</ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement>"
        "<ram:ApplicableHeaderTradeDelivery/><ram:ApplicableHeaderTradeSettlement>"
    )
    if data["payment_id"]:
        out.append(f"<ram:PaymentReference>{_e(data['payment_id'])}</ram:PaymentReference>")
    out.append(f"<ram:InvoiceCurrencyCode>{_e(cur)}</ram:InvoiceCurrencyCode>")
    if data["supplier_iban"]:
        out.append(
            "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>"
            "<ram:PayeePartyCreditorFinancialAccount>"
            f"<ram:IBANID>{_e(data['supplier_iban'])}</ram:IBANID>"
            "</ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>"
        )
    for group in data["vat"]:
        out.append(
            f"<ram:ApplicableTradeTax><ram:CalculatedAmount>{_money(group['tax'])}"
            "</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>"
            f"<ram:BasisAmount>{_money(group['taxable'])}</ram:BasisAmount>"
            f"<ram:CategoryCode>{_e(group['category'])}</ram:CategoryCode>"
            f"<ram:RateApplicablePercent>{_e(group['percent'])}</ram:RateApplicablePercent>"
            "</ram:ApplicableTradeTax>"
        )
    if data["due_date"] is not None:
        out.append(
            "<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime>"
            f"{_cii_date(data['due_date'])}</ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>"
        )
    if data["totals"]:
        out.append(
            "<ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
            f"<ram:LineTotalAmount>{_money(data['total_excl'])}</ram:LineTotalAmount>"
            f"<ram:TaxBasisTotalAmount>{_money(data['total_excl'])}</ram:TaxBasisTotalAmount>"
            f'<ram:TaxTotalAmount currencyID="{_e(cur)}">{_money(data["total_vat"])}'
            "</ram:TaxTotalAmount>"
            f"<ram:GrandTotalAmount>{_money(data['total_incl'])}</ram:GrandTotalAmount>"
            f"<ram:DuePayableAmount>{_money(data['payable'])}</ram:DuePayableAmount>"
            "</ram:SpecifiedTradeSettlementHeaderMonetarySummation>"
        )
    out.append("</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction>")
    out.append("</rsm:CrossIndustryInvoice>")
    return "\n".join(out).encode("utf-8")


def facturx_pdf(**overrides: Any) -> bytes:
    """A PDF/A-3-like PDF with the CII XML of ``cii_xml(**overrides)`` as ``factur-x.xml``."""
    from facturx import generate_from_binary

    xml = overrides.pop("xml", None) or cii_xml(**overrides)
    pdf = pdf_receipt(text=f"Invoice {overrides.get('number', 'INV-2025-0042')}")
    return generate_from_binary(
        pdf, xml, check_xsd=False, pdf_metadata={"author": "Samples", "title": "Invoice"}
    )


# --- receipts ----------------------------------------------------------------------------------


def pdf_receipt(text: str = "Receipt - Cafe De Zwaan - Total EUR 12.50") -> bytes:
    """A one-page PDF with ``text`` on it, written by hand (no library)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 50 760 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def corrupt_pdf() -> bytes:
    """A PDF header followed by junk: no object, no page can be read."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 4 + b"\n1 0 obj\n<< /Ty"


RECEIPT_LINES = ("CAFE DE ZWAAN", "2x Koffie  7.00", "1x Taart   5.50", "TOTAAL EUR 12.50",
                 "BTW 9%  1.03")  # fmt: skip


def _receipt_image(text: str | None = None):
    """A receipt photo: its lines, and ``text`` below them (so each such image differs)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 320), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate([*RECEIPT_LINES, *([text] if text else [])]):
        draw.text((20, 20 + 40 * row), line, fill="black")
    return image


def jpeg_receipt(text: str | None = None) -> bytes:
    out = io.BytesIO()
    _receipt_image(text).save(out, "JPEG", quality=80)
    return out.getvalue()


def png_receipt(text: str | None = None) -> bytes:
    out = io.BytesIO()
    _receipt_image(text).save(out, "PNG")
    return out.getvalue()


def heic_receipt() -> bytes:
    from pillow_heif import from_pillow

    out = io.BytesIO()
    from_pillow(_receipt_image()).save(out, quality=60)
    return out.getvalue()


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid, tiny PNG of ``width`` × ``height`` black 1-bit pixels (400 megapixels)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    raw = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


# --- hostile XML -------------------------------------------------------------------------------


def xml_bomb() -> bytes:
    """Billion laughs: ten levels of ten entities, a few bytes that expand to gigabytes."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE Invoice [\n' + "\n".join(entities) + "\n]>\n"
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'
        "&lol9;</Invoice>"
    ).encode()


def xxe_xml(target: str = "file:///etc/passwd") -> bytes:
    """A UBL invoice whose supplier name is an external entity pointing at ``target``."""
    invoice = ubl_invoice(supplier_name="__XXE__").decode()
    invoice = invoice.replace("__XXE__", "&xxe;")
    header, _, rest = invoice.partition("\n")
    return (f'{header}\n<!DOCTYPE Invoice [ <!ENTITY xxe SYSTEM "{target}"> ]>\n{rest}').encode()


def xxe_dtd_xml(url: str) -> bytes:
    """A UBL invoice that names an external DTD at ``url`` (a parser loading it calls out)."""
    invoice = ubl_invoice().decode()
    header, _, rest = invoice.partition("\n")
    return f'{header}\n<!DOCTYPE Invoice SYSTEM "{url}">\n{rest}'.encode()


# --- statements --------------------------------------------------------------------------------


def _mt_amount(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


def _mt_balance(tag: str, value: Decimal, day: date, currency: str) -> str:
    mark = "D" if value < 0 else "C"
    return f":{tag}:{mark}{day:%y%m%d}{currency}{_mt_amount(value)}"


def _wrap(text: str, width: int = 65) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def mt940_statement(
    transactions: list[dict[str, Any]] | None = None,
    *,
    iban: str = ACCOUNT_IBAN,
    opening: Any = "1000.00",
    closing: Any = None,
    currency: str = "EUR",
    statement_id: str = "P250314000000001",
    statement_date: date = date(2025, 3, 14),
    envelope: bool = False,
) -> bytes:
    """An ING-like MT940 statement (see the module docstring)."""
    if transactions is None:
        transactions = [
            {"amount": "250.00", "name": "Klant B.V.", "iban": COUNTERPARTY_IBAN,
             "remittance": "Factuur 2025-001", "eref": "E2E-0001", "bank_reference": "0001"},
            {"amount": "-49.95", "name": "KPN B.V.", "iban": SUPPLIER_IBAN,
             "remittance": "Abonnement maart", "eref": None, "bank_reference": "0002"},
        ]  # fmt: skip
    opening = _d(opening)
    total = sum((_d(t["amount"]) for t in transactions), Decimal(0))
    closing = opening + total if closing is None else _d(closing)
    lines = []
    if envelope:
        lines.append("{1:F01INGBNL2AXXXX0000000000}{2:I940INGBNL2AXXXXN}{4:")
    lines += [
        f":20:{statement_id}",
        f":25:{iban}{currency}",
        ":28C:00001",
        _mt_balance("60F", opening, statement_date - timedelta(days=1), currency),
    ]
    for t in transactions:
        value = _d(t["amount"])
        day = t.get("date", statement_date)
        entry = t.get("entry_date", day)
        mark = "D" if value < 0 else "C"
        if t.get("reversal"):  # RC takes money out (a credit undone), RD puts it back
            mark = "RC" if value < 0 else "RD"
        ref = t.get("bank_reference")
        lines.append(
            f":61:{day:%y%m%d}{entry:%m%d}{mark}{_mt_amount(value)}NTRF"
            f"{'EREF' if t.get('eref') else 'NONREF'}//{ref or 'NONREF'}"
        )
        lines.append("/TRCD/00100/")
        details = "/TRTP/SEPA OVERBOEKING"
        if t.get("iban"):
            details += f"/IBAN/{t['iban']}/BIC/RABONL2U"
        if t.get("name"):
            details += f"/NAME/{t['name']}"
        details += f"/REMI/{t.get('remittance', '')}"
        details += f"/EREF/{t.get('eref') or 'NOTPROVIDED'}"
        wrapped = _wrap(details)
        lines.append(f":86:{wrapped[0]}")
        lines.extend(wrapped[1:])
    lines.append(_mt_balance("62F", closing, statement_date, currency))
    lines.append(_mt_balance("64", closing, statement_date, currency))
    if envelope:
        lines.append("-}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


_CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.{version}"


def camt053_statement(
    entries: list[dict[str, Any]] | None = None,
    *,
    version: str = "001.02",
    iban: str = ACCOUNT_IBAN,
    opening: Any = "1000.00",
    closing: Any = None,
    currency: str = "EUR",
    statement_id: str = "STMT-2025-03-14",
    statement_date: date = date(2025, 3, 14),
) -> bytes:
    """A camt.053 statement (see the module docstring); pending entries leave the balance."""
    if entries is None:
        entries = [
            {"amount": "250.00", "name": "Klant B.V.", "iban": COUNTERPARTY_IBAN,
             "remittance": "Factuur 2025-001", "end_to_end": "E2E-0001", "reference": "REF-0001"},
            {"amount": "-49.95", "name": "KPN B.V.", "iban": SUPPLIER_IBAN,
             "remittance": "Abonnement maart", "reference": "REF-0002"},
        ]  # fmt: skip
    v8 = version >= "001.08"
    opening = _d(opening)
    booked = [e for e in entries if e.get("status", "BOOK") == "BOOK"]
    closing = (
        opening + sum((_d(e["amount"]) for e in booked), Decimal(0))
        if closing is None
        else _d(closing)
    )
    cur = quoteattr(currency)

    def status(code: str) -> str:
        return f"<Sts><Cd>{code}</Cd></Sts>" if v8 else f"<Sts>{code}</Sts>"

    def party(role: str, name: str | None, account: str | None) -> str:
        out = ""
        if name:
            out += (
                f"<{role}><Pty><Nm>{_e(name)}</Nm></Pty></{role}>"
                if v8
                else (f"<{role}><Nm>{_e(name)}</Nm></{role}>")
            )
        if account:
            out += f"<{role}Acct><Id><IBAN>{_e(account)}</IBAN></Id></{role}Acct>"
        return out

    def tx(detail: dict[str, Any], credit: bool, with_amount: bool) -> str:
        out = ["<TxDtls><Refs>"]
        if detail.get("end_to_end"):
            out.append(f"<EndToEndId>{_e(detail['end_to_end'])}</EndToEndId>")
        else:
            out.append("<EndToEndId>NOTPROVIDED</EndToEndId>")
        out.append("</Refs>")
        if with_amount:
            value = _d(detail["amount"])
            out.append(f"<AmtDtls><TxAmt><Amt Ccy={cur}>{abs(value):.2f}</Amt></TxAmt></AmtDtls>")
        role = "Dbtr" if credit else "Cdtr"
        related = party(role, detail.get("name"), detail.get("iban"))
        if related:
            out.append(f"<RltdPties>{related}</RltdPties>")
        if detail.get("remittance"):
            out.append(f"<RmtInf><Ustrd>{_e(detail['remittance'])}</Ustrd></RmtInf>")
        out.append("</TxDtls>")
        return "".join(out)

    def balance(code: str, value: Decimal, day: date) -> str:
        return (
            f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
            f"<Amt Ccy={cur}>{abs(value):.2f}</Amt>"
            f"<CdtDbtInd>{'DBIT' if value < 0 else 'CRDT'}</CdtDbtInd>"
            f"<Dt><Dt>{day}</Dt></Dt></Bal>"
        )

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<Document xmlns="{_CAMT_NS.format(version=version)}"><BkToCstmrStmt>',
        f"<GrpHdr><MsgId>MSG-{_e(statement_id)}</MsgId>"
        f"<CreDtTm>{statement_date}T18:00:00</CreDtTm></GrpHdr>",
        f"<Stmt><Id>{_e(statement_id)}</Id><CreDtTm>{statement_date}T18:00:00</CreDtTm>",
        f"<Acct><Id><IBAN>{_e(iban)}</IBAN></Id><Ccy>{_e(currency)}</Ccy></Acct>",
        balance("OPBD", opening, statement_date - timedelta(days=1)),
        balance("CLBD", closing, statement_date),
    ]
    for entry in entries:
        value = _d(entry["amount"])
        credit = value >= 0
        booking = entry.get("booking_date", statement_date)
        out.append(f"<Ntry><Amt Ccy={cur}>{abs(value):.2f}</Amt>")
        out.append(f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>")
        if entry.get("reversal"):
            out.append("<RvslInd>true</RvslInd>")
        out.append(status(entry.get("status", "BOOK")))
        out.append(f"<BookgDt><Dt>{booking}</Dt></BookgDt>")
        out.append(f"<ValDt><Dt>{entry.get('value_date', booking)}</Dt></ValDt>")
        if entry.get("reference"):
            out.append(f"<AcctSvcrRef>{_e(entry['reference'])}</AcctSvcrRef>")
        out.append(
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd>"
            "</Fmly></Domn></BkTxCd>"
        )
        if entry.get("batch"):
            parts = "".join(tx(detail, credit, True) for detail in entry["batch"])
            out.append(
                f"<NtryDtls><Btch><NbOfTxs>{len(entry['batch'])}</NbOfTxs></Btch>{parts}</NtryDtls>"
            )
        else:
            out.append(f"<NtryDtls>{tx(entry, credit, False)}</NtryDtls>")
        out.append("</Ntry>")
    out.append("</Stmt></BkToCstmrStmt></Document>\n")
    return "".join(out).encode("utf-8")
