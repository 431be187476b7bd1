from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from portal.exact.wiring import COUNTRIES

# The label of each Exact country (the countries themselves: ``portal.exact.client.hosts``).
COUNTRY_NAMES = {
    "nl": _l("Netherlands (exactonline.nl)"),
    "be": _l("Belgium (exactonline.be)"),
    "de": _l("Germany (exactonline.de)"),
    "fr": _l("France (exactonline.fr)"),
    "es": _l("Spain (exactonline.es)"),
    "co.uk": _l("United Kingdom (exactonline.co.uk)"),
    "com": _l("United States (exactonline.com)"),
}


class ConnectForm(FlaskForm):
    country = SelectField(
        _l("Country of your Exact Online"),
        choices=[SelectChoice(code, COUNTRY_NAMES[code]) for code in COUNTRIES],
        default="nl",
    )
    force_login = BooleanField(
        _l("Log in as another Exact user"),
        description=_l(
            "Ignore an open Exact Online session, e.g. to connect with a SYSTEM "
            "user instead of your own employee user."
        ),
    )


class ActivateForm(FlaskForm):
    division = IntegerField(_l("Administration"), validators=[DataRequired()])
    overwrite = HiddenField(default="0")
    move = HiddenField(default="0")  # take the division from the client that has it
    confirm = HiddenField(default="0")
