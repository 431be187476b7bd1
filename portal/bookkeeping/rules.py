"""Rules that propose values on arrival: a supplier's defaults and a category's GL account,
VAT code and cost center. A proposal says which rule made it; the preparer may change it.

Rules keep Exact's codes (and the IDs last resolved): after a reconnect or an overwrite to
another division they are resolved again by code, and a rule whose codes no longer resolve is
listed for the office to fix, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from portal import audit
from portal.bookkeeping import settings
from portal.bookkeeping.masterdata import GENERAL_JOURNAL, PURCHASE_JOURNAL, MasterData
from portal.bookkeeping.money import split_incl
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import (
    Account,
    BookItem,
    BookkeepingSettings,
    Category,
    ItemKind,
    ItemLine,
    SupplierRule,
)


class RuleError(Exception):
    """A rule that cannot be stored: ``errors`` maps a form field to what is wrong with it."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__("; ".join(str(m) for m in errors.values()))
        self.errors = errors


# --- looking rules up --------------------------------------------------------------------------


def supplier_rule(account_id: int, supplier_code: str | None) -> SupplierRule | None:
    if not supplier_code:
        return None
    return db.session.scalar(
        select(SupplierRule).where(
            SupplierRule.account_id == account_id, SupplierRule.supplier_code == supplier_code
        )
    )


def categories(account_id: int) -> list[Category]:
    return list(
        db.session.scalars(
            select(Category).where(Category.account_id == account_id).order_by(Category.name)
        )
    )


def supplier_rules(account_id: int) -> list[SupplierRule]:
    return list(
        db.session.scalars(
            select(SupplierRule)
            .where(SupplierRule.account_id == account_id)
            .order_by(SupplierRule.supplier_name, SupplierRule.supplier_code)
        )
    )


def _category_of(item: BookItem) -> Category | None:
    """The category an arriving item carries (``source["category_id"]`` or ``["category"]``,
    its name), if it is one of the account's."""
    source = item.source or {}
    query = select(Category).where(Category.account_id == item.account_id)
    if source.get("category_id"):
        try:
            return db.session.scalar(query.where(Category.id == int(source["category_id"])))
        except (TypeError, ValueError):
            return None
    if source.get("category"):
        return db.session.scalar(query.where(Category.name == str(source["category"])))
    return None


# --- proposing -----------------------------------------------------------------------------------


def journal_type(item: BookItem) -> int:
    """Purchase journals for purchases; a general journal for an expense claim."""
    return GENERAL_JOURNAL if item.kind == ItemKind.CLAIM else PURCHASE_JOURNAL


def default_journal(
    item: BookItem, master: MasterData, settings: BookkeepingSettings
) -> str | None:
    """The settings' journal of the item's type, else the only synced journal of that type."""
    if item.kind == ItemKind.CLAIM and settings.general_journal_code:
        return settings.general_journal_code
    if item.kind != ItemKind.CLAIM and settings.purchase_journal_code:
        return settings.purchase_journal_code
    found = master.journals(journal_type(item))
    return found[0].code if len(found) == 1 else None


def propose_defaults(item: BookItem, master: MasterData) -> None:
    """What every arriving item gets proposed, rule or not: the journal of its kind (the
    settings' one, else the only synced one) and the document's date as the entry date."""
    item.journal_code = item.journal_code or default_journal(
        item, master, settings.of(item.account_id)
    )
    item.entry_date = item.entry_date or item.document_date


def propose(item: BookItem, master: MasterData) -> None:
    """Fill an arriving item's empty fields from its supplier's rule, else from the category
    it carries, saying which rule proposed them.

    An item without lines gets one; when the item has an amount and the rule a VAT code, the
    line gets that amount split into the amount excl. VAT and the VAT.
    """
    propose_defaults(item, master)
    rule = supplier_rule(item.account_id, item.supplier_code)
    if rule is not None:
        _fill(item, master, rule.gl_account_code, rule.vat_code, rule.cost_center)
        item.description = item.description or rule.description
        item.proposed_by = N_(
            "Supplier rule for %(supplier)s", supplier=rule.supplier_name or rule.supplier_code
        ).to_json()
        return
    category = _category_of(item)
    if category is not None:
        _fill(item, master, category.gl_account_code, category.vat_code, category.cost_center)
        item.proposed_by = N_("Category %(category)s", category=category.name).to_json()


def _fill(item: BookItem, master: MasterData, gl: str | None, vat: str | None, cc: str | None):
    if not item.lines:
        line = ItemLine(position=0, amount_excl=None)
        item.lines.append(line)
        if item.amount is not None and vat:
            fraction = master.vat_percentage(vat)
            if fraction is not None:
                line.amount_excl, line.vat_amount = split_incl(item.amount, fraction)
    for line in item.lines:
        line.gl_account_code = line.gl_account_code or gl
        line.vat_code = line.vat_code or vat
        line.cost_center = line.cost_center or cc
        if line.vat_code and line.vat_percentage is None:
            line.vat_percentage = master.vat_percentage(line.vat_code)


# --- checking codes ------------------------------------------------------------------------------


def code_problem(master: MasterData, entity: str, code: str | None) -> Message | None:
    """Why ``code`` cannot be used, or None: it does not exist (or was deleted) in the synced
    data of the current division, or it is blocked there."""
    if not code:
        return None
    found = master.find(entity, code)
    what = {
        "gl_accounts": (
            N_("GL account %(code)s no longer exists in Exact Online", code=code),
            N_("GL account %(code)s is blocked in Exact Online", code=code),
        ),
        "vat_codes": (
            N_("VAT code %(code)s no longer exists in Exact Online", code=code),
            N_("VAT code %(code)s is blocked in Exact Online", code=code),
        ),
        "cost_centers": (
            N_("Cost center %(code)s no longer exists in Exact Online", code=code),
            N_("Cost center %(code)s is not active in Exact Online", code=code),
        ),
        "cost_units": (
            N_("Cost unit %(code)s no longer exists in Exact Online", code=code),
            N_("Cost unit %(code)s is not active in Exact Online", code=code),
        ),
        "accounts": (
            N_("Supplier %(code)s no longer exists in Exact Online", code=code),
            N_("Supplier %(code)s is blocked in Exact Online", code=code),
        ),
        "journals": (
            N_("Journal %(code)s no longer exists in Exact Online", code=code),
            N_("Journal %(code)s is blocked in Exact Online", code=code),
        ),
    }[entity]
    if found is None or found.deleted:
        return what[0]
    if found.blocked:
        return what[1]
    if entity == "accounts" and not found.data.get("IsSupplier"):
        return N_("%(code)s is not a supplier in Exact Online", code=code)
    return None


def _check(master: MasterData, fields: dict[str, tuple[str, str | None]]) -> dict[str, Message]:
    errors = {}
    for name, (entity, code) in fields.items():
        problem = code_problem(master, entity, code)
        if problem is not None:
            errors[name] = problem
    return errors


# --- categories ----------------------------------------------------------------------------------


@dataclass
class CategoryInput:
    name: str
    gl_account_code: str | None = None
    vat_code: str | None = None
    cost_center: str | None = None


def save_category(
    account: Account, master: MasterData, values: CategoryInput, category: Category | None = None
) -> Category:
    """Add or change a category; its codes must resolve now (the caller commits)."""
    name = values.name.strip()
    errors = _check(
        master,
        {
            "gl_account_code": ("gl_accounts", values.gl_account_code),
            "vat_code": ("vat_codes", values.vat_code),
            "cost_center": ("cost_centers", values.cost_center),
        },
    )
    clash = db.session.scalar(
        select(Category.id).where(Category.account_id == account.id, Category.name == name)
    )
    if clash is not None and (category is None or clash != category.id):
        errors["name"] = N_("There is already a category %(name)s.", name=name)
    if errors:
        raise RuleError(errors)
    if category is None:
        category = Category(account_id=account.id)
        db.session.add(category)
    category.name = name
    _set_codes(category, master, values)
    db.session.flush()
    audit.record(account, "bookkeeping.category_saved", name)
    return category


def delete_category(account: Account, category: Category) -> None:
    audit.record(account, "bookkeeping.category_deleted", category.name)
    db.session.delete(category)
    db.session.flush()


# --- supplier rules ------------------------------------------------------------------------------


@dataclass
class SupplierRuleInput:
    supplier_code: str
    gl_account_code: str | None = None
    vat_code: str | None = None
    cost_center: str | None = None
    description: str | None = None


def save_supplier_rule(
    account: Account,
    master: MasterData,
    values: SupplierRuleInput,
    rule: SupplierRule | None = None,
) -> SupplierRule:
    """Add or change a supplier rule; its codes must resolve now (the caller commits)."""
    code = (values.supplier_code or "").strip()
    errors = _check(
        master,
        {
            "supplier_code": ("accounts", code),
            "gl_account_code": ("gl_accounts", values.gl_account_code),
            "vat_code": ("vat_codes", values.vat_code),
            "cost_center": ("cost_centers", values.cost_center),
        },
    )
    if not code:
        errors["supplier_code"] = N_("Choose a supplier.")
    clash = supplier_rule(account.id, code)
    if clash is not None and (rule is None or clash.id != rule.id):
        errors["supplier_code"] = N_("There is already a rule for supplier %(code)s.", code=code)
    if errors:
        raise RuleError(errors)
    supplier = master.find("accounts", code)
    if rule is None:
        rule = SupplierRule(account_id=account.id)
        db.session.add(rule)
    rule.supplier_code = code
    rule.supplier_exact_id = supplier.exact_id if supplier else None
    rule.supplier_name = supplier.name if supplier else rule.supplier_name
    _set_codes(rule, master, values)
    rule.description = (values.description or "").strip() or None
    db.session.flush()
    audit.record(account, "bookkeeping.supplier_rule_saved", code)
    return rule


def _set_codes(
    rule: Category | SupplierRule, master: MasterData, values: CategoryInput | SupplierRuleInput
) -> None:
    """What a category or a supplier rule proposes: GL account (with its Exact ID), VAT code,
    cost center."""
    gl_account = master.find("gl_accounts", values.gl_account_code)
    rule.gl_account_code = values.gl_account_code or None
    rule.gl_account_id = gl_account.exact_id if gl_account else None
    rule.vat_code = values.vat_code or None
    rule.cost_center = values.cost_center or None


def delete_supplier_rule(account: Account, rule: SupplierRule) -> None:
    audit.record(account, "bookkeeping.supplier_rule_deleted", rule.supplier_code)
    db.session.delete(rule)
    db.session.flush()


# --- after a sync, a reconnect or an overwrite ---------------------------------------------------


@dataclass
class Unresolved:
    """A rule whose codes do not (all) resolve in the current division, and which not."""

    rule: Category | SupplierRule
    problems: list[Message] = field(default_factory=list)

    @property
    def is_category(self) -> bool:
        return isinstance(self.rule, Category)

    @property
    def name(self) -> str:
        if isinstance(self.rule, Category):
            return self.rule.name
        return self.rule.supplier_name or self.rule.supplier_code


def rule_problems(master: MasterData, rule: Category | SupplierRule) -> list[Message]:
    """What of a rule does not resolve in the current division (blocked counts as such)."""
    codes = [
        ("gl_accounts", rule.gl_account_code),
        ("vat_codes", rule.vat_code),
        ("cost_centers", rule.cost_center),
    ]
    if isinstance(rule, SupplierRule):
        codes.insert(0, ("accounts", rule.supplier_code))
    found = [code_problem(master, entity, code) for entity, code in codes]
    return [problem for problem in found if problem is not None]


def unresolved_rules(account: Account, master: MasterData | None = None) -> list[Unresolved]:
    """Every category and supplier rule with a code the current division does not resolve."""
    master = master or MasterData.of(account)
    if not master.linked:
        return []
    every = [*categories(account.id), *supplier_rules(account.id)]
    if not every:
        return []
    warm(master, suppliers=any(isinstance(rule, SupplierRule) for rule in every))
    found = []
    for rule in every:
        problems = rule_problems(master, rule)
        if problems:
            found.append(Unresolved(rule, problems))
    return found


def refresh_rule_ids(account: Account, master: MasterData | None = None) -> int:
    """Resolve the rules' codes to the Exact IDs of the current division again (after a sync,
    a reconnect or an overwrite); a code that no longer resolves keeps its code and loses its
    ID. Returns how many rules changed; the caller commits."""
    master = master or MasterData.of(account)
    if not master.linked:
        return 0
    warm(master)
    changed = 0
    for category in categories(account.id):
        new = _exact_id(master, "gl_accounts", category.gl_account_code)
        if category.gl_account_id != new:
            category.gl_account_id, changed = new, changed + 1
    for rule in supplier_rules(account.id):
        ids = (
            _exact_id(master, "accounts", rule.supplier_code),
            _exact_id(master, "gl_accounts", rule.gl_account_code),
        )
        if (rule.supplier_exact_id, rule.gl_account_id) != ids:
            rule.supplier_exact_id, rule.gl_account_id = ids
            changed += 1
    db.session.flush()
    return changed


def _exact_id(master: MasterData, entity: str, code: str | None) -> str | None:
    found = master.find(entity, code)
    return found.exact_id if found is not None and not found.deleted else None


def warm(master: MasterData, suppliers: bool = True) -> None:
    """Load the lists once, so looking up many codes costs no query per code (the suppliers,
    which may be thousands, only when supplier rules are looked up)."""
    for entity in ("gl_accounts", "vat_codes", "cost_centers"):
        master.all(entity)
    if suppliers:
        master.all("accounts")
