"""Generated rows of the resources in ``more_entities``: contacts, addresses, sales invoices
and their lines, GL account classification mappings.

Like ``data.py``, every row follows from the division's seed and its index, and is built when
read (big volumes stay cheap). The rows agree with the rest of the division: contacts and
addresses belong to its accounts (a visit address is the account's own address), a sales
invoice up to the number of generated sales entries *is* that entry (same customer, invoice
number, amounts and VAT), later ones are open invoices not booked yet, and each GL account
has one classification mapping to the classification it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from . import chart
from .days import DAY_MS, odata_date
from .entity import Entity
from .rng import Rng, mix
from .table import Table

if TYPE_CHECKING:
    from .data import DivisionData

LINES_PER_INVOICE = 2
FIRST_NAMES = (
    "Anna",
    "Bram",
    "Daan",
    "Emma",
    "Fleur",
    "Jeroen",
    "Lotte",
    "Maarten",
    "Noor",
    "Pieter",
    "Sanne",
    "Thijs",
    "Wout",
    "Ilse",
)
JOB_TITLES = ("Directeur", "Boekhouder", "Inkoper", "Office manager", "Eigenaar")
STREETS = ("Kerkstraat", "Stationsweg", "Industrieweg", "Molenstraat", "Havenkade")
COUNTRY_NAMES = {"NL": "Nederland", "BE": "België"}
ADDRESS_TYPES = (1, 3, 4)  # visit (the account's own address), invoice, delivery
SCHEMES = {
    "NL": ("RGS", "Referentie Grootboekschema"),
    "BE": ("PCMN", "Minimum Genormaliseerd Rekeningenstelsel"),
}


class MoreData:
    """The generated rows of one division's contacts, addresses, invoices and mappings."""

    def __init__(self, data: DivisionData) -> None:
        self.data = data
        self._invoice_info = lru_cache(maxsize=256)(self._make_invoice)

    def build(self) -> None:
        data = self.data
        accounts = data.tables["Accounts"].base_count
        contacts = int(data.volume["contacts"]) if accounts else 0
        addresses = int(data.volume["addresses"]) if accounts else 0
        invoices = int(data.volume["sales_invoices"]) if accounts else 0
        data.new_table("Contacts", contacts, self._contact_row)
        data.new_table("Addresses", addresses, self._address_row)
        gl_accounts = data.tables["GLAccounts"].base_count
        data.new_table("GLAccountClassificationMappings", gl_accounts, self._mapping_row)
        data.new_table("SalesInvoices", invoices, self._invoice_row)
        lines = data.new_table("SalesInvoiceLines", invoices * LINES_PER_INVOICE, self._line_row)
        data.tables["SyncSalesInvoices"] = InvoiceLinesView(
            data.entity("SyncSalesInvoices"), lines, data.tables["SalesInvoices"]
        )

    # ------------------------------------------------------------ contacts and addresses
    def _account_of(self, index: int) -> int:
        return index % self.data.tables["Accounts"].base_count

    def _contact_row(self, index: int) -> dict:
        data = self.data
        rng = Rng(data.seed, 5, index)
        account = self._account_of(index)
        account_id, account_code, account_name = data.account_brief(account)
        supplier, customer = data.account_roles(account)
        first = rng.pick(FIRST_NAMES)
        last = rng.pick(chart.SURNAMES)
        email = f"{first.lower()}@relatie{account + 1}.example"
        phone = f"0{rng.digits(9)}"
        mobile = f"06{rng.digits(8)}"
        contacts = data.tables["Contacts"]
        return {
            "ID": contacts.key(index),
            "Account": account_id,
            "AccountIsCustomer": customer,
            "AccountIsSupplier": supplier,
            "AccountMainContact": contacts.key(account),
            "AccountName": account_name,
            "BusinessEmail": email,
            "BusinessMobile": mobile,
            "BusinessPhone": phone,
            "City": rng.pick(chart.CITIES[data.country]),
            "Code": account_code,
            "Country": data.country,
            "Email": email,
            "FirstName": first,
            "FullName": f"{first} {last}",
            "HID": index + 1,
            "Initials": f"{first[0]}.",
            "IsAnonymised": 0,
            "IsMailingExcluded": False,
            "IsMainContact": index < data.tables["Accounts"].base_count,
            "JobTitleDescription": rng.pick(JOB_TITLES),
            "Language": "NL",
            "LastName": last,
            "MiddleName": None,
            "Mobile": mobile,
            "Phone": phone,
            "StartDate": odata_date(data.created_ms),
            **data.common(),
        }

    def _address_row(self, index: int) -> dict:
        data = self.data
        rng = Rng(data.seed, 3, index)
        account_count = data.tables["Accounts"].base_count
        account = self._account_of(index)
        kind = ADDRESS_TYPES[min(index // account_count, len(ADDRESS_TYPES) - 1)]
        account_id, _code, account_name = data.account_brief(account)
        account_row = data.tables["Accounts"].find(account_id) if kind == 1 else None
        if account_row is not None:
            line1 = account_row["AddressLine1"]
            city, postcode = account_row["City"], account_row["Postcode"]
        else:
            line1 = f"{rng.pick(STREETS)} {rng.between(1, 300)}"
            city = rng.pick(chart.CITIES[data.country])
            postcode = f"{rng.between(1000, 9999)}" + ("" if data.country == "BE" else " CD")
        contacts = data.tables["Contacts"]
        has_contact = account < contacts.base_count
        return {
            "ID": data.tables["Addresses"].key(index),
            "Account": account_id,
            "AccountIsSupplier": data.account_roles(account)[0],
            "AccountName": account_name,
            "AddressLine1": line1,
            "City": city,
            "Contact": contacts.key(account) if has_contact else None,
            "ContactName": None,
            "Country": data.country,
            "CountryName": COUNTRY_NAMES.get(data.country, data.country),
            "Main": kind != 4,
            "Phone": f"0{rng.digits(9)}",
            "Postcode": postcode,
            "Type": kind,
            **data.common(),
        }

    # ------------------------------------------------------------ classification mappings
    def _mapping_row(self, index: int) -> dict:
        data = self.data
        gl = data.tables["GLAccounts"].rows.get(index) or {}
        code, description = SCHEMES.get(data.country, SCHEMES["NL"])
        scheme = mix(data.seed, data.code, 31)
        text = f"{scheme:016x}"
        return {
            "ID": data.tables["GLAccountClassificationMappings"].key(index),
            "Classification": gl.get("Classification"),
            "ClassificationCode": gl.get("ClassificationCode"),
            "ClassificationDescription": gl.get("ClassificationDescription"),
            "Division": data.code,
            "GLAccount": data.tables["GLAccounts"].key(index),
            "GLAccountCode": gl.get("Code"),
            "GLAccountDescription": gl.get("Description"),
            "GLSchemeCode": code,
            "GLSchemeDescription": description,
            "GLSchemeID": f"{text[:8]}-{text[8:12]}-4{text[13:16]}-9000-{data.code:012d}",
        }

    # ------------------------------------------------------------ sales invoices
    def _make_invoice(self, index: int) -> dict:
        """What one invoice shares with its lines: booked from a sales entry, or still open."""
        data = self.data
        if index < len(data.sales_entries):
            entry = data.sales_entries[index]
            info = data.entry_info(entry)
            return {
                "entry": entry,
                "customer": info["relation"],
                "day": info["day"],
                "invoice": info["invoice"],
                "amounts": [-amount for amount in info["amounts"]],
                "vat": info["vat"],
                "vat_amount": -info["vat_amount"],
                "lines": info["lines"],
            }
        rng = Rng(data.seed, 13, index)
        customers = max(1, data.tables["Accounts"].base_count // 2)
        amounts = [rng.between(1_000, 150_000) / 100, rng.between(1_000, 150_000) / 100]
        vat = rng.pick(data.vat_options("sales"))
        revenue = data.gl_by_role["revenue"]
        back = min(len(data.sales_entries) + 1, index + 1)
        return {
            "entry": None,
            "customer": 2 * rng.below(customers) + 1,
            "day": max(data.first_day, data.last_day - back * 7 * DAY_MS),
            "invoice": None,
            "amounts": amounts,
            "vat": vat,
            "vat_amount": round(sum(amounts) * vat["Percentage"], 2),
            "lines": [rng.pick(revenue), rng.pick(revenue)],
        }

    def _invoice_row(self, index: int) -> dict:
        data = self.data
        info = self._invoice_info(index)
        customer_id, _code, customer_name = data.account_brief(info["customer"])
        journal = data.journal_by_type[20]
        total = round(sum(info["amounts"]) + info["vat_amount"], 2)
        day = info["day"]
        booked = info["entry"] is not None
        invoice_id = data.tables["SalesInvoices"].key(index)
        number = info["invoice"]
        return {
            "InvoiceID": invoice_id,
            "AmountDC": total,
            "AmountDiscount": 0.0,
            "AmountDiscountExclVat": 0.0,
            "AmountFC": total,
            "AmountFCExclVat": round(sum(info["amounts"]), 2),
            "Currency": data.currency,
            "DeliverTo": customer_id,
            "DeliverToName": customer_name,
            "Description": f"{journal['Description']} {number}" if booked else "Factuur",
            "Discount": 0.0,
            "DiscountType": 1,
            "DueDate": odata_date(day + 30 * DAY_MS),
            "InvoiceDate": odata_date(day),
            "InvoiceNumber": number,
            "InvoiceTo": customer_id,
            "InvoiceToName": customer_name,
            "IsExtraDuty": False,
            "Journal": journal["Code"],
            "JournalDescription": journal["Description"],
            "OrderDate": odata_date(day),
            "OrderedBy": customer_id,
            "OrderedByName": customer_name,
            "PaymentCondition": "30",
            "PaymentConditionDescription": "30 dagen",
            "SalesInvoiceLines": [
                self.data.tables["SalesInvoiceLines"].get(line)
                for line in self.line_indexes(invoice_id)
            ],
            "Status": 50 if booked else 20,
            "StatusDescription": "Processed" if booked else "Open",
            "Type": 8020,
            "TypeDescription": "Sales invoice",
            "VATAmountDC": info["vat_amount"],
            "VATAmountFC": info["vat_amount"],
            "YourRef": None,
            "Division": data.code,
            "Created": odata_date(day + 9 * 3_600_000),
            "Modified": odata_date(day + 9 * 3_600_000),
        }

    def _line_row(self, index: int) -> dict:
        data = self.data
        invoice, line = divmod(index, LINES_PER_INVOICE)
        info = self._invoice_info(invoice)
        gl, amount, vat = info["lines"][line], info["amounts"][line], info["vat"]
        vat_amount = round(amount * vat["Percentage"], 2)
        created = odata_date(info["day"] + 9 * 3_600_000)
        return {
            "ID": data.tables["SalesInvoiceLines"].key(index),
            "AmountDC": amount,
            "AmountFC": amount,
            "Description": gl["Description"],
            "Discount": 0.0,
            "Division": data.code,
            "GLAccount": gl["ID"],
            "GLAccountDescription": gl["Description"],
            "InvoiceID": data.tables["SalesInvoices"].key(invoice),
            "LineNumber": line + 1,
            "NetPrice": amount,
            "Quantity": 1.0,
            "UnitPrice": amount,
            "VATAmountDC": vat_amount,
            "VATAmountFC": vat_amount,
            "VATCode": vat["Code"],
            "VATCodeDescription": vat["Description"],
            "VATPercentage": vat["Percentage"],
            "Created": created,
            "Modified": created,
        }

    def line_indexes(self, invoice_id: str) -> list[int]:
        """Live SalesInvoiceLines indexes of one invoice: its generated ones, then added ones."""
        lines = self.data.tables["SalesInvoiceLines"]
        invoice = self.data.tables["SalesInvoices"].raw_index(invoice_id)
        found = []
        if invoice is not None and invoice < self.data.tables["SalesInvoices"].base_count:
            start = invoice * LINES_PER_INVOICE
            found = [i for i in range(start, start + LINES_PER_INVOICE) if i not in lines.deleted]
        added = [
            index
            for index, row in sorted(lines.rows.items())
            if index >= lines.base_count and row.get("InvoiceID") == invoice_id
        ]
        return found + added


class InvoiceLinesView:
    """``sync/SalesInvoice/SalesInvoices``: Exact's sync feed of sales invoices has one row per
    invoice line (key ``ID``, the line's) carrying its invoice's header fields. The rows are the
    SalesInvoiceLines table's, merged with their header when read; a changed header gives its
    lines new Timestamps (see ``DivisionData.update``), so the feed shows the change."""

    def __init__(self, entity: Entity, lines: Table, invoices: Table) -> None:
        self.entity = entity
        self.lines = lines
        self.invoices = invoices
        self.key = lines.key
        self.raw_index = lines.raw_index
        self.index = lines.index

    @property
    def count(self) -> int:
        return self.lines.count

    @property
    def base_count(self) -> int:
        return self.lines.base_count

    @property
    def rows(self) -> dict:
        return {}

    @property
    def deleted(self) -> set[int]:
        return self.lines.deleted

    def merge(self, line: dict) -> dict:
        header = self.invoices.find(line.get("InvoiceID")) or {}
        row = {name: value for name, value in header.items() if name != "SalesInvoiceLines"}
        row.update(line)
        return row

    def get(self, index: int) -> dict:
        return self.merge(self.lines.get(index))

    def find(self, key: str | None) -> dict | None:
        line = self.lines.find(key)
        return None if line is None else self.merge(line)

    def live_count(self) -> int:
        return self.lines.live_count()

    def iter_from(self, start: int = 0) -> Iterator[tuple[int, dict]]:
        for index, line in self.lines.iter_from(start):
            yield index, self.merge(line)

    def iter_since(self, timestamp: int) -> Iterator[dict]:
        for line in self.lines.iter_since(timestamp):
            yield self.merge(line)

    def max_timestamp(self) -> int:
        return self.lines.max_timestamp()

    def restamp(self, next_ts: Callable[[], int]) -> None:
        """Nothing of its own: the lines table is restamped with the others."""
