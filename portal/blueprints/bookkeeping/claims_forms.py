"""The forms of the expense-claim pages. Amounts and distances are typed as text and read
with ``money.parse_amount`` (Dutch "12,50" and English "12.50"): never a float."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.bookkeeping import claims
from portal.bookkeeping.money import parse_amount

# parse_amount's reasons (ValueError's text) in words
AMOUNT_PROBLEMS = {
    "empty": _l("Enter the amount."),
    "not a number": _l("Enter the amount as a number, such as 12,50."),
    "more than two decimals": _l("Enter the amount with at most two decimals."),
    "too large": _l("This amount is too large."),
}


def _parsed(text: str | None, field_name: str) -> Decimal:
    try:
        return parse_amount(text)
    except ValueError as error:
        if field_name == "km":
            raise ValidationError(
                _l("Enter the distance in km as a number, such as 42,5.")
            ) from None
        raise ValidationError(
            AMOUNT_PROBLEMS.get(str(error), AMOUNT_PROBLEMS["not a number"])
        ) from None


class AmountField(StringField):
    """Text in, ``value`` (Decimal) out; the typed text stays in ``data`` to show it again."""

    value: Decimal | None = None

    def pre_validate(self, form) -> None:
        self.value = None
        self.value = _parsed(self.data, self.name.rsplit("-", 1)[-1])


def _positive_amount(form, field: AmountField) -> None:
    if field.value is None:
        return
    if field.value <= 0:
        raise ValidationError(_l("Enter an amount greater than zero."))
    if field.value > claims.MAX_EXPENSE:
        raise ValidationError(
            _l("Enter an amount of at most %(max)s.", max=f"{claims.MAX_EXPENSE:,.2f}")
        )


def _distance(form, field: AmountField) -> None:
    if field.value is None:
        return
    if field.value <= 0:
        raise ValidationError(_l("Enter a distance greater than zero."))
    if field.value > claims.MAX_KM:
        raise ValidationError(_l("Enter at most %(max)s km per line.", max=str(claims.MAX_KM)))
    if field.value != field.value.quantize(Decimal("0.1")):
        raise ValidationError(_l("Enter the distance with at most one decimal."))


def _not_in_future(form, field: DateField) -> None:
    if field.data is not None and field.data > claims.today():
        raise ValidationError(_l("The date is in the future."))


def _int_or_none(value) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


def _chosen(form, field: SelectField) -> None:
    if field.data is None:
        raise ValidationError(_l("Choose a category."))


class ClaimForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(_l("Give the claim a title.")),
            Length(max=claims.MAX_TITLE),
        ],
        description=_l("For example: Trip to the customer in Utrecht, March."),
    )


class _LineForm(FlaskForm):
    spent_on = DateField(
        _l("Date"), validators=[InputRequired(_l("Enter the date.")), _not_in_future]
    )
    category_id = SelectField(_l("Category"), coerce=_int_or_none, validators=[_chosen])
    description = StringField(
        _l("Description"), validators=[Optional(), Length(max=claims.MAX_DESCRIPTION)]
    )

    def set_categories(self, categories) -> None:
        self.category_id.choices = [("", _l("— choose —"))] + [
            (category.id, category.name) for category in categories
        ]


class ExpenseForm(_LineForm):
    amount = AmountField(
        _l("Amount incl. VAT"),
        validators=[_positive_amount],
        description=_l("As on the receipt, for example 12,50."),
    )
    receipt = FileField(
        _l("Receipt"), description=_l("A photo or PDF of the receipt (at most 20 MB).")
    )


class MileageForm(_LineForm):
    km = AmountField(_l("Distance (km)"), validators=[_distance])


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(_l("Say why the claim is rejected.")),
            Length(max=claims.MAX_REASON),
        ],
        description=_l("The employee sees this reason and can correct the claim."),
    )
