"""Users: one per person, e-mail unique regardless of case."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(5))
    # Part of the login cookie's id: changing it ends every other session of the user.
    session_token: Mapped[str] = mapped_column(String(32), default=_new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    def __init__(self, **kwargs):
        password = kwargs.pop("password", None)
        if "email" in kwargs:
            kwargs["email"] = normalize_email(kwargs["email"])
        super().__init__(**kwargs)
        self.session_token = _new_session_token()
        if password is not None:
            self.set_password(password)

    def set_password(self, password: str) -> None:
        """Hash the password and end every session made with the old one."""
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)
        self.session_token = _new_session_token()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"
