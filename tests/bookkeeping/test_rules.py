"""Rules: categories and supplier rules kept by Exact's codes, proposals that say which rule
made them, and rules that no longer resolve after the client moves to another division."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.bookkeeping import rules
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.messages import shown
from portal.models import ExactRecord
from tests.factories import make_bookkeeping_client, make_item


@pytest.fixture
def books(app):
    client = make_bookkeeping_client()
    client["master_data"] = MasterData.of(client["account"])
    return client


def test_supplier_rule_is_saved_with_ids_and_proposes(books):
    account, master = books["account"], books["master_data"]
    rule = rules.save_supplier_rule(
        account,
        master,
        rules.SupplierRuleInput("1", "4000", "2", "100", "Kantoorartikelen"),
    )
    assert rule.supplier_name == "Kantoor Plus B.V."
    assert rule.supplier_exact_id == books["master"]["accounts"]["1"].exact_id
    assert rule.gl_account_id == books["master"]["gl_accounts"]["4000"].exact_id
    item = make_item(account, supplier_code="1", amount=Decimal("121.00"))
    rules.propose(item, master)
    line = item.lines[0]
    assert (line.gl_account_code, line.vat_code, line.cost_center) == ("4000", "2", "100")
    assert (line.amount_excl, line.vat_amount) == (Decimal("100.00"), Decimal("21.00"))
    assert item.description == "Kantoorartikelen"
    assert shown(None, item.proposed_by) == "Supplier rule for Kantoor Plus B.V."


def test_a_rule_with_a_blocked_or_unknown_code_is_refused(books):
    with pytest.raises(rules.RuleError) as refused:
        rules.save_supplier_rule(
            books["account"], books["master_data"], rules.SupplierRuleInput("1", "4999", "7")
        )
    assert {k: str(v) for k, v in refused.value.errors.items()} == {
        "gl_account_code": "GL account 4999 is blocked in Exact Online",
        "vat_code": "VAT code 7 is blocked in Exact Online",
    }
    rules.save_supplier_rule(books["account"], books["master_data"], rules.SupplierRuleInput("2"))
    with pytest.raises(rules.RuleError) as twice:
        rules.save_supplier_rule(
            books["account"], books["master_data"], rules.SupplierRuleInput("2")
        )
    assert "supplier_code" in twice.value.errors


def test_category_crud_and_the_category_proposal(books):
    account, master = books["account"], books["master_data"]
    fuel = rules.save_category(account, master, rules.CategoryInput("Brandstof", "4100", "2"))
    assert fuel.gl_account_id == books["master"]["gl_accounts"]["4100"].exact_id
    with pytest.raises(rules.RuleError) as clash:
        rules.save_category(account, master, rules.CategoryInput("Brandstof"))
    assert str(clash.value.errors["name"]) == "There is already a category Brandstof."
    rules.save_category(account, master, rules.CategoryInput("Auto", "4100", "1"), fuel)
    assert [c.name for c in rules.categories(account.id)] == ["Auto"]
    item = make_item(account, source={"category": "Auto"}, amount=Decimal("10.00"))
    rules.propose(item, master)
    assert item.lines[0].gl_account_code == "4100"
    assert (item.lines[0].amount_excl, item.lines[0].vat_amount) == (
        Decimal("9.17"),
        Decimal("0.83"),
    )
    assert shown(None, item.proposed_by) == "Category Auto"
    rules.delete_category(account, fuel)
    assert rules.categories(account.id) == []


def _move_to_another_division(books, codes: dict[str, list[str]]) -> None:
    """The client is overwritten to division 4002: only these codes exist there."""
    account = books["account"]
    for entity, entity_codes in codes.items():
        for n, code in enumerate(entity_codes):
            data = {"Code": code, "IsSupplier": True} if entity == "accounts" else {"Code": code}
            db.session.add(
                ExactRecord(
                    account_id=account.id,
                    division_code=4002,
                    entity=entity,
                    exact_id=f"new-{entity}-{n}",
                    code=code,
                    description=f"{entity} {code}",
                    data=data,
                )
            )
    books["link"].division_code = 4002
    db.session.flush()


def test_rules_no_longer_resolving_in_another_division_are_listed_and_kept(books):
    account, master = books["account"], books["master_data"]
    rules.save_supplier_rule(account, master, rules.SupplierRuleInput("1", "4000", "2", "100"))
    rules.save_category(account, master, rules.CategoryInput("Brandstof", "4100", "2"))
    assert rules.unresolved_rules(account) == []
    _move_to_another_division(
        books, {"gl_accounts": ["4000"], "vat_codes": ["2"], "accounts": ["1"]}
    )
    unresolved = rules.unresolved_rules(account)
    found = {u.name: [str(p) for p in u.problems] for u in unresolved}
    assert found == {
        "Brandstof": ["GL account 4100 no longer exists in Exact Online"],
        "Kantoor Plus B.V.": ["Cost center 100 no longer exists in Exact Online"],
    }
    assert rules.refresh_rule_ids(account) == 2
    rule = rules.supplier_rule(account.id, "1")
    assert (rule.supplier_exact_id, rule.gl_account_id) == ("new-accounts-0", "new-gl_accounts-0")
    category = rules.categories(account.id)[0]
    assert category.gl_account_code == "4100" and category.gl_account_id is None  # kept, unresolved
    assert rules.refresh_rule_ids(account) == 0
