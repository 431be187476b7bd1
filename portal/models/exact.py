"""Exact Online connections (tokens, Exact user) and client accounts' links to divisions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock, messages
from portal.extensions import db
from portal.models.account import _enum
from portal.models.base import UTCDateTime


class ConnectionStatus(enum.StrEnum):
    CONNECTED = "connected"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    DISCONNECTED = "disconnected"


class ExactConnection(db.Model):
    """One OAuth connection of an account (a portal's, or a client's own) with Exact Online.

    Tokens are stored encrypted, and only ever written by the token store in a transaction of
    its own, so a failed call elsewhere can never lose or overwrite them.
    """

    __tablename__ = "exact_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    country: Mapped[str] = mapped_column(String(10))
    base_url: Mapped[str] = mapped_column(String(255))
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus, "exact_connection_status", length=32),
        default=ConnectionStatus.CONNECTED,
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    exact_user_id: Mapped[str | None] = mapped_column(String(64))
    exact_user_name: Mapped[str | None] = mapped_column(String(200))
    exact_user_email: Mapped[str | None] = mapped_column(String(254))
    exact_current_division: Mapped[int | None] = mapped_column(Integer)
    tokens_encrypted: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_refresh_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    connected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    divisions: Mapped[list | None] = mapped_column(JSON)
    divisions_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account = relationship("Account")

    @property
    def is_usable(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the division identity guard stopped it


class ExactDivisionLink(db.Model):
    """A client account's link to one Exact division, through some connection.

    The identity (name, VAT, KvK) is stored at activation; when Exact later reports another
    one (dossier moved, wrong pick) the link is blocked until someone confirms or re-activates.
    """

    __tablename__ = "exact_division_links"
    # A division is linked to one client account per connection (one client of a portal):
    # two clients never show the same books. Moving it deletes the old row first.
    __table_args__ = (
        UniqueConstraint(
            "connection_id", "division_code", name="uq_exact_division_links_connection_division"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("exact_connections.id", ondelete="CASCADE"), index=True
    )
    division_code: Mapped[int] = mapped_column(Integer)
    division_name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str | None] = mapped_column(String(40))
    kvk_number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[LinkStatus] = mapped_column(
        _enum(LinkStatus, "exact_link_status"), default=LinkStatus.ACTIVE
    )
    blocked_reason: Mapped[str | None] = mapped_column(Text)
    # the message behind ``blocked_reason`` (template + parameters), translated when shown
    blocked_reason_message: Mapped[dict | None] = mapped_column(JSON)

    @property
    def blocked_reason_text(self) -> str:
        """Why the link is blocked, in the reader's language."""
        return messages.shown(self.blocked_reason, self.blocked_reason_message)

    @property
    def blocked_reason_restored(self) -> str | None:
        """The blocked reason as a message again (to store it on, e.g. as a run's error)."""
        return messages.restore(self.blocked_reason, self.blocked_reason_message)

    rights: Mapped[dict | None] = mapped_column(JSON)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    connection = relationship("ExactConnection")
    account = relationship("Account")


@event.listens_for(ExactDivisionLink.blocked_reason, "set")
def _blocked_reason_set(target: ExactDivisionLink, value, _old, _initiator) -> None:
    target.blocked_reason_message = messages.stored(value)
