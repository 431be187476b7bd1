"""Seed 004's flow in a real browser, up to "ready": open an item from the list, fill the
supplier, GL account, VAT code and a cost center, mark it ready and find it under "Ready to
export"; and the bulk path: select two items, assign GL account and VAT code, mark ready."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.helpers import log_in, screenshot


def _client():
    from portal.extensions import db
    from tests.factories import make_bookkeeping_client

    books = make_bookkeeping_client()
    db.session.commit()
    return books


def _status(item_id: int) -> str:
    from portal.extensions import db
    from portal.models import BookItem

    try:
        return db.session.scalar(select(BookItem.status).where(BookItem.id == item_id)).value
    finally:
        db.session.rollback()  # end the read: the live server writes to the same database


def test_prepare_one_item_and_mark_it_ready(page: Page) -> None:
    from portal.extensions import db
    from tests.factories import make_item

    books = _client()
    item = make_item(books["account"], supplier_name="Kantoor Plus B.V.", amount=Decimal("121.00"))
    db.session.commit()
    base = f"/a/{books['account'].id}/books"

    log_in(page, books["user"].email)
    page.goto(f"{base}/")
    expect(page.get_by_test_id("tab-prepare")).to_contain_text("1")
    screenshot(page, "bookkeeping-1-to-prepare")
    page.get_by_role("link", name="Kantoor Plus B.V.").click()
    expect(page).to_have_url(re.compile(rf"{base}/items/{item.id}$"))
    expect(page.get_by_test_id("problems")).to_contain_text("Choose the supplier")

    page.get_by_label("Supplier", exact=True).fill("Kantoor Plus B.V.")
    page.get_by_label("GL account, line 1", exact=True).select_option("4000")
    page.get_by_label("VAT code, line 1", exact=True).select_option("2")
    page.get_by_label("Amount, line 1", exact=True).fill("121,00")
    page.get_by_label("Cost center, line 1", exact=True).select_option("100")
    screenshot(page, "bookkeeping-2-item-filled")
    page.get_by_role("button", name="Save and mark ready").click()

    expect(page.get_by_role("status")).to_have_text("Marked ready to export.")
    expect(page.get_by_test_id("tab-ready")).to_contain_text("1")
    page.get_by_test_id("tab-ready").click()
    row = page.get_by_test_id("item-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Kantoor Plus B.V.")
    expect(row).to_contain_text("4000")
    screenshot(page, "bookkeeping-3-ready-to-export")
    assert _status(item.id) == "ready"


def test_bulk_assign_and_mark_ready(page: Page) -> None:
    from portal.extensions import db
    from tests.factories import make_item

    books = _client()
    items = [
        make_item(
            books["account"],
            supplier_name="Tankstation De Snelweg",
            supplier_code="2",
            journal_code="70",
            entry_date=date(2026, 3, day),
            document_date=date(2026, 3, day),
            invoice_number=f"T-{day}",
            amount=Decimal("60.50"),
        )
        for day in (3, 4)
    ]
    db.session.commit()
    base = f"/a/{books['account'].id}/books"

    log_in(page, books["user"].email)
    page.goto(f"{base}/")
    for item in items:
        page.get_by_label(f"Select item {item.id}").check()
    page.get_by_text("Assign pre-accounting values").click()
    page.locator("#bulk-gl_account_code").select_option("4000")
    page.locator("#bulk-vat_code").select_option("2")
    screenshot(page, "bookkeeping-4-bulk-assign")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Values assigned to 2 items.")

    for item in items:
        page.get_by_label(f"Select item {item.id}").check()
    page.get_by_role("button", name="Mark ready to export").click()
    expect(page.get_by_role("status")).to_have_text("2 items marked ready to export.")
    page.get_by_test_id("tab-ready").click()
    expect(page.get_by_test_id("item-row")).to_have_count(2)
    screenshot(page, "bookkeeping-5-bulk-ready")
    assert [_status(item.id) for item in items] == ["ready", "ready"]
