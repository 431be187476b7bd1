from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from portal.validators import single_line
from portal.vat import COUNTRIES, InvalidVat, VatProblem, validate_vat

VAT_HINT = _l(
    "With its country code (%(countries)s), e.g. NL123456782B01 or BE0403170701.",
    countries=", ".join(COUNTRIES),
)
COUNTRY_NAMES = {
    "NL": _l("the Netherlands"),
    "BE": _l("Belgium"),
    "DE": _l("Germany"),
    "FR": _l("France"),
    "ES": _l("Spain"),
    "GB": _l("the United Kingdom"),
}


def valid_vat(form, field) -> None:
    if not field.data:
        return
    try:
        validate_vat(field.data)
    except InvalidVat as error:
        if error.problem == VatProblem.CHECKSUM:
            message = _l("The check digits of this VAT number do not match: is there a typo?")
        elif error.problem == VatProblem.FORMAT:
            message = _l(
                "This is not a valid VAT number for %(country)s.",
                country=COUNTRY_NAMES[error.country],
            )
        else:
            message = _l(
                "Start the VAT number with its country code: %(countries)s.",
                countries=", ".join(COUNTRIES),
            )
        raise ValidationError(message) from None


class BillingForm(FlaskForm):
    billing_company = StringField(
        _l("Company name for invoices"), validators=[DataRequired(), Length(max=200), single_line]
    )
    billing_vat_number = StringField(
        _l("VAT number"), validators=[DataRequired(), valid_vat], description=VAT_HINT
    )
    billing_address = TextAreaField(_l("Address"), validators=[DataRequired(), Length(max=500)])
    billing_email = EmailField(
        _l("Billing e-mail"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class PortalForm(BillingForm):
    name = StringField(
        _l("Portal name"),
        validators=[DataRequired(), Length(max=200), single_line],
        description=_l("Usually the name of your accounting office."),
    )
    portal_email = EmailField(
        _l("Portal e-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("Your clients grant this address access in their access management."),
    )


class ManagedClientForm(FlaskForm):
    name = StringField(_l("Client name"), validators=[DataRequired(), Length(max=200), single_line])
    vat_number = StringField(
        _l("VAT number"), validators=[Optional(), valid_vat], description=VAT_HINT
    )
    contact_email = EmailField(
        _l("Contact e-mail"), validators=[Optional(), Email(), Length(max=254)]
    )
    invite_owner = BooleanField(_l("Invite the contact as owner of the account"))

    def validate_invite_owner(self, field) -> None:
        if field.data and not self.contact_email.data:
            raise ValidationError(_l("Fill in the contact e-mail to invite the client."))
