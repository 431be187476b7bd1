"""Storing uploads: sniffed, checked, once per account, and never an orphan file."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy.exc import OperationalError

from portal.bookkeeping import files
from portal.bookkeeping.files import UploadRefused, clean_filename, size_text, store_upload
from portal.extensions import db
from portal.models import StoredFile
from tests.bookkeeping import samples
from tests.factories import make_bookkeeping_client, make_user_with_account
from tests.helpers import count_rows, stored_paths


@pytest.fixture
def client_account(app):
    made = make_bookkeeping_client()
    db.session.commit()
    return made


def refused(app, account, user, name, data) -> str:
    """Store ``data``, expect a refusal, roll back as a caller does; the refusal's text."""
    before = (count_rows(StoredFile), stored_paths(app))
    with pytest.raises(UploadRefused) as caught:
        store_upload(account, user, name, data)
    db.session.rollback()
    assert (count_rows(StoredFile), stored_paths(app)) == before, (
        "a refused file left something behind"
    )
    return str(caught.value)


@pytest.mark.parametrize(
    ("make", "file_type"),
    [
        (samples.pdf_receipt, "pdf"),
        (samples.jpeg_receipt, "jpeg"),
        (samples.png_receipt, "png"),
        (samples.heic_receipt, "heic"),
        (samples.ubl_invoice, "xml"),
    ],
)
def test_a_file_is_stored_by_its_sniffed_type_under_a_random_key(
    app, client_account, make, file_type
):
    account, user = client_account["account"], client_account["user"]
    data = make()
    stored = store_upload(account, user, "C:\\Users\\me\\Bonnetje maart.bin", data)
    db.session.commit()

    assert stored.file_type == file_type  # the bytes decide, not the name
    assert stored.filename == "Bonnetje maart.bin"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.uploaded_by_id == user.id
    assert stored.storage_key.startswith(f"{account.id}/")
    assert stored.storage_key.split("/")[1] not in ("Bonnetje maart.bin", stored.sha256)
    assert files.read(stored) == data
    assert stored_paths(app) == [Path(app.config["FILE_STORAGE"]) / stored.storage_key]


def test_the_same_bytes_are_refused_with_when_and_as_what_they_came(app, client_account):
    account, user = client_account["account"], client_account["user"]
    data = samples.jpeg_receipt()
    first = store_upload(account, user, "bon.jpg", data)
    first.uploaded_at = datetime(2025, 12, 1, 10, 30, tzinfo=UTC)
    db.session.commit()

    with force_locale("en"):
        text = refused(app, account, user, "again.jpg", data)
    assert text == "This file was already uploaded on Dec 1, 2025 as bon.jpg."
    with pytest.raises(UploadRefused) as caught:
        store_upload(account, user, "again.jpg", data)
    db.session.rollback()
    with force_locale("nl"):  # the date in the reader's language when the message is shown
        assert "1 dec 2025" in caught.value.message.render()
    assert caught.value.message.template.startswith("This file was already uploaded on")

    _owner, other = make_user_with_account()
    elsewhere = store_upload(other, None, "bon.jpg", data)  # another account may have it too
    db.session.commit()
    assert elsewhere.id != first.id


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (samples.corrupt_pdf(), "This PDF is damaged and cannot be read."),
        (samples.jpeg_receipt()[:300], "This image is damaged and cannot be read."),
        (samples.png_bomb(), "too many pixels"),
        (b"Just some text, not a receipt.", "This file type is not supported"),
        (b"PK\x03\x04 a zip file", "This file type is not supported"),
    ],
    ids=["empty", "corrupt-pdf", "truncated-jpeg", "png-bomb", "text", "zip"],
)
def test_bad_files_are_refused_with_a_message_and_nothing_is_left(
    app, client_account, data, expected
):
    with force_locale("en"):
        text = refused(app, client_account["account"], client_account["user"], "x", data)
    assert expected in text


def test_a_file_above_the_limit_is_refused_before_it_is_stored(app, client_account, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_FILE_SIZE", 2048)
    data = samples.jpeg_receipt()
    assert len(data) > 2048
    with force_locale("en"):
        text = refused(app, client_account["account"], client_account["user"], "big.jpg", data)
    assert text == "The file is too large: at most 2 KB per file."


def test_a_rolled_back_transaction_takes_the_stored_bytes_with_it(app, client_account):
    account, user = client_account["account"], client_account["user"]
    store_upload(account, user, "bon.pdf", samples.pdf_receipt())
    assert len(stored_paths(app)) == 1  # written before the row
    db.session.rollback()
    assert stored_paths(app) == []
    assert count_rows(StoredFile) == 0

    kept = store_upload(account, user, "bon.pdf", samples.pdf_receipt())
    db.session.commit()
    db.session.rollback()  # after a commit, a later rollback deletes nothing
    assert stored_paths(app) == [Path(app.config["FILE_STORAGE"]) / kept.storage_key]


def test_a_savepoint_rolled_back_takes_only_its_own_bytes(app, client_account):
    account, user = client_account["account"], client_account["user"]
    outer = store_upload(account, user, "a.pdf", samples.pdf_receipt("A"))
    savepoint = db.session.begin_nested()
    store_upload(account, user, "b.pdf", samples.pdf_receipt("B"))
    savepoint.rollback()
    db.session.commit()
    assert stored_paths(app) == [Path(app.config["FILE_STORAGE"]) / outer.storage_key]
    assert count_rows(StoredFile) == 1


def test_a_session_closed_without_commit_leaves_no_file(app, client_account):
    store_upload(client_account["account"], client_account["user"], "a.png", samples.png_receipt())
    db.session.close()
    assert stored_paths(app) == []


def test_when_the_row_cannot_be_written_the_bytes_are_deleted(app, client_account, monkeypatch):
    def broken_flush(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(db.session, "flush", broken_flush)
    with pytest.raises(OperationalError):
        store_upload(
            client_account["account"], client_account["user"], "a.png", samples.png_receipt()
        )
    monkeypatch.undo()
    db.session.rollback()
    assert stored_paths(app) == []
    assert count_rows(StoredFile) == 0


def test_a_duplicate_stored_at_the_same_moment_gets_the_same_message(
    app, client_account, monkeypatch
):
    """Two requests with the same file: the check found nothing, the unique index refuses."""
    account, user = client_account["account"], client_account["user"]
    data = samples.png_receipt()
    store_upload(account, user, "first.png", data)
    db.session.commit()
    real_existing = files._existing
    calls = []

    def not_seen_yet(account_id, sha256):
        calls.append(sha256)
        return None if len(calls) == 1 else real_existing(account_id, sha256)

    monkeypatch.setattr(files, "_existing", not_seen_yet)
    with force_locale("en"):
        text = refused(app, account, user, "second.png", data)
    assert text.startswith("This file was already uploaded on ")
    assert text.endswith(" as first.png.")
    assert len(calls) == 2


def test_names_and_sizes_for_people():
    assert clean_filename("../../etc/passwd") == "passwd"
    assert clean_filename("bon\x00\n.jpg") == "bon.jpg"
    assert clean_filename("  ") == "upload"
    long = "a" * 300 + ".pdf"
    assert len(clean_filename(long)) == 255 and clean_filename(long).endswith(".pdf")
    assert size_text(20 * 1024 * 1024) == "20 MB"
    assert size_text(2048) == "2 KB"
    assert size_text(900) == "900 bytes"
