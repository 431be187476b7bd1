"""Bookkeeping: what arrives at a client account (files, e-invoices, bank transactions, expense
claims), the items prepared from it with Exact's master data, and the rules that propose values.

Money is ``Numeric`` (Decimal in Python), never float. Exact's codes are kept as codes, with the
Exact ID next to them where Exact has one: a code is resolved again against the synced data of
the current division (after a reconnect or an overwrite the IDs change, the codes usually not).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock, messages
from portal.extensions import db
from portal.models.account import _enum
from portal.models.base import UTCDateTime
from portal.models.sync import RunStatus

MONEY = Numeric(14, 2)
RATE = Numeric(9, 4)  # a VAT fraction as Exact gives it (0.21), a mileage rate per km


class ItemKind(enum.StrEnum):
    """What an item came from; it decides the Exact entry it becomes."""

    RECEIPT = "receipt"  # an uploaded receipt or purchase invoice (PDF, photo)
    EINVOICE = "einvoice"  # a UBL or Factur-X e-invoice, read line by line
    BANK = "bank"  # a debit of a bank or card statement
    CLAIM = "claim"  # an approved expense claim: one general journal entry


class ItemStatus(enum.StrEnum):
    """new → prepared → ready (→ exported or failed: the export)."""

    NEW = "new"
    PREPARED = "prepared"
    READY = "ready"
    EXPORTING = "exporting"  # selected for export: the dossier's export job takes it
    EXPORTED = "exported"
    FAILED = "failed"  # the export failed: in the export queue with the reason


class ClaimStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class StoredFile(db.Model):
    """A file a user brought in. Its bytes live in the file storage under ``storage_key``,
    never in the database; the same bytes (SHA-256) are stored once per account."""

    __tablename__ = "stored_files"
    __table_args__ = (
        UniqueConstraint("account_id", "sha256", name="uq_stored_files_account_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(10))  # formats.FileType, sniffed
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])


class BookItem(db.Model):
    """One thing to book: what arrived, and what is prepared for Exact.

    ``version`` guards against two people saving the same item: SQLAlchemy adds it to every
    UPDATE, so a save based on a stale read fails instead of overwriting the other one's work.
    """

    __tablename__ = "book_items"
    __table_args__ = (
        Index("ix_book_items_account_status_date", "account_id", "status", "document_date"),
        Index("ix_book_items_account_kind", "account_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind, "book_item_kind"))
    status: Mapped[ItemStatus] = mapped_column(
        _enum(ItemStatus, "book_item_status"), default=ItemStatus.NEW
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    # what arrived (read from the document or the statement; kept as it came)
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    supplier_name: Mapped[str | None] = mapped_column(String(255))
    supplier_vat: Mapped[str | None] = mapped_column(String(32))
    supplier_coc: Mapped[str | None] = mapped_column(String(32))
    supplier_iban: Mapped[str | None] = mapped_column(String(34))
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    document_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount: Mapped[Decimal | None] = mapped_column(MONEY)  # incl. VAT; a credit is negative
    # prepared with Exact's master data (codes as Exact has them)
    supplier_code: Mapped[str | None] = mapped_column(String(64))
    supplier_exact_id: Mapped[str | None] = mapped_column(String(64))
    supplier_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    journal_code: Mapped[str | None] = mapped_column(String(32))
    entry_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String(255))
    # the rule behind the proposal: a stored message (portal.messages), shown translated
    proposed_by: Mapped[dict | None] = mapped_column(JSON)
    # a bank debit and the receipt of the same payment
    paired_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("book_items.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # the export to Exact Online (portal.bookkeeping.export)
    export_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    export_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("export_runs.id", ondelete="SET NULL"), index=True
    )
    # our reference, kept by Exact in the entry's Description: looked up before any retry
    export_reference: Mapped[str | None] = mapped_column(String(40), index=True)
    # set (and committed) just before the entry is posted: the entry may exist from then on
    export_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exact_document_id: Mapped[str | None] = mapped_column(String(64))
    exact_attachment_id: Mapped[str | None] = mapped_column(String(64))
    exact_entry_id: Mapped[str | None] = mapped_column(String(64))
    exact_entry_number: Mapped[str | None] = mapped_column(String(32))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    seen_in_exact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_error: Mapped[str | None] = mapped_column(Text)
    # the message behind ``export_error`` (template + parameters), translated when shown
    export_error_message: Mapped[dict | None] = mapped_column(JSON)
    export_error_field: Mapped[str | None] = mapped_column(String(32))  # the form field it concerns
    export_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    lines = relationship(
        "ItemLine",
        order_by="ItemLine.position",
        cascade="all, delete-orphan",
        back_populates="item",
    )
    file = relationship("StoredFile")
    paired_item = relationship("BookItem", remote_side=[id], foreign_keys=[paired_item_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    prepared_by = relationship("User", foreign_keys=[prepared_by_id])
    ready_by = relationship("User", foreign_keys=[ready_by_id])
    exported_by = relationship("User", foreign_keys=[exported_by_id])
    export_requested_by = relationship("User", foreign_keys=[export_requested_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def proposed_by_text(self) -> str:
        return messages.shown(None, self.proposed_by)

    @property
    def export_error_text(self) -> str:
        """Why the export failed, in the reader's language."""
        return messages.shown(self.export_error, self.export_error_message)

    @property
    def locked(self) -> bool:
        """Exported items are Exact's now, and items on their way there wait for the export:
        nobody edits them here."""
        return self.status in (ItemStatus.EXPORTED, ItemStatus.EXPORTING)


class ItemLine(db.Model):
    """A line of an item's entry: GL account, VAT and dimensions, the amount excl. VAT."""

    __tablename__ = "book_item_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("book_items.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str | None] = mapped_column(String(255))
    gl_account_code: Mapped[str | None] = mapped_column(String(64))
    vat_code: Mapped[str | None] = mapped_column(String(32))
    vat_percentage: Mapped[Decimal | None] = mapped_column(RATE)
    amount_excl: Mapped[Decimal | None] = mapped_column(MONEY)
    vat_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    cost_center: Mapped[str | None] = mapped_column(String(64))
    cost_unit: Mapped[str | None] = mapped_column(String(64))

    item = relationship("BookItem", back_populates="lines")

    @property
    def amount_incl(self) -> Decimal | None:
        if self.amount_excl is None:
            return None
        return self.amount_excl + (self.vat_amount or Decimal("0"))


class BankAccount(db.Model):
    """A client's bank or card account, by IBAN, that statements are imported for."""

    __tablename__ = "bank_accounts"
    __table_args__ = (UniqueConstraint("account_id", "iban", name="uq_bank_accounts_account_iban"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    iban: Mapped[str] = mapped_column(String(34))
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class BankStatement(db.Model):
    """One imported statement file: what it held and what was new."""

    __tablename__ = "bank_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    format: Mapped[str] = mapped_column(String(10))
    statement_ref: Mapped[str | None] = mapped_column(String(64))
    opening_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    closing_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    lines_total: Mapped[int] = mapped_column(Integer, default=0)
    lines_new: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    bank_account = relationship("BankAccount")


class BankTransaction(db.Model):
    """A booked line of a statement. ``key`` (the bank's reference, or a hash of the line)
    makes a re-imported or overlapping statement add nothing twice."""

    __tablename__ = "bank_transactions"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "bank_account_id", "key", name="uq_bank_transactions_account_key"
        ),
        Index("ix_bank_transactions_account_date", "account_id", "booking_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    bank_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statements.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)  # debit negative
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    counterparty_name: Mapped[str | None] = mapped_column(String(255))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    description: Mapped[str | None] = mapped_column(Text)
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("book_items.id", ondelete="SET NULL"), index=True
    )

    bank_account = relationship("BankAccount")
    item = relationship("BookItem")


class Category(db.Model):
    """A client's category (fuel, meals, software…) → GL account, VAT code, cost center.

    Used for expenses and as a rule for receipts. Codes are Exact's; ``gl_account_id`` is the
    Exact ID last resolved for the code in the current division."""

    __tablename__ = "book_categories"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_book_categories_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    gl_account_code: Mapped[str | None] = mapped_column(String(64))
    gl_account_id: Mapped[str | None] = mapped_column(String(64))
    vat_code: Mapped[str | None] = mapped_column(String(32))
    cost_center: Mapped[str | None] = mapped_column(String(64))


class SupplierRule(db.Model):
    """A supplier's defaults: proposed on every item of that supplier as it arrives."""

    __tablename__ = "book_supplier_rules"
    __table_args__ = (
        UniqueConstraint("account_id", "supplier_code", name="uq_book_supplier_rules_supplier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    supplier_code: Mapped[str] = mapped_column(String(64))
    supplier_exact_id: Mapped[str | None] = mapped_column(String(64))
    supplier_name: Mapped[str | None] = mapped_column(String(255))
    gl_account_code: Mapped[str | None] = mapped_column(String(64))
    gl_account_id: Mapped[str | None] = mapped_column(String(64))
    vat_code: Mapped[str | None] = mapped_column(String(32))
    cost_center: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(255))


class BookkeepingSettings(db.Model):
    """A client's bookkeeping settings: mileage rate, closed periods, default journals."""

    __tablename__ = "book_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    mileage_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0.23"))
    # Exact's API does not say which periods are closed: the office records its own closing
    closed_through: Mapped[date | None] = mapped_column(Date)
    purchase_journal_code: Mapped[str | None] = mapped_column(String(32))
    general_journal_code: Mapped[str | None] = mapped_column(String(32))
    employee_gl_account_code: Mapped[str | None] = mapped_column(String(64))


class ExpenseClaim(db.Model):
    """An employee's expense claim: expenses and mileage, approved or rejected by an admin."""

    __tablename__ = "expense_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[ClaimStatus] = mapped_column(
        _enum(ClaimStatus, "expense_claim_status"), default=ClaimStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected
    item_id: Mapped[int | None] = mapped_column(ForeignKey("book_items.id", ondelete="SET NULL"))

    employee = relationship("User", foreign_keys=[employee_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    lines = relationship(
        "ExpenseLine",
        order_by="ExpenseLine.id",
        cascade="all, delete-orphan",
        back_populates="claim",
    )

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))


class ExpenseLine(db.Model):
    """An expense (amount incl. VAT, with a receipt) or a mileage line (km × rate)."""

    __tablename__ = "expense_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("expense_claims.id", ondelete="CASCADE"), index=True
    )
    is_mileage: Mapped[bool] = mapped_column(Boolean, default=False)
    spent_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)  # incl. VAT; mileage: km × rate
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("book_categories.id", ondelete="SET NULL")
    )
    description: Mapped[str | None] = mapped_column(String(255))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    km: Mapped[Decimal | None] = mapped_column(Numeric(9, 1))
    rate: Mapped[Decimal | None] = mapped_column(RATE)

    claim = relationship("ExpenseClaim", back_populates="lines")
    category = relationship("Category")
    file = relationship("StoredFile")


class ExportRun(db.Model):
    """One export job of one dossier: what it took, how it ended, its cost in API calls."""

    __tablename__ = "export_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    division_code: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[RunStatus] = mapped_column(
        _enum(RunStatus, "export_run_status"), default=RunStatus.RUNNING
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_exported: Mapped[int] = mapped_column(Integer, default=0)
    items_failed: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    waiting_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[dict | None] = mapped_column(JSON)

    @property
    def error_text(self) -> str:
        return messages.shown(self.error, self.error_message)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@event.listens_for(BookItem.export_error, "set")
def _export_error_set(target: BookItem, value, _old, _initiator) -> None:
    target.export_error_message = messages.stored(value)


@event.listens_for(ExportRun.error, "set")
def _export_run_error_set(target: ExportRun, value, _old, _initiator) -> None:
    target.error_message = messages.stored(value)
