from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from portal.models import Role
from portal.permissions import ROLE_LABELS, ROLES


def role_choices(roles: list[Role] | tuple[Role, ...] = ROLES) -> list[SelectChoice]:
    """Select options for the roles, strongest first (the order people read a hierarchy)."""
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in reversed(list(roles))]


class GrantForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l("A person, or your accounting office's portal address."),
    )
    role = SelectField(_l("Role"), choices=role_choices(), default=Role.MEMBER.value)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices())
