"""The entry bodies over real HTTP: POSTed to the Exact sandbox through the portal's Exact client
with the sandbox's own synced master data, each accepted, and read back by our lookups."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest

from portal import clock
from portal.bookkeeping import entries
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.masterdata import GENERAL_JOURNAL, PURCHASE_JOURNAL, MasterData
from portal.exact import sync, wiring
from portal.exact.client.errors import ExactValidationError
from portal.exact.client.parsing import exact_day, to_decimal
from portal.extensions import db
from portal.models import Account, ItemKind, RunStatus, StoredFile, Trigger
from tests.exact.portal_helpers import activated_dossier
from tests.factories import make_item

DIVISION = 3001101
D = Decimal


@pytest.fixture
def exact_sandbox_config():
    """Roomy limits: the sync and the writes of one test stay far below them."""
    return {"limits": {"minutely": 10000, "daily": 100000}}


@pytest.fixture
def dossier(exact_app, db, login, client, exact_sandbox):
    """A client dossier linked to the sandbox's division, synced: its master data is the
    sandbox's own (codes and IDs)."""
    found = activated_dossier(db, client, login, exact_sandbox, DIVISION)
    run = sync.run_sync(found["account_id"], Trigger.MANUAL)
    assert run.status == RunStatus.SUCCEEDED, run.error
    account = db.session.get(Account, found["account_id"])
    link = wiring.link_of(account)
    master = MasterData.of(account)
    settings = book_settings.of(account.id)
    return {
        **found,
        "account": account,
        "link": link,
        "master": master,
        "settings": settings,
        "api": wiring.link_api_client(link),
    }


def _pick(dossier) -> dict:
    """Codes the sandbox has: journals, a supplier, GL accounts, VAT codes, dimensions, a day
    in an open financial period."""
    master = dossier["master"]
    vat = [o for o in master.vat_codes() if (to_decimal(o.data.get("Percentage")) or 0) > 0]
    gls = [o for o in master.gl_accounts() if o.data.get("BalanceType") == "W"]
    balance = [o for o in master.gl_accounts() if o.data.get("BalanceType") == "B"]
    periods = master.periods()
    today = clock.now().date()
    day = today if master.period_of(today) else periods[-1][2]
    return {
        "purchase_journal": master.journals(PURCHASE_JOURNAL)[0].code,
        "general_journal": master.journals(GENERAL_JOURNAL)[0].code,
        "supplier": master.suppliers()[0],
        "gl": gls[0].code,
        "gl2": gls[1].code,
        "balance_gl": balance[0].code,
        "vat": vat[0],
        "cost_center": master.cost_centers()[0].code,
        "cost_unit": master.cost_units()[0].code,
        "day": day,
    }


def _stored_file(account, name: str, data: bytes) -> StoredFile:
    stored = StoredFile(
        account_id=account.id,
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=f"test/{name}",
        filename=name,
        file_type="pdf",
        size=len(data),
    )
    db.session.add(stored)
    db.session.flush()
    return stored


def _receipt(dossier, pick: dict, **fields):
    vat = pick["vat"]
    fraction = to_decimal(vat.data.get("Percentage"))
    excl = D("100.00")
    vat_amount = (excl * fraction).quantize(D("0.01"))
    values = {
        "supplier_code": pick["supplier"].code,
        "supplier_exact_id": pick["supplier"].exact_id,
        "supplier_name": "Kantoor Plus B.V.",
        "invoice_number": "F2026-17",
        "journal_code": pick["purchase_journal"],
        "entry_date": pick["day"],
        "amount": excl + vat_amount + D("50.00"),
        "lines": [
            {
                "gl_account_code": pick["gl"],
                "vat_code": vat.code,
                "vat_percentage": fraction,
                "amount_excl": excl,
                "vat_amount": vat_amount,
                "cost_center": pick["cost_center"],
                "cost_unit": pick["cost_unit"],
                "description": "Toner",
            },
            {"gl_account_code": pick["gl2"], "amount_excl": D("50.00"), "description": "Porto"},
        ],
    }
    values.update(fields)
    return make_item(dossier["account"], **values)


def _found(dossier, path: str, params: dict) -> list[dict]:
    return list(dossier["api"].get_all(DIVISION, path, params))


def _entry_with_lines(dossier, path: str, entry_id: str, lines: str) -> dict:
    return dossier["api"].get_one(DIVISION, f"{path}(guid'{entry_id}')", params={"$expand": lines})


def _lines_of(entry: dict, name: str) -> list[dict]:
    lines = entry[name]
    return lines["results"] if isinstance(lines, dict) else lines


def test_a_purchase_entry_with_its_receipt_is_booked_and_found_again(dossier):
    pick = _pick(dossier)
    pdf = b"%PDF-1.4\n% a receipt\n%%EOF\n"
    item = _receipt(dossier, pick)
    item.file_id = _stored_file(dossier["account"], "factuur F2026-17.pdf", pdf).id
    db.session.flush()
    db.session.refresh(item)
    api = dossier["api"]

    document = api.post(
        DIVISION,
        entries.DOCUMENTS_PATH,
        entries.document_body(item, item.file.filename, dossier["master"]),
    )
    attachment = api.post(
        DIVISION,
        entries.ATTACHMENTS_PATH,
        entries.attachment_body(document["ID"], item.file.filename, pdf),
    )
    body = entries.entry_body(item, dossier["master"], dossier["settings"], document["ID"])
    posted = api.post(DIVISION, entries.entry_path(item), body)

    assert posted["EntryID"] and posted["EntryNumber"]
    assert attachment["ID"] and attachment["FileName"] == "factuur F2026-17.pdf"
    found = _found(dossier, entries.PURCHASE_PATH, entries.lookup_params(item))
    assert [row["EntryID"] for row in found] == [posted["EntryID"]]
    assert found[0]["Description"] == entries.description(item)

    entry = _entry_with_lines(
        dossier, entries.PURCHASE_PATH, posted["EntryID"], "PurchaseEntryLines"
    )
    assert entry["Supplier"] == pick["supplier"].exact_id
    assert entry["Journal"] == pick["purchase_journal"]
    assert entry["YourRef"] == "F2026-17"
    assert entry["Document"] == document["ID"]
    assert exact_day(entry["EntryDate"]) == pick["day"]
    lines = _lines_of(entry, "PurchaseEntryLines")
    assert [to_decimal(line["AmountFC"]) for line in lines] == [D("100.00"), D("50.00")]
    assert to_decimal(lines[0]["VATAmountFC"]) == item.lines[0].vat_amount
    assert lines[0]["VATCode"].strip() == pick["vat"].code
    assert lines[0]["CostCenter"].strip() == pick["cost_center"]
    assert lines[0]["CostUnit"].strip() == pick["cost_unit"]
    assert to_decimal(entry["AmountFC"]) == item.amount

    documents = _found(dossier, entries.DOCUMENTS_PATH, entries.document_lookup_params(item))
    assert [row["ID"] for row in documents] == [document["ID"]]
    assert documents[0]["Subject"] == f"PX{item.id} factuur F2026-17.pdf"
    stored = api.get_one(DIVISION, f"{entries.DOCUMENTS_PATH}(guid'{document['ID']}')")
    assert stored["Type"] == 20 and stored["Account"] == pick["supplier"].exact_id
    assert base64.b64decode(entries.attachment_body("x", "y", pdf)["Attachment"]) == pdf


def test_a_credit_note_is_booked_negative(dossier):
    pick = _pick(dossier)
    item = _receipt(
        dossier,
        pick,
        kind=ItemKind.EINVOICE,
        invoice_number="CN-7",
        amount=D("-20.00"),
        lines=[{"gl_account_code": pick["gl"], "amount_excl": D("-20.00")}],
    )
    posted = dossier["api"].post(
        DIVISION,
        entries.entry_path(item),
        entries.entry_body(item, dossier["master"], dossier["settings"], None),
    )
    entry = _entry_with_lines(
        dossier, entries.PURCHASE_PATH, posted["EntryID"], "PurchaseEntryLines"
    )
    assert to_decimal(entry["AmountFC"]) == D("-20.00")
    found = _found(dossier, entries.PURCHASE_PATH, entries.lookup_params(item))
    assert len(found) == 1


def test_an_expense_claim_is_booked_as_a_balanced_general_journal_entry(dossier):
    pick = _pick(dossier)
    vat = pick["vat"]
    fraction = to_decimal(vat.data.get("Percentage"))
    excl = D("45.87")
    vat_amount = (excl * fraction).quantize(D("0.01"))
    settings = dossier["settings"]
    settings.employee_gl_account_code = pick["balance_gl"]
    item = make_item(
        dossier["account"],
        kind=ItemKind.CLAIM,
        journal_code=pick["general_journal"],
        entry_date=pick["day"],
        amount=excl + vat_amount + D("10.85"),
        source={"claim_id": 1, "title": "Maart", "employee_id": 1, "employee_name": "Eva"},
        lines=[
            {
                "gl_account_code": pick["gl"],
                "vat_code": vat.code,
                "vat_percentage": fraction,
                "amount_excl": excl,
                "vat_amount": vat_amount,
                "description": "Lunch",
            },
            {"gl_account_code": pick["gl2"], "amount_excl": D("10.85"), "description": "47 km"},
        ],
    )
    body = entries.entry_body(item, dossier["master"], settings, None)
    posted = dossier["api"].post(DIVISION, entries.entry_path(item), body)

    found = _found(dossier, entries.lookup_path(item), entries.lookup_params(item))
    assert [row["EntryID"] for row in found] == [posted["EntryID"]]  # its employee line
    assert found[0]["Description"] == f"PX{item.id} Eva – Maart"
    entry = _entry_with_lines(
        dossier, entries.JOURNAL_PATH, posted["EntryID"], "GeneralJournalEntryLines"
    )
    assert entry["JournalCode"] == pick["general_journal"]
    lines = _lines_of(entry, "GeneralJournalEntryLines")
    assert len(lines) == 3
    amounts = [to_decimal(line["AmountFC"]) for line in lines]
    vats = [to_decimal(line["AmountVATFC"]) or D("0") for line in lines]
    assert amounts[-1] == -item.amount
    assert sum(amounts) + sum(vats) == 0
    assert vats[0] == vat_amount
    assert lines[-1]["Description"] == f"PX{item.id} Eva – Maart"
    assert {exact_day(line["Date"]) for line in lines} == {pick["day"]}


def test_exacts_refusal_comes_back_in_the_users_language_and_is_explained(dossier, exact_sandbox):
    """The accountant's Exact user reads Dutch: "Ongeldig: Dagboek" for a general journal
    on a purchase entry (the entry bodies never send it: forced here)."""
    pick = _pick(dossier)
    item = _receipt(dossier, pick)
    body = entries.entry_body(item, dossier["master"], dossier["settings"], None)
    body["Journal"] = pick["general_journal"]
    with pytest.raises(ExactValidationError) as refused:
        dossier["api"].post(DIVISION, entries.PURCHASE_PATH, body)

    assert refused.value.raw_message == "Ongeldig: Dagboek"
    message, field = entries.explain(refused.value, item)
    assert field == "journal_code"
    assert pick["purchase_journal"] in str(message)
    assert _found(dossier, entries.PURCHASE_PATH, entries.lookup_params(item)) == []
