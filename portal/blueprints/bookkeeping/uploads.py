"""Bookkeeping views: uploading receipts, purchase invoices and e-invoices, and serving them.

Several files go up at once; each is its own transaction, so a refused file (with its own
message) never stops the others, and a refused file leaves nothing behind.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal.blueprints.bookkeeping import bp
from portal.blueprints.bookkeeping.uploads_forms import UploadForm
from portal.bookkeeping import claims, files, intake, rules
from portal.bookkeeping.files import UploadRefused
from portal.bookkeeping.formats import FileType
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import BookItem, ItemKind, StoredFile
from portal.permissions import Action, require
from portal.tenancy import get_for_account

log = logging.getLogger(__name__)

#: Shown inline by the browser (the rest is downloaded).
INLINE_TYPES = {FileType.PDF.value, FileType.JPEG.value, FileType.PNG.value, FileType.HEIC.value}


@dataclass
class UploadResult:
    """One file of an upload: the item it became, or why it was refused."""

    filename: str
    item: BookItem | None = None
    refusal: Message | None = None

    @property
    def accepted(self) -> bool:
        return self.item is not None

    @property
    def reason(self) -> str:
        return self.refusal.render() if self.refusal is not None else ""


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    """The upload page; a POST takes every chosen file, each on its own."""
    if request.method == "POST":
        require(Action.UPLOAD)
    form = UploadForm()
    form.set_categories(rules.categories(g.account.id))
    if not form.validate_on_submit():
        return _page(form)
    chosen = form.chosen()
    if not chosen:
        form.files.errors = [*form.files.errors, _("Choose one or more files.")]
        return _page(form), 400
    results = [_receive(upload, form.category_id()) for upload in chosen]
    accepted = [result for result in results if result.accepted]
    if len(accepted) < len(results):
        return _page(form, results), 200 if accepted else 422
    _flash_received(accepted)
    return redirect(url_for("bookkeeping.items"))


def _page(form: UploadForm, results: list[UploadResult] | None = None):
    return render_template(
        "bookkeeping/upload.html",
        form=form,
        results=results or [],
        max_file_size=files.size_text(files.max_file_size()),
    )


def _receive(upload, category_id: int | None) -> UploadResult:
    """One file: an item committed, or a refusal rolled back (nothing of it kept)."""
    name = files.clean_filename(upload.filename)
    data = upload.stream.read(files.max_file_size() + 1)  # no more than the limit in memory
    try:
        item = intake.receive(g.account, current_user, name, data, category_id=category_id)
        db.session.commit()
        return UploadResult(name, item=item)
    except UploadRefused as refused:
        db.session.rollback()
        return UploadResult(name, refusal=refused.message)
    except Exception:  # noqa: BLE001 - one broken file must not lose the others
        db.session.rollback()
        log.exception("upload of %r failed", name)
        return UploadResult(
            name,
            refusal=N_(
                "Something went wrong on our side with this file; nothing of it was kept. "
                "Please try again."
            ),
        )


def _flash_received(accepted: list[UploadResult]) -> None:
    flash(
        ngettext("%(num)d file received.", "%(num)d files received.", len(accepted)),
        "success",
    )
    for result in accepted:
        item = result.item
        if item.kind == ItemKind.EINVOICE and item.supplier_unknown:
            flash(
                _(
                    "%(file)s: Unknown supplier: not in Exact Online (%(supplier)s). Create it in "
                    "Exact Online and sync, then prepare the item.",
                    file=result.filename,
                    supplier=item.supplier_name or item.supplier_vat or "?",
                ),
                "warning",
            )
        if item.currency and item.currency != "EUR":
            flash(
                _(
                    "%(file)s: the invoice is in %(currency)s, not in euros.",
                    file=result.filename,
                    currency=item.currency,
                ),
                "warning",
            )


@bp.route("/files/<int:file_id>")
def file(file_id: int):
    """A stored file, to the account's own users only (another account's file is a 404)."""
    require(Action.VIEW)
    stored = get_for_account(StoredFile, file_id)
    may_approve = g.authority.can(Action.APPROVE_CLAIMS)
    if claims.receipt_hidden(g.account.id, stored.id, current_user.id, may_approve):
        abort(404)  # another employee's claim receipt
    try:
        data = files.read(stored)
    except FileNotFoundError:
        log.error("stored file %s (%s) is missing from the storage", stored.id, stored.storage_key)
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype=files.mime_type(stored),
        as_attachment=stored.file_type not in INLINE_TYPES,
        download_name=stored.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# The item page shows the stored file in a frame of the portal's own origin: this answer alone
# may be framed by the portal itself (everything else stays DENY). These are Flask-Talisman's
# per-view options, as its decorator would set them.
file.talisman_view_options = {
    "frame_options": "SAMEORIGIN",
    "content_security_policy": {
        "default-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "frame-ancestors": "'self'",
    },
}
