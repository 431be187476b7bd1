"""Form validators shared by the blueprints."""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form
from wtforms.validators import ValidationError

# Control characters (tab, CR, LF, NUL, ...) and the Unicode line and paragraph separators.
NOT_ON_ONE_LINE = {"Cc", "Zl", "Zp"}


def single_line(form: Form, field: Field) -> None:
    """A name or title goes into mail subjects and headers: one line, no control characters."""
    if field.data and any(unicodedata.category(char) in NOT_ON_ONE_LINE for char in field.data):
        raise ValidationError(_l("Use one line, without line breaks or control characters."))
