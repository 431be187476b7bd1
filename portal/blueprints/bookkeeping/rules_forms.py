"""Forms of the rules pages (categories, supplier rules) and the bookkeeping settings."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.blueprints.bookkeeping.items_forms import Choices, with_current

MAX_RATE = Decimal("99999.9999")  # what Numeric(9, 4) holds


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    gl_account_code = SelectField(_l("GL account"), choices=[], default="")
    vat_code = SelectField(_l("VAT code"), choices=[], default="")
    cost_center = SelectField(_l("Cost center"), choices=[], default="")

    def fill_choices(self, choices: Choices) -> None:
        self.gl_account_code.choices = with_current(choices.gl, self.gl_account_code.data)
        self.vat_code.choices = with_current(choices.vat, self.vat_code.data)
        self.cost_center.choices = with_current(choices.cost_centers, self.cost_center.data)


class SupplierRuleForm(FlaskForm):
    supplier_code = StringField(
        _l("Supplier"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Type a name or code and choose from Exact Online's suppliers."),
    )
    gl_account_code = SelectField(_l("GL account"), choices=[], default="")
    vat_code = SelectField(_l("VAT code"), choices=[], default="")
    cost_center = SelectField(_l("Cost center"), choices=[], default="")
    description = StringField(_l("Description"), validators=[Length(max=255)])

    def fill_choices(self, choices: Choices) -> None:
        self.gl_account_code.choices = with_current(choices.gl, self.gl_account_code.data)
        self.vat_code.choices = with_current(choices.vat, self.vat_code.data)
        self.cost_center.choices = with_current(choices.cost_centers, self.cost_center.data)


def read_rate(text: str | None) -> Decimal:
    """A rate per km as typed ("0,23" or "0.23"): at least 0, at most four decimals."""
    raw = (text or "").strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationError(_("Not a rate: type digits, e.g. 0,23.")) from None
    if not value.is_finite():
        raise ValidationError(_("Not a rate: type digits, e.g. 0,23."))
    if value < 0:
        raise ValidationError(_("The rate cannot be negative."))
    if value != value.quantize(Decimal("0.0001")):
        raise ValidationError(_("Use at most four decimals."))
    if value > MAX_RATE:
        raise ValidationError(_("This rate is too large."))
    return value


class SettingsForm(FlaskForm):
    mileage_rate = StringField(
        _l("Mileage rate per km"),
        validators=[DataRequired()],
        description=_l("The Dutch tax-free allowance was € 0,23 per km in 2024 and 2025."),
    )
    closed_through = DateField(
        _l("Books closed through"),
        validators=[Optional()],
        description=_l("No entry date on or before this day can be marked ready."),
    )
    purchase_journal_code = SelectField(_l("Default purchase journal"), choices=[], default="")
    general_journal_code = SelectField(_l("Default general journal"), choices=[], default="")
    employee_gl_account_code = SelectField(
        _l("GL account for employees (expense claims)"), choices=[], default=""
    )

    def validate_mileage_rate(self, field):
        read_rate(field.data)

    def fill_choices(self, choices: Choices) -> None:
        self.purchase_journal_code.choices = with_current(
            choices.purchase_journals, self.purchase_journal_code.data
        )
        self.general_journal_code.choices = with_current(
            choices.general_journals, self.general_journal_code.data
        )
        self.employee_gl_account_code.choices = with_current(
            choices.gl, self.employee_gl_account_code.data
        )
