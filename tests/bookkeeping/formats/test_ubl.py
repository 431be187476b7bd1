"""UBL 2.1 / Peppol BIS 3.0 invoices and credit notes."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pytest

from portal.bookkeeping.formats import FormatError, InvoiceKind, parse_ubl
from portal.messages import Message
from tests.bookkeeping import samples


def test_invoice_field_by_field():
    pdf = samples.pdf_receipt("Invoice INV-2025-0042")
    invoice = parse_ubl(samples.ubl_invoice(pdf=pdf))
    assert invoice.kind == InvoiceKind.INVOICE
    assert invoice.source == "ubl"
    assert invoice.type_code == "380"
    assert invoice.number == "INV-2025-0042"
    assert invoice.issue_date == date(2025, 3, 14)
    assert invoice.due_date == date(2025, 4, 13)
    assert invoice.currency == "EUR"
    assert invoice.payment_reference == "RF18 5390 0754 7034"
    supplier = invoice.supplier
    assert supplier.name == "Bakkerij De Korenaar B.V."
    assert supplier.vat == "NL859123456B01"
    assert supplier.coc == "12345678"
    assert supplier.iban == "NL91ABNA0417164300"
    assert supplier.endpoint == "0106:12345678"
    assert [line.description for line in invoice.lines] == [
        "Volkorenbrood",
        "Koffiebonen 1 kg",
        "Boeken",
    ]
    first = invoice.lines[0]
    assert first.quantity == Decimal("10")
    assert first.net_amount == Decimal("25.00")
    assert isinstance(first.net_amount, Decimal)
    assert (first.vat_category, first.vat_percent) == ("S", Decimal("21"))
    assert invoice.lines[2].vat_percent == Decimal("9")
    assert [(v.category, v.percent, v.taxable, v.tax) for v in invoice.vat] == [
        ("S", Decimal("21"), Decimal("55.00"), Decimal("11.55")),
        ("S", Decimal("9"), Decimal("40.00"), Decimal("3.60")),
    ]
    assert invoice.total_excl == Decimal("95.00")
    assert invoice.total_vat == Decimal("15.15")
    assert invoice.total_incl == Decimal("110.15")
    assert invoice.payable == Decimal("110.15")
    assert invoice.attachment is not None
    assert invoice.attachment.filename == "INV-2025-0042.pdf"
    assert invoice.attachment.mime == "application/pdf"
    assert invoice.attachment.data == pdf


def test_amounts_get_two_places():
    invoice = parse_ubl(
        samples.ubl_invoice(
            lines=[{"description": "X", "net": "100", "category": "S", "percent": "21"}],
            total_excl="100",
            total_vat="21",
            total_incl="121",
            payable="121.0",
        )
    )
    assert str(invoice.total_excl) == "100.00"
    assert str(invoice.payable) == "121.00"
    assert str(invoice.lines[0].net_amount) == "100.00"


def test_credit_note_amounts_are_negative():
    invoice = parse_ubl(samples.ubl_credit_note())
    assert invoice.kind == InvoiceKind.CREDIT_NOTE
    assert invoice.number == "CN-2025-0007"
    assert invoice.due_date == date(2025, 4, 13)  # from PaymentMeans/PaymentDueDate
    assert [line.net_amount for line in invoice.lines] == [
        Decimal("-25.00"),
        Decimal("-30.00"),
        Decimal("-40.00"),
    ]
    assert invoice.lines[0].quantity == Decimal("10")
    assert [(v.taxable, v.tax) for v in invoice.vat] == [
        (Decimal("-55.00"), Decimal("-11.55")),
        (Decimal("-40.00"), Decimal("-3.60")),
    ]
    assert invoice.total_excl == Decimal("-95.00")
    assert invoice.total_vat == Decimal("-15.15")
    assert invoice.total_incl == Decimal("-110.15")
    assert invoice.payable == Decimal("-110.15")


def test_invoice_with_type_381_is_a_credit_note():
    invoice = parse_ubl(samples.ubl_invoice(type_code="381"))
    assert invoice.kind == InvoiceKind.CREDIT_NOTE
    assert invoice.payable == Decimal("-110.15")
    assert invoice.lines[0].net_amount == Decimal("-25.00")


def test_zero_amounts_of_a_credit_note_are_not_negative_zero():
    invoice = parse_ubl(
        samples.ubl_credit_note(
            lines=[{"description": "Gift", "net": "0.00", "category": "Z", "percent": "0"}]
        )
    )
    assert str(invoice.total_vat) == "0.00"
    assert str(invoice.lines[0].net_amount) == "0.00"


def test_optional_parts_absent():
    invoice = parse_ubl(
        samples.ubl_invoice(due_date=None, pdf=None, payment_id=None, endpoint=None)
    )
    assert invoice.due_date is None
    assert invoice.attachment is None
    assert invoice.payment_reference is None
    assert invoice.supplier.endpoint is None


def test_supplier_name_falls_back_to_registration_name():
    invoice = parse_ubl(samples.ubl_invoice(supplier_name=None))
    assert invoice.supplier.name == "De Korenaar Holding B.V."


def test_invalid_iban_gives_none_not_an_error():
    invoice = parse_ubl(samples.ubl_invoice(supplier_iban="NL00ABNA0417164300"))
    assert invoice.supplier.iban is None
    spaced = parse_ubl(samples.ubl_invoice(supplier_iban="nl91 abna 0417 1643 00"))
    assert spaced.supplier.iban == "NL91ABNA0417164300"


def test_not_ubl():
    with pytest.raises(FormatError) as error:
        parse_ubl(b'<?xml version="1.0"?><Invoice xmlns="urn:example:other"><ID>1</ID></Invoice>')
    assert error.value.message.template == "This XML file is not a UBL invoice or credit note."
    with pytest.raises(FormatError, match="not a UBL invoice"):
        parse_ubl(samples.camt053_statement())


def test_missing_number():
    with pytest.raises(FormatError) as error:
        parse_ubl(samples.ubl_invoice(number=None))
    message = error.value.message
    assert message.template == "The invoice has no %(field)s."
    assert isinstance(message.params["field"], Message)
    assert message.params["field"].template == "invoice number"
    assert str(error.value) == "The invoice has no invoice number."


def test_missing_totals():
    with pytest.raises(FormatError, match="The invoice has no totals"):
        parse_ubl(samples.ubl_invoice(totals=False))


def test_missing_payable_amount_is_named():
    data = samples.ubl_invoice().replace(b"PayableAmount", b"PrepaidAmount")
    with pytest.raises(FormatError, match="no amount payable"):
        parse_ubl(data)


def test_more_than_two_decimals_names_the_field():
    with pytest.raises(FormatError) as error:
        parse_ubl(samples.ubl_invoice(payable="110.150"))
    assert error.value.message.params["field"].template == "amount payable"
    assert error.value.message.params["value"] == "110.150"
    with pytest.raises(FormatError, match="net amount of line 2 has more than two decimals"):
        parse_ubl(
            samples.ubl_invoice(
                lines=[
                    {"description": "A", "net": "1.00"},
                    {"description": "B", "net": "1.005"},
                ]
            )
        )


@pytest.mark.parametrize("value", ["12,50", "1E3", "NaN", "abc"])
def test_amount_that_is_not_a_number(value):
    with pytest.raises(FormatError, match="total excluding VAT is not a number"):
        parse_ubl(samples.ubl_invoice(total_excl=value))


def test_invalid_date():
    data = samples.ubl_invoice().replace(b"<cbc:IssueDate>2025-03-14", b"<cbc:IssueDate>2025-02-30")
    with pytest.raises(FormatError, match="issue date is not a valid date"):
        parse_ubl(data)


def test_bad_base64_attachment():
    with pytest.raises(FormatError, match="not valid base64"):
        parse_ubl(samples.ubl_invoice(pdf_base64="JVBERi0xLjQK!!!*not base64*"))


def test_base64_with_line_breaks_is_fine():
    pdf = bytes(range(256)) * 3
    encoded = base64.b64encode(pdf).decode()
    wrapped = "\n   ".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
    invoice = parse_ubl(samples.ubl_invoice(pdf_base64=wrapped))
    assert invoice.attachment.data == pdf


def test_tax_total_in_the_document_currency_is_used():
    data = samples.ubl_invoice().replace(
        b"<cac:TaxTotal>",
        b'<cac:TaxTotal><cbc:TaxAmount currencyID="USD">16.40</cbc:TaxAmount></cac:TaxTotal>'
        b"<cac:TaxTotal>",
        1,
    )
    invoice = parse_ubl(data)
    assert invoice.total_vat == Decimal("15.15")
    assert len(invoice.vat) == 2
