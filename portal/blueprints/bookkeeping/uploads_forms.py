"""The upload form: several receipts or e-invoices at once (the phone offers camera or files)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField

from portal.bookkeeping.files import ACCEPT


class UploadForm(FlaskForm):
    # No ``capture``: a phone then offers its camera and its files, a computer its files.
    files = MultipleFileField(
        _l("Receipts, invoices and e-invoices"),
        render_kw={"accept": ACCEPT},
        description=_l(
            "PDF, JPEG, PNG or HEIC (a phone photo), or an e-invoice: UBL (XML) or a PDF with "
            "Factur-X / ZUGFeRD inside. Choose several at once."
        ),
    )

    category = SelectField(
        _l("Category"),
        choices=[],
        validate_choice=False,
        description=_l("Optional: the category's GL account and VAT code are proposed."),
    )

    def set_categories(self, categories) -> None:
        self.category.choices = [("", "—")] + [(str(c.id), c.name) for c in categories]

    def category_id(self) -> int | None:
        """The chosen category's id, if it is one offered (the view offers the account's)."""
        offered = {value for value, _label in self.category.choices if value}
        return int(self.category.data) if self.category.data in offered else None

    def chosen(self) -> list:
        """The files the browser sent (an empty part when none was chosen is left out)."""
        return [upload for upload in (self.files.data or []) if upload and upload.filename]
