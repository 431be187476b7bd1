"""Accounts (client accounts and office portals) and who may use them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.extensions import db
from portal.models.base import UTCDateTime


class AccountKind(enum.StrEnum):
    CLIENT = "client"
    PORTAL = "portal"


class Role(enum.StrEnum):
    """A person's role in an account, or the role a client granted its portal.

    What each role may do is decided in one place: ``portal.permissions``.
    """

    OWNER = "owner"
    ADMIN = "admin"
    BOOKKEEPER = "bookkeeper"
    MEMBER = "member"
    READ_ONLY = "read_only"


def _enum(cls, name: str, length: int = 16) -> Enum:
    """An enum stored as its values in a plain string column (portable, easy to migrate)."""
    return Enum(
        cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=length,
    )


class Account(db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(_enum(AccountKind, "account_kind"))
    name: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A portal: the address clients grant access to, and who pays (billing details).
    portal_email: Mapped[str | None] = mapped_column(String(254), unique=True)
    billing_company: Mapped[str | None] = mapped_column(String(200))
    billing_vat_number: Mapped[str | None] = mapped_column(String(20))
    billing_address: Mapped[str | None] = mapped_column(String(500))
    billing_email: Mapped[str | None] = mapped_column(String(254))
    # A client account: its own details, and the portal that pays for it ("in eigen beheer").
    vat_number: Mapped[str | None] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    billed_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )

    memberships = relationship("Membership", back_populates="account", cascade="all, delete-orphan")

    @property
    def is_portal(self) -> bool:
        return self.kind == AccountKind.PORTAL

    @property
    def has_complete_billing(self) -> bool:
        return all(
            (
                self.billing_company,
                self.billing_vat_number,
                self.billing_address,
                self.billing_email,
            )
        )

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.kind} {self.name!r}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[Role] = mapped_column(_enum(Role, "membership_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user = relationship("User", back_populates="memberships")
    account = relationship("Account", back_populates="memberships")
