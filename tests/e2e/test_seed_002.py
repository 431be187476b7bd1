"""Seed 002 in a real browser: an accounting office gets a portal and reaches a client's account.

The office signs up and creates a portal (name, portal e-mail, billing details); the client
signs up and grants the portal's e-mail address access in its access management; the office
adds the client to the portal and enters the client's account through the account switcher.
Finally the client revokes the office's access and the office is locked out (404).
Two browser contexts, everything through the UI.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e import helpers
from tests.e2e.helpers import screenshot

PASSWORD = "boekhouding is leuk 2024"

OFFICE_NAME = "Els Jansen"
OFFICE_EMAIL = "els@jansen-accountants.example"
OFFICE_COMPANY = "Jansen & Partners"
PORTAL_NAME = "Jansen Accountants"
PORTAL_EMAIL = "portaal@kantoor.example"
BILLING_COMPANY = "Jansen Accountants BV"
BILLING_VAT = "NL123456782B01"
BILLING_ADDRESS = "Kerkstraat 1\n1000 AA Amsterdam"
BILLING_EMAIL = "facturen@kantoor.example"

CLIENT_NAME = "Pieter de Vries"
CLIENT_EMAIL = "pieter@bakkerij-devries.example"
CLIENT_COMPANY = "Bakkerij De Vries BV"

ACCOUNT_URL = re.compile(r"/a/(\d+)/?$")


def sign_up(page: Page, name: str, email: str, company: str) -> int:
    """Sign up through the form; returns the id of the user's own (client) account."""
    helpers.sign_up(page, name, email, company, PASSWORD)
    expect(page).to_have_url(ACCOUNT_URL)
    expect(page.get_by_role("status")).to_have_text("Welcome! Your account is ready.")
    expect(page.get_by_role("heading", level=1)).to_have_text(company)
    return int(ACCOUNT_URL.search(page.url).group(1))


def test_office_portal_reaches_client_account_granted_by_e_mail(new_page) -> None:
    office, client = new_page(), new_page()

    # --- 1. the office signs up and creates its portal -----------------------------------
    sign_up(office, OFFICE_NAME, OFFICE_EMAIL, OFFICE_COMPANY)
    switcher = office.get_by_test_id("account-switcher")
    switcher.locator("summary").click()
    switcher.get_by_role("link", name="All accounts").click()
    expect(office.get_by_role("heading", name="Your accounts")).to_be_visible()
    office.get_by_role("link", name="Create a portal for your office").click()
    expect(office).to_have_url(re.compile(r"/portals/new$"))
    expect(office.get_by_role("heading", level=1)).to_have_text("Create a portal for your office")

    office.get_by_label("Portal name").fill(PORTAL_NAME)
    office.get_by_label("Portal e-mail address").fill(PORTAL_EMAIL)
    office.get_by_label("Company name for invoices").fill(BILLING_COMPANY)
    office.get_by_label("VAT number").fill(BILLING_VAT)
    office.get_by_label("Address", exact=True).fill(BILLING_ADDRESS)
    office.get_by_label("Billing e-mail").fill(BILLING_EMAIL)
    office.get_by_role("button", name="Create the portal").click()

    expect(office).to_have_url(re.compile(r"/a/\d+/portal/clients$"))
    portal_clients_url = office.url
    portal_id = int(re.search(r"/a/(\d+)/", portal_clients_url).group(1))
    expect(office.get_by_role("status")).to_have_text(
        f"Your portal is ready. Ask your clients to grant {PORTAL_EMAIL} access in their "
        "access management."
    )
    expect(office.get_by_role("heading", level=1)).to_have_text(f"Clients of {PORTAL_NAME}")
    expect(
        office.get_by_text(f"Clients give this portal access by granting {PORTAL_EMAIL} access")
    ).to_be_visible()
    expect(switcher.locator("summary")).to_contain_text(f"Portal {PORTAL_NAME}")
    expect(office.get_by_test_id("pending-clients")).to_have_count(0)
    client_list = office.get_by_test_id("client-list")
    expect(client_list.get_by_role("heading", level=2)).to_have_text("0 clients")
    expect(client_list).to_contain_text("No clients yet.")
    screenshot(office, "seed002-1-office-portal-created")

    # --- 2. the client signs up and grants the portal's e-mail address access -------------
    client_id = sign_up(client, CLIENT_NAME, CLIENT_EMAIL, CLIENT_COMPANY)
    client.locator(".accountnav").get_by_role("link", name="Access management").click()
    expect(client).to_have_url(re.compile(rf"/a/{client_id}/access/?$"))
    expect(client.get_by_role("heading", level=1)).to_have_text("Access management")
    portal_access = client.get_by_test_id("portal-access")
    expect(portal_access).to_contain_text("No accounting office has access.")

    grant_form = client.get_by_test_id("grant-form")
    grant_form.get_by_label("E-mail address").fill(PORTAL_EMAIL)
    grant_form.get_by_label("Role").select_option(label="Admin")
    grant_form.get_by_role("button", name="Grant access").click()

    expect(client.get_by_role("status")).to_have_text(
        f"The portal {PORTAL_NAME} now has access. It appears in the portal once the office "
        "adds it."
    )
    expect(portal_access.get_by_role("heading", name="Accounting office")).to_be_visible()
    expect(portal_access).to_contain_text(f"The portal {PORTAL_NAME} has access (Admin)")
    expect(portal_access).to_contain_text("waiting for the office to add this account")
    # the portal is no user of the account and got no invitation
    expect(client.get_by_text("No pending invitations.")).to_be_visible()
    screenshot(client, "seed002-2-client-granted-portal")

    # --- 3. the office adds the client to the portal ------------------------------------
    office.reload()
    pending = office.get_by_test_id("pending-clients")
    expect(pending.get_by_role("heading", name="Waiting to be added")).to_be_visible()
    pending_row = pending.get_by_role("row").filter(has_text=CLIENT_COMPANY)
    expect(pending_row).to_have_count(1)
    pending_row.get_by_role("button", name="Add to portal").click()

    expect(office).to_have_url(portal_clients_url)
    expect(office.get_by_role("status")).to_have_text(
        f"{CLIENT_COMPANY} has been added to the portal."
    )
    expect(office.get_by_test_id("pending-clients")).to_have_count(0)
    expect(client_list.get_by_role("heading", level=2)).to_have_text("1 client")
    client_row = client_list.get_by_role("row").filter(has_text=CLIENT_COMPANY)
    expect(client_row).to_contain_text("active")
    expect(client_row.get_by_role("link", name=CLIENT_COMPANY)).to_have_attribute(
        "href", re.compile(rf"/a/{client_id}/?$")
    )
    screenshot(office, "seed002-3-office-client-added")

    # --- 4. the office enters the client's account through the account switcher ----------
    switcher.locator("summary").click()
    portal_entry = switcher.get_by_role("listitem").filter(has_text=PORTAL_NAME)
    client_entry = switcher.locator("li.nested").filter(has_text=CLIENT_COMPANY)
    expect(portal_entry).to_have_count(1)
    expect(client_entry).to_have_text(f"↳ {CLIENT_COMPANY}")
    # the client sits right under its portal in the list
    expect(portal_entry.locator("xpath=following-sibling::li[1]")).to_have_text(
        f"↳ {CLIENT_COMPANY}"
    )
    client_entry.get_by_role("link").click()

    expect(office).to_have_url(re.compile(rf"/a/{client_id}/?$"))
    client_dashboard_url = office.url
    expect(office.get_by_role("heading", level=1)).to_have_text(CLIENT_COMPANY)
    expect(office.get_by_text("Client account · Your role: Admin")).to_be_visible()
    expect(switcher.locator("summary")).to_contain_text(f"Client {CLIENT_COMPANY}")
    back = office.locator(".accountnav").get_by_role("link", name=f"← {PORTAL_NAME}")
    expect(back).to_have_attribute("href", f"/a/{portal_id}/portal/clients")
    screenshot(office, "seed002-4-office-in-client-account")

    # --- 5. the client revokes the office's access; the office is locked out -------------
    client.reload()
    expect(portal_access).to_contain_text(f"The portal {PORTAL_NAME} has access (Admin)")
    expect(portal_access.locator(".badge")).to_have_text("active")
    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    client.on("dialog", accept)
    portal_access.get_by_role("button", name="Revoke the office's access").click()
    expect(client.get_by_role("status")).to_have_text(
        "The portal no longer has access to this account."
    )
    assert dialogs == [
        "The office and all its staff lose access to this account at once. Continue?"
    ]
    expect(portal_access).to_contain_text("No accounting office has access.")
    screenshot(client, "seed002-5-client-revoked-portal")

    response = office.goto(client_dashboard_url)
    assert response is not None and response.status == 404
    expect(office.get_by_role("heading", level=1)).to_have_text("404")
    expect(office.get_by_role("main")).to_contain_text(
        "This page does not exist, or you have no access to it."
    )
    expect(office.get_by_role("heading", name=CLIENT_COMPANY)).to_have_count(0)
    screenshot(office, "seed002-6-office-locked-out")
    # the switcher still lists the portal, but no longer the client under it
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name=PORTAL_NAME)).to_be_visible()
    expect(switcher.locator("li.nested")).to_have_count(0)
