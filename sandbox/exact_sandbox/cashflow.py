"""Open items: ``cashflow/Payments`` (payable) and ``cashflow/Receivables`` (receivable).

One row per invoice term, as Exact documents them: ``AmountDC`` is the amount the row stands
for, ``Status`` 20 open, 50 matched (paid), ``EndDate``/``EndYear``/``EndPeriod`` when it
stopped being outstanding; ``TransactionEntryID`` / ``EntryNumber`` / ``InvoiceNumber`` name the
entry, ``TransactionAmountDC`` its whole amount. What is still open of an entry is the sum of
``AmountDC`` over its rows with Status 20.

Signs follow the ledger, as the sandbox's TransactionLines and PaymentTerms do: a payable is
negative (a credit on the creditors account), a receivable positive. A bank entry line moves
money: negative pays out, positive receives, so paying an item reduces its open amount by the
line's ``AmountFC`` (-121 open, -50 paid: -71 open).

Matching (Exact matches a bank line to an invoice through the line's ``OurRef``, "Invoice
number", against the item's ``InvoiceNumber``): a bank line on a creditors (type 22) or debtors
(type 20) G/L account, naming the item's ``Account`` and ``OurRef``, settles the open rows of that
invoice in order. Paying part of a row splits it as Exact does ("a payment can be split so
that one part is paid on a different date; the two records get a different EntryID"): the
paid part becomes a new matched row with its own EntryID, the row keeps the rest open.
Deleting the bank entry reopens what it settled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .days import DAY_MS, day_of, odata_date
from .rng import mix
from .table import KeySpace

if TYPE_CHECKING:
    from .data import DivisionData

OPEN, MATCHED = 20, 50
TABLE_FOR_GL_TYPE = {22: "Payments", 20: "Receivables"}
PAID_AFTER_DAYS = 20  # generated items that are paid were paid this many days after entry


def build(data: DivisionData) -> None:
    """Generated items: one Payment per generated purchase entry, one Receivable per sales
    entry; an entry is still open when its PaymentTerm is (every third entry)."""
    data.new_table(
        "Payments", len(data.purchase_entries), lambda i: _generated(data, "Payments", i)
    )
    data.new_table(
        "Receivables", len(data.sales_entries), lambda i: _generated(data, "Receivables", i)
    )
    data.split_keys = KeySpace(mix(data.seed, data.code, 55))
    data.split_count = 0
    data.item_index = {}


def _generated(data: DivisionData, table_name: str, index: int) -> dict:
    entries = data.purchase_entries if table_name == "Payments" else data.sales_entries
    entry = entries[index]
    info = data.entry_info(entry)
    day = info["day"]
    journal = data.journal_for(info["kind"])
    account_id, account_code, account_name = data.account_brief(info["relation"])
    total = -info["total"]
    status = OPEN if entry % 3 == 0 else MATCHED
    row = item_fields(
        data,
        table_name,
        journal,
        {
            "Account": account_id,
            "AccountCode": account_code,
            "AccountName": account_name,
            "AmountDC": total,
            "Description": f"{journal['Description']} {info['invoice']}",
            "Day": day,
            "Due": day + 30 * DAY_MS,
            "EntryID": data.entry_key(entry),
            "EntryNumber": data.entry_number(day, entry),
            "InvoiceNumber": info["invoice"],
            "PaymentCondition": "30",
            "PaymentConditionDescription": "30 dagen",
            "PaymentDays": 30,
            "TransactionID": data.tables["TransactionLines"].key(entry * 4),
            "YourRef": f"F{info['invoice']}",
        },
    )
    row["ID"] = data.tables[table_name].key(index)
    if status == MATCHED:
        row.update(_closed(table_name, day + PAID_AFTER_DAYS * DAY_MS))
    return row


def item_fields(data: DivisionData, table_name: str, journal: dict, item: dict) -> dict:
    """An open item row from what its entry says (see ``_generated`` and ``add_payable``)."""
    day, total = item["Day"], item["AmountDC"]
    when = day_of(day)
    row = {
        "Account": item["Account"],
        "AccountCode": item["AccountCode"],
        "AccountName": item["AccountName"],
        "AmountDC": total,
        "AmountDiscountDC": 0.0,
        "AmountDiscountFC": 0.0,
        "AmountFC": total,
        "Currency": data.currency,
        "Description": item["Description"],
        "DueDate": odata_date(item["Due"]),
        "EndDate": None,
        "EndPeriod": None,
        "EndYear": None,
        "EntryDate": odata_date(day),
        "EntryID": item["EntryID"],
        "EntryNumber": item["EntryNumber"],
        "GLAccount": journal["GLAccount"],
        "GLAccountCode": journal["GLAccountCode"],
        "GLAccountDescription": journal["GLAccountDescription"],
        "InvoiceDate": odata_date(day),
        "InvoiceNumber": item["InvoiceNumber"],
        "IsBatchBooking": 0,
        "Journal": journal["Code"],
        "JournalDescription": journal["Description"],
        "PaymentCondition": item["PaymentCondition"],
        "PaymentConditionDescription": item.get("PaymentConditionDescription"),
        "PaymentDays": item["PaymentDays"],
        "PaymentDaysDiscount": 0,
        "PaymentDiscountPercentage": 0.0,
        "PaymentMethod": "B",
        "RateFC": 1.0,
        "Source": 1,
        "Status": OPEN,
        "TransactionAmountDC": total,
        "TransactionAmountFC": total,
        "TransactionDueDate": odata_date(item["Due"]),
        "TransactionEntryID": item["EntryID"],
        "TransactionID": item["TransactionID"],
        "TransactionIsReversal": False,
        "TransactionReportingPeriod": when.month,
        "TransactionReportingYear": when.year,
        "TransactionStatus": 20,
        "TransactionType": 30 if table_name == "Payments" else 20,
        "YourRef": item["YourRef"],
        "Division": data.code,
        "Created": odata_date(day + 9 * 3_600_000),
        "Modified": odata_date(day + 9 * 3_600_000),
    }
    if table_name == "Receivables":
        row.update({"AccountCountry": data.country, "IsFullyPaid": False, "LastPaymentDate": None})
    return row


def _closed(table_name: str, day: int) -> dict:
    """The fields of a row that stopped being outstanding on ``day``."""
    when = day_of(day)
    fields = {
        "Status": MATCHED,
        "EndDate": odata_date(day),
        "EndYear": when.year,
        "EndPeriod": when.month,
    }
    if table_name == "Receivables":
        fields.update({"IsFullyPaid": True, "LastPaymentDate": odata_date(day)})
    return fields


def _reopened(table_name: str) -> dict:
    fields = {"Status": OPEN, "EndDate": None, "EndYear": None, "EndPeriod": None}
    if table_name == "Receivables":
        fields.update({"IsFullyPaid": False, "LastPaymentDate": None})
    return fields


def add_payable(data: DivisionData, journal: dict, item: dict, now_ms: int) -> dict:
    """The open Payment of a purchase entry booked through the API."""
    return data.add("Payments", item_fields(data, "Payments", journal, item), now_ms)


# ---------------------------------------------------------------- matching bank lines
def settle(
    data: DivisionData,
    table_name: str,
    account_id: str,
    our_ref: int,
    amount: float,
    day: int,
    bank_entry_id: str,
    now_ms: int,
) -> float:
    """Settle the open rows of invoice ``our_ref`` of ``account_id`` with a bank line of
    ``amount``; returns what was matched (0 when nothing was open in that direction)."""
    table = data.tables[table_name]
    matched = 0.0
    for index in _open_rows(data, table_name, account_id, our_ref):
        row = table.get(index)
        left = round(amount - matched, 2)
        open_amount = row["AmountDC"]
        if left == 0 or (left < 0) != (open_amount < 0):
            break
        settled = {**_closed(table_name, day), "_SettledBy": bank_entry_id}
        if abs(left) >= abs(open_amount):
            data.update(table_name, row["ID"], settled, now_ms)
            matched = round(matched + open_amount, 2)
            continue
        rest = round(open_amount - left, 2)
        data.update(table_name, row["ID"], {"AmountDC": rest, "AmountFC": rest}, now_ms)
        part = {key: value for key, value in row.items() if key not in ("ID", "Timestamp")}
        part.update(settled)
        part.update({"AmountDC": left, "AmountFC": left, "EntryID": _split_key(data)})
        data.add(table_name, part, now_ms)
        matched = round(matched + left, 2)
    return matched


def unsettle(data: DivisionData, bank_entry_id: str, now_ms: int) -> None:
    """Reopen every row a (deleted) bank entry settled. A split-off part stays a row of its
    own, open again: the rows of an invoice still add up to its amount."""
    for table_name in TABLE_FOR_GL_TYPE.values():
        table = data.tables[table_name]
        keys = [row["ID"] for row in table.rows.values() if row.get("_SettledBy") == bank_entry_id]
        for key in keys:
            data.update(table_name, key, {**_reopened(table_name), "_SettledBy": None}, now_ms)


def _split_key(data: DivisionData) -> str:
    data.split_count += 1
    return data.split_keys.key(data.split_count)


def _open_rows(data: DivisionData, table_name: str, account_id: str, our_ref: int) -> list[int]:
    """Indexes of the open rows of one invoice of one account, in index order."""
    table = data.tables[table_name]
    wanted = (str(account_id).lower(), our_ref)
    generated = _generated_index(data, table_name).get(wanted, [])
    added = [
        index
        for index, row in table.rows.items()
        if index >= table.base_count
        and (str(row.get("Account")).lower(), row.get("InvoiceNumber")) == wanted
    ]
    result = []
    for index in sorted(generated + added):
        if index in table.deleted:
            continue
        row = table.get(index)
        if row["Status"] == OPEN and (str(row["Account"]).lower(), row["InvoiceNumber"]) == wanted:
            result.append(index)
    return result


def _generated_index(data: DivisionData, table_name: str) -> dict[tuple, list[int]]:
    """(account, invoice number) -> generated row indexes, built once per table: a bank entry
    in a division of 50,000 entries finds its invoices without generating every row."""
    found = data.item_index.get(table_name)
    if found is not None:
        return found
    entries = data.purchase_entries if table_name == "Payments" else data.sales_entries
    found = {}
    for index, entry in enumerate(entries):
        info = data.entry_info(entry)
        account_id = data.account_brief(info["relation"])[0]
        found.setdefault((str(account_id).lower(), info["invoice"]), []).append(index)
    data.item_index[table_name] = found
    return found
