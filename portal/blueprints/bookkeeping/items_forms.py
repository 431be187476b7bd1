"""Forms of the item page and the bulk action, with the choice lists of Exact's master data."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from portal.bookkeeping import preparing, rules
from portal.bookkeeping.masterdata import GENERAL_JOURNAL, PURCHASE_JOURNAL, MasterData, Option
from portal.bookkeeping.money import parse_amount, split_incl
from portal.models import BookItem, ItemLine

EXTRA_LINES = 3  # empty line rows under the item's lines, to split it
VAT_MODES = [SelectChoice("incl", _l("incl. VAT")), SelectChoice("excl", _l("excl. VAT"))]
BALANCE_TYPES = {"W": _l("Profit and loss"), "B": _l("Balance sheet")}


# --- choice lists --------------------------------------------------------------------------------


def select_choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """(code, label) pairs as a select's options, an empty first one to leave it empty."""
    return [SelectChoice("", "—")] + [SelectChoice(code, label) for code, label in pairs]


def with_current(choices: list[tuple[str, str]], current: str | None) -> list[SelectChoice]:
    """The choices, plus the current code when Exact no longer offers it (so it is kept and
    said), and an empty first choice."""
    if current and current not in {code for code, _label in choices}:
        choices = [(current, _("%(code)s (not available in Exact Online)", code=current))] + choices
    return select_choices(choices)


def gl_label(option: Option) -> str:
    kind = BALANCE_TYPES.get(option.data.get("BalanceType") or "")
    return f"{option.label} · {kind}" if kind else option.label


def vat_label(option: Option) -> str:
    fraction = option.data.get("Percentage")
    if fraction is None:
        return option.label
    return f"{option.label} ({format_percent(Decimal(str(fraction)))})"


class Choices:
    """The master data's choice lists, read once per request."""

    def __init__(self, master: MasterData) -> None:
        self.master = master
        self.gl = [(o.code, gl_label(o)) for o in master.gl_accounts()]
        self.vat = [(o.code, vat_label(o)) for o in master.vat_codes()]
        self.cost_centers = [(o.code, o.label) for o in master.cost_centers()]
        self.cost_units = [(o.code, o.label) for o in master.cost_units()]
        self.purchase_journals = [(o.code, o.label) for o in master.journals(PURCHASE_JOURNAL)]
        self.general_journals = [(o.code, o.label) for o in master.journals(GENERAL_JOURNAL)]

    def journals_for(self, item: BookItem) -> list[tuple[str, str]]:
        if rules.journal_type(item) == GENERAL_JOURNAL:
            return self.general_journals
        return self.purchase_journals

    def fill_line(self, line: LineForm) -> None:
        line.gl_account_code.choices = with_current(self.gl, line.gl_account_code.data)
        line.vat_code.choices = with_current(self.vat, line.vat_code.data)
        line.cost_center.choices = with_current(self.cost_centers, line.cost_center.data)
        line.cost_unit.choices = with_current(self.cost_units, line.cost_unit.data)


# --- amounts -------------------------------------------------------------------------------------


def read_amount(text: str | None) -> Decimal | None:
    """An amount typed in the form, or None when empty; ValidationError in words."""
    if not (text or "").strip():
        return None
    try:
        return parse_amount(text)
    except ValueError as error:
        reason = str(error)
        if reason == "more than two decimals":
            raise ValidationError(_("Use at most two decimals.")) from None
        if reason == "too large":
            raise ValidationError(_("This amount is too large.")) from None
        raise ValidationError(_("Not an amount: type digits, e.g. 121,00.")) from None


# --- the item page -------------------------------------------------------------------------------


class LineForm(Form):
    gl_account_code = SelectField(_l("GL account"), choices=[], default="")
    vat_code = SelectField(_l("VAT code"), choices=[], default="")
    amount = StringField(_l("Amount"))
    vat_mode = SelectField(_l("Amount is"), choices=VAT_MODES, default="incl")
    vat_amount = StringField(
        _l("VAT amount"), description=_l("Empty: computed. A correction of at most a cent.")
    )
    cost_center = SelectField(_l("Cost center"), choices=[], default="")
    cost_unit = SelectField(_l("Cost unit"), choices=[], default="")
    description = StringField(_l("Line description"), validators=[Length(max=255)])
    remove = BooleanField(_l("Remove"))

    def validate_amount(self, field):
        read_amount(field.data)

    def validate_vat_amount(self, field):
        read_amount(field.data)

    @property
    def blank(self) -> bool:
        values = (
            self.gl_account_code.data,
            self.vat_code.data,
            self.amount.data,
            self.vat_amount.data,
            self.cost_center.data,
            self.cost_unit.data,
            self.description.data,
        )
        return self.remove.data or not any((v or "").strip() for v in values)


class ItemForm(FlaskForm):
    version = HiddenField()
    supplier_code = StringField(
        _l("Supplier"),
        validators=[Length(max=64)],
        description=_l("Type a name or code and choose from Exact Online's suppliers."),
    )
    journal_code = SelectField(_l("Journal"), choices=[], default="")
    entry_date = DateField(_l("Entry date"), validators=[Optional()])
    due_date = DateField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("Empty: from the supplier's payment condition in Exact Online."),
    )
    description = StringField(_l("Description"), validators=[Length(max=255)])
    amount = StringField(_l("Total incl. VAT"))
    lines = FieldList(FormField(LineForm), min_entries=1)

    def validate_amount(self, field):
        read_amount(field.data)

    def fill_choices(self, choices: Choices, item: BookItem) -> None:
        self.journal_code.choices = with_current(choices.journals_for(item), self.journal_code.data)
        for entry in self.lines:
            choices.fill_line(entry.form)

    def to_input(self, master: MasterData) -> preparing.ItemInput | None:
        """What was filled in, or None after putting each line's VAT error on its field."""
        lines, ok = [], True
        for entry in self.lines:
            line = entry.form
            if line.blank:
                continue
            amount = read_amount(line.amount.data)
            typed_vat = read_amount(line.vat_amount.data)
            includes_vat = line.vat_mode.data != "excl"
            if amount is not None and typed_vat is not None:
                fraction = master.vat_percentage(line.vat_code.data)
                try:
                    preparing.compute_line(amount, includes_vat, fraction, typed_vat)
                except preparing.VatTooFar as error:
                    line.vat_amount.errors.append(
                        _(
                            "The VAT may differ at most a cent from the computed %(vat)s.",
                            vat=error.computed,
                        )
                    )
                    ok = False
            lines.append(
                preparing.LineInput(
                    gl_account_code=line.gl_account_code.data or None,
                    vat_code=line.vat_code.data or None,
                    amount=amount,
                    includes_vat=includes_vat,
                    vat_amount=typed_vat,
                    cost_center=line.cost_center.data or None,
                    cost_unit=line.cost_unit.data or None,
                    description=line.description.data,
                )
            )
        if not ok:
            return None
        return preparing.ItemInput(
            supplier_code=(self.supplier_code.data or "").strip() or None,
            journal_code=self.journal_code.data or None,
            entry_date=self.entry_date.data,
            due_date=self.due_date.data,
            description=self.description.data,
            lines=lines,
            amount=read_amount(self.amount.data),
            amount_given=True,
        )


def _line_data(line: ItemLine) -> dict:
    """A stored line as the form shows it: the amount incl. VAT, the VAT only when it is a
    correction of the computed one."""
    incl = line.amount_incl
    vat_amount = ""
    if incl is not None and line.vat_amount is not None:
        computed = split_incl(incl, line.vat_percentage)[1]
        if computed != line.vat_amount:
            vat_amount = str(line.vat_amount)
    return {
        "gl_account_code": line.gl_account_code or "",
        "vat_code": line.vat_code or "",
        "amount": "" if incl is None else str(incl),
        "vat_mode": "incl",
        "vat_amount": vat_amount,
        "cost_center": line.cost_center or "",
        "cost_unit": line.cost_unit or "",
        "description": line.description or "",
    }


def item_form_data(item: BookItem, default_journal: str | None) -> dict:
    """The form's data for an item, with the proposals for what is still empty."""
    lines = [_line_data(line) for line in item.lines]
    return {
        "version": item.version,
        "supplier_code": item.supplier_code or "",
        "journal_code": item.journal_code or default_journal or "",
        "entry_date": item.entry_date or item.document_date,
        "due_date": item.due_date,
        "description": item.description or "",
        "amount": "" if item.amount is None else str(item.amount),
        "lines": lines + [{} for _n in range(EXTRA_LINES)],
    }


# --- bulk ----------------------------------------------------------------------------------------


class BulkForm(FlaskForm):
    """Pre-accounting values for the selected items; an empty field changes nothing."""

    supplier_code = StringField(_l("Supplier"), validators=[Length(max=64)])
    journal_code = SelectField(_l("Journal"), choices=[], default="")
    gl_account_code = SelectField(_l("GL account"), choices=[], default="")
    vat_code = SelectField(_l("VAT code"), choices=[], default="")
    cost_center = SelectField(_l("Cost center"), choices=[], default="")
    cost_unit = SelectField(_l("Cost unit"), choices=[], default="")
    description = StringField(_l("Description"), validators=[Length(max=255)])
    entry_date = DateField(_l("Entry date"), validators=[Optional()])

    def fill_choices(self, choices: Choices) -> None:
        journals = choices.purchase_journals + [
            c for c in choices.general_journals if c not in choices.purchase_journals
        ]
        self.journal_code.choices = select_choices(journals)
        self.gl_account_code.choices = select_choices(choices.gl)
        self.vat_code.choices = select_choices(choices.vat)
        self.cost_center.choices = select_choices(choices.cost_centers)
        self.cost_unit.choices = select_choices(choices.cost_units)

    def values(self, supplier_code: str | None) -> preparing.BulkValues:
        return preparing.BulkValues(
            supplier_code=supplier_code,
            journal_code=self.journal_code.data or None,
            gl_account_code=self.gl_account_code.data or None,
            vat_code=self.vat_code.data or None,
            cost_center=self.cost_center.data or None,
            cost_unit=self.cost_unit.data or None,
            description=(self.description.data or "").strip() or None,
            entry_date=self.entry_date.data,
        )
