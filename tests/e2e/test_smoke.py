"""A new user in a real browser: sign up, own account, Dutch, log out, log in again."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.e2e.helpers import log_in, mailed_link, screenshot

NAME = "Ada Lovelace"
EMAIL = "ada@example.com"
COMPANY = "Lovelace Analytics BV"
PASSWORD = "analytical engine 1843"


def test_sign_up_switch_to_dutch_log_out_and_in(page: Page, db) -> None:
    page.goto("/signup")
    expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    screenshot(page, "smoke-1-signup")

    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Company name").fill(COMPANY)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(EMAIL)

    # the mailed link leads to the password; the name and company come along
    page.goto(mailed_link(EMAIL, "/signup/"))
    expect(page.get_by_label("Your name")).to_have_value(NAME)
    expect(page.get_by_label("Company name")).to_have_value(COMPANY)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # in the new account: its dashboard, its name in the switcher, the user in the top bar
    expect(page).to_have_url(re.compile(r"/a/\d+/?$"))
    expect(page.get_by_role("status")).to_have_text("Welcome! Your account is ready.")
    expect(page.get_by_role("heading", level=1)).to_have_text(COMPANY)
    switcher = page.get_by_test_id("account-switcher")
    expect(switcher.locator("summary")).to_contain_text(COMPANY)
    expect(page.locator(".usernav")).to_contain_text(NAME)
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link", name="All accounts")).to_be_visible()
    screenshot(page, "smoke-2-account")

    page.locator(".usernav button[name=language][value=nl]").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()
    expect(page.get_by_role("link", name="Overzicht")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(COMPANY)
    screenshot(page, "smoke-3-dutch")

    page.get_by_role("button", name="Afmelden").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("Je bent afgemeld.")
    expect(page.get_by_role("heading", name="Aanmelden")).to_be_visible()
    screenshot(page, "smoke-4-logged-out")

    log_in(page, EMAIL, PASSWORD)
    expect(page).to_have_url(re.compile(r"/a/\d+/?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(COMPANY)
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()  # still Dutch
    screenshot(page, "smoke-5-logged-in-again")

    # the server wrote to the test's database, which the test reads in its own app context
    from portal.models import User

    user = db.session.scalar(select(User).where(User.email == EMAIL))
    assert user is not None and user.name == NAME and user.language == "nl"


def test_user_made_by_the_factories_logs_in(page: Page) -> None:
    """Data committed in the test's app context is what the live server sees."""
    from tests.factories import PASSWORD as FACTORY_PASSWORD
    from tests.factories import make_user_with_account

    user, account = make_user_with_account(name="Grace Hopper")

    log_in(page, user.email, "not the password")
    expect(page.get_by_role("alert")).to_contain_text(
        "This e-mail address and password do not match."
    )

    log_in(page, user.email, FACTORY_PASSWORD)
    expect(page).to_have_url(re.compile(rf"/a/{account.id}/?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(account.name)
    expect(page.locator(".usernav")).to_contain_text("Grace Hopper")
