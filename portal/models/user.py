"""Users: one per person, e-mail unique regardless of case; a server-side record per login."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal import clock
from portal.extensions import db
from portal.models.base import UTCDateTime


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def check_password_for_unknown_user(password: str) -> None:
    """Hash the password as a real check would, for an e-mail address without a user: a login
    for an unknown address takes as long as one for a known address (no account discovery)."""
    check_password_hash(_dummy_hash(_hash_method()), password)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    # The UserSession this request is logged in with (set by portal.user_sessions).
    login_session_id = None
    login_last_seen_at = None

    def __init__(self, **kwargs):
        password = kwargs.pop("password", None)
        if "email" in kwargs:
            kwargs["email"] = normalize_email(kwargs["email"])
        super().__init__(**kwargs)
        if password is not None:
            self.set_password(password)

    def set_password(self, password: str) -> None:
        """Hash the password. Ending the user's other sessions is the caller's part
        (``portal.user_sessions.end_sessions``)."""
        self.password_hash = generate_password_hash(password, method=_hash_method())

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """What the login cookie names: the server-side session, not the user, so that
        logging out (deleting that session) ends the cookie and every copy of it."""
        return self.login_session_id or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def _new_session_id() -> str:
    return secrets.token_urlsafe(32)


class UserSession(db.Model):
    """One login of a user. The login cookie names its id; logging out deletes it."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=_new_session_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
