"""People: find a user, check a password, and sign someone up with their own client account."""

from __future__ import annotations

from sqlalchemy import select

from portal import audit
from portal.extensions import db
from portal.models import Account, AccountKind, Membership, Role, User, normalize_email
from portal.models.user import check_password_for_unknown_user


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The user with this e-mail address and password, else None. An unknown address costs
    the same password hashing as a known one, so timing does not tell which addresses exist."""
    user = user_by_email(email)
    if user is None:
        check_password_for_unknown_user(password)
        return None
    return user if user.check_password(password) else None


def create_user(name: str, email: str, password: str) -> User:
    """A new user with no account of their own (an invited colleague)."""
    user = User(name=name, email=email, password=password)
    db.session.add(user)
    db.session.flush()
    return user


def create_user_with_account(name: str, email: str, password: str, company: str) -> User:
    """A new user and their own client account, of which they are the owner."""
    user = create_user(name, email, password)
    account = Account(kind=AccountKind.CLIENT, name=company)
    db.session.add(account)
    db.session.flush()
    db.session.add(Membership(user=user, account=account, role=Role.OWNER))
    audit.record(account, "account.created", target=company, actor=user)
    return user
