"""Bank entries and open items: a booked purchase entry opens a Payment, bank entry lines
naming the supplier and the entry's number (OurRef) pay it off, as an accountant checks it."""

from __future__ import annotations

import pytest
import requests
from exact_sandbox.testing import control

from .helpers import DIVISION, api_for, first, purchase

BANK = f"{DIVISION}/financialtransaction/BankEntries"
OPEN_FIELDS = "ID,EntryID,TransactionEntryID,EntryNumber,InvoiceNumber,AmountDC,Status,EndDate"


def message(response: requests.Response) -> str:
    return response.json()["error"]["message"]["value"]


def book_purchase(api) -> dict:
    response = api.post(f"{DIVISION}/purchaseentry/PurchaseEntries", purchase(api))
    assert response.status_code == 201, response.text
    return response.json()["d"]


def bank_entry(*lines: dict, journal: str = "20") -> dict:
    return {"JournalCode": journal, "BankEntryLines": list(lines)}


def pay_line(entry: dict, amount: float, **extra: object) -> dict:
    return {
        "Account": entry["Supplier"],
        "AmountFC": amount,
        "Date": "2026-03-01",
        "OurRef": entry["EntryNumber"],
        "Description": "Betaling factuur",
        **extra,
    }


def items_of(api, entry_id: str, table: str = "Payments") -> list[dict]:
    return api.get_all(
        f"{DIVISION}/cashflow/{table}",
        {"$select": OPEN_FIELDS, "$filter": f"TransactionEntryID eq guid'{entry_id}'"},
    )


def still_open(rows: list[dict]) -> float:
    return round(sum(row["AmountDC"] for row in rows if row["Status"] == 20), 2)


def test_purchase_entry_is_open_then_paid_in_two_bank_entries(api):
    entry = book_purchase(api)
    items = items_of(api, entry["EntryID"])
    assert len(items) == 1
    assert items[0]["Status"] == 20 and items[0]["EndDate"] is None
    assert items[0]["AmountDC"] == -175.5  # payable: a credit on the creditors account
    assert items[0]["EntryNumber"] == items[0]["InvoiceNumber"] == entry["EntryNumber"]
    assert items[0]["EntryID"] == entry["EntryID"]

    part = api.post(BANK, bank_entry(pay_line(entry, -75.5)))
    assert part.status_code == 201, part.text
    items = items_of(api, entry["EntryID"])
    assert still_open(items) == -100.0
    paid = [row for row in items if row["Status"] == 50]
    assert [row["AmountDC"] for row in paid] == [-75.5]
    assert paid[0]["EndDate"] is not None
    assert paid[0]["EntryID"] != entry["EntryID"]  # a split-off part gets its own EntryID
    assert round(sum(row["AmountDC"] for row in items), 2) == -175.5

    rest = api.post(BANK, bank_entry(pay_line(entry, -100.0)))
    assert rest.status_code == 201, rest.text
    items = items_of(api, entry["EntryID"])
    assert still_open(items) == 0
    assert {row["Status"] for row in items} == {50}


def test_bank_entry_is_booked_with_lines_and_shows_up_in_transaction_lines(api):
    entry = book_purchase(api)
    params = {"$select": "Timestamp", "$filter": "Timestamp gt 1L"}
    before = max(
        row["Timestamp"]
        for row in api.get_all(f"{DIVISION}/sync/Financial/TransactionLines", params)
    )
    response = api.post(BANK, bank_entry(pay_line(entry, -75.5)))
    booked = response.json()["d"]
    assert response.status_code == 201
    assert len(booked["EntryID"]) == 36 and booked["EntryNumber"] == entry["EntryNumber"] + 1
    assert booked["JournalCode"] == "20" and booked["Status"] == 20
    lines = booked["BankEntryLines"]["results"]
    assert [(line["LineNumber"], line["AmountFC"], line["OurRef"]) for line in lines] == [
        (1, -75.5, entry["EntryNumber"])
    ]
    assert lines[0]["GLAccountCode"] == "1600"  # a supplier's line books on the creditors
    rows = api.get_all(
        f"{DIVISION}/sync/Financial/TransactionLines",
        {
            "$select": "EntryID,LineNumber,AmountDC,GLAccountCode,JournalCode,Account,Timestamp",
            "$filter": f"Timestamp gt {before}L",
        },
    )
    assert {row["EntryID"] for row in rows} == {booked["EntryID"]}
    assert [(row["LineNumber"], row["GLAccountCode"], row["AmountDC"]) for row in rows] == [
        (0, "1100", -75.5),  # money leaves the bank
        (1, "1600", 75.5),  # and the debt to the supplier goes down
    ]
    assert rows[1]["Account"] == entry["Supplier"] and rows[0]["JournalCode"] == "20"


def test_bank_entry_reads_by_key_with_expanded_lines_and_by_its_lines(api):
    entry = book_purchase(api)
    line = pay_line(entry, -10.0)
    booked = api.post(BANK, bank_entry(line, {**line, "AmountFC": -5.0})).json()["d"]
    one = api.get(f"{BANK}(guid'{booked['EntryID']}')", {"$expand": "BankEntryLines"})
    assert one.status_code == 200
    nested = one.json()["d"]["BankEntryLines"]["results"]
    assert [row["AmountFC"] for row in nested] == [-10.0, -5.0]
    listed = api.get(f"{BANK}", {"$select": "EntryID,BankEntryLines"}).json()["d"]["results"]
    assert "__deferred" in listed[0]["BankEntryLines"]
    lines = api.get_all(
        f"{DIVISION}/financialtransaction/BankEntryLines",
        {
            "$select": "ID,EntryID,LineNumber,Account",
            "$filter": f"EntryID eq guid'{booked['EntryID']}'",
        },
    )
    assert [row["LineNumber"] for row in lines] == [1, 2]
    assert {row["ID"] for row in lines} == {row["ID"] for row in nested}


def test_an_open_receivable_is_paid_by_a_receipt(api):
    receivable = api.get_all(
        f"{DIVISION}/cashflow/Receivables",
        {"$select": "Account,InvoiceNumber,AmountDC,TransactionEntryID", "$filter": "Status eq 20"},
    )[0]
    receipt = {
        "Account": receivable["Account"],
        "AmountFC": receivable["AmountDC"],
        "Date": "2026-03-01",
        "OurRef": receivable["InvoiceNumber"],
    }
    response = api.post(BANK, bank_entry(receipt))
    assert response.status_code == 201, response.text
    assert response.json()["d"]["BankEntryLines"]["results"][0]["GLAccountCode"] == "1300"
    after = api.get_all(
        f"{DIVISION}/cashflow/Receivables",
        {
            "$select": "AmountDC,Status,IsFullyPaid,LastPaymentDate",
            "$filter": f"TransactionEntryID eq guid'{receivable['TransactionEntryID']}'",
        },
    )
    assert [(row["Status"], row["IsFullyPaid"]) for row in after] == [(50, True)]
    assert after[0]["LastPaymentDate"] is not None


@pytest.mark.parametrize(
    "change",
    [
        {"OurRef": 1},  # no invoice of that number
        {"AmountFC": 50.0},  # money received, not paid: it does not pay a payable
        {"GLAccount": "gl 4300"},  # a cost account: no open item lives there
    ],
)
def test_a_line_that_does_not_match_leaves_the_item_open(api, change):
    entry = book_purchase(api)
    if change.get("GLAccount") == "gl 4300":
        change = {"GLAccount": first(api, "financial/GLAccounts", "ID", "Code eq '4300'")["ID"]}
    response = api.post(BANK, bank_entry({**pay_line(entry, -75.5), **change}))
    assert response.status_code == 201, response.text
    assert still_open(items_of(api, entry["EntryID"])) == -175.5


def test_overpaying_closes_the_item_and_matches_only_what_was_open(api):
    entry = book_purchase(api)
    api.post(BANK, bank_entry(pay_line(entry, -500.0)))
    items = items_of(api, entry["EntryID"])
    assert [(row["AmountDC"], row["Status"]) for row in items] == [(-175.5, 50)]


def test_deleting_the_bank_entry_reopens_what_it_paid(sandbox, api):
    entry = book_purchase(api)
    booked = api.post(BANK, bank_entry(pay_line(entry, -75.5))).json()["d"]
    deleted = requests.delete(
        f"{api.url}/api/v1/{BANK}(guid'{booked['EntryID']}')", headers=api.headers(), timeout=10
    )
    assert deleted.status_code == 204
    items = items_of(api, entry["EntryID"])
    assert still_open(items) == -175.5 and {row["Status"] for row in items} == {20}
    gone = api.get_all(
        f"{DIVISION}/sync/Deleted",
        {"$select": "EntityType", "$filter": "Timestamp gt 1L"},
    )
    assert [row["EntityType"] for row in gone] == [1, 1]  # its two transaction lines
    assert api.get(f"{BANK}(guid'{booked['EntryID']}')").status_code == 404


def test_deleting_the_purchase_entry_removes_its_payment(api):
    entry = book_purchase(api)
    response = requests.delete(
        f"{api.url}/api/v1/{DIVISION}/purchaseentry/PurchaseEntries(guid'{entry['EntryID']}')",
        headers=api.headers(),
        timeout=10,
    )
    assert response.status_code == 204
    assert items_of(api, entry["EntryID"]) == []


@pytest.mark.parametrize(
    ("body", "dutch", "english"),
    [
        ({"BankEntryLines": [{"AmountFC": 1}]}, "Verplicht: Dagboek", "Mandatory: Journal"),
        (bank_entry({"AmountFC": 1}, journal="60"), "Ongeldig: Dagboek", "Invalid: Journal"),
        ({"JournalCode": "20"}, "Verplicht: Regels", "Mandatory: Lines"),
        (
            bank_entry({"AmountFC": 1, "Date": "2026-03-01"}),
            "Verplicht: Grootboekrekening",
            "Mandatory: G/L account",
        ),
        (
            bank_entry({"Account": "00000000-0000-4000-8000-000000000000", "AmountFC": 1}),
            "Ongeldige referentie: Relatie",
            "Invalid reference: Relationship",
        ),
        (
            bank_entry({"GLAccount": "00000000-0000-4000-8000-000000000000", "AmountFC": 1}),
            "Ongeldige referentie: Grootboekrekening",
            "Invalid reference: G/L account",
        ),
        (bank_entry({"Description": "geen bedrag"}), "Verplicht: Bedrag", "Mandatory: Amount"),
        (
            {**bank_entry({"AmountFC": 1}), "Currency": "USD"},
            "Ongeldig: Valuta",
            "Invalid: Currency",
        ),
    ],
)
def test_validation_errors_are_500_in_the_users_language(sandbox, body, dutch, english):
    for username, expected in (("accountant", dutch), ("client", english)):
        response = api_for(sandbox, username).post(BANK, body)
        assert response.status_code == 500, response.text
        assert message(response) == expected


def test_a_line_in_a_missing_year_is_refused(api):
    gl = first(api, "financial/GLAccounts", "ID", "Code eq '4300'")
    body = bank_entry({"GLAccount": gl["ID"], "AmountFC": -10, "Date": "2019-05-01"})
    response = api.post(BANK, body)
    assert response.status_code == 500
    assert message(response) == "Boekjaar 2019 bestaat niet"


def test_unreadable_our_ref_is_400(api):
    gl = first(api, "financial/GLAccounts", "ID", "Code eq '4300'")
    response = api.post(BANK, bank_entry({"GLAccount": gl["ID"], "AmountFC": 1, "OurRef": "F12"}))
    assert response.status_code == 400
    assert "OurRef" in message(response)


def test_booking_bank_entries_needs_its_right(sandbox, api):
    control(
        sandbox.url,
        "users/accountant/rights",
        {"division": DIVISION, "deny": ["enter_bank_entries"]},
    )
    entry_line = {"GLAccount": first(api, "financial/GLAccounts", "ID")["ID"], "AmountFC": 1}
    response = api.post(BANK, bank_entry(entry_line))
    assert response.status_code == 403
    assert response.headers["Reason"] == "MissingRight: Enter bank entries"
    assert "Bankboekingen invoeren" in message(response)
    assert api.get(BANK, {"$select": "EntryID"}).status_code == 200  # reading still works
