"""MT940 and camt.053 bank statements."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest

from portal.bookkeeping.formats import FormatError, parse_statement
from tests.bookkeeping import samples

ACCOUNT = samples.ACCOUNT_IBAN
DAY = date(2025, 3, 14)


# --- MT940 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("envelope", [False, True])
def test_mt940_field_by_field(envelope):
    [statement] = parse_statement(samples.mt940_statement(envelope=envelope))
    assert statement.format == "mt940"
    assert statement.iban == ACCOUNT
    assert statement.currency == "EUR"
    assert statement.statement_id == "P250314000000001"
    assert statement.opening_balance == Decimal("1000.00")
    assert statement.closing_balance == Decimal("1200.05")
    credit, debit = statement.lines
    assert credit.amount == Decimal("250.00")
    assert credit.booking_date == DAY
    assert credit.value_date == DAY
    assert credit.currency == "EUR"
    assert credit.counterparty_name == "Klant B.V."
    assert credit.counterparty_iban == samples.COUNTERPARTY_IBAN
    assert credit.description == "Factuur 2025-001"
    assert credit.end_to_end_id == "E2E-0001"
    assert credit.bank_reference == "0001"
    assert credit.key == "0001"
    assert credit.reversal is False
    assert debit.amount == Decimal("-49.95")
    assert debit.counterparty_name == "KPN B.V."
    assert debit.end_to_end_id is None  # NOTPROVIDED


def test_mt940_long_details_wrap_over_lines():
    remittance = "Factuur 2025-001 en 2025-002 en 2025-003, termijn 4 van 12, klantnummer 77"
    [statement] = parse_statement(
        samples.mt940_statement(
            [{"amount": "10.00", "name": "Klant B.V.", "iban": samples.COUNTERPARTY_IBAN,
              "remittance": remittance, "eref": "E2E-LONG", "bank_reference": "0009"}]
        )
    )  # fmt: skip
    line = statement.lines[0]
    assert line.description == remittance
    assert line.end_to_end_id == "E2E-LONG"


def test_mt940_entry_date_is_the_booking_date():
    [statement] = parse_statement(
        samples.mt940_statement(
            [{"amount": "5.00", "date": date(2025, 3, 15), "entry_date": DAY,
              "bank_reference": "0003"}]
        )
    )  # fmt: skip
    assert statement.lines[0].booking_date == DAY
    assert statement.lines[0].value_date == date(2025, 3, 15)


def test_mt940_reversal():
    [statement] = parse_statement(
        samples.mt940_statement([{"amount": "-20.00", "reversal": True, "bank_reference": "R1"}])
    )
    assert statement.lines[0].reversal is True
    assert statement.lines[0].amount == Decimal("-20.00")  # RC: a reversed credit takes money


def test_mt940_without_bank_reference_keys_on_the_transaction():
    transaction = {"amount": "-3.50", "name": "Bakker", "iban": samples.SUPPLIER_IBAN,
                   "remittance": "Brood", "bank_reference": None}  # fmt: skip
    [statement] = parse_statement(samples.mt940_statement([transaction, dict(transaction)]))
    first, second = statement.lines
    assert first.bank_reference is None
    assert first.key.startswith("sha256:")
    # Two identical payments on one statement both stay, numbered.
    assert second.key == first.key + "#2"
    # The same statement again gives the same keys.
    [again] = parse_statement(samples.mt940_statement([transaction, dict(transaction)]))
    assert [line.key for line in again.lines] == [first.key, second.key]
    # Another amount gives another key.
    other = parse_statement(samples.mt940_statement([{**transaction, "amount": "-3.51"}]))
    assert other[0].lines[0].key != first.key


def test_mt940_overlapping_statements_give_the_same_keys():
    monday = {"amount": "100.00", "date": DAY, "name": "A", "bank_reference": None,
              "remittance": "one"}  # fmt: skip
    tuesday = {"amount": "-40.00", "date": DAY + timedelta(days=1), "name": "B",
               "bank_reference": "B-2", "remittance": "two"}  # fmt: skip
    wednesday = {"amount": "7.00", "date": DAY + timedelta(days=2), "name": "C",
                 "bank_reference": None, "remittance": "three"}  # fmt: skip
    first = parse_statement(samples.mt940_statement([monday, tuesday]))[0]
    second = parse_statement(
        samples.mt940_statement([tuesday, wednesday], opening="1060.00", statement_id="P2")
    )[0]
    assert first.lines[1].key == second.lines[0].key == "B-2"
    all_keys = {line.key for line in first.lines} | {line.key for line in second.lines}
    assert len(all_keys) == 3


def test_mt940_several_statements_in_one_file():
    one = samples.mt940_statement(statement_id="S1")
    two = samples.mt940_statement(
        [{"amount": "1.00", "bank_reference": "X9"}], opening="1200.05", statement_id="S2"
    )
    statements = parse_statement(one + two)
    assert [s.statement_id for s in statements] == ["S1", "S2"]
    assert statements[1].opening_balance == Decimal("1200.05")
    assert statements[1].closing_balance == Decimal("1201.05")


def test_mt940_negative_balances():
    [statement] = parse_statement(
        samples.mt940_statement([{"amount": "-50.00", "bank_reference": "N1"}], opening="-10.00")
    )
    assert statement.opening_balance == Decimal("-10.00")
    assert statement.closing_balance == Decimal("-60.00")


def test_mt940_balances_must_add_up():
    with pytest.raises(FormatError) as error:
        parse_statement(samples.mt940_statement(closing="1200.00"))
    assert str(error.value).startswith("The statement's balances do not add up (")
    assert error.value.message.params == {
        "opening": "1000.00",
        "total": "200.05",
        "closing": "1200.00",
    }


def test_mt940_invalid_account_iban_is_named():
    with pytest.raises(FormatError) as error:
        parse_statement(samples.mt940_statement(iban="NL00INGB0001234567"))
    assert "NL00INGB0001234567" in str(error.value)
    assert "not a valid IBAN" in str(error.value)


def test_mt940_latin1_names_are_read():
    data = (
        samples.mt940_statement(
            [{"amount": "1.00", "name": "Caf\u00e9 De Zwaan", "bank_reference": "L1"}]
        )
        .decode()
        .encode("cp1252")
    )
    assert parse_statement(data)[0].lines[0].counterparty_name == "Caf\u00e9 De Zwaan"


def test_mt940_binary_junk_is_refused():
    data = samples.mt940_statement() + b"\x00\x01\x02\xff\xfe"
    with pytest.raises(FormatError, match="character encoding"):
        parse_statement(data)


def test_mt940_damaged_transaction_line():
    data = samples.mt940_statement().replace(b":61:250314", b":61:25XX14")
    with pytest.raises(FormatError):
        parse_statement(data)


# --- camt.053 --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["001.02", "001.04", "001.08"])
def test_camt053_field_by_field(version):
    [statement] = parse_statement(samples.camt053_statement(version=version))
    assert statement.format == "camt053"
    assert statement.iban == ACCOUNT
    assert statement.currency == "EUR"
    assert statement.statement_id == "STMT-2025-03-14"
    assert statement.opening_balance == Decimal("1000.00")
    assert statement.closing_balance == Decimal("1200.05")
    credit, debit = statement.lines
    assert credit.amount == Decimal("250.00")
    assert credit.booking_date == DAY
    assert credit.value_date == DAY
    assert credit.currency == "EUR"
    assert credit.counterparty_name == "Klant B.V."
    assert credit.counterparty_iban == samples.COUNTERPARTY_IBAN
    assert credit.description == "Factuur 2025-001"
    assert credit.end_to_end_id == "E2E-0001"
    assert credit.bank_reference == "REF-0001"
    assert credit.key == "REF-0001"
    assert credit.reversal is False
    assert debit.amount == Decimal("-49.95")
    assert debit.counterparty_name == "KPN B.V."  # the creditor of a debit
    assert debit.counterparty_iban == samples.SUPPLIER_IBAN
    assert debit.end_to_end_id is None


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_camt053_pending_entries_are_skipped(version):
    entries = [
        {"amount": "10.00", "reference": "B1"},
        {"amount": "99.00", "reference": "P1", "status": "PDNG"},
    ]
    [statement] = parse_statement(samples.camt053_statement(entries, version=version))
    assert [line.key for line in statement.lines] == ["B1"]
    assert statement.closing_balance == Decimal("1010.00")


def test_camt053_reversal():
    [statement] = parse_statement(
        samples.camt053_statement([{"amount": "-250.00", "reference": "RV1", "reversal": True}])
    )
    assert statement.lines[0].reversal is True
    assert statement.lines[0].amount == Decimal("-250.00")


@pytest.mark.parametrize("version", ["001.02", "001.08"])
def test_camt053_batch_gives_one_line_per_transaction(version):
    batch = [
        {"amount": "-100.00", "name": "Jan", "iban": samples.COUNTERPARTY_IBAN,
         "remittance": "Salaris maart", "end_to_end": "SAL-1"},
        {"amount": "-150.50", "name": "Piet", "iban": samples.SUPPLIER_IBAN,
         "remittance": "Salaris maart", "end_to_end": "SAL-2"},
    ]  # fmt: skip
    [statement] = parse_statement(
        samples.camt053_statement(
            [{"amount": "-250.50", "reference": "BATCH-7", "batch": batch}], version=version
        )
    )
    assert [(line.key, line.amount, line.counterparty_name) for line in statement.lines] == [
        ("BATCH-7/1", Decimal("-100.00"), "Jan"),
        ("BATCH-7/2", Decimal("-150.50"), "Piet"),
    ]
    assert statement.lines[1].counterparty_iban == samples.SUPPLIER_IBAN
    assert statement.lines[1].end_to_end_id == "SAL-2"
    assert all(line.bank_reference == "BATCH-7" for line in statement.lines)


def test_camt053_batch_without_amounts_stays_one_line():
    data = samples.camt053_statement(
        [{"amount": "-30.00", "reference": "B9",
          "batch": [{"amount": "-10.00", "name": "a"}, {"amount": "-20.00", "name": "b"}]}]
    )  # fmt: skip
    data = data.replace(b"<AmtDtls><TxAmt>", b"<X>").replace(b"</TxAmt></AmtDtls>", b"</X>")
    data = data.replace(b"<X>", b"").replace(b"</X>", b"")
    data = data.replace(b'<Amt Ccy="EUR">10.00</Amt>', b"").replace(
        b'<Amt Ccy="EUR">20.00</Amt>', b""
    )
    [statement] = parse_statement(data)
    assert [(line.key, line.amount) for line in statement.lines] == [("B9", Decimal("-30.00"))]


def test_camt053_overlapping_statements_give_the_same_keys():
    a = {"amount": "100.00", "booking_date": DAY, "name": "A", "remittance": "one"}
    b = {"amount": "-40.00", "booking_date": DAY + timedelta(days=1), "reference": "B-2"}
    c = {"amount": "7.00", "booking_date": DAY + timedelta(days=2), "name": "C",
         "remittance": "three"}  # fmt: skip
    first = parse_statement(samples.camt053_statement([a, b]))[0]
    second = parse_statement(samples.camt053_statement([b, c], opening="1060.00"))[0]
    assert first.lines[1].key == second.lines[0].key == "B-2"
    again = parse_statement(samples.camt053_statement([a, b]))[0]
    assert [line.key for line in again.lines] == [line.key for line in first.lines]
    assert first.lines[0].key.startswith("sha256:")


def test_camt053_balances_must_add_up():
    with pytest.raises(FormatError, match=r"^The statement's balances do not add up \("):
        parse_statement(samples.camt053_statement(closing="1200.06"))


def test_camt053_invalid_account_iban_is_named():
    with pytest.raises(FormatError, match="NL99INGB0001234567 is not a valid IBAN"):
        parse_statement(samples.camt053_statement(iban="NL99INGB0001234567"))


def test_camt053_wrong_encoding():
    data = (
        samples.camt053_statement([{"amount": "1.00", "name": "Caf\u00e9", "reference": "E1"}])
        .decode()
        .encode("latin-1")
    )
    with pytest.raises(FormatError, match="encoding"):
        parse_statement(data)


def test_camt053_other_version_and_other_message():
    data = samples.camt053_statement().replace(b"camt.053.001.02", b"camt.053.001.11")
    assert parse_statement(data)[0].iban == ACCOUNT
    camt052 = samples.camt053_statement().replace(b"camt.053.001.02", b"camt.052.001.02")
    with pytest.raises(FormatError, match="not an MT940 or camt.053"):
        parse_statement(camt052)


@pytest.mark.parametrize(
    "data",
    [
        b"Datum,Naam,Bedrag\n2025-03-14,Klant,250.00\n",
        samples.pdf_receipt(),
        b'<?xml version="1.0"?><Document xmlns="urn:example"/>',
    ],
)
def test_not_a_statement(data):
    with pytest.raises(FormatError) as error:
        parse_statement(data)
    assert error.value.message.template == "This file is not an MT940 or camt.053 bank statement."


def test_empty_statement_file():
    with pytest.raises(FormatError, match="empty"):
        parse_statement(b"")


def test_hostile_xml_statement():
    with pytest.raises(FormatError, match="DTD or entities"):
        parse_statement(samples.xml_bomb())


# --- 10,000 lines ------------------------------------------------------------------------------


def _many(count: int) -> list[dict]:
    return [
        {"amount": f"{(i % 200) - 99}.{i % 100:02d}", "reference": f"R{i:06d}",
         "name": f"Party {i}", "remittance": f"Invoice {i}",
         "booking_date": DAY - timedelta(days=i % 30)}
        for i in range(count)
    ]  # fmt: skip


def test_camt053_ten_thousand_lines_is_fast():
    entries = _many(10_000)
    started = time.monotonic()
    data = samples.camt053_statement(entries, version="001.08")
    built = time.monotonic() - started
    [statement] = parse_statement(data)
    parsed = time.monotonic() - started - built
    assert len(statement.lines) == 10_000
    assert len({line.key for line in statement.lines}) == 10_000
    assert statement.closing_balance == statement.opening_balance + sum(
        (line.amount for line in statement.lines), Decimal(0)
    )
    assert built < 2
    assert parsed < 5


def test_mt940_ten_thousand_lines():
    transactions = [
        {"amount": e["amount"], "bank_reference": e["reference"], "name": e["name"],
         "remittance": e["remittance"]}
        for e in _many(10_000)
    ]  # fmt: skip
    started = time.monotonic()
    [statement] = parse_statement(samples.mt940_statement(transactions))
    assert len(statement.lines) == 10_000
    assert time.monotonic() - started < 10


def test_mt940_with_ing_header_lines():
    header = b"0000 01INGBNL2AXXXX00001\r\n0000 01INGBNL2AXXXX00001\r\n940\r\n940\r\n"
    [statement] = parse_statement(header + samples.mt940_statement())
    assert statement.iban == ACCOUNT
    assert len(statement.lines) == 2
