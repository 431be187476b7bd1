"""Deterministic division data: master data, relations, entries, documents.

Everything follows from the division's seed and volume, so two runs (or two test workers)
see the same GUIDs and amounts. Small tables are built at once; accounts, transaction lines
and payment terms are generated row by row when read (see ``table.py``). Contacts, addresses,
sales invoices and mappings come from ``more_data.py``, open items from ``cashflow.py``.
"""

from __future__ import annotations

import base64
from array import array
from datetime import date
from functools import lru_cache

from . import cashflow, chart
from .days import DAY_MS, day_ms, iso_day_ms, odata_date
from .entities import ENTITIES, ENTITY_BY_NAME, Entity
from .more_data import MoreData
from .rng import Rng, mix, text_key
from .table import KeySpace, Table

__all__ = ["DAY_MS", "DivisionData", "day_ms", "iso_day_ms", "odata_date"]
LINES_PER_ENTRY = 4  # header (line 0), two lines, one VAT line
FIRST_TIMESTAMP = 100_001

DEFAULT_VOLUME = {
    "gl_accounts": 30,
    "accounts": 12,
    "transaction_lines": 80,
    "documents": 4,
    "cost_centers": 3,
    "ended_cost_centers": 0,  # the last n cost centers have an EndDate in the past
    "cost_units": 2,
    "contacts": 12,  # contact i belongs to account i % accounts; the first per account is main
    "addresses": 12,  # address i to account i % accounts: visit, then invoice, then delivery
    "sales_invoices": 10,  # the first ones are the generated sales entries, the rest open
}


def entry_kind(roll: int) -> str:
    """The kind of a generated entry from its first random draw (0-99)."""
    return "purchase" if roll < 50 else "sales" if roll < 85 else "bank" if roll < 95 else "general"


class DivisionData:
    """All records of one division, plus its Int64 row-version counter."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.code = int(config["code"])
        self.country = config.get("country", "NL")
        self.currency = config.get("currency", "EUR")
        self.seed = int(config.get("seed", self.code))
        self.volume = {**DEFAULT_VOLUME, **config.get("volume", {})}
        self.years = list(config.get("years") or [2025, 2026])
        self.created_ms = day_ms(date(min(self.years), 1, 1)) + 8 * 3_600_000
        self._first_day = day_ms(date(min(self.years), 1, 1))
        self._span_days = (day_ms(date(max(self.years), 12, 31)) - self._first_day) // DAY_MS
        self.first_day = self._first_day
        self.last_day = day_ms(date(max(self.years), 12, 31))
        self.move_date_ms: int | None = None
        self.next_ts = FIRST_TIMESTAMP + self.seed % 1000
        self.next_entry = 0
        self.blobs: dict[str, bytes] = {}
        self.tables: dict[str, Table] = {}
        self._build()

    # timestamps
    def bump(self) -> int:
        stamp = self.next_ts
        self.next_ts += 1
        return stamp

    def entity(self, name: str) -> Entity:
        return ENTITY_BY_NAME[name]

    def new_table(self, name: str, count: int, factory) -> Table:
        entity = ENTITY_BY_NAME[name]
        table = Table(
            entity, mix(self.seed, self.code, text_key(name)), count, factory, self.next_ts
        )
        self.next_ts += count
        self.tables[name] = table
        return table

    def _eager(self, name: str, rows: list[dict]) -> Table:
        """A table of rows built now; their IDs are filled in from the table's keys."""
        table = self.new_table(name, len(rows), None)
        for index, row in enumerate(rows):
            row[table.entity.key] = table.key(index)
            row["Timestamp"] = table.ts[index]
            table.rows[index] = row
        return table

    def common(self) -> dict:
        created = odata_date(self.created_ms)
        return {"Division": self.code, "Created": created, "Modified": created}

    # building
    def _build(self) -> None:
        self.chart = chart.CHART_BE if self.country == "BE" else chart.CHART_NL
        self._build_classifications()
        self._build_gl_accounts()
        self._build_vat_codes()
        self._build_journals()
        self._build_payment_conditions()
        self._build_cost_centers()
        self._build_cost_units()
        self._build_periods()
        self._build_accounts()
        self.entries = max(0, int(self.volume["transaction_lines"]) // LINES_PER_ENTRY)
        self.next_entry = self.entries
        self._build_documents()
        self._build_transactions()
        self.more = MoreData(self)
        self.more.build()
        cashflow.build(self)
        for entity in ENTITIES:
            if entity.name not in self.tables:
                self.new_table(entity.name, 0, None)

    def _build_classifications(self) -> None:
        rows = []
        for code, description, parent, balance, abstract in chart.CLASSIFICATIONS:
            rows.append(
                {
                    "Code": code,
                    "Description": description,
                    "Name": description,
                    "Parent": parent,
                    "Abstract": abstract,
                    "Balance": balance,
                    "Nillable": True,
                    "PeriodType": "I" if code.startswith("W") else "D",
                    "TaxonomyNamespaceDescription": "RGS",
                    **self.common(),
                }
            )
        table = self._eager("GLClassifications", rows)
        by_code = {row["Code"]: row["ID"] for row in table.rows.values()}
        for row in table.rows.values():
            row["Parent"] = by_code.get(row["Parent"])
        self.classification_rows = {row["Code"]: row for row in table.rows.values()}

    def _build_gl_accounts(self) -> None:
        wanted = max(int(self.volume["gl_accounts"]), len(self.chart))
        chart_rows = list(self.chart)
        extra_base = 4900 if self.country == "NL" else 649000
        for number in range(wanted - len(chart_rows)):
            code = str(extra_base + number + 1)
            chart_rows.append(("cost", code, f"Overige kosten {number + 1}", "W", "D", 121, "WBed"))
        rows = []
        for _role, code, description, balance_type, side, gl_type, classification in chart_rows:
            klass = self.classification_rows[classification]
            rows.append(
                {
                    "Code": code,
                    "Description": description,
                    "SearchCode": code,
                    "BalanceSide": side,
                    "BalanceType": balance_type,
                    "Type": gl_type,
                    "TypeDescription": chart.GL_TYPES.get(gl_type, ""),
                    "Classification": klass["ID"],
                    "ClassificationCode": klass["Code"],
                    "ClassificationDescription": klass["Description"],
                    "VATCode": None,
                    "VATDescription": None,
                    "IsBlocked": False,
                    "UseCostcenter": 0,
                    "UseCostunit": 0,
                    **self.common(),
                }
            )
        table = self._eager("GLAccounts", rows)
        self.gl_by_role: dict[str, list[dict]] = {}
        for (role, *_rest), row in zip(chart_rows, table.rows.values(), strict=True):
            self.gl_by_role.setdefault(role, []).append(row)

    def gl(self, role: str) -> dict:
        return self.gl_by_role[role][0]

    def _build_vat_codes(self) -> None:
        codes = chart.VAT_BE if self.country == "BE" else chart.VAT_NL
        rows = []
        for code, description, vat_type, transaction_type, periods, role in codes:
            account = self.gl(role) if role else None
            rows.append(
                {
                    "Code": code,
                    "Description": description,
                    "Percentage": periods[-1][0] / 100,
                    "Type": vat_type,
                    "VATTransactionType": transaction_type,
                    "GLToClaim": account["ID"] if transaction_type == "P" and account else None,
                    "GLToClaimCode": account["Code"]
                    if transaction_type == "P" and account
                    else None,
                    "GLToPay": account["ID"] if transaction_type == "S" and account else None,
                    "GLToPayCode": account["Code"] if transaction_type == "S" and account else None,
                    "IsBlocked": False,
                    "Charged": False,
                    "VATPercentages": periods,
                    **self.common(),
                }
            )
        table = self._eager("VATCodes", rows)
        for number, row in enumerate(table.rows.values()):
            row["VATPercentages"] = self._vat_percentages(row, number)
        self.vat_by_code = {row["Code"]: row for row in table.rows.values()}

    def _vat_percentages(self, row: dict, number: int) -> list[dict]:
        lines = []
        for line, (percentage, start, end) in enumerate(row["VATPercentages"]):
            value = mix(self.seed, number, line)
            lines.append(
                {
                    "ID": f"{value & 0xFFFFFFFF:08x}-0000-4000-8000-{row['ID'][-12:]}",
                    "VATCodeID": row["ID"],
                    "LineNumber": line + 1,
                    "Percentage": percentage / 100,
                    "StartDate": odata_date(iso_day_ms(start)),
                    "EndDate": odata_date(iso_day_ms(end)),
                    "Type": 0,
                }
            )
        return lines

    def _build_journals(self) -> None:
        journals = chart.JOURNALS_BE if self.country == "BE" else chart.JOURNALS_NL
        rows = []
        for code, description, journal_type, role in journals:
            account = self.gl(role) if role else None
            rows.append(
                {
                    "Code": code,
                    "Description": description,
                    "Type": journal_type,
                    "GLAccount": account["ID"] if account else None,
                    "GLAccountCode": account["Code"] if account else None,
                    "GLAccountDescription": account["Description"] if account else None,
                    "Currency": self.currency,
                    "AllowVariableCurrency": False,
                    **self.common(),
                }
            )
        table = self._eager("Journals", rows)
        self.journal_by_type = {row["Type"]: row for row in table.rows.values()}

    def _build_payment_conditions(self) -> None:
        rows = [
            {
                "Code": code,
                "Description": description,
                "PaymentDays": days,
                "DiscountPercentage": 0.0,
                "DiscountPaymentDays": 0,
                **self.common(),
            }
            for code, description, days in chart.PAYMENT_CONDITIONS
        ]
        self._eager("PaymentConditions", rows)

    def _build_cost_centers(self) -> None:
        """Exact's cost centers have an EndDate (null: in use). The last ``ended_cost_centers``
        ended on the first day of the division's first year, before any generated entry."""
        count = int(self.volume["cost_centers"])
        first_ended = count - int(self.volume["ended_cost_centers"])
        rows = []
        for number in range(count):
            name = chart.COST_CENTER_NAMES[number % len(chart.COST_CENTER_NAMES)]
            suffix = "" if number < len(chart.COST_CENTER_NAMES) else f" {number + 1}"
            ended = number >= first_ended
            rows.append(
                {
                    "Code": str(100 * (number + 1)),
                    "Description": name + suffix,
                    "EndDate": odata_date(self.first_day) if ended else None,
                    **self.common(),
                }
            )
        self._eager("Costcenters", rows)

    def _build_cost_units(self) -> None:
        rows = []
        for number in range(int(self.volume["cost_units"])):
            name = chart.COST_UNIT_NAMES[number % len(chart.COST_UNIT_NAMES)]
            suffix = "" if number < len(chart.COST_UNIT_NAMES) else f" {number + 1}"
            rows.append(
                {"Code": f"P{number + 1:03d}", "Description": name + suffix, **self.common()}
            )
        self._eager("Costunits", rows)

    def _build_periods(self) -> None:
        rows = []
        for year in self.years:
            for month in range(1, 13):
                start = date(year, month, 1)
                end = date(year + month // 12, month % 12 + 1, 1)
                rows.append(
                    {
                        "FinYear": year,
                        "FinPeriod": month,
                        "StartDate": odata_date(day_ms(start)),
                        "EndDate": odata_date(day_ms(end) - DAY_MS),
                        **self.common(),
                    }
                )
        self._eager("FinancialPeriods", rows)

    def _build_accounts(self) -> None:
        count = int(self.volume["accounts"])
        if self.volume["transaction_lines"]:
            count = max(count, 2)
        self.new_table("Accounts", count, self._account_row)

    def _build_documents(self) -> None:
        count = int(self.volume["documents"])
        self.new_table("Documents", count, self._document_row)
        self.new_table("DocumentAttachments", count, self._attachment_row)

    def _build_transactions(self) -> None:
        self._entry_keys = KeySpace(mix(self.seed, self.code, 99))
        accounts = self.tables["Accounts"].base_count
        self._suppliers, self._customers = max(1, (accounts + 1) // 2), max(1, accounts // 2)
        # generated entries use only the cost centers still in use
        in_use = int(self.volume["cost_centers"]) - int(self.volume["ended_cost_centers"])
        self._cost_centers = max(1, in_use)
        self._cost_units = max(1, int(self.volume["cost_units"]))
        self._entry_info = lru_cache(maxsize=256)(self._make_entry)
        self._cached_name = lru_cache(maxsize=32_768)(self._generated_name)
        codes = list(self.vat_by_code.values())
        # generated entries use the first two VAT codes of their side (high and low rate)
        self._vat_options = {
            kind: [row for row in codes if row["VATTransactionType"] == side][:2] or codes[:1]
            for kind, side in (("purchase", "P"), ("sales", "S"), ("bank", "N"), ("general", "N"))
        }
        self.new_table("TransactionLines", self.entries * LINES_PER_ENTRY, self._transaction_row)
        self.new_table("PaymentTerms", self.entries, self._payment_term_row)
        self._index_entries()

    def _index_entries(self) -> None:
        """Which generated entries are purchase and sales entries (one random draw each):
        Payments, Receivables and sales invoices are generated from these lists."""
        self.purchase_entries, self.sales_entries = array("q"), array("q")
        lists = {"purchase": self.purchase_entries, "sales": self.sales_entries}
        for entry in range(self.entries):
            found = lists.get(entry_kind(Rng(self.seed, 1, entry).below(100)))
            if found is not None:
                found.append(entry)

    def entry_info(self, entry: int) -> dict:
        """The random choices of generated entry ``entry`` (cached)."""
        return self._entry_info(entry)

    def vat_options(self, kind: str) -> list[dict]:
        return self._vat_options[kind]

    def journal_for(self, kind: str) -> dict:
        return self._journal_for(kind)

    # lazily generated rows
    def _account_row(self, index: int) -> dict:
        rng = Rng(self.seed, 2, index)
        country = self.country
        name, surname = self._account_name(rng)
        supplier, sales = self.account_roles(index)
        vat = f"BE0{rng.digits(9)}" if country == "BE" else f"NL{rng.digits(9)}B01"
        return {
            "ID": self.tables["Accounts"].key(index),
            "Code": f"{index + 1:>18}",
            "Name": name,
            "SearchCode": surname.upper()[:10],
            "Status": "C" if sales else "",
            "IsSupplier": supplier,
            "IsSales": sales,
            "IsPurchase": supplier,
            "VATNumber": vat,
            "ChamberOfCommerce": rng.digits(10 if country == "BE" else 8),
            "Country": country,
            "City": rng.pick(chart.CITIES[country]),
            "Postcode": f"{rng.between(1000, 9999)}" + ("" if country == "BE" else " AB"),
            "AddressLine1": f"Dorpsstraat {rng.between(1, 200)}",
            "Email": f"info@relatie{index + 1}.example",
            "Phone": f"0{rng.digits(9)}",
            "Website": None,
            "PurchaseCurrency": self.currency,
            "SalesCurrency": self.currency,
            "PurchaseVATCode": None,
            "SalesVATCode": None,
            "PaymentConditionPurchase": "30",
            "PaymentConditionSales": "14",
            "Blocked": False,
            **self.common(),
        }

    @staticmethod
    def account_roles(index: int) -> tuple[bool, bool]:
        """(IsSupplier, IsSales): even indexes are suppliers, odd ones customers, some both."""
        return index % 2 == 0 or index % 10 == 5, index % 2 == 1 or index % 10 == 0

    def _document_row(self, index: int) -> dict:
        rng = Rng(self.seed, 6, index)
        doc_type = 20 if index % 3 else 183
        entry = index * self.entries // max(1, self.tables["Documents"].base_count)
        created = odata_date(self._entry_day(entry) + 10 * 3_600_000)
        return {
            "ID": self.tables["Documents"].key(index),
            "Subject": f"Factuur {rng.digits(6)}" if doc_type == 20 else f"Bijlage {index + 1}",
            "Body": None,
            "Type": doc_type,
            "TypeDescription": chart.DOCUMENT_TYPES[doc_type],
            "Account": None,
            "AccountName": None,
            "DocumentDate": created,
            "FinancialTransactionEntryID": None,
            "HasEmptyBody": True,
            "Division": self.code,
            "Created": created,
            "Modified": created,
        }

    def _attachment_row(self, index: int) -> dict:
        key = self.tables["DocumentAttachments"].key(index)
        content = self.attachment_bytes(key)
        return {
            "ID": key,
            "Document": self.tables["Documents"].key(index),
            "FileName": f"document-{index + 1}.pdf",
            "FileSize": float(len(content)),
            "Url": self.attachment_url(key),
            "Attachment": None,
            **self.common(),
        }

    def attachment_url(self, key: str) -> str:
        return f"/docs/SysAttachment.aspx?ID={key}&_Division_={self.code}"

    def attachment_bytes(self, key: str) -> bytes:
        stored = self.blobs.get(key)
        if stored is not None:
            return stored
        return f"%PDF-1.4\n% sandbox attachment {key}\n%%EOF\n".encode()

    def attachment_base64(self, key: str) -> str:
        return base64.b64encode(self.attachment_bytes(key)).decode()

    def _entry_day(self, entry: int) -> int:
        """Generated entries are spread evenly over the division's years, in entry order."""
        return self._first_day + (entry * self._span_days // max(1, self.entries)) * DAY_MS

    def entry_key(self, entry: int) -> str:
        """EntryID of generated entry number ``entry`` (entries have no table of their own)."""
        return self._entry_keys.key(entry)

    def entry_number(self, day_ms_value: int, sequence: int) -> int:
        year = date.fromordinal(day_ms_value // DAY_MS + 719_163).year
        return (year % 100) * 1_000_000 + sequence + 1

    def _make_entry(self, entry: int) -> dict:
        """The random choices of one generated entry, shared by its four lines."""
        rng = Rng(self.seed, 1, entry)
        kind = entry_kind(rng.below(100))
        relation = None
        if kind in ("purchase", "bank"):
            relation = 2 * rng.below(self._suppliers)
        elif kind == "sales":
            relation = 2 * rng.below(self._customers) + 1
        vat_row = rng.pick(self._vat_options[kind])
        sign = -1 if kind == "sales" else 1
        amounts = [
            sign * rng.between(1_000, 250_000) / 100,
            sign * rng.between(1_000, 250_000) / 100,
        ]
        vat = round((amounts[0] + amounts[1]) * vat_row["Percentage"], 2)
        gl_accounts = self.gl_by_role["revenue" if kind == "sales" else "cost"]
        info = {
            "kind": kind,
            "day": self._entry_day(entry),
            "relation": relation,
            "vat": vat_row,
            "lines": [rng.pick(gl_accounts), rng.pick(gl_accounts)],
            "amounts": amounts,
            "vat_amount": vat,
            "total": round(amounts[0] + amounts[1] + vat, 2),
            "cost_center": rng.below(self._cost_centers),
            "cost_unit": rng.below(self._cost_units),
            "invoice": rng.between(10_000, 99_999),
        }
        info["base"] = self._line_base(entry, info)
        return info

    def _journal_for(self, kind: str) -> dict:
        journal_type = {"purchase": 22, "sales": 20, "bank": 12, "general": 90}[kind]
        return self.journal_by_type[journal_type]

    def _transaction_row(self, index: int) -> dict:
        entry, line = divmod(index, LINES_PER_ENTRY)
        info = self._entry_info(entry)
        row = dict(info["base"])
        row["ID"] = self.tables["TransactionLines"].key(index)
        row["LineNumber"] = line
        if line == 0:
            journal = self._journal_for(info["kind"])
            gl = self.gl("suspense") if journal["GLAccount"] is None else journal
            prefix = "" if journal["GLAccount"] is None else "GLAccount"
            row["GLAccount"] = gl["ID" if not prefix else "GLAccount"]
            row["GLAccountCode"] = gl[prefix + "Code" if prefix else "Code"]
            row["GLAccountDescription"] = gl[prefix + "Description" if prefix else "Description"]
            row["AmountDC"] = row["AmountFC"] = -info["total"]
        elif line < 3:
            gl = info["lines"][line - 1]
            amount = info["amounts"][line - 1]
            vat = info["vat"]
            row.update(
                {
                    "GLAccount": gl["ID"],
                    "GLAccountCode": gl["Code"],
                    "GLAccountDescription": gl["Description"],
                    "AmountDC": amount,
                    "AmountFC": amount,
                    "AmountVATFC": round(amount * vat["Percentage"], 2),
                    "VATCode": vat["Code"],
                    "VATCodeDescription": vat["Description"],
                    "VATPercentage": vat["Percentage"],
                }
            )
            self._line_costs(row, info)
        else:
            gl = self.gl("vat_claim" if info["kind"] != "sales" else "vat_pay_high")
            row.update(
                {
                    "GLAccount": gl["ID"],
                    "GLAccountCode": gl["Code"],
                    "GLAccountDescription": gl["Description"],
                    "AmountDC": info["vat_amount"],
                    "AmountFC": info["vat_amount"],
                    "AmountVATBaseFC": sum(info["amounts"]),
                }
            )
        return row

    def _line_base(self, entry: int, info: dict) -> dict:
        """Fields every line of one generated entry shares."""
        journal = self._journal_for(info["kind"])
        day = info["day"]
        when = date.fromordinal(day // DAY_MS + 719_163)
        relation = info["relation"]
        account = self.account_brief(relation)
        return {
            "EntryID": self.entry_key(entry),
            "EntryNumber": self.entry_number(day, entry),
            "JournalCode": journal["Code"],
            "JournalDescription": journal["Description"],
            "Type": {"purchase": 30, "sales": 20, "bank": 40, "general": 90}[info["kind"]],
            "Date": odata_date(day),
            "DueDate": odata_date(day + 30 * DAY_MS),
            "FinancialYear": when.year,
            "FinancialPeriod": when.month,
            "Account": account[0],
            "AccountCode": account[1],
            "AccountName": account[2],
            "AmountDC": 0.0,
            "AmountFC": 0.0,
            "AmountVATBaseFC": None,
            "AmountVATFC": None,
            "Currency": self.currency,
            "ExchangeRate": 1.0,
            "VATCode": None,
            "VATCodeDescription": None,
            "VATPercentage": None,
            "CostCenter": None,
            "CostCenterDescription": None,
            "CostUnit": None,
            "CostUnitDescription": None,
            "Description": f"{journal['Description']} {info['invoice']}",
            "Document": None,
            "DocumentNumber": None,
            "InvoiceNumber": info["invoice"],
            "YourRef": f"F{info['invoice']}" if relation is not None else None,
            "PaymentReference": None,
            "Status": 50,
            "Notes": None,
            "Division": self.code,
            "Created": odata_date(day + 9 * 3_600_000),
            "Modified": odata_date(day + 9 * 3_600_000),
        }

    def account_brief(self, index: int | None) -> tuple[str | None, str | None, str | None]:
        """(ID, Code, Name) of an account, without generating the whole row."""
        if index is None:
            return None, None, None
        table = self.tables["Accounts"]
        stored = table.rows.get(index)
        if stored is not None:
            return stored["ID"], stored["Code"], stored["Name"]
        if index in table.deleted or index >= table.count:
            return table.key(index), None, None
        return table.key(index), f"{index + 1:>18}", self._cached_name(index)

    def _generated_name(self, index: int) -> str:
        return self._account_name(Rng(self.seed, 2, index))[0]

    def _account_name(self, rng: Rng) -> tuple[str, str]:
        """The first draws of an account's generator: its name (keep in step with the row)."""
        trade = rng.pick(chart.TRADES)
        surname = rng.pick(chart.SURNAMES)
        form = rng.pick(chart.LEGAL_FORMS[self.country])
        return f"{trade} {surname} {form}".strip(), surname

    def _line_costs(self, row: dict, info: dict) -> None:
        if info["kind"] != "purchase":
            return
        centers, units = self.tables["Costcenters"], self.tables["Costunits"]
        if centers.count:
            center = centers.rows.get(info["cost_center"]) or {}
            row["CostCenter"] = center.get("Code")
            row["CostCenterDescription"] = center.get("Description")
        if units.count:
            unit = units.rows.get(info["cost_unit"]) or {}
            row["CostUnit"] = unit.get("Code")
            row["CostUnitDescription"] = unit.get("Description")

    def _payment_term_row(self, entry: int) -> dict:
        info = self._entry_info(entry)
        day = info["day"]
        total = info["total"]
        account = self.account_brief(info["relation"])
        journal = self._journal_for(info["kind"])
        return {
            "ID": self.tables["PaymentTerms"].key(entry),
            "EntryID": self.entry_key(entry),
            "EntryNumber": self.entry_number(day, entry),
            "EntryDate": odata_date(day),
            "InvoiceNumber": info["invoice"],
            "InvoiceDate": odata_date(day),
            "DueDate": odata_date(day + 30 * DAY_MS),
            "Account": account[0],
            "AccountName": account[2],
            "GLAccount": journal["GLAccount"],
            "AmountDC": -total,
            "AmountFC": -total,
            "Currency": self.currency,
            "Description": f"{journal['Description']} {info['invoice']}",
            "PaymentCondition": "30",
            "Source": 1,
            "Status": 50 if entry % 3 else 20,
            "TransactionType": {"purchase": 30, "sales": 20, "bank": 40, "general": 90}[
                info["kind"]
            ],
            "Division": self.code,
            "Created": odata_date(day),
            "Modified": odata_date(day),
        }

    # changes
    def add(self, name: str, fields: dict, now_ms: int) -> dict:
        stamp = odata_date(now_ms)
        row = {"Division": self.code, "Created": stamp, "Modified": stamp, **fields}
        return self.tables[name].add(row, self.bump())

    def update(self, name: str, key: str, fields: dict, now_ms: int) -> dict | None:
        table = self.tables[name]
        index = table.index(key) if name != "SyncSalesInvoices" else None
        if index is None:
            return None
        row = table.update(index, {**fields, "Modified": odata_date(now_ms)}, self.bump())
        if name == "SalesInvoices":  # the sync feed shows its lines again, with the change
            lines = self.tables["SalesInvoiceLines"]
            for line in self.more.line_indexes(row["InvoiceID"]):
                lines.update(line, {}, self.bump())
        return row

    def delete(self, name: str, key: str, now_ms: int, user_id: str | None = None) -> bool:
        table = self.tables[name]
        index = table.index(key) if name != "SyncSalesInvoices" else None
        if index is None:
            return False
        if name == "SalesInvoices":  # its lines go with it; sync/Deleted names the invoice
            for line in self.more.line_indexes(table.key(index)):
                self.tables["SalesInvoiceLines"].delete(line)
        table.delete(index)
        self.blobs.pop(key, None)
        entity: Entity = table.entity
        if entity.deleted_type is not None:
            self.add(
                "Deleted",
                {
                    "EntityKey": table.key(index),
                    "EntityType": entity.deleted_type,
                    "DeletedBy": user_id,
                    "DeletedDate": odata_date(now_ms),
                },
                now_ms,
            )
        return True

    def move(self, now_ms: int) -> None:
        """A division move: new DivisionMoveDate and every Timestamp regenerated."""
        self.move_date_ms = now_ms
        self.next_ts += 1_000_000
        for table in self.tables.values():
            table.restamp(self.bump)

    def stats(self) -> dict:
        return {
            "code": self.code,
            "counts": {name: table.live_count() for name, table in self.tables.items()},
            "max_timestamp": self.next_ts - 1,
            "division_move_date": odata_date(self.move_date_ms),
        }
