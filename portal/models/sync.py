"""Dossier sync: master data pulled from Exact, per-dossier sync state, and run history."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock, messages
from portal.extensions import db
from portal.models.account import _enum
from portal.models.base import UTCDateTime

DEFAULT_INTERVAL_MINUTES = 240


class RunStatus(enum.StrEnum):
    """How a sync run stands or ended (also a dossier's last outcome)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WAITING = "waiting"  # Exact's limit is spent: continues after the reset
    STOPPED = "stopped"  # the dossier may not sync now (access, module, link, connection)
    INTERRUPTED = "interrupted"  # the worker died mid-run; the next run continued


class Trigger(enum.StrEnum):
    """What started a sync run."""

    INITIAL = "initial"  # Activate / Overwrite
    SCHEDULE = "schedule"
    MANUAL = "manual"  # Sync now, Sync all
    RESUME = "resume"  # Reconnect: the dossiers it unblocked
    RETRY = "retry"  # RQ's automatic re-run after a failed run


class ExactRecord(db.Model):
    """One row of a client's Exact master data (or transaction line), read-only here.

    Exact is the source of truth: rows keep their Exact ID, and a row gone in Exact is marked
    deleted (never silently kept as if it were still there).

    A row belongs to a (client, division): Exact's IDs are per division, so the same ID may
    come from two divisions and is then two rows. When the client's link moves to another
    division, the old division's rows are *retired* (``retired_at``: the previous
    administration, kept until purged), never marked deleted; a dossier's pages show its
    current division's unretired rows only. ``division_code`` NULL: rows from before divisions
    were recorded whose division could not be told (never shown as current).
    """

    __tablename__ = "exact_records"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "division_code",
            "entity",
            "exact_id",
            name="uq_exact_records_account_division_entity_exact_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    division_code: Mapped[int | None] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(32))
    exact_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(255))
    # JSONB on PostgreSQL: the sync's upsert compares stored and sent rows by value in SQL
    data: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    row_timestamp: Mapped[int | None] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class SyncState(db.Model):
    """Where a client's dossier sync stands: cursors, schedule, the last outcome."""

    __tablename__ = "sync_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    division_code: Mapped[int | None] = mapped_column(Integer)
    division_move_date: Mapped[str | None] = mapped_column(String(40))
    cursors: Mapped[dict] = mapped_column(JSON, default=dict)
    interval_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_INTERVAL_MINUTES)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[RunStatus | None] = mapped_column(_enum(RunStatus, "sync_status"))
    last_error: Mapped[str | None] = mapped_column(Text)
    # the message behind ``last_error`` (template + parameters), translated when shown
    last_error_message: Mapped[dict | None] = mapped_column(JSON)

    @property
    def last_error_text(self) -> str:
        """The last error in the reader's language."""
        return messages.shown(self.last_error, self.last_error_message)

    waiting_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncRun(db.Model):
    """One sync of one dossier: trigger, timing, rows per entity, API calls, errors."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    division_code: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[Trigger] = mapped_column(_enum(Trigger, "sync_trigger"))
    status: Mapped[RunStatus] = mapped_column(
        _enum(RunStatus, "sync_run_status"), default=RunStatus.RUNNING
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # the message behind ``error`` (template + parameters), translated when shown
    error_message: Mapped[dict | None] = mapped_column(JSON)

    @property
    def error_text(self) -> str:
        """The run's error in the reader's language."""
        return messages.shown(self.error, self.error_message)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@event.listens_for(SyncRun.error, "set")
def _run_error_set(target: SyncRun, value, _old, _initiator) -> None:
    target.error_message = messages.stored(value)


@event.listens_for(SyncState.last_error, "set")
def _last_error_set(target: SyncState, value, _old, _initiator) -> None:
    target.last_error_message = messages.stored(value)
