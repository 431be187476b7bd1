"""Server-side login sessions: one ``UserSession`` row per login.

The login cookie names the row, not the user. Logging out deletes the row, so the cookie and
any copy of it stop working; a password change deletes the user's other rows; a session idle
for IDLE_LIMIT has ended.
"""

from __future__ import annotations

from datetime import timedelta

from flask import request
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select, update

from portal import clock
from portal.extensions import db
from portal.models import User, UserSession

IDLE_LIMIT = timedelta(days=14)
TOUCH_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often


def log_in(user: User) -> None:
    """Start a session for the user and log this browser in with it (commits)."""
    login = UserSession(user_id=user.id)
    db.session.add(login)
    # the user's long-idle sessions are dead anyway: clear them out now
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.last_seen_at < clock.now() - IDLE_LIMIT
        )
    )
    db.session.commit()
    user.login_session_id = login.id
    login_user(user)


def log_out() -> None:
    """End this browser's session, on the server too (commits)."""
    session_id = getattr(current_user, "login_session_id", None)
    if session_id:
        db.session.execute(delete(UserSession).where(UserSession.id == session_id))
        db.session.commit()
    logout_user()


def end_sessions(user: User, keep: str | None = None) -> None:
    """End every session of the user but ``keep``; part of the caller's transaction."""
    statement = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        statement = statement.where(UserSession.id != keep)
    db.session.execute(statement)


def load_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live session, else None (logged out)."""
    row = db.session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id)
    ).first()
    if row is None:
        return None
    login, user = row
    if login.last_seen_at < clock.now() - IDLE_LIMIT:
        return None
    user.login_session_id = login.id
    user.login_last_seen_at = login.last_seen_at
    return user


def keep_alive() -> None:
    """Before each request: note that the session is in use, at most every TOUCH_EVERY.

    Done before the view runs, so the commit holds nothing but this update.
    """
    if request.endpoint == "static" or not current_user.is_authenticated:
        return
    seen = current_user.login_last_seen_at
    if seen is None or seen > clock.now() - TOUCH_EVERY:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == current_user.login_session_id)
        .values(last_seen_at=clock.now())
    )
    db.session.commit()
