from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length


def role_choices(include_owner: bool = True) -> list[SelectChoice]:
    choices = [SelectChoice("member", _l("Member")), SelectChoice("admin", _l("Admin"))]
    if include_owner:
        choices.append(SelectChoice("owner", _l("Owner")))
    return choices


class GrantForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("A person, or your accounting office's portal address."),
    )
    role = SelectField(_l("Role"), choices=role_choices(), default="member")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices())
