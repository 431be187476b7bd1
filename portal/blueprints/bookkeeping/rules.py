"""Bookkeeping views: categories and supplier rules (what proposes values on arrival), and the
bookkeeping settings. Everyone who sees the account sees them; changing takes PREPARE."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.blueprints.bookkeeping import bp
from portal.blueprints.bookkeeping.items_forms import Choices
from portal.blueprints.bookkeeping.rules_forms import (
    CategoryForm,
    SettingsForm,
    SupplierRuleForm,
    read_rate,
)
from portal.bookkeeping import preparing
from portal.bookkeeping import rules as book_rules
from portal.bookkeeping import settings as book_settings
from portal.bookkeeping.masterdata import MasterData
from portal.extensions import db
from portal.models import Category, SupplierRule
from portal.permissions import Action, require
from portal.tenancy import get_for_account


def _rules_page(master, category_form=None, supplier_form=None, status=200):
    choices = Choices(master)
    category_form = category_form or CategoryForm(formdata=None)
    supplier_form = supplier_form or SupplierRuleForm(formdata=None)
    category_form.fill_choices(choices)
    supplier_form.fill_choices(choices)
    book_rules.warm(master)
    categories = book_rules.categories(g.account.id)
    supplier_rules = book_rules.supplier_rules(g.account.id)
    return (
        render_template(
            "bookkeeping/rules.html",
            categories=[(c, book_rules.rule_problems(master, c)) for c in categories],
            supplier_rules=[(r, book_rules.rule_problems(master, r)) for r in supplier_rules],
            category_form=category_form,
            supplier_form=supplier_form,
            suppliers=master.suppliers(limit=20),
            may_prepare=g.authority.can(Action.PREPARE),
            linked=master.linked,
        ),
        status,
    )


@bp.route("/rules")
def rules():
    """Categories and supplier rules, each saying which of its codes no longer resolve."""
    master = MasterData.of(g.account)
    if g.authority.can(Action.PREPARE) and book_rules.refresh_rule_ids(g.account, master):
        db.session.commit()
    return _rules_page(master)


def _apply_errors(form, error: book_rules.RuleError) -> None:
    for name, message in error.errors.items():
        form[name].errors = [*form[name].errors, str(message)]


def _supplier_code(master: MasterData, form: SupplierRuleForm) -> str:
    """The supplier typed by name or code, as its code (what was typed when not found)."""
    found = preparing.find_supplier(master, form.supplier_code.data)
    return found.code if found else (form.supplier_code.data or "").strip()


# --- categories ----------------------------------------------------------------------------------


def _category_input(form: CategoryForm) -> book_rules.CategoryInput:
    return book_rules.CategoryInput(
        name=form.name.data or "",
        gl_account_code=form.gl_account_code.data or None,
        vat_code=form.vat_code.data or None,
        cost_center=form.cost_center.data or None,
    )


@bp.route("/rules/categories", methods=["POST"])
def add_category():
    require(Action.PREPARE)
    master = MasterData.of(g.account)
    form = CategoryForm()
    form.fill_choices(Choices(master))
    if not form.validate():
        return _rules_page(master, category_form=form, status=400)
    try:
        category = book_rules.save_category(g.account, master, _category_input(form))
    except book_rules.RuleError as error:
        db.session.rollback()
        _apply_errors(form, error)
        return _rules_page(master, category_form=form, status=400)
    db.session.commit()
    flash(_("Category %(name)s added.", name=category.name), "success")
    return redirect(url_for("bookkeeping.rules"))


@bp.route("/rules/categories/<int:category_id>", methods=["GET", "POST"])
def edit_category(category_id: int):
    category = get_for_account(Category, category_id)
    master = MasterData.of(g.account)
    if request.method == "POST":
        require(Action.PREPARE)
        form = CategoryForm()
    else:
        form = CategoryForm(obj=category, formdata=None)
    form.fill_choices(Choices(master))
    if request.method == "POST" and form.validate():
        try:
            book_rules.save_category(g.account, master, _category_input(form), category)
        except book_rules.RuleError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Category %(name)s saved.", name=category.name), "success")
            return redirect(url_for("bookkeeping.rules"))
    return _edit_page(master, form, category, "category", request.method == "POST")


@bp.route("/rules/categories/<int:category_id>/delete", methods=["POST"])
def delete_category(category_id: int):
    require(Action.PREPARE)
    category = get_for_account(Category, category_id)
    name = category.name
    book_rules.delete_category(g.account, category)
    db.session.commit()
    flash(_("Category %(name)s deleted.", name=name), "success")
    return redirect(url_for("bookkeeping.rules"))


# --- supplier rules ------------------------------------------------------------------------------


def _supplier_input(master, form: SupplierRuleForm) -> book_rules.SupplierRuleInput:
    return book_rules.SupplierRuleInput(
        supplier_code=_supplier_code(master, form),
        gl_account_code=form.gl_account_code.data or None,
        vat_code=form.vat_code.data or None,
        cost_center=form.cost_center.data or None,
        description=form.description.data,
    )


@bp.route("/rules/suppliers", methods=["POST"])
def add_supplier_rule():
    require(Action.PREPARE)
    master = MasterData.of(g.account)
    form = SupplierRuleForm()
    form.fill_choices(Choices(master))
    if not form.validate():
        return _rules_page(master, supplier_form=form, status=400)
    try:
        rule = book_rules.save_supplier_rule(g.account, master, _supplier_input(master, form))
    except book_rules.RuleError as error:
        db.session.rollback()
        _apply_errors(form, error)
        return _rules_page(master, supplier_form=form, status=400)
    db.session.commit()
    flash(_("Rule for %(supplier)s added.", supplier=rule.supplier_name), "success")
    return redirect(url_for("bookkeeping.rules"))


@bp.route("/rules/suppliers/<int:rule_id>", methods=["GET", "POST"])
def edit_supplier_rule(rule_id: int):
    rule = get_for_account(SupplierRule, rule_id)
    master = MasterData.of(g.account)
    if request.method == "POST":
        require(Action.PREPARE)
        form = SupplierRuleForm()
    else:
        form = SupplierRuleForm(obj=rule, formdata=None)
    form.fill_choices(Choices(master))
    if request.method == "POST" and form.validate():
        try:
            book_rules.save_supplier_rule(g.account, master, _supplier_input(master, form), rule)
        except book_rules.RuleError as error:
            db.session.rollback()
            _apply_errors(form, error)
        else:
            db.session.commit()
            flash(_("Rule for %(supplier)s saved.", supplier=rule.supplier_name), "success")
            return redirect(url_for("bookkeeping.rules"))
    return _edit_page(master, form, rule, "supplier", request.method == "POST")


@bp.route("/rules/suppliers/<int:rule_id>/delete", methods=["POST"])
def delete_supplier_rule(rule_id: int):
    require(Action.PREPARE)
    rule = get_for_account(SupplierRule, rule_id)
    name = rule.supplier_name or rule.supplier_code
    book_rules.delete_supplier_rule(g.account, rule)
    db.session.commit()
    flash(_("Rule for %(supplier)s deleted.", supplier=name), "success")
    return redirect(url_for("bookkeeping.rules"))


def _edit_page(master, form, rule, kind: str, posted: bool):
    return (
        render_template(
            "bookkeeping/rules_edit.html",
            form=form,
            rule=rule,
            kind=kind,
            problems=book_rules.rule_problems(master, rule),
            suppliers=master.suppliers(limit=20) if kind == "supplier" else [],
            may_prepare=g.authority.can(Action.PREPARE),
        ),
        400 if posted else 200,
    )


# --- settings ------------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Mileage rate, books closed through, default journals, the employees' GL account."""
    master = MasterData.of(g.account)
    current = book_settings.of(g.account.id)
    if request.method == "POST":
        require(Action.PREPARE)
        form = SettingsForm()
    else:
        form = SettingsForm(obj=current, formdata=None)
        form.mileage_rate.data = str(current.mileage_rate)
    form.fill_choices(Choices(master))
    if request.method == "POST" and form.validate():
        book_settings.update(
            g.account,
            book_settings.SettingsInput(
                mileage_rate=read_rate(form.mileage_rate.data),
                closed_through=form.closed_through.data,
                purchase_journal_code=form.purchase_journal_code.data or None,
                general_journal_code=form.general_journal_code.data or None,
                employee_gl_account_code=form.employee_gl_account_code.data or None,
            ),
        )
        db.session.commit()
        flash(_("Settings saved."), "success")
        return redirect(url_for("bookkeeping.settings"))
    return (
        render_template(
            "bookkeeping/settings.html",
            form=form,
            may_prepare=g.authority.can(Action.PREPARE),
            linked=master.linked,
        ),
        400 if request.method == "POST" else 200,
    )
