from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

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
        choices=[SelectChoice(code, label) for code, label in COUNTRY_NAMES.items()],
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
    confirm = HiddenField(default="0")
