"""The forms of the bank pages: importing statements, filtering transactions, pairing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from portal.blueprints.params import MAX_SEARCH

#: What the file picker offers (a hint only: the contents decide).
STATEMENT_ACCEPT = ".sta,.940,.mt940,.swi,.txt,.xml,.053,text/plain,text/xml,application/xml"


class ImportForm(FlaskForm):
    files = MultipleFileField(
        _l("Statement files"),
        description=_l(
            "MT940 or camt.053 files from your bank, several at once. Importing a statement "
            "again, or one that overlaps, adds only the transactions not imported yet."
        ),
        render_kw={"accept": STATEMENT_ACCEPT},
    )

    def validate_files(self, field) -> None:
        if not [f for f in field.data or [] if getattr(f, "filename", None)]:
            raise ValidationError(_l("Choose one or more statement files."))


STATE_CHOICES = [
    SelectChoice("", _l("All transactions")),
    SelectChoice("missing", _l("Receipt missing")),
    SelectChoice("paired", _l("Paired with a receipt")),
    SelectChoice("debits", _l("Debits")),
    SelectChoice("credits", _l("Credits")),
]


class TransactionFilterForm(FlaskForm):
    """The transactions list's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    bank_account = SelectField(_l("Bank account"), default="", validators=[Optional()])
    state = SelectField(_l("Show"), choices=STATE_CHOICES, default="", validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    q = StringField(_l("Search counterparty or description"), validators=[Optional()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    @property
    def search(self) -> str:
        return (self.q.data or "").strip()[:MAX_SEARCH]


class PairForm(FlaskForm):
    other_item_id = IntegerField(
        _l("Item to pair with"),
        validators=[InputRequired(_l("Choose the item to pair with.")), NumberRange(min=1)],
    )
