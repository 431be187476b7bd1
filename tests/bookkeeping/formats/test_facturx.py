"""The CII invoice inside a Factur-X PDF."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from portal.bookkeeping.formats import FileType, FormatError, InvoiceKind, parse_facturx, sniff
from tests.bookkeeping import samples


def _pdf_with_attachment(name: str, content: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(samples.pdf_receipt())))
    writer.add_attachment(name, content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_facturx_field_by_field():
    pdf = samples.facturx_pdf()
    assert sniff(pdf) == FileType.PDF
    invoice = parse_facturx(pdf)
    assert invoice is not None
    assert invoice.source == "factur-x"
    assert invoice.kind == InvoiceKind.INVOICE
    assert invoice.attachment is None  # the PDF itself is the receipt
    assert invoice.number == "INV-2025-0042"
    assert invoice.type_code == "380"
    assert invoice.issue_date == date(2025, 3, 14)
    assert invoice.due_date == date(2025, 4, 13)
    assert invoice.currency == "EUR"
    assert invoice.payment_reference == "RF18 5390 0754 7034"
    assert invoice.supplier.name == "Bakkerij De Korenaar B.V."
    assert invoice.supplier.vat == "NL859123456B01"
    assert invoice.supplier.coc == "12345678"
    assert invoice.supplier.iban == "NL91ABNA0417164300"
    assert invoice.supplier.endpoint == "0106:12345678"
    assert [(line.description, line.quantity, line.net_amount) for line in invoice.lines] == [
        ("Volkorenbrood", Decimal("10"), Decimal("25.00")),
        ("Koffiebonen 1 kg", Decimal("2"), Decimal("30.00")),
        ("Boeken", Decimal("1"), Decimal("40.00")),
    ]
    assert invoice.lines[2].vat_category == "S"
    assert invoice.lines[2].vat_percent == Decimal("9")
    assert [(v.category, v.percent, v.taxable, v.tax) for v in invoice.vat] == [
        ("S", Decimal("21"), Decimal("55.00"), Decimal("11.55")),
        ("S", Decimal("9"), Decimal("40.00"), Decimal("3.60")),
    ]
    assert invoice.total_excl == Decimal("95.00")
    assert invoice.total_vat == Decimal("15.15")
    assert invoice.total_incl == Decimal("110.15")
    assert invoice.payable == Decimal("110.15")


def test_facturx_credit_note_is_negative():
    invoice = parse_facturx(samples.facturx_pdf(type_code="381", number="CN-1"))
    assert invoice.kind == InvoiceKind.CREDIT_NOTE
    assert invoice.number == "CN-1"
    assert invoice.total_excl == Decimal("-95.00")
    assert invoice.total_vat == Decimal("-15.15")
    assert invoice.total_incl == Decimal("-110.15")
    assert invoice.payable == Decimal("-110.15")
    assert invoice.lines[0].net_amount == Decimal("-25.00")
    assert invoice.vat[0].tax == Decimal("-11.55")


def test_no_due_date_and_invalid_iban():
    invoice = parse_facturx(samples.facturx_pdf(due_date=None, supplier_iban="NL00INGB0000000000"))
    assert invoice.due_date is None
    assert invoice.supplier.iban is None


def test_plain_pdf_has_no_invoice():
    assert parse_facturx(samples.pdf_receipt()) is None


def test_pdf_with_another_attachment_has_no_invoice():
    assert parse_facturx(_pdf_with_attachment("notes.txt", b"hello")) is None


def test_zugferd_filename_is_read():
    pdf = _pdf_with_attachment("zugferd-invoice.xml", samples.cii_xml(number="ZF-9"))
    assert parse_facturx(pdf).number == "ZF-9"


def test_corrupt_pdf():
    with pytest.raises(FormatError, match="damaged"):
        parse_facturx(samples.corrupt_pdf())


def test_missing_number_in_embedded_xml():
    with pytest.raises(FormatError, match="no invoice number"):
        parse_facturx(samples.facturx_pdf(number=None))


def test_more_than_two_decimals_in_embedded_xml():
    with pytest.raises(FormatError, match="amount payable has more than two decimals"):
        parse_facturx(samples.facturx_pdf(payable="110.1500"))


def test_xxe_inside_the_pdf_is_refused_and_not_read():
    xml = samples.cii_xml(supplier_name="__XXE__").decode()
    header, _, rest = xml.partition("\n")
    xml = (
        f'{header}\n<!DOCTYPE rsm:CrossIndustryInvoice [ <!ENTITY xxe SYSTEM "file:///etc/passwd">'
        f" ]>\n{rest.replace('__XXE__', '&xxe;')}"
    )
    with pytest.raises(FormatError) as error:
        parse_facturx(_pdf_with_attachment("factur-x.xml", xml.encode()))
    assert "DTD or entities" in str(error.value)
    assert "root:" not in str(error.value)


def test_bomb_inside_the_pdf_is_refused():
    with pytest.raises(FormatError, match="DTD or entities"):
        parse_facturx(_pdf_with_attachment("factur-x.xml", samples.xml_bomb()))
