"""The rules pages (categories, supplier rules) and the bookkeeping settings: add, edit and
delete with PREPARE, rules that no longer resolve marked, read-only sees without forms."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest

from portal.bookkeeping import rules
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.models import Category, ExactRecord, Role, SupplierRule
from tests.factories import add_member, make_bookkeeping_client, make_user


def _text(response) -> str:
    page = response.get_data(as_text=True).split("<main>", 1)[1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def books(app, login):
    client = make_bookkeeping_client()
    db.session.commit()
    login(client["user"])
    client["base"] = f"/a/{client['account'].id}/books"
    return client


def _rules(model, account_id):
    db.session.expire_all()
    return db.session.query(model).filter_by(account_id=account_id).all()


def test_add_edit_and_delete_a_supplier_rule(client, books):
    base, account_id = books["base"], books["account"].id
    added = client.post(
        f"{base}/rules/suppliers",
        data={
            "supplier_code": "Kantoor Plus B.V.",
            "gl_account_code": "4000",
            "vat_code": "2",
            "cost_center": "",
            "description": "Kantoor",
        },
    )
    assert added.status_code == 302
    [rule] = _rules(SupplierRule, account_id)
    assert (rule.supplier_code, rule.gl_account_code, rule.supplier_name) == (
        "1",
        "4000",
        "Kantoor Plus B.V.",
    )
    page = client.get(f"{base}/rules/suppliers/{rule.id}")
    assert page.status_code == 200 and "Kantoor" in _text(page)
    client.post(
        f"{base}/rules/suppliers/{rule.id}",
        data={
            "supplier_code": "1",
            "gl_account_code": "4100",
            "vat_code": "1",
            "cost_center": "100",
            "description": "",
        },
    )
    assert _rules(SupplierRule, account_id)[0].gl_account_code == "4100"
    refused = client.post(
        f"{base}/rules/suppliers/{rule.id}",
        data={"supplier_code": "1", "gl_account_code": "9999", "vat_code": "", "cost_center": ""},
    )
    assert refused.status_code == 400
    assert "GL account 9999 no longer exists in Exact Online" in _text(refused)
    assert client.post(f"{base}/rules/suppliers/{rule.id}/delete").status_code == 302
    assert _rules(SupplierRule, account_id) == []


def test_add_a_category_and_refuse_a_twin(client, books):
    base = books["base"]
    data = {"name": "Brandstof", "gl_account_code": "4100", "vat_code": "2", "cost_center": ""}
    assert client.post(f"{base}/rules/categories", data=data).status_code == 302
    twin = client.post(f"{base}/rules/categories", data=data)
    assert twin.status_code == 400 and "There is already a category Brandstof." in _text(twin)
    [category] = _rules(Category, books["account"].id)
    assert client.get(f"{base}/rules/categories/{category.id}").status_code == 200
    assert client.post(f"{base}/rules/categories/{category.id}/delete").status_code == 302
    assert _rules(Category, books["account"].id) == []


def test_rules_that_no_longer_resolve_are_marked_on_the_rules_and_items_pages(client, books):
    account = books["account"]
    master = MasterData.of(account)
    rules.save_category(account, master, rules.CategoryInput("Brandstof", "4100", "2"))
    db.session.add(
        ExactRecord(
            account_id=account.id,
            division_code=4002,
            entity="gl_accounts",
            exact_id="n1",
            code="4000",
            description="Kosten",
            data={"Code": "4000"},
        )
    )
    books["link"].division_code = 4002  # overwritten to another administration
    db.session.commit()
    text = _text(client.get(f"{books['base']}/rules"))
    assert (
        "Not found in Exact Online: GL account 4100 no longer exists in Exact Online; "
        "VAT code 2 no longer exists in Exact Online — fix this rule" in text
    )
    assert "1 rule no longer resolves in Exact Online" in _text(client.get(f"{books['base']}/"))


def test_settings_are_saved_and_bad_rates_refused(client, books):
    base = books["base"]
    page = client.get(f"{base}/settings")
    assert page.status_code == 200 and 'value="0.23"' in page.get_data(True)
    bad = client.post(f"{base}/settings", data={"mileage_rate": "0,12345"})
    assert bad.status_code == 400 and "Use at most four decimals." in _text(bad)
    negative = client.post(f"{base}/settings", data={"mileage_rate": "-1"})
    assert "The rate cannot be negative." in _text(negative)
    saved = client.post(
        f"{base}/settings",
        data={
            "mileage_rate": "0,21",
            "closed_through": "2025-12-31",
            "purchase_journal_code": "70",
            "general_journal_code": "90",
            "employee_gl_account_code": "1600",
        },
    )
    assert saved.status_code == 302
    db.session.expire_all()
    found = book_settings.of(books["account"].id)
    assert (found.mileage_rate, found.closed_through, found.purchase_journal_code) == (
        Decimal("0.21"),
        date(2025, 12, 31),
        "70",
    )


def test_read_only_sees_the_rules_without_forms_and_may_not_post(client, login, books):
    rule = rules.save_supplier_rule(
        books["account"], MasterData.of(books["account"]), rules.SupplierRuleInput("1", "4000")
    )
    reader = make_user()
    add_member(books["account"], reader, Role.READ_ONLY)
    db.session.commit()
    client.post("/logout")
    login(reader)
    base = books["base"]
    page = client.get(f"{base}/rules")
    assert page.status_code == 200 and "supplier-rule-form" not in page.get_data(True)
    assert "settings-form" not in client.get(f"{base}/settings").get_data(True)
    for url in (
        f"{base}/rules/categories",
        f"{base}/rules/suppliers",
        f"{base}/rules/suppliers/{rule.id}",
        f"{base}/rules/suppliers/{rule.id}/delete",
        f"{base}/settings",
    ):
        assert client.post(url, data={"name": "x", "mileage_rate": "1"}).status_code == 403, url
    assert len(_rules(SupplierRule, books["account"].id)) == 1


def test_another_accounts_rule_is_a_404(client, books):
    other = make_bookkeeping_client()
    theirs = rules.save_supplier_rule(
        other["account"], MasterData.of(other["account"]), rules.SupplierRuleInput("1")
    )
    category = rules.save_category(
        other["account"], MasterData.of(other["account"]), rules.CategoryInput("X")
    )
    db.session.commit()
    base = books["base"]
    assert client.get(f"{base}/rules/suppliers/{theirs.id}").status_code == 404
    assert client.post(f"{base}/rules/suppliers/{theirs.id}/delete").status_code == 404
    assert client.post(f"{base}/rules/categories/{category.id}/delete").status_code == 404
    assert len(_rules(SupplierRule, other["account"].id)) == 1
