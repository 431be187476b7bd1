"""Forms for sign-up, login, password reset and settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.config import LANGUAGES
from portal.validators import single_line

PASSWORD_RULES = [DataRequired(), Length(min=10, max=200)]


def _name_field() -> StringField:
    return StringField(_l("Your name"), validators=[DataRequired(), Length(max=120), single_line])


def _company_field() -> StringField:
    return StringField(
        _l("Company name"),
        validators=[DataRequired(), Length(max=200), single_line],
        description=_l("The name of your own client account."),
    )


class SignupForm(FlaskForm):
    """The first step: who and where; the mailed link leads to the password."""

    name = _name_field()
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    company = _company_field()


class ChoosePasswordForm(FlaskForm):
    """A new user's name and password (an invited colleague's whole form)."""

    name = _name_field()
    password = PasswordField(
        _l("Password"), validators=PASSWORD_RULES, description=_l("At least 10 characters.")
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class FinishSignupForm(ChoosePasswordForm):
    """The second step of sign-up, behind the mailed link: also the own account's name."""

    company = _company_field()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=PASSWORD_RULES, description=_l("At least 10 characters.")
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(ResetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = _name_field()
    language = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("Browser's language")),
            *[SelectChoice(code, code.upper()) for code in LANGUAGES],
        ],
    )
