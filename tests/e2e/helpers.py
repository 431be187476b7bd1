"""Helpers for the browser tests: screenshots and the login form."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as ``test-artifacts/screenshots/<name>.png``; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', name).strip('-')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def mailed_link(email: str, path: str) -> str:
    """The last link to ``path...`` mailed to ``email`` (read from the outbox table)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import OutboxMessage

    try:
        body = db.session.scalar(
            select(OutboxMessage.body_text)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        )
    finally:
        db.session.rollback()  # end the read: the live server writes to the same database
    match = re.search(rf"https?://\S+?({re.escape(path)}\S+)", body or "")
    assert match, f"no {path} link mailed to {email}: {body!r}"
    return match.group(1)


def sign_up(page: Page, name: str, email: str, company: str, password: str) -> None:
    """Sign up through the forms: name, address and company; then the mailed link; then the
    password. Ends in the new account, logged in."""
    page.goto("/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Company name").fill(company)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    page.goto(mailed_link(email, "/signup/"))
    expect(page.get_by_label("Company name")).to_have_value(company)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_role("button", name="Create my account").click()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form at /login (fields found by name, so in any language).

    Waits for the answer to the form; the caller checks where it landed."""
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) button[type=submit]").click()
