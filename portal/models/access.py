"""Access management: invitations to people, and client accounts linked to portals."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.extensions import db
from portal.models.account import Role, _enum
from portal.models.base import UTCDateTime

INVITATION_LIFETIME = timedelta(days=7)


class Invitation(db.Model):
    """A grant of access to an e-mail address, waiting for that person to accept it."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "invitation_role"))
    # Part of the signed link: a link stops working once its invitation is used or revoked.
    nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_urlsafe(16))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=lambda: clock.now() + INVITATION_LIFETIME
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    account = relationship("Account")
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()


class PortalLinkStatus(enum.StrEnum):
    PENDING = "pending"  # the client granted access; a portal admin has not added it yet
    ACTIVE = "active"


class PortalLinkOrigin(enum.StrEnum):
    GRANTED = "granted"  # the client granted the portal's e-mail address access
    CREATED = "created"  # the portal created the client account ("in eigen beheer")


class PortalLink(db.Model):
    """A client account reached through a portal. A client is in at most one portal.

    Access of the portal's staff to the client is derived from this row, never copied into
    memberships: removing the row ends every portal member's access at once.
    """

    __tablename__ = "portal_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[PortalLinkStatus] = mapped_column(_enum(PortalLinkStatus, "portal_link_status"))
    origin: Mapped[PortalLinkOrigin] = mapped_column(_enum(PortalLinkOrigin, "portal_link_origin"))
    # The role the client gave the portal: admins of the portal get it in the client account.
    role: Mapped[Role] = mapped_column(_enum(Role, "portal_link_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    portal = relationship("Account", foreign_keys=[portal_id])
    client = relationship("Account", foreign_keys=[client_id])
