"""Screenshots of the demo for docs/screenshots/: the portal's client list, a master-data page
and the Exact Online page, after connecting Exact (sandbox) and syncing one dossier; and the
bakery's bookkeeping: the list to prepare, an e-invoice being prepared, the transactions, an
expense claim and the rules.

Run against a running demo (`make run`): `.venv/bin/python scripts/screenshots.py
[--base http://127.0.0.1:5000] [--prefix after] [--lang nl]`. Uses Debian's Chromium.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--prefix", default="after")
    parser.add_argument("--lang", default="nl")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=args.lang)
        page.set_extra_http_headers({"Accept-Language": args.lang})
        base = args.base
        page.goto(f"{base}/login")
        page.fill("input[name=email]", "office@demo.example")
        page.fill("input[name=password]", "demo-password")
        page.locator("form:has(input[name=password]) button[type=submit]").click()
        page.wait_for_load_state()
        html = page.content()
        ids = [int(i) for i in re.findall(r'href="/a/(\d+)/"', html)]
        portal_id, client_id = _ids(page, base, ids)
        page.goto(f"{base}/a/{portal_id}/exact/")
        page.locator("form[action$='/exact/connect'] button[type=submit]").click()  # (re)connect
        if page.locator("input[name=username]").count():
            page.fill("input[name=username]", "accountant")
            page.fill("input[name=password]", "accountant")
            page.locator("button[value=login]").click()
        page.locator("button[value=allow]").click()
        page.wait_for_load_state()
        page.goto(f"{base}/a/{portal_id}/exact/clients/{client_id}")
        if page.locator("select[name=division]").count():
            page.select_option("select[name=division]", index=1)
            page.locator("form button.primary").last.click()
            page.wait_for_load_state()
        for _ in range(60):  # the worker syncs the dossier
            page.goto(f"{base}/a/{client_id}/sync/")
            if re.search(r"succeeded|geslaagd", page.content()):
                break
            time.sleep(1)
        shots = {
            "client-list": f"{base}/a/{portal_id}/portal/clients",
            "master-data": f"{base}/a/{client_id}/sync/data/transaction_lines",
            "exact": f"{base}/a/{portal_id}/exact/",
        }
        shots.update(_bookkeeping_shots(page, f"{base}/a/{client_id}/books"))
        shots.update(_export_shots(page, f"{base}/a/{client_id}/books"))
        for name, url in shots.items():
            page.goto(url)
            page.screenshot(path=str(OUT / f"{args.prefix}-{name}.png"), full_page=True)
            print("saved", OUT / f"{args.prefix}-{name}.png")
        browser.close()


def _bookkeeping_shots(page, books: str) -> dict[str, str]:
    """The bakery's bookkeeping pages: the list, the mill's e-invoice, the claim waiting."""
    page.goto(f"{books}/")
    rows = [
        (re.search(r'href="(/a/\d+/books/items/\d+)"', row), row)
        for row in re.findall(r"<tr.*?</tr>", page.content(), re.S)
    ]
    links = [(found.group(1), row) for found, row in rows if found]
    # the mill's e-invoice (its number MOL-<year>-0117; the bank debit says MOL-0117)
    item = next((href for href, row in links if "MOL-20" in row), links[0][0] if links else None)
    page.goto(f"{books}/claims")
    claim = re.search(r'href="(/a/\d+/books/claims/\d+)"', page.content())
    origin = books.split("/a/")[0]
    shots = {
        "books-items": f"{books}/",
        "books-transactions": f"{books}/transactions",
        "books-rules": f"{books}/rules",
    }
    if item:
        shots["books-item"] = origin + item
    if claim:
        shots["books-claim"] = origin + claim.group(1)
    return shots


def _export_shots(page, books: str) -> dict[str, str]:
    """Prepare the card payment (the first supplier Exact has, a cost account, a VAT code), mark
    it ready, export it, and wait for the worker: the export history and queue."""
    page.goto(f"{books}/")
    row = next(
        (r for r in re.findall(r"<tr.*?</tr>", page.content(), re.S) if "Betaalpas" in r), ""
    )
    link = re.search(r'href="(/a/\d+/books/items/(\d+))"', row)
    if not link:
        return {}
    origin = books.split("/a/")[0]
    suppliers = page.request.get(f"{books}/suppliers?q=").json()
    page.goto(origin + link.group(1))
    page.fill("#supplier_code", suppliers[0]["code"])
    page.select_option("select[name='lines-0-gl_account_code']", index=5)
    page.select_option("select[name='lines-0-vat_code']", index=1)
    page.fill("input[name='lines-0-amount']", "68,40")
    page.locator("button[name=action][value=ready]").click()
    page.wait_for_load_state()
    page.goto(f"{books}/?tab=ready")
    page.check(f"input[name=item_id][value='{link.group(2)}']")
    page.locator("[data-testid=export-button]").click()
    page.wait_for_load_state()
    for _ in range(30):  # the worker exports it
        page.goto(f"{books}/exports/history")
        if page.locator("[data-testid=history-row]").count():
            break
        time.sleep(1)
    return {
        "books-export-history": f"{books}/exports/history",
        "books-export-queue": f"{books}/exports/queue",
    }


def _ids(page, base: str, ids: list[int]) -> tuple[int, int]:
    """The demo portal's id and the bakery's (its first active client)."""
    portal = client = None
    for account_id in ids:
        page.goto(f"{base}/a/{account_id}/")
        text = page.content()
        if "Boekhoudkantoor Demo</h1>" in text:
            portal = account_id
        elif "Bakkerij De Klant</h1>" in text:
            client = account_id
    return portal, client


if __name__ == "__main__":
    main()
