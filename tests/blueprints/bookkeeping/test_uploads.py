"""The upload page: several files at once (each refused one named with its reason, the others
kept), a request above the limit answered in words, and stored files served to the account's
own users only."""

from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from portal.bookkeeping import intake
from portal.extensions import db
from portal.models import BookItem, ItemKind, Role, StoredFile
from tests.bookkeeping import samples
from tests.factories import add_member, make_bookkeeping_client, make_user
from tests.helpers import count_rows, stored_paths


def _text(response) -> str:
    body = response.get_data(as_text=True)
    body = body.split("<main>", 1)[-1]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


@pytest.fixture
def bk(app):
    made = make_bookkeeping_client()
    db.session.commit()
    return {**made, "url": f"/a/{made['account'].id}/books/upload"}


def _files(*pairs: tuple[bytes, str]) -> dict:
    return {"files": [(io.BytesIO(data), name) for data, name in pairs]}


def test_the_page_offers_several_files_camera_or_files_and_a_drop_zone(client, login, bk):
    login(bk["user"])
    page = client.get(bk["url"])
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    field = re.search(r"<input[^>]*type=\"file\"[^>]*>", body).group(0)
    assert "multiple" in field
    assert 'accept=".pdf,.jpg,.jpeg,.png,.heic' in field and ".xml" in field
    assert "capture" not in field  # a phone offers its camera and its files
    assert 'enctype="multipart/form-data"' in body
    assert "data-dropzone" in body
    assert "At most 20 MB per file." in _text(page)


def test_several_files_at_once_one_refused_the_others_kept(client, login, bk, app):
    login(bk["user"])
    response = client.post(
        bk["url"],
        data=_files(
            (samples.jpeg_receipt(), "bon.jpg"),
            (samples.corrupt_pdf(), "kapot.pdf"),
            (samples.ubl_invoice(pdf=samples.pdf_receipt("INV")), "factuur.xml"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    text = _text(response)
    assert "2 files received" in text and "1 refused" in text
    assert "kapot.pdf : This PDF is damaged and cannot be read." in text
    assert "Unknown supplier: not in Exact Online" in text  # the e-invoice's supplier
    assert "e-invoice INV-2025-0042 of Bakkerij De Korenaar B.V." in text

    items = db.session.scalars(select(BookItem).order_by(BookItem.id)).all()
    assert [item.kind for item in items] == [ItemKind.RECEIPT, ItemKind.EINVOICE]
    assert all(item.account_id == bk["account"].id for item in items)
    assert count_rows(StoredFile) == 2 and len(stored_paths(app)) == 2  # nothing of kapot.pdf


def test_all_files_accepted_go_to_the_items_list(client, login, bk):
    login(bk["user"])
    response = client.post(
        bk["url"],
        data=_files((samples.png_receipt(), "a.png"), (samples.pdf_receipt(), "b.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/a/{bk['account'].id}/books/")
    assert count_rows(BookItem) == 2
    with client.session_transaction() as session:
        assert ("success", "2 files received.") in session["_flashes"]


def test_a_duplicate_is_named_with_when_and_as_what(client, login, bk, app):
    login(bk["user"])
    data = samples.jpeg_receipt()
    client.post(bk["url"], data=_files((data, "bon.jpg")), content_type="multipart/form-data")
    response = client.post(
        bk["url"], data=_files((data, "bon-again.jpg")), content_type="multipart/form-data"
    )
    assert response.status_code == 422  # nothing accepted
    text = _text(response)
    assert "bon-again.jpg : This file was already uploaded on " in text
    assert " as bon.jpg." in text
    assert count_rows(StoredFile) == 1 and len(stored_paths(app)) == 1


def test_no_file_chosen_says_so(client, login, bk):
    login(bk["user"])
    response = client.post(bk["url"], data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose one or more files." in _text(response)
    assert count_rows(BookItem) == 0


def test_a_request_above_the_limit_is_answered_in_words(client, login, bk, app, monkeypatch):
    login(bk["user"])
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    monkeypatch.setitem(app.config, "MAX_FILE_SIZE", 2048)
    response = client.post(
        bk["url"],
        data=_files((b"%PDF-1.4\n" + b"x" * 8000, "big.pdf")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The upload is too large: at most 2 KB per file, and 4 KB in one upload." in _text(
        response
    )
    assert count_rows(StoredFile) == 0 and stored_paths(app) == []


def test_a_read_only_member_cannot_upload(client, login, bk, app):
    reader = make_user()
    add_member(bk["account"], reader, Role.READ_ONLY)
    db.session.commit()
    login(reader)
    page = client.get(bk["url"])
    assert page.status_code == 200
    assert 'type="file"' not in page.get_data(as_text=True)
    assert "uploading documents needs the role Member" in _text(page)
    response = client.post(
        bk["url"], data=_files((samples.png_receipt(), "a.png")), content_type="multipart/form-data"
    )
    assert response.status_code == 403
    assert count_rows(StoredFile) == 0 and stored_paths(app) == []


def test_a_member_can_upload(client, login, bk):
    member = make_user()
    add_member(bk["account"], member, Role.MEMBER)
    db.session.commit()
    login(member)
    response = client.post(
        bk["url"], data=_files((samples.png_receipt(), "a.png")), content_type="multipart/form-data"
    )
    assert response.status_code == 302
    item = db.session.scalar(select(BookItem))
    assert item.created_by_id == member.id and item.file.uploaded_by_id == member.id


# --- serving the stored files -------------------------------------------------------------------


def _stored(bk, data: bytes, name: str) -> StoredFile:
    item = intake.receive(bk["account"], bk["user"], name, data)
    db.session.commit()
    return item.file


def test_a_stored_file_is_served_to_the_accounts_users(client, login, bk):
    pdf = samples.pdf_receipt()
    stored = _stored(bk, pdf, "bon maart.pdf")
    reader = make_user()
    add_member(bk["account"], reader, Role.READ_ONLY)
    db.session.commit()
    login(reader)
    response = client.get(f"/a/{bk['account'].id}/books/files/{stored.id}")
    assert response.status_code == 200
    assert response.data == pdf
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert 'filename="bon maart.pdf"' in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # the item page frames it: the portal itself may, nobody else (other pages stay DENY)
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    page = client.get(f"/a/{bk['account'].id}/books/upload")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_an_image_inline_and_an_xml_as_a_download(client, login, bk):
    image = _stored(bk, samples.png_receipt(), "bon.png")
    xml = _stored(bk, samples.ubl_invoice(pdf=None), "inv.xml")
    login(bk["user"])
    shown = client.get(f"/a/{bk['account'].id}/books/files/{image.id}")
    assert shown.headers["Content-Type"] == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")
    downloaded = client.get(f"/a/{bk['account'].id}/books/files/{xml.id}")
    assert downloaded.headers["Content-Type"].startswith("application/xml")
    assert downloaded.headers["Content-Disposition"].startswith("attachment")


def test_another_accounts_file_is_a_404(client, login, bk):
    stored = _stored(bk, samples.png_receipt(), "bon.png")
    other = make_bookkeeping_client()
    db.session.commit()
    login(other["user"])
    # through the other account's own URL: the file is not theirs
    assert client.get(f"/a/{other['account'].id}/books/files/{stored.id}").status_code == 404
    # through the victim's URL: the account is not theirs
    assert client.get(f"/a/{bk['account'].id}/books/files/{stored.id}").status_code == 404


def test_a_category_chosen_at_upload_proposes_its_gl_account_and_vat_code(client, login, bk):
    from portal.models import Category

    mine = Category(
        account_id=bk["account"].id, name="Brandstof", gl_account_code="4100", vat_code="2"
    )
    other_account = make_bookkeeping_client()["account"]
    theirs = Category(account_id=other_account.id, name="Elders", gl_account_code="4000")
    db.session.add_all([mine, theirs])
    db.session.commit()
    login(bk["user"])
    assert "Brandstof" in client.get(bk["url"]).get_data(as_text=True)
    for category, name in ((mine, "tank.jpg"), (theirs, "elders.png")):
        data = {
            **_files(
                (
                    samples.jpeg_receipt(name)
                    if name.endswith("jpg")
                    else samples.png_receipt(name),
                    name,
                )
            ),
            "category": str(category.id),
        }
        assert (
            client.post(bk["url"], data=data, content_type="multipart/form-data").status_code == 302
        )
    fuel, elsewhere = db.session.scalars(select(BookItem).order_by(BookItem.id)).all()
    assert [(line.gl_account_code, line.vat_code) for line in fuel.lines] == [("4100", "2")]
    assert "Category Brandstof" in fuel.proposed_by_text
    assert elsewhere.lines == [] and elsewhere.proposed_by is None  # not this account's category
