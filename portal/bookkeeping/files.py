"""Storing what users upload: checked, stored once per account, never orphaned.

``store_upload`` refuses (``UploadRefused``, with a message in words) an empty or too large
file, a type the portal does not take (sniffed from the bytes, never the name), a file that does
not open, and a file this account already has (same SHA-256). The bytes go to the file storage
under a random key, then the row is added to the session.

Nothing is left half-stored: the stored bytes belong to the database transaction that adds
their row. When that transaction (or the savepoint the row was added in) is rolled back or
closed without a commit, the bytes are deleted again (session events below), so a failed
commit, a refusal later in the same action or a crash between the two leaves no orphan file.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from portal.bookkeeping.formats import FileType, FormatError, check_readable, sniff
from portal.bookkeeping.storage import Storage, storage
from portal.extensions import db
from portal.messages import N_, Message
from portal.models import Account, StoredFile, User

log = logging.getLogger(__name__)

#: The file types an upload may be (sniffed): receipts and e-invoices.
ACCEPTED_TYPES = (FileType.PDF, FileType.JPEG, FileType.PNG, FileType.HEIC, FileType.XML)

#: What the browser's file picker offers (a hint only: the bytes decide).
ACCEPT = (
    ".pdf,.jpg,.jpeg,.png,.heic,.heif,.xml,"
    "application/pdf,image/jpeg,image/png,image/heic,image/heif,text/xml,application/xml"
)

#: Content types the stored files are served with.
MIME_TYPES = {
    FileType.PDF: "application/pdf",
    FileType.JPEG: "image/jpeg",
    FileType.PNG: "image/png",
    FileType.HEIC: "image/heic",
    FileType.XML: "application/xml",
}

_MIB = 1024 * 1024


class UploadRefused(Exception):
    """An upload the portal does not keep; ``message`` (a ``portal.messages.Message``) says why
    in the reader's language."""

    def __init__(self, message: Message) -> None:
        super().__init__(str(message))
        self.message = message

    def __str__(self) -> str:
        return self.message.render() if isinstance(self.message, Message) else str(self.message)


class LocalDay:
    """A moment shown as a calendar date in the reader's language and time zone, formatted
    each time the message that holds it is shown (so a Dutch reader reads "1 dec 2025")."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __str__(self) -> str:
        from flask_babel import format_date

        try:
            return format_date(self.moment, "medium")
        except (RuntimeError, KeyError):  # no app or no Babel (a script): ISO
            return self.moment.date().isoformat()


def size_text(size: int) -> str:
    """A size for people: "20 MB", "512 KB", "900 bytes" (binary units, as browsers count)."""
    if size >= _MIB and size % _MIB == 0:
        return f"{size // _MIB} MB"
    if size >= _MIB:
        return f"{size / _MIB:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def max_file_size() -> int:
    return int(current_app.config.get("MAX_FILE_SIZE") or 20 * _MIB)


def clean_filename(filename: str | None, default: str = "upload") -> str:
    """The name to show and to download the file as: its last path part, without control
    characters, at most 255 characters (the extension kept)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    if not name:
        return default
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: 254 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else name[:255]
    return name


def check_upload(data: bytes) -> FileType:
    """The upload's type, after its size and that it opens are checked; ``UploadRefused``."""
    if not data:
        raise UploadRefused(N_("The file is empty."))
    limit = max_file_size()
    if len(data) > limit:
        raise UploadRefused(
            N_("The file is too large: at most %(limit)s per file.", limit=size_text(limit))
        )
    try:
        file_type = sniff(data)
        if file_type not in ACCEPTED_TYPES:  # pragma: no cover - sniff knows only these
            raise FormatError(
                N_("This file type is not supported: send a PDF, JPEG, PNG, HEIC or XML file.")
            )
        check_readable(data, file_type)
    except FormatError as error:
        raise UploadRefused(_as_message(error.message)) from error
    return file_type


def _as_message(message) -> Message:
    return message if isinstance(message, Message) else Message("%(text)s", text=str(message))


def store_upload(account: Account, user: User | None, filename: str, data: bytes) -> StoredFile:
    """Check and store an upload for the account; the caller commits (see the module doc)."""
    file_type = check_upload(data)
    return store_checked(account, user, filename, data, file_type)


def store_checked(
    account: Account, user: User | None, filename: str, data: bytes, file_type: FileType
) -> StoredFile:
    """Store bytes already checked (``check_upload``, or a PDF read out of an e-invoice):
    refused when the account has them already; the row is flushed, not committed."""
    sha256 = hashlib.sha256(data).hexdigest()
    name = clean_filename(filename)
    existing = _existing(account.id, sha256)
    if existing is not None:
        raise already_uploaded(existing)
    store = storage()
    key = f"{account.id}/{uuid4().hex}"
    store.put(key, data)
    row = StoredFile(
        account_id=account.id,
        sha256=sha256,
        storage_key=key,
        filename=name,
        file_type=file_type.value,
        size=len(data),
        uploaded_by_id=user.id if user is not None else None,
    )
    try:
        db.session.add(row)
        db.session.flush()
    except IntegrityError:
        # The same bytes stored at the same moment by another request: theirs won. A failed
        # flush leaves the transaction unusable, so it is rolled back (the bytes with it).
        _delete(store, key)
        db.session.rollback()
        existing = _existing(account.id, sha256)
        if existing is None:  # pragma: no cover - another constraint failed
            raise
        raise already_uploaded(existing) from None
    except BaseException:
        _delete(store, key)
        raise
    _remember(db.session(), store, key)
    return row


def already_uploaded(existing: StoredFile) -> UploadRefused:
    return UploadRefused(
        N_(
            "This file was already uploaded on %(date)s as %(filename)s.",
            date=LocalDay(existing.uploaded_at),
            filename=existing.filename,
        )
    )


def _existing(account_id: int, sha256: str) -> StoredFile | None:
    return db.session.scalar(
        select(StoredFile).where(StoredFile.account_id == account_id, StoredFile.sha256 == sha256)
    )


def read(stored: StoredFile) -> bytes:
    """The stored file's bytes (``FileNotFoundError`` when the storage lost them)."""
    return storage().get(stored.storage_key)


def mime_type(stored: StoredFile) -> str:
    try:
        return MIME_TYPES[FileType(stored.file_type)]
    except ValueError:
        return "application/octet-stream"


# --- bytes that follow their transaction --------------------------------------------------------


@dataclass
class _Pending:
    store: Storage
    key: str
    transaction: SessionTransaction | None


_PENDING = "portal.bookkeeping.files.pending"


def _remember(session: Session, store: Storage, key: str) -> None:
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append(_Pending(store, key, transaction))


def _delete(store: Storage, key: str) -> None:
    try:
        store.delete(key)
    except Exception:  # noqa: BLE001 - never hide the error that made us clean up
        log.exception("could not delete the stored file %s", key)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)  # the rows are in: their bytes stay


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    keep = []
    for entry in pending:
        if _within(entry.transaction, previous_transaction):
            _delete(entry.store, entry.key)
        else:
            keep.append(entry)
    session.info[_PENDING] = keep


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended without a commit (a session closed mid-way)."""
    if transaction.parent is not None or transaction.nested:
        return
    for entry in session.info.pop(_PENDING, None) or []:
        _delete(entry.store, entry.key)
